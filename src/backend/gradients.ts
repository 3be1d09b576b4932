/**
 * Gradient overrides that let the torch backend run a fused ATen backward kernel where tfjs-core's
 * generic gradient would chain several elementwise kernels. On any other backend each override
 * computes exactly what tfjs-core's own gradient computes.
 */
import { tf } from '../tf.js';
import type { GradConfig, Tensor } from '@tensorflow/tfjs-core';
import { kernel, req } from './kernel_utils.js';
import { aten } from './native.js';

/** dx = dy where x > 0, else 0 (ATen threshold_backward). */
export const TORCH_RELU_GRAD = 'TorchReluGrad';

export const torchReluGradConfig = kernel(TORCH_RELU_GRAD, (b, inputs) => {
  const dy = req(inputs, 'dy', TORCH_RELU_GRAD);
  const x = req(inputs, 'x', TORCH_RELU_GRAD);
  return b.output(b.call(aten('threshold_backward'), b.id(dy), b.id(x), 0), 'float32');
});

const reluGrad: GradConfig = {
  kernelName: tf.Relu,
  inputsToSave: ['x'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    const [x] = saved as [Tensor];
    const g = dy as Tensor;
    if (tf.getBackend() === 'torch' && x.dtype === 'float32' && g.dtype === 'float32') {
      return { x: () => tf.engine().runKernel(TORCH_RELU_GRAD, { dy: g, x }) as Tensor };
    }
    return { x: () => tf.mul(g, tf.cast(tf.step(x), 'float32')) };
  },
};

export function registerGradientOverrides(): void {
  tf.registerGradient(reluGrad);
}
