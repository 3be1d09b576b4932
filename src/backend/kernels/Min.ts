import { Min } from '@tensorflow/tfjs-core';
import { aten } from '../native.js';
import { reduceKernel } from '../reduce.js';

export const minConfig = reduceKernel(
  Min,
  (b, x, dims, keepDims) => b.call(aten('amin'), x.id, dims, keepDims),
  (dt) => dt,
);
