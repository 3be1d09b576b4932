import { FusedDepthwiseConv2D, backend_util } from '@tensorflow/tfjs-core';
import type { FusedDepthwiseConv2DAttrs } from '@tensorflow/tfjs-core';
import { conv2d } from '../conv.js';
import { applyActivation, kernel, req } from '../kernel_utils.js';

export const fusedDepthwiseConv2DConfig = kernel(FusedDepthwiseConv2D, (b, inputs, attrs) => {
  const x = req(inputs, 'x', FusedDepthwiseConv2D);
  const filter = req(inputs, 'filter', FusedDepthwiseConv2D);
  const { bias, preluActivationWeights } = inputs;
  const { strides, pad, dataFormat, dilations, dimRoundingMode, activation, leakyreluAlpha } =
    attrs as unknown as FusedDepthwiseConv2DAttrs;
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
  const y = conv2d(b, { x, filter, info, depthwise: true, ...(bias ? { bias } : {}) });
  return b.output(applyActivation(b, y, activation, preluActivationWeights, leakyreluAlpha, info.dataFormat === 'channelsFirst'), x.dtype);
});
