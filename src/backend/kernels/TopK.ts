import { TopK } from '@tensorflow/tfjs-core';
import type { TopKAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

export const topKConfig = kernel(TopK, (b, inputs, attrs) => {
  const x = req(inputs, 'x', TopK);
  const { k } = attrs as unknown as TopKAttrs;
  const [values, indices] = b.callAll(aten('topk'), b.id(x), k, -1, true, true);
  if (!values || !indices) throw new Error('TopK: unexpected result');
  return [b.output(values, x.dtype), b.output(indices, 'int32')];
});
