import { LeakyRelu } from '@tensorflow/tfjs-core';
import type { LeakyReluAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

/** x < 0 ? alpha * x : x */
export const leakyReluConfig = kernel(LeakyRelu, (b, inputs, attrs) => {
  const x = req(inputs, 'x', LeakyRelu);
  const { alpha } = attrs as unknown as LeakyReluAttrs;
  const neg = b.call(aten('lt', 'Scalar'), b.id(x), 0);
  const scaled = b.call(aten('mul', 'Scalar'), b.id(x), alpha);
  const xf = b.cast(b.input(x), 'float32');
  return b.output(b.call(aten('where', 'self'), neg.id, scaled.id, xf.id), 'float32');
});
