import { Einsum } from '@tensorflow/tfjs-core';
import type { EinsumAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { kernel } from '../kernel_utils.js';
import { aten } from '../native.js';

export const einsumConfig = kernel(Einsum, (b, inputs, attrs) => {
  const list = inputs as unknown as TensorInfo[];
  const { equation } = attrs as unknown as EinsumAttrs;
  return b.output(
    b.call(
      aten('einsum'),
      equation,
      list.map((t) => b.id(t)),
    ),
    (list[0] as TensorInfo).dtype,
  );
});
