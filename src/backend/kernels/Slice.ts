import { Slice, slice_util } from '@tensorflow/tfjs-core';
import type { SliceAttrs, Tensor } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

/** Views by narrowing each sliced dimension. */
export const sliceConfig = kernel(Slice, (b, inputs, attrs) => {
  const x = req(inputs, 'x', Slice);
  const { begin, size } = attrs as unknown as SliceAttrs;
  const [start, len] = slice_util.parseSliceParams(x as Tensor, begin, size);
  slice_util.assertParamsValid(x as Tensor, start, len);
  let cur = b.call(aten('alias'), b.id(x));
  for (let d = 0; d < x.shape.length; d++) {
    const s = start[d] as number;
    const n = len[d] as number;
    if (s !== 0 || n !== x.shape[d]) cur = b.call(aten('slice', 'Tensor'), cur.id, d, s, s + n, 1);
  }
  return b.output(cur, x.dtype);
});
