import { MaxPool, backend_util, util } from '@tensorflow/tfjs-core';
import type { MaxPoolAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';
import { maxPool } from '../pool.js';

export const maxPoolConfig = kernel(MaxPool, (b, inputs, attrs) => {
  const x = req(inputs, 'x', MaxPool);
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolAttrs;
  const info = backend_util.computePool2DInfo(x.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  if (info.filterWidth === 1 && info.filterHeight === 1 && util.arraysEqual(info.inShape, info.outShape)) {
    return b.output(b.call(aten('alias'), b.id(x)), x.dtype);
  }
  const { y, indices } = maxPool(b, x, info);
  const out = b.output(y, x.dtype);
  b.attach(out.dataId, indices); // the gradient reuses the argmax instead of pooling again
  return out;
});
