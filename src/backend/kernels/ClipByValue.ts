import { ClipByValue } from '@tensorflow/tfjs-core';
import type { ClipByValueAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

export const clipByValueConfig = kernel(ClipByValue, (b, inputs, attrs) => {
  const x = req(inputs, 'x', ClipByValue);
  const { clipValueMin, clipValueMax } = attrs as unknown as ClipByValueAttrs;
  return b.output(b.call(aten('clamp'), b.id(x), clipValueMin, clipValueMax), x.dtype);
});
