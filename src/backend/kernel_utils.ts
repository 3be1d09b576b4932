/** Building blocks for the kernels in ./kernels (one kernel per file). */
import type { KernelConfig, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import { aten } from './native.js';
import type { NativeTensor } from './native.js';
import type { TorchBackend } from './backend_torch.js';

export const BACKEND_NAME = 'torch';

export type KernelBody = (b: TorchBackend, inputs: NamedTensorInfoMap, attrs: NamedAttrMap) => TensorInfo | TensorInfo[];

/** A kernel whose body runs in a scratch scope: native temporaries are freed when it returns. */
export function kernel(kernelName: string, body: KernelBody): KernelConfig {
  return {
    kernelName,
    backendName: BACKEND_NAME,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const b = backend as TorchBackend;
      return b.runKernel(() => body(b, inputs, attrs ?? {}));
    },
  };
}

/** Input `name` of a kernel, with a clear error when absent. */
export function req(inputs: NamedTensorInfoMap, name: string, kernelName: string): TensorInfo {
  const t = inputs[name];
  if (!t) throw new Error(`${kernelName}: missing input '${name}'`);
  return t;
}

/** An elementwise unary kernel mapped onto one ATen operator. */
export function unaryKernel(kernelName: string, atenName: string, extraArgs: unknown[] = [], outDtype?: 'bool' | 'float32'): KernelConfig {
  return kernel(kernelName, (b, inputs) => {
    const x = req(inputs, 'x', kernelName);
    return b.output(b.call(aten(atenName), b.id(x), ...extraArgs), outDtype ?? x.dtype);
  });
}

/** An elementwise binary kernel (numpy broadcasting) mapped onto one ATen operator. */
export function binaryKernel(kernelName: string, atenName: string, overload = 'Tensor', outDtype?: 'bool'): KernelConfig {
  return kernel(kernelName, (b, inputs) => {
    const a = req(inputs, 'a', kernelName);
    const c = req(inputs, 'b', kernelName);
    return b.output(b.call(aten(atenName, overload), b.id(a), b.id(c)), outDtype ?? a.dtype);
  });
}

/** Normalises a tfjs axis attribute (number, array, negative) to a sorted list of dims. */
export function axesOf(axis: number | number[] | undefined | null, rank: number): number[] {
  if (axis === undefined || axis === null) return Array.from({ length: rank }, (_, i) => i);
  const list = Array.isArray(axis) ? axis : [axis];
  return [...new Set(list.map((a) => (a < 0 ? a + rank : a)))].sort((p, q) => p - q);
}

/** NHWC tfjs tensor → NCHW view (channels-last strides, no copy). */
export function nchw(b: TorchBackend, t: NativeTensor | number): NativeTensor {
  const id = typeof t === 'number' ? t : t.id;
  return b.call(aten('permute'), id, [0, 3, 1, 2]);
}

/** NCHW (channels-last) result → NHWC view. */
export function nhwc(b: TorchBackend, t: NativeTensor): NativeTensor {
  return b.call(aten('permute'), t.id, [0, 2, 3, 1]);
}

/** Applies a fused activation (as tfjs's fused ops name them) to a native tensor. */
export function applyActivation(
  b: TorchBackend,
  x: NativeTensor,
  activation: string | undefined | null,
  preluWeights?: TensorInfo,
  leakyreluAlpha?: number,
  channelsFirst = false,
): NativeTensor {
  switch (activation ?? 'linear') {
    case 'linear':
      return x;
    case 'relu':
      return b.call(aten('relu'), x.id);
    case 'relu6':
      return b.call(aten('hardtanh'), x.id, 0, 6);
    case 'elu':
      return b.call(aten('elu'), x.id);
    case 'sigmoid':
      return b.call(aten('sigmoid'), x.id);
    case 'leakyrelu':
      return b.call(aten('leaky_relu'), x.id, leakyreluAlpha ?? 0.2);
    case 'prelu': {
      if (!preluWeights) throw new Error('prelu activation needs preluActivationWeights');
      // prelu(x) = max(x, 0) + alpha * min(x, 0), alpha broadcast like tfjs.
      const pos = b.call(aten('relu'), x.id);
      const neg = b.call(aten('clamp_max'), x.id, 0);
      let alpha = b.input(preluWeights);
      // In NCHW a per-channel weight vector broadcasts along axis 1.
      if (channelsFirst && alpha.shape.length === 1) alpha = b.call(aten('reshape'), alpha.id, [alpha.shape[0], 1, 1]);
      const scaled = b.call(aten('mul', 'Tensor'), neg.id, alpha.id);
      return b.call(aten('add', 'Tensor'), pos.id, scaled.id);
    }
    default:
      throw new Error(`torch backend: unknown fused activation '${activation}'`);
  }
}
