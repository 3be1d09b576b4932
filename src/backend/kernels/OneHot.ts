import { OneHot } from '@tensorflow/tfjs-core';
import type { OneHotAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten, ScalarType } from '../native.js';

/** (indices[..., None] == arange(depth)) ? on : off; out-of-range indices give an all-off row. */
export const oneHotConfig = kernel(OneHot, (b, inputs, attrs) => {
  const indices = req(inputs, 'indices', OneHot);
  const { depth, onValue, offValue, dtype } = attrs as unknown as OneHotAttrs;
  const st = ScalarType[dtype as keyof typeof ScalarType];
  if (st === undefined) throw new Error(`OneHot: dtype '${dtype}' is not supported`);
  const range = b.call(aten('arange'), depth, ScalarType.int32);
  const col = b.call(aten('unsqueeze'), b.id(indices), -1);
  const hit = b.call(aten('eq', 'Tensor'), col.id, range.id);
  const on = b.call(aten('full'), [], onValue, st);
  const off = b.call(aten('full'), [], offValue, st);
  return b.output(b.call(aten('where', 'self'), hit.id, on.id, off.id), dtype);
});
