import { Identity } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';

/** Shares the input's data (tfjs tensors are immutable). */
export const identityConfig = kernel(Identity, (b, inputs) => {
  const x = req(inputs, 'x', Identity);
  return b.share(x, x.shape);
});
