import { EluGrad } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

/** dx = y >= 0 ? dy : dy * (y + 1) */
export const eluGradConfig = kernel(EluGrad, (b, inputs) => {
  const dy = req(inputs, 'dy', EluGrad);
  const y = req(inputs, 'y', EluGrad);
  const pos = b.call(aten('ge', 'Scalar'), b.id(y), 0);
  const yp1 = b.call(aten('add', 'Scalar'), b.id(y), 1);
  const scaled = b.call(aten('mul', 'Tensor'), b.id(dy), yp1.id);
  return b.output(b.call(aten('where', 'self'), pos.id, b.id(dy), scaled.id), dy.dtype);
});
