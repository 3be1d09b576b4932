import { StridedSlice, slice_util } from '@tensorflow/tfjs-core';
import type { StridedSliceAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

export const stridedSliceConfig = kernel(StridedSlice, (b, inputs, attrs) => {
  const x = req(inputs, 'x', StridedSlice);
  const a = attrs as unknown as StridedSliceAttrs;
  const info = slice_util.sliceInfo(
    x.shape,
    a.begin,
    a.end,
    a.strides,
    a.beginMask,
    a.endMask,
    a.ellipsisMask,
    a.newAxisMask,
    a.shrinkAxisMask,
  );
  let cur = b.call(aten('alias'), b.id(x));
  if (!info.isIdentity) {
    for (let d = 0; d < x.shape.length; d++) {
      const n = x.shape[d] as number;
      const s = info.strides[d] as number;
      const beg = info.begin[d] as number;
      const end = info.end[d] as number;
      if (s > 0) {
        if (beg === 0 && end >= n && s === 1) continue;
        cur = b.call(aten('slice', 'Tensor'), cur.id, d, beg, Math.max(beg, end), s);
      } else {
        // Negative stride: flip the axis, then slice forward.
        const flipped = b.call(aten('flip'), cur.id, [d]);
        const fb = n - 1 - beg;
        const fe = n - 1 - end;
        cur = b.call(aten('slice', 'Tensor'), flipped.id, d, fb, Math.max(fb, fe), -s);
      }
    }
  }
  return b.output(b.call(aten('reshape'), cur.id, info.finalShape), x.dtype);
});
