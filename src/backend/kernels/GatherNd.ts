import { GatherNd, gather_util } from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten, NDType } from '../native.js';

/** Flat row index = indices · strides, then index_select on x viewed as [rows, sliceSize]. */
export const gatherNdConfig = kernel(GatherNd, (b, inputs) => {
  const params = req(inputs, 'params', GatherNd);
  const indices = req(inputs, 'indices', GatherNd);
  const [resultShape, numSlices, sliceSize, strides] = gather_util.prepareAndValidate(params as Tensor, indices as Tensor);
  if (numSlices === 0)
    return b.output(b.call(aten('zeros'), resultShape, params.dtype === 'float32' ? 6 : params.dtype === 'int32' ? 3 : 11), params.dtype);
  const k = indices.shape[indices.shape.length - 1] as number;
  const rows = strides.length === 0 ? 1 : params.shape.slice(0, k).reduce((p, q) => p * q, 1);
  const x2 = b.call(aten('reshape'), b.id(params), [rows, sliceSize]);
  const idx2 = b.cast(b.call(aten('reshape'), b.id(indices), [numSlices, k]), 'int64');
  const st = b.constant(BigInt64Array.from(strides.map((s) => BigInt(s))), [k, 1], NDType.I64);
  const flat = b.call(aten('reshape'), b.call(aten('matmul'), idx2.id, st.id).id, [numSlices]);
  const out = b.call(aten('index_select'), x2.id, 0, flat.id);
  return b.output(b.call(aten('reshape'), out.id, resultShape), params.dtype);
});
