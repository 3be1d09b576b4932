import { Fill } from '@tensorflow/tfjs-core';
import type { FillAttrs } from '@tensorflow/tfjs-core';
import { kernel } from '../kernel_utils.js';
import { aten, ScalarType } from '../native.js';

export const fillConfig = kernel(Fill, (b, _inputs, attrs) => {
  const { shape, value, dtype } = attrs as unknown as FillAttrs;
  if (typeof value === 'string' || !(dtype in ScalarType)) throw new Error(`Fill: dtype '${dtype}' is not supported by the torch backend`);
  const st = ScalarType[dtype as keyof typeof ScalarType];
  const v = dtype === 'float32' ? value : dtype === 'bool' ? value !== 0 : Math.trunc(value);
  return b.output(b.call(aten('full'), shape, v, st), dtype);
});
