import { Range } from '@tensorflow/tfjs-core';
import type { RangeAttrs } from '@tensorflow/tfjs-core';
import { kernel } from '../kernel_utils.js';
import { NDType } from '../native.js';

/** Values computed as tfjs does (start + i * step), then copied to libtorch. */
export const rangeConfig = kernel(Range, (b, _inputs, attrs) => {
  const { start, stop, dtype } = attrs as unknown as RangeAttrs;
  let { step } = attrs as unknown as RangeAttrs;
  // As tfjs: an empty range rather than an error for a step of the wrong sign.
  const empty = start === stop || (start < stop && step < 0) || (stop < start && step > 1);
  if (stop < start && step === 1) step = -1;
  const n = empty ? 0 : Math.abs(Math.ceil((stop - start) / step));
  const vals = dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) vals[i] = start + i * step;
  return b.output(b.constant(vals, [n], dtype === 'int32' ? NDType.I32 : NDType.F32), dtype);
});
