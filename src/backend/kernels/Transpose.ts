import { Transpose } from '@tensorflow/tfjs-core';
import type { TransposeAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

/** A strided view (no copy). */
export const transposeConfig = kernel(Transpose, (b, inputs, attrs) => {
  const x = req(inputs, 'x', Transpose);
  const { perm } = attrs as unknown as TransposeAttrs;
  return b.output(b.call(aten('permute'), b.id(x), perm), x.dtype);
});
