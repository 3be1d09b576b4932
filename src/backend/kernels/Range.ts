import { Range } from '@tensorflow/tfjs-core';
import type { RangeAttrs } from '@tensorflow/tfjs-core';
import { kernel } from '../kernel_utils.js';
import { NDType } from '../native.js';

/** Values computed as tfjs does (start + i * step), then copied to libtorch. */
export const rangeConfig = kernel(Range, (b, _inputs, attrs) => {
  const { start, stop, step, dtype } = attrs as unknown as RangeAttrs;
  const n = start === stop ? 0 : Math.max(0, Math.ceil(Math.abs((stop - start) / step)));
  if (start < stop && step < 0) throw new Error('Range: step must be positive when start < stop');
  if (start > stop && step > 0) throw new Error('Range: step must be negative when start > stop');
  const vals = dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) vals[i] = start + i * step;
  return b.output(b.constant(vals, [n], dtype === 'int32' ? NDType.I32 : NDType.F32), dtype);
});
