import { ArgMin } from '@tensorflow/tfjs-core';
import type { ArgMinAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

export const argMinConfig = kernel(ArgMin, (b, inputs, attrs) => {
  const x = req(inputs, 'x', ArgMin);
  const { axis } = attrs as unknown as ArgMinAttrs;
  const ax = Array.isArray(axis) ? (axis[0] as number) : axis;
  return b.output(b.call(aten('argmin'), b.id(x), ax, false), 'int32');
});
