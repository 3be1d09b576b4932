import { All } from '@tensorflow/tfjs-core';
import { aten } from '../native.js';
import { perDim, reduceKernel } from '../reduce.js';

export const allConfig = reduceKernel(
  All,
  perDim((b, x, d, keepDims) => b.call(aten('all', 'dim'), x.id, d, keepDims)),
  () => 'bool',
);
