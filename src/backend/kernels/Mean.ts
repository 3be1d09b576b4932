import { Mean } from '@tensorflow/tfjs-core';
import { aten } from '../native.js';
import { reduceKernel } from '../reduce.js';

export const meanConfig = reduceKernel(
  Mean,
  (b, x, dims, keepDims) => b.call(aten('mean', 'dim'), x.id, dims, keepDims),
  () => 'float32',
  (b, x) => (x.dtype === 'float32' ? b.input(x) : b.cast(b.input(x), 'float32')),
);
