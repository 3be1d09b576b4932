/** Shared logic of the reduction kernels (Sum, Mean, Max, Min, Prod, All, Any). */
import type { DataType, KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { axesOf, kernel, req } from './kernel_utils.js';
import type { TorchBackend } from './backend_torch.js';
import { aten, ScalarType } from './native.js';
import type { NativeTensor } from './native.js';

interface ReduceAttrs {
  axis?: number | number[];
  reductionIndices?: number | number[]; // Max names its axis this way
  keepDims: boolean;
}

type Reducer = (b: TorchBackend, x: NativeTensor, dims: number[], keepDims: boolean) => NativeTensor;

/** Applies a one-dimension-at-a-time reducer over several dims (highest first so indices stay valid). */
export function perDim(op: (b: TorchBackend, x: NativeTensor, dim: number, keepDims: boolean) => NativeTensor): Reducer {
  return (b, x, dims, keepDims) => {
    let cur = x;
    for (const d of [...dims].sort((p, q) => q - p)) cur = op(b, cur, d, keepDims);
    return cur;
  };
}

export function reduceKernel(
  name: string,
  reducer: Reducer,
  outDtype: (inDtype: DataType) => DataType,
  prepare?: (b: TorchBackend, x: TensorInfo) => NativeTensor,
): KernelConfig {
  return kernel(name, (b, inputs, attrs) => {
    const x = req(inputs, 'x', name);
    const { axis, reductionIndices, keepDims } = attrs as unknown as ReduceAttrs;
    const dims = axesOf(axis ?? reductionIndices, x.shape.length);
    const dtype = outDtype(x.dtype);
    if (dims.length === 0) {
      // No axis to reduce: tfjs returns the input (cast to the output dtype).
      return b.output(b.call(aten('_to_copy'), b.id(x), ScalarType[dtype as keyof typeof ScalarType]), dtype);
    }
    const input = prepare ? prepare(b, x) : b.input(x);
    return b.output(reducer(b, input, dims, keepDims), dtype);
  });
}

/**
 * ArgMax / ArgMin along one axis, as tfjs computes them: NaN is ignored (it never wins) and bool
 * compares as 0/1. Returns int32 indices.
 */
export function argReduceKernel(name: string, which: 'argmax' | 'argmin'): KernelConfig {
  return kernel(name, (b, inputs, attrs) => {
    const x = req(inputs, 'x', name);
    const { axis } = attrs as unknown as { axis: number | number[] };
    const ax = Array.isArray(axis) ? (axis[0] as number) : axis;
    let t = x.dtype === 'bool' ? b.cast(b.input(x), 'int32') : b.input(x);
    if (x.dtype === 'float32') {
      const nan = b.call(aten('isnan'), t.id);
      t = b.call(aten('masked_fill', 'Scalar'), t.id, nan.id, which === 'argmax' ? -Infinity : Infinity);
    }
    return b.output(b.call(aten(which), t.id, ax, false), 'int32');
  });
}
