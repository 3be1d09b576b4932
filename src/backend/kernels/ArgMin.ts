import { ArgMin } from '@tensorflow/tfjs-core';
import type { ArgMinAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

export const argMinConfig = kernel(ArgMin, (b, inputs, attrs) => {
  const x = req(inputs, 'x', ArgMin);
  const { axis } = attrs as unknown as ArgMinAttrs;
  const ax = Array.isArray(axis) ? (axis[0] as number) : axis;
  // tfjs ignores NaN; bool is compared as 0/1.
  let t = x.dtype === 'bool' ? b.cast(b.input(x), 'int32') : b.input(x);
  if (x.dtype === 'float32') {
    const nan = b.call(aten('isnan'), t.id);
    t = b.call(aten('masked_fill', 'Scalar'), t.id, nan.id, Infinity);
  }
  return b.output(b.call(aten('argmin'), t.id, ax, false), 'int32');
});
