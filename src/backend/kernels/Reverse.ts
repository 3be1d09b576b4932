import { Reverse } from '@tensorflow/tfjs-core';
import type { ReverseAttrs } from '@tensorflow/tfjs-core';
import { axesOf, kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

export const reverseConfig = kernel(Reverse, (b, inputs, attrs) => {
  const x = req(inputs, 'x', Reverse);
  const { dims } = attrs as unknown as ReverseAttrs;
  const rank = x.shape.length;
  for (const d of dims === undefined || dims === null ? [] : Array.isArray(dims) ? dims : [dims]) {
    if (!Number.isInteger(d) || d < -rank || d >= Math.max(rank, 1)) {
      throw new Error(`Reverse: axis ${d} is not an integer in [${-rank}, ${rank})`);
    }
  }
  const axes = axesOf(dims, rank);
  if (axes.length === 0 || x.shape.length === 0) return b.output(b.call(aten('alias'), b.id(x)), x.dtype);
  return b.output(b.call(aten('flip'), b.id(x), axes), x.dtype);
});
