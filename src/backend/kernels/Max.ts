import { Max } from '@tensorflow/tfjs-core';
import { aten } from '../native.js';
import { reduceKernel } from '../reduce.js';

export const maxConfig = reduceKernel(
  Max,
  (b, x, dims, keepDims) => b.call(aten('amax'), x.id, dims, keepDims),
  (dt) => dt,
);
