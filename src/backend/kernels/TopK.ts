import { TopK } from '@tensorflow/tfjs-core';
import type { TopKAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

/** A stable descending sort, so that among equal values the lower index comes first (as tfjs). */
export const topKConfig = kernel(TopK, (b, inputs, attrs) => {
  const x = req(inputs, 'x', TopK);
  const { k } = attrs as unknown as TopKAttrs;
  const n = x.shape[x.shape.length - 1] as number;
  if (k > n) throw new Error(`TopK: k (${k}) must be at most the size of the last dimension (${n})`);
  const [values, indices] = b.callAll(aten('sort', 'stable'), b.id(x), true, -1, true);
  if (!values || !indices) throw new Error('TopK: unexpected result');
  const last = x.shape.length - 1;
  return [
    b.output(b.call(aten('slice', 'Tensor'), values.id, last, 0, k, 1), x.dtype),
    b.output(b.call(aten('slice', 'Tensor'), indices.id, last, 0, k, 1), 'int32'),
  ];
});
