import { Prelu } from '@tensorflow/tfjs-core';
import { applyActivation, kernel, req } from '../kernel_utils.js';

export const preluConfig = kernel(Prelu, (b, inputs) => {
  const x = req(inputs, 'x', Prelu);
  const alpha = req(inputs, 'alpha', Prelu);
  return b.output(applyActivation(b, b.cast(b.input(x), 'float32'), 'prelu', alpha), 'float32');
});
