import { Cast } from '@tensorflow/tfjs-core';
import type { CastAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten, ScalarType } from '../native.js';

export const castConfig = kernel(Cast, (b, inputs, attrs) => {
  const x = req(inputs, 'x', Cast);
  const { dtype } = attrs as unknown as CastAttrs;
  if (dtype === x.dtype) return b.share(x, x.shape); // no copy for a no-op cast
  if (!(dtype in ScalarType)) throw new Error(`Cast: dtype '${dtype}' is not supported by the torch backend`);
  return b.output(b.call(aten('_to_copy'), b.id(x), ScalarType[dtype as keyof typeof ScalarType]), dtype);
});
