import { LinSpace } from '@tensorflow/tfjs-core';
import type { LinSpaceAttrs } from '@tensorflow/tfjs-core';
import { kernel } from '../kernel_utils.js';
import { NDType } from '../native.js';

export const linSpaceConfig = kernel(LinSpace, (b, _inputs, attrs) => {
  const { start, stop, num } = attrs as unknown as LinSpaceAttrs;
  const vals = new Float32Array(num);
  if (num > 0) vals[0] = start;
  const step = (stop - start) / (num - 1);
  for (let i = 1; i < num; i++) vals[i] = (vals[i - 1] as number) + step;
  return b.output(b.constant(vals, [num], NDType.F32), 'float32');
});
