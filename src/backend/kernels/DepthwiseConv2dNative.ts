import { DepthwiseConv2dNative, backend_util } from '@tensorflow/tfjs-core';
import type { DepthwiseConv2dNativeAttrs } from '@tensorflow/tfjs-core';
import { conv2d } from '../conv.js';
import { kernel, req } from '../kernel_utils.js';

export const depthwiseConv2dNativeConfig = kernel(DepthwiseConv2dNative, (b, inputs, attrs) => {
  const x = req(inputs, 'x', DepthwiseConv2dNative);
  const filter = req(inputs, 'filter', DepthwiseConv2dNative);
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as DepthwiseConv2dNativeAttrs;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    strides,
    dilations ?? [1, 1],
    pad,
    dimRoundingMode,
    true,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  return b.output(conv2d(b, { x, filter, info, depthwise: true }), x.dtype);
});
