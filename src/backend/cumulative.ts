/** Cumsum / Cumprod with tfjs's `exclusive` and `reverse` flags. */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { TorchBackend } from './backend_torch.js';
import { aten } from './native.js';

export function cumulative(
  b: TorchBackend,
  x: TensorInfo,
  attrs: { axis: number; exclusive: boolean; reverse: boolean },
  op: 'cumsum' | 'cumprod',
  identity: number,
): TensorInfo {
  const rank = x.shape.length;
  const axis = attrs.axis < 0 ? attrs.axis + rank : attrs.axis;
  let cur = b.input(x);
  if (attrs.reverse) cur = b.call(aten('flip'), cur.id, [axis]);
  if (attrs.exclusive) {
    // Shift by one along the axis, filling with the identity element.
    const n = x.shape[axis] as number;
    const pad = new Array<number>(2 * rank).fill(0);
    pad[2 * (rank - 1 - axis)] = 1;
    const padded = b.call(aten('constant_pad_nd'), cur.id, pad, identity);
    cur = b.call(aten('slice', 'Tensor'), padded.id, axis, 0, n, 1);
  }
  let out = b.call(aten(op), cur.id, axis);
  if (attrs.reverse) out = b.call(aten('flip'), out.id, [axis]);
  return b.output(out, x.dtype);
}
