import { Unpack } from '@tensorflow/tfjs-core';
import type { UnpackAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

export const unpackConfig = kernel(Unpack, (b, inputs, attrs) => {
  const x = req(inputs, 'value', Unpack);
  let { axis } = attrs as unknown as UnpackAttrs;
  if (axis < 0) axis += x.shape.length;
  return b.callAll(aten('unbind', 'int'), b.id(x), axis).map((t) => b.output(t, x.dtype));
});
