import { FusedBatchNorm } from '@tensorflow/tfjs-core';
import type { FusedBatchNormAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

/** (x - mean) / sqrt(variance + eps) * scale + offset, with tfjs broadcasting. */
export const fusedBatchNormConfig = kernel(FusedBatchNorm, (b, inputs, attrs) => {
  const x = req(inputs, 'x', FusedBatchNorm);
  const mean = req(inputs, 'mean', FusedBatchNorm);
  const variance = req(inputs, 'variance', FusedBatchNorm);
  const { offset, scale } = inputs;
  const { varianceEpsilon } = attrs as unknown as FusedBatchNormAttrs;
  const centered = b.call(aten('sub', 'Tensor'), b.id(x), b.id(mean));
  const inv = b.call(aten('rsqrt'), b.call(aten('add', 'Scalar'), b.id(variance), varianceEpsilon).id);
  let y = b.call(aten('mul', 'Tensor'), centered.id, inv.id);
  if (scale) y = b.call(aten('mul', 'Tensor'), y.id, b.id(scale));
  if (offset) y = b.call(aten('add', 'Tensor'), y.id, b.id(offset));
  return b.output(y, x.dtype);
});
