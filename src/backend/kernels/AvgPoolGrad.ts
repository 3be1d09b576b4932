import { AvgPoolGrad, backend_util } from '@tensorflow/tfjs-core';
import type { AvgPoolGradAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { avgPoolGrad } from '../pool.js';

export const avgPoolGradConfig = kernel(AvgPoolGrad, (b, inputs, attrs) => {
  const dy = req(inputs, 'dy', AvgPoolGrad);
  const x = req(inputs, 'input', AvgPoolGrad);
  const { filterSize, strides, pad } = attrs as unknown as AvgPoolGradAttrs;
  const dimRoundingMode = (attrs as { dimRoundingMode?: 'floor' | 'round' | 'ceil' }).dimRoundingMode;
  const info = backend_util.computePool2DInfo(x.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  return b.output(avgPoolGrad(b, dy, x, info), x.dtype);
});
