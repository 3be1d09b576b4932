import { Cumsum } from '@tensorflow/tfjs-core';
import type { CumsumAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { cumulative } from '../cumulative.js';

export const cumsumConfig = kernel(Cumsum, (b, inputs, attrs) => {
  const x = req(inputs, 'x', Cumsum);
  return cumulative(b, x, attrs as unknown as CumsumAttrs, 'cumsum', 0);
});
