import { Any } from '@tensorflow/tfjs-core';
import { aten } from '../native.js';
import { perDim, reduceKernel } from '../reduce.js';

export const anyConfig = reduceKernel(
  Any,
  perDim((b, x, d, keepDims) => b.call(aten('any', 'dim'), x.id, d, keepDims)),
  () => 'bool',
);
