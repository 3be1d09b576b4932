import { Prod, sumOutType } from '@tensorflow/tfjs-core';
import { aten } from '../native.js';
import { perDim, reduceKernel } from '../reduce.js';

export const prodConfig = reduceKernel(
  Prod,
  perDim((b, x, d, keepDims) => b.call(aten('prod', 'dim_int'), x.id, d, keepDims)),
  (dt) => sumOutType(dt),
);
