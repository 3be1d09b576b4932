/**
 * Group normalisation of an NHWC tensor: y = (x - mean_g) / sqrt(var_g + eps) * gamma + beta, with
 * statistics per sample and group of C/groups channels. On the torch backend it runs as ATen's
 * native_group_norm (forward and backward, one kernel each, on an NCHW copy: ATen 1.13's
 * channels-last group norm is slow); on any other backend it is composed of tfjs ops.
 */
import { tf } from '../../tf.js';
import type { GradConfig, Tensor } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

export const TORCH_GROUP_NORM = 'TorchGroupNorm';
export const TORCH_GROUP_NORM_GRAD = 'TorchGroupNormGrad';

interface GnAttrs {
  groups: number;
  eps: number;
}

/** Outputs [y (NHWC), mean [N, G], rstd [N, G]]. */
export const torchGroupNormConfig = kernel(TORCH_GROUP_NORM, (b, inputs, attrs) => {
  const x = req(inputs, 'x', TORCH_GROUP_NORM);
  const gamma = req(inputs, 'gamma', TORCH_GROUP_NORM);
  const beta = req(inputs, 'beta', TORCH_GROUP_NORM);
  const { groups, eps } = attrs as unknown as GnAttrs;
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const xc = b.call(aten('contiguous'), b.call(aten('permute'), b.id(x), [0, 3, 1, 2]).id); // [N, C, H, W] dense
  const [y, mean, rstd] = b.callAll(aten('native_group_norm'), xc.id, b.id(gamma), b.id(beta), n, c, h * w, groups, eps);
  const yNhwc = b.call(aten('permute'), y!.id, [0, 2, 3, 1]);
  return [b.output(yNhwc, 'float32'), b.output(mean!, 'float32'), b.output(rstd!, 'float32')];
});

/** Outputs [dx (NHWC), dgamma [C], dbeta [C]]. */
export const torchGroupNormGradConfig = kernel(TORCH_GROUP_NORM_GRAD, (b, inputs, attrs) => {
  const dy = req(inputs, 'dy', TORCH_GROUP_NORM_GRAD);
  const x = req(inputs, 'x', TORCH_GROUP_NORM_GRAD);
  const mean = req(inputs, 'mean', TORCH_GROUP_NORM_GRAD);
  const rstd = req(inputs, 'rstd', TORCH_GROUP_NORM_GRAD);
  const gamma = req(inputs, 'gamma', TORCH_GROUP_NORM_GRAD);
  const { groups } = attrs as unknown as GnAttrs;
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const nchw = (t: tf.TensorInfo) => b.call(aten('contiguous'), b.call(aten('permute'), b.id(t), [0, 3, 1, 2]).id);
  const [dx, dgamma, dbeta] = b.callAll(
    aten('native_group_norm_backward'),
    nchw(dy).id,
    nchw(x).id,
    b.id(mean),
    b.id(rstd),
    b.id(gamma),
    n,
    c,
    h * w,
    groups,
    [true, true, true],
  );
  return [b.output(b.call(aten('permute'), dx!.id, [0, 2, 3, 1]), 'float32'), b.output(dgamma!, 'float32'), b.output(dbeta!, 'float32')];
});

const torchGroupNormGrad: GradConfig = {
  kernelName: TORCH_GROUP_NORM,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [false, true, true],
  gradFunc: (dys: Tensor | Tensor[], saved: Tensor[], attrs) => {
    const [x, gamma, mean, rstd] = saved as [Tensor, Tensor, Tensor, Tensor];
    const dy = (Array.isArray(dys) ? dys[0] : dys) as Tensor;
    // One backward kernel gives all three gradients. It runs here, in the scope of the whole
    // backward pass (the tape calls each input's function in its own tidy, which would dispose
    // results shared between them); gradients nobody asks for are disposed with that scope.
    const [dx, dgamma, dbeta] = tf
      .engine()
      .runKernel(TORCH_GROUP_NORM_GRAD, { dy, x, mean, rstd, gamma }, attrs as unknown as tf.NamedAttrMap) as Tensor[];
    return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
  },
};

export function registerGroupNorm(): void {
  tf.registerKernel(torchGroupNormConfig);
  tf.registerKernel(torchGroupNormGradConfig);
  tf.registerGradient(torchGroupNormGrad);
}

/** Group norm composed of tfjs ops (any backend). x: [N, H, W, C]; gamma, beta: [C]. */
export function groupNormReference(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, groups: number, eps = 1e-5): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const xr = tf.reshape(x, [n, h * w, groups, c / groups]);
    const { mean, variance } = tf.moments(xr, [1, 3], true);
    const y = tf.mul(tf.sub(xr, mean), tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(tf.reshape(y, [n, h, w, c]), gamma), beta) as tf.Tensor4D;
  });
}

/**
 * Group normalisation of an NHWC tensor. x: [N, H, W, C]; gamma, beta: [C]; C divisible by groups.
 * Differentiable with respect to x, gamma and beta.
 */
export function groupNorm(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, groups: number, eps = 1e-5): tf.Tensor4D {
  const c = x.shape[3];
  if (c % groups !== 0) throw new Error(`groupNorm: ${c} channels are not divisible into ${groups} groups`);
  if (gamma.shape[0] !== c || beta.shape[0] !== c) throw new Error(`groupNorm: gamma and beta must have ${c} elements`);
  if (tf.getBackend() !== 'torch') return groupNormReference(x, gamma, beta, groups, eps);
  const outs = tf.engine().runKernel(TORCH_GROUP_NORM, { x, gamma, beta }, { groups, eps } as unknown as tf.NamedAttrMap) as Tensor[];
  tf.dispose([outs[1]!, outs[2]!]);
  return outs[0] as tf.Tensor4D;
}
