import { Identity } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

/** A new handle on the same storage (tfjs tensors are immutable). */
export const identityConfig = kernel(Identity, (b, inputs) => {
  const x = req(inputs, 'x', Identity);
  return b.output(b.call(aten('alias'), b.id(x)), x.dtype);
});
