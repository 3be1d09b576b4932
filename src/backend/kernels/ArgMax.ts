import { ArgMax } from '@tensorflow/tfjs-core';
import type { ArgMaxAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

export const argMaxConfig = kernel(ArgMax, (b, inputs, attrs) => {
  const x = req(inputs, 'x', ArgMax);
  const { axis } = attrs as unknown as ArgMaxAttrs;
  const ax = Array.isArray(axis) ? (axis[0] as number) : axis;
  return b.output(b.call(aten('argmax'), b.id(x), ax, false), 'int32');
});
