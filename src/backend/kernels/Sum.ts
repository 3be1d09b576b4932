import { Sum, sumOutType } from '@tensorflow/tfjs-core';
import { aten } from '../native.js';
import { reduceKernel } from '../reduce.js';

export const sumConfig = reduceKernel(
  Sum,
  (b, x, dims, keepDims) => b.call(aten('sum', 'dim_IntList'), x.id, dims, keepDims),
  (dt) => sumOutType(dt),
);
