import { ExpandDims } from '@tensorflow/tfjs-core';
import type { ExpandDimsAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';

export const expandDimsConfig = kernel(ExpandDims, (b, inputs, attrs) => {
  const x = req(inputs, 'input', ExpandDims);
  const { dim } = attrs as unknown as ExpandDimsAttrs;
  const rank = x.shape.length;
  let axis = dim;
  if (axis < 0) {
    if (-(rank + 1) > axis) throw new Error(`ExpandDims: axis must be in [${-(rank + 1)}, ${rank}]`);
    axis = rank + axis + 1;
  }
  const shape = x.shape.slice();
  shape.splice(axis, 0, 1);
  return b.share(x, shape);
});
