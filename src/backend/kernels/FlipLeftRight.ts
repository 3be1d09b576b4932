import { FlipLeftRight } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

export const flipLeftRightConfig = kernel(FlipLeftRight, (b, inputs) => {
  const x = req(inputs, 'image', FlipLeftRight);
  return b.output(b.call(aten('flip'), b.id(x), [2]), x.dtype);
});
