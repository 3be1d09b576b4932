import { BatchMatMul } from '@tensorflow/tfjs-core';
import type { BatchMatMulAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { matmul } from '../matmul.js';

export const batchMatMulConfig = kernel(BatchMatMul, (b, inputs, attrs) => {
  const a = req(inputs, 'a', BatchMatMul);
  const c = req(inputs, 'b', BatchMatMul);
  const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
  return b.output(matmul(b, a, c, transposeA, transposeB), a.dtype);
});
