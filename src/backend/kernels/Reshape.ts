import { Reshape, util } from '@tensorflow/tfjs-core';
import type { ReshapeAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';

/** Shares the input's data under a new shape; kernels view it with that shape when they read it. */
export const reshapeConfig = kernel(Reshape, (b, inputs, attrs) => {
  const x = req(inputs, 'x', Reshape);
  const { shape } = attrs as unknown as ReshapeAttrs;
  const size = util.sizeFromShape(x.shape);
  const target = util.inferFromImplicitShape(shape, size);
  util.assert(size === util.sizeFromShape(target), () => `Reshape: cannot reshape [${x.shape}] to [${shape}]`);
  return b.share(x, target);
});
