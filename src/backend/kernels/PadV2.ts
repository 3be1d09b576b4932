import { PadV2 } from '@tensorflow/tfjs-core';
import type { PadV2Attrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

export const padV2Config = kernel(PadV2, (b, inputs, attrs) => {
  const x = req(inputs, 'x', PadV2);
  const { paddings, constantValue } = attrs as unknown as PadV2Attrs;
  // ATen lists pads from the last dimension backwards: [lastLo, lastHi, ...].
  const pad: number[] = [];
  for (let d = paddings.length - 1; d >= 0; d--) pad.push(...(paddings[d] as [number, number]));
  const value = x.dtype === 'float32' ? constantValue : Math.trunc(constantValue);
  return b.output(b.call(aten('constant_pad_nd'), b.id(x), pad, value), x.dtype);
});
