import { Step } from '@tensorflow/tfjs-core';
import type { StepAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

/** step(x) = 1 where x > 0, alpha elsewhere, NaN stays NaN (as tfjs). */
export const stepConfig = kernel(Step, (b, inputs, attrs) => {
  const x = req(inputs, 'x', Step);
  const { alpha } = attrs as unknown as StepAttrs;
  const pos = b.call(aten('gt', 'Scalar'), b.id(x), 0);
  const ones = b.call(aten('ones_like'), b.id(x));
  const alphas = b.call(aten('full_like'), b.id(x), alpha);
  const stepped = b.call(aten('where', 'self'), pos.id, ones.id, alphas.id);
  const nan = b.call(aten('isnan'), b.id(x));
  return b.output(b.call(aten('where', 'self'), nan.id, b.id(x), stepped.id), x.dtype);
});
