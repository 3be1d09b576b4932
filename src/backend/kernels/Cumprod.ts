import { Cumprod } from '@tensorflow/tfjs-core';
import type { CumprodAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { cumulative } from '../cumulative.js';

export const cumprodConfig = kernel(Cumprod, (b, inputs, attrs) => {
  const x = req(inputs, 'x', Cumprod);
  return cumulative(b, x, attrs as unknown as CumprodAttrs, 'cumprod', 1);
});
