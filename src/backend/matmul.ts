import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { TorchBackend } from './backend_torch.js';
import { aten } from './native.js';
import type { NativeTensor } from './native.js';

/** Batched matmul with tfjs's transpose flags and batch broadcasting; int32 goes through float64. */
export function matmul(b: TorchBackend, a: TensorInfo, c: TensorInfo, transposeA: boolean, transposeB: boolean): NativeTensor {
  if (a.shape.length < 2 || c.shape.length < 2) {
    throw new Error(`BatchMatMul: inputs must have rank >= 2, got ranks ${a.shape.length} and ${c.shape.length}`);
  }
  let x = b.input(a);
  let y = b.input(c);
  if (transposeA) x = b.call(aten('transpose', 'int'), x.id, -1, -2);
  if (transposeB) y = b.call(aten('transpose', 'int'), y.id, -1, -2);
  if (a.dtype !== 'float32') {
    const r = b.call(aten('matmul'), b.cast(x, 'float64').id, b.cast(y, 'float64').id);
    return b.cast(r, 'int32');
  }
  return b.call(aten('matmul'), x.id, y.id);
}
