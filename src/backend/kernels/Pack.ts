import { Pack } from '@tensorflow/tfjs-core';
import type { PackAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { kernel } from '../kernel_utils.js';
import { aten } from '../native.js';

export const packConfig = kernel(Pack, (b, inputs, attrs) => {
  const list = inputs as unknown as TensorInfo[];
  const first = list[0];
  if (!first) throw new Error('Pack: no inputs');
  for (const t of list) {
    if (t.dtype !== first.dtype) throw new Error(`Pack: all tensors must have the same dtype, got ${first.dtype} and ${t.dtype}`);
  }
  let { axis } = attrs as unknown as PackAttrs;
  if (axis < 0) axis += first.shape.length + 1;
  return b.output(
    b.call(
      aten('stack'),
      list.map((t) => b.id(t)),
      axis,
    ),
    first.dtype,
  );
});
