import { Select } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

/** where(condition, t, e); a 1-D condition selects along the first axis (as tfjs). */
export const selectConfig = kernel(Select, (b, inputs) => {
  const cond = req(inputs, 'condition', Select);
  const t = req(inputs, 't', Select);
  const e = req(inputs, 'e', Select);
  let c = b.input(cond);
  if (cond.shape.length === 1 && t.shape.length > 1) {
    c = b.call(aten('reshape'), c.id, [cond.shape[0], ...t.shape.slice(1).map(() => 1)]);
  }
  const cb = cond.dtype === 'bool' ? c : b.call(aten('ne', 'Scalar'), c.id, 0);
  return b.output(b.call(aten('where', 'self'), cb.id, b.id(t), b.id(e)), t.dtype);
});
