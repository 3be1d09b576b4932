import { FusedConv2D, backend_util } from '@tensorflow/tfjs-core';
import type { FusedConv2DAttrs } from '@tensorflow/tfjs-core';
import { conv2d } from '../conv.js';
import { applyActivation, kernel, req } from '../kernel_utils.js';

export const fusedConv2DConfig = kernel(FusedConv2D, (b, inputs, attrs) => {
  const x = req(inputs, 'x', FusedConv2D);
  const filter = req(inputs, 'filter', FusedConv2D);
  const { bias, preluActivationWeights } = inputs;
  const { strides, pad, dataFormat, dilations, dimRoundingMode, activation, leakyreluAlpha } = attrs as unknown as FusedConv2DAttrs;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  const y = conv2d(b, { x, filter, info, depthwise: false, ...(bias ? { bias } : {}) });
  return b.output(applyActivation(b, y, activation, preluActivationWeights, leakyreluAlpha, info.dataFormat === 'channelsFirst'), x.dtype);
});
