import { MirrorPad } from '@tensorflow/tfjs-core';
import type { MirrorPadAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten, NDType } from '../native.js';

/** Per padded dimension, one index_select with mirrored source indices. */
export const mirrorPadConfig = kernel(MirrorPad, (b, inputs, attrs) => {
  const x = req(inputs, 'x', MirrorPad);
  const { paddings, mode } = attrs as unknown as MirrorPadAttrs;
  const offset = mode === 'reflect' ? 0 : 1;
  let cur = b.call(aten('alias'), b.id(x));
  paddings.forEach(([lo, hi], d) => {
    if (lo === 0 && hi === 0) return;
    const n = x.shape[d] as number;
    const idx = new Int32Array(lo + n + hi);
    for (let i = 0; i < idx.length; i++) {
      let s = i - lo;
      if (s < 0) s = -s - offset;
      else if (s >= n) s = 2 * (n - 1) - s + offset;
      idx[i] = s;
    }
    const t = b.constant(idx, [idx.length], NDType.I32);
    cur = b.call(aten('index_select'), cur.id, d, t.id);
  });
  return b.output(cur, x.dtype);
});
