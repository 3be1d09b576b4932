import { Reverse } from '@tensorflow/tfjs-core';
import type { ReverseAttrs } from '@tensorflow/tfjs-core';
import { axesOf, kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

export const reverseConfig = kernel(Reverse, (b, inputs, attrs) => {
  const x = req(inputs, 'x', Reverse);
  const { dims } = attrs as unknown as ReverseAttrs;
  const axes = axesOf(dims, x.shape.length);
  if (axes.length === 0 || x.shape.length === 0) return b.output(b.call(aten('alias'), b.id(x)), x.dtype);
  return b.output(b.call(aten('flip'), b.id(x), axes), x.dtype);
});
