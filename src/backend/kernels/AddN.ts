import { AddN } from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { kernel } from '../kernel_utils.js';
import { aten } from '../native.js';

export const addNConfig = kernel(AddN, (b, inputs) => {
  const list = inputs as unknown as TensorInfo[];
  const first = list[0];
  if (!first) throw new Error('AddN: no inputs');
  let acc = b.call(aten('alias'), b.id(first));
  for (let i = 1; i < list.length; i++) acc = b.call(aten('add', 'Tensor'), acc.id, b.id(list[i] as TensorInfo));
  return b.output(acc, first.dtype);
});
