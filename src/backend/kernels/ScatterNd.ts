import { ScatterNd, scatter_util } from '@tensorflow/tfjs-core';
import type { ScatterNdAttrs, Tensor } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten, NDType, ScalarType } from '../native.js';

/** Duplicate indices add up, as in tfjs. */
export const scatterNdConfig = kernel(ScatterNd, (b, inputs, attrs) => {
  const indices = req(inputs, 'indices', ScatterNd);
  const updates = req(inputs, 'updates', ScatterNd);
  const { shape } = attrs as unknown as ScatterNdAttrs;
  const { sliceRank, numUpdates, sliceSize, strides, outputSize } = scatter_util.calculateShapes(
    updates as Tensor,
    indices as Tensor,
    shape,
  );
  const st = ScalarType[updates.dtype as keyof typeof ScalarType];
  const rows = outputSize / sliceSize;
  const zeros = b.call(aten('zeros'), [rows, sliceSize], st);
  if (numUpdates === 0) return b.output(b.call(aten('reshape'), zeros.id, shape), updates.dtype);
  const idx2 = b.cast(b.call(aten('reshape'), b.id(indices), [numUpdates, sliceRank]), 'int64');
  const stv = b.constant(BigInt64Array.from(strides.map((s) => BigInt(s))), [sliceRank, 1], NDType.I64);
  const flat = b.call(aten('reshape'), b.call(aten('matmul'), idx2.id, stv.id).id, [numUpdates]);
  const upd = b.call(aten('reshape'), b.id(updates), [numUpdates, sliceSize]);
  const out = b.call(aten('index_add'), zeros.id, 0, flat.id, upd.id);
  return b.output(b.call(aten('reshape'), out.id, shape), updates.dtype);
});
