import { GatherV2, backend_util, util } from '@tensorflow/tfjs-core';
import type { GatherV2Attrs, Tensor } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

export const gatherV2Config = kernel(GatherV2, (b, inputs, attrs) => {
  const x = req(inputs, 'x', GatherV2);
  const indices = req(inputs, 'indices', GatherV2);
  const { axis, batchDims } = attrs as unknown as GatherV2Attrs;
  const $axis = util.parseAxisParam(axis, x.shape)[0] as number;
  const info = backend_util.segment_util.collectGatherOpShapeInfo(x as Tensor, indices as Tensor, $axis, batchDims);
  // x as [batch, outer, dim, slice]; indices as [batch, n]; gather along dim 2.
  // Out-of-range indices are an error naming the value (read back: indices are small).
  const iv = b.readSync(indices.dataId) as Int32Array;
  for (let i = 0; i < iv.length; i++) {
    const v = iv[i] as number;
    if (v < 0 || v >= info.dimSize) throw new Error(`GatherV2: the index value ${v} is not in [0, ${info.dimSize - 1}]`);
  }
  const x4 = b.call(aten('reshape'), b.id(x), [info.batchSize, info.outerSize, info.dimSize, info.sliceSize]);
  const n = util.sizeFromShape(indices.shape) / info.batchSize;
  const idx = b.call(aten('reshape'), b.id(indices), [info.batchSize, 1, n, 1]);
  const idx64 = b.cast(idx, 'int64');
  let out;
  if (info.batchSize === 1) {
    const flat = b.call(aten('reshape'), idx64.id, [n]);
    out = b.call(aten('index_select'), x4.id, 2, flat.id);
  } else {
    const expanded = b.call(aten('expand'), idx64.id, [info.batchSize, info.outerSize, n, info.sliceSize]);
    out = b.call(aten('gather'), x4.id, 2, expanded.id);
  }
  return b.output(b.call(aten('reshape'), out.id, info.outputShape), x.dtype);
});
