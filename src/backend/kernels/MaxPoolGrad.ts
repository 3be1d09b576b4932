import { MaxPoolGrad, backend_util } from '@tensorflow/tfjs-core';
import type { MaxPoolGradAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { maxPoolGrad } from '../pool.js';

export const maxPoolGradConfig = kernel(MaxPoolGrad, (b, inputs, attrs) => {
  const dy = req(inputs, 'dy', MaxPoolGrad);
  const x = req(inputs, 'input', MaxPoolGrad);
  const { filterSize, strides, pad } = attrs as unknown as MaxPoolGradAttrs;
  const dimRoundingMode = (attrs as { dimRoundingMode?: 'floor' | 'round' | 'ceil' }).dimRoundingMode;
  const info = backend_util.computePool2DInfo(x.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const y = inputs.output;
  const indices = y ? b.sidecar(y.dataId) : null;
  return b.output(maxPoolGrad(b, dy, x, info, indices), x.dtype);
});
