import { DepthwiseConv2dNativeBackpropInput, backend_util } from '@tensorflow/tfjs-core';
import type { DepthwiseConv2dNativeBackpropInputAttrs } from '@tensorflow/tfjs-core';
import { conv2dBackpropInput } from '../conv.js';
import { kernel, req } from '../kernel_utils.js';

export const depthwiseConv2dNativeBackpropInputConfig = kernel(DepthwiseConv2dNativeBackpropInput, (b, inputs, attrs) => {
  const dy = req(inputs, 'dy', DepthwiseConv2dNativeBackpropInput);
  const filter = req(inputs, 'filter', DepthwiseConv2dNativeBackpropInput);
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
  return b.output(conv2dBackpropInput(b, dy, filter, info, true), dy.dtype);
});
