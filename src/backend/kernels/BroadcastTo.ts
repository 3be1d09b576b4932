import { BroadcastTo } from '@tensorflow/tfjs-core';
import type { BroadCastToAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

export const broadcastToConfig = kernel(BroadcastTo, (b, inputs, attrs) => {
  const x = req(inputs, 'x', BroadcastTo);
  const { shape } = attrs as unknown as BroadCastToAttrs;
  let cur = b.input(x);
  if (x.shape.length < shape.length) {
    cur = b.call(aten('reshape'), cur.id, [...new Array(shape.length - x.shape.length).fill(1), ...x.shape]);
  }
  // expand gives a stride-0 view; make it dense so later kernels see ordinary storage.
  const expanded = b.call(aten('expand'), cur.id, shape);
  return b.output(b.call(aten('contiguous'), expanded.id), x.dtype);
});
