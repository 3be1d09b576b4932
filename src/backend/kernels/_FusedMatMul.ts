import { _FusedMatMul } from '@tensorflow/tfjs-core';
import type { _FusedMatMulAttrs } from '@tensorflow/tfjs-core';
import { applyActivation, kernel, req } from '../kernel_utils.js';
import { matmul } from '../matmul.js';
import { aten } from '../native.js';

export const fusedMatMulConfig = kernel(_FusedMatMul, (b, inputs, attrs) => {
  const a = req(inputs, 'a', _FusedMatMul);
  const c = req(inputs, 'b', _FusedMatMul);
  const { bias, preluActivationWeights } = inputs;
  const { transposeA, transposeB, activation, leakyreluAlpha } = attrs as unknown as _FusedMatMulAttrs;
  let out = matmul(b, a, c, transposeA, transposeB);
  if (bias) out = b.call(aten('add', 'Tensor'), out.id, b.id(bias));
  out = applyActivation(b, out, activation, preluActivationWeights, leakyreluAlpha);
  return b.output(out, a.dtype);
});
