import { SquaredDifference } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

export const squaredDifferenceConfig = kernel(SquaredDifference, (b, inputs) => {
  const a = req(inputs, 'a', SquaredDifference);
  const c = req(inputs, 'b', SquaredDifference);
  const d = b.call(aten('sub', 'Tensor'), b.id(a), b.id(c));
  return b.output(b.call(aten('mul', 'Tensor'), d.id, d.id), a.dtype);
});
