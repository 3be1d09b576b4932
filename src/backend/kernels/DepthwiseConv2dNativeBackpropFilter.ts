import { DepthwiseConv2dNativeBackpropFilter, backend_util } from '@tensorflow/tfjs-core';
import type { DepthwiseConv2dNativeBackpropFilterAttrs } from '@tensorflow/tfjs-core';
import { conv2dBackpropFilter } from '../conv.js';
import { kernel, req } from '../kernel_utils.js';

export const depthwiseConv2dNativeBackpropFilterConfig = kernel(DepthwiseConv2dNativeBackpropFilter, (b, inputs, attrs) => {
  const x = req(inputs, 'x', DepthwiseConv2dNativeBackpropFilter);
  const dy = req(inputs, 'dy', DepthwiseConv2dNativeBackpropFilter);
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
  return b.output(conv2dBackpropFilter(b, x, dy, info, filterShape, true), x.dtype);
});
