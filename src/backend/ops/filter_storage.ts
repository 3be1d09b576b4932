/**
 * Storage order for convolution filters. tfjs's filter is [fh, fw, in, out] (HWIO); ATen's
 * convolution wants [out, in, fh, fw] (OIHW) and copies a filter stored HWIO into that order on
 * every forward and input-gradient call (~0.1 ms each, ~10 ms of a cpu-small FCOS step).
 * `convFilterStorage` returns the same values, same tfjs shape, stored OIHW underneath, so those
 * copies vanish; the gradients the backend computes for such filters come out in the same
 * order, and the optimizer's in-place updates keep it.
 */
import { tf } from '../../tf.js';
import type { Tensor } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

export const TORCH_FILTER_STORAGE = 'TorchFilterStorage';

export const torchFilterStorageConfig = kernel(TORCH_FILTER_STORAGE, (b, inputs) => {
  const x = req(inputs, 'x', TORCH_FILTER_STORAGE);
  const oihw = b.call(aten('contiguous'), b.call(aten('permute'), b.id(x), [3, 2, 0, 1]).id);
  return b.output(b.call(aten('permute'), oihw.id, [2, 3, 1, 0]), 'float32');
});

export function registerFilterStorage(): void {
  tf.registerKernel(torchFilterStorageConfig);
}

/** A new tensor equal to the HWIO filter `w`, stored OIHW on the torch backend (a copy elsewhere). */
export function convFilterStorage(w: tf.Tensor4D): tf.Tensor4D {
  if (w.rank !== 4) throw new Error(`convFilterStorage: a 4-D filter is needed, got shape [${w.shape}]`);
  if (tf.getBackend() !== 'torch' || w.dtype !== 'float32') return w.clone();
  return tf.engine().runKernel(TORCH_FILTER_STORAGE, { x: w }) as Tensor as tf.Tensor4D;
}
