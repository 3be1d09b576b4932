import { Step } from '@tensorflow/tfjs-core';
import type { StepAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten, dbl } from '../native.js';

/** step(x) = 1 where x > 0, alpha elsewhere, NaN stays NaN (as tfjs). */
export const stepConfig = kernel(Step, (b, inputs, attrs) => {
  const x = req(inputs, 'x', Step);
  const { alpha } = attrs as unknown as StepAttrs;
  const pos = b.call(aten('gt', 'Scalar'), b.id(x), 0);
  const stepped = b.call(aten('where', 'Scalar'), pos.id, dbl(1), dbl(alpha));
  const nan = b.call(aten('isnan'), b.id(x));
  return b.output(b.call(aten('masked_fill', 'Scalar'), stepped.id, nan.id, NaN), x.dtype);
});
