/** Max and average pooling (NHWC) and their gradients through ATen. */
import { backend_util } from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { TorchBackend } from './backend_torch.js';
import { isSymmetric, padOf, prepareInput, unpad } from './conv.js';
import { nchw, nhwc } from './kernel_utils.js';
import { aten } from './native.js';
import type { NativeTensor } from './native.js';

type Info = backend_util.Conv2DInfo;

/** ATen pools accept a symmetric padding of at most half the window; otherwise pad explicitly. */
function nativePadOk(info: Info): boolean {
  const p = padOf(info);
  return isSymmetric(p) && p.top * 2 <= info.effectiveFilterHeight && p.left * 2 <= info.effectiveFilterWidth;
}

function paddedInput(b: TorchBackend, x: TensorInfo, info: Info, value: number) {
  if (nativePadOk(info)) return { t: nchw(b, b.input(x)), padding: [padOf(info).top, padOf(info).left] as [number, number] };
  const p = padOf(info);
  const t = b.call(aten('constant_pad_nd'), nchw(b, b.input(x)).id, [p.left, p.right, p.top, p.bottom], value);
  return { t, padding: [0, 0] as [number, number] };
}

function unpadded(b: TorchBackend, g: NativeTensor, info: Info): NativeTensor {
  if (nativePadOk(info)) return g;
  const p = padOf(info);
  const rows = b.call(aten('slice', 'Tensor'), g.id, 2, p.top, p.top + info.inHeight, 1);
  return b.call(aten('slice', 'Tensor'), rows.id, 3, p.left, p.left + info.inWidth, 1);
}

function windowArgs(info: Info): [number[], number[]] {
  return [
    [info.filterHeight, info.filterWidth],
    [info.strideHeight, info.strideWidth],
  ];
}

/** Max pooling; returns the output and the argmax indices (kept for the gradient). */
export function maxPool(b: TorchBackend, x: TensorInfo, info: Info): { y: NativeTensor; indices: NativeTensor } {
  const { t, padding } = paddedInput(b, x, info, -Infinity);
  const [k, s] = windowArgs(info);
  const [y, indices] = b.callAll(aten('max_pool2d_with_indices'), t.id, k, s, padding, [info.dilationHeight, info.dilationWidth], false);
  return { y: nhwc(b, y as NativeTensor), indices: indices as NativeTensor };
}

/** Gradient of max pooling, reusing the forward pass's argmax indices when `indices` is given. */
export function maxPoolGrad(b: TorchBackend, dy: TensorInfo, x: TensorInfo, info: Info, indices: NativeTensor | null): NativeTensor {
  const { t, padding } = paddedInput(b, x, info, -Infinity);
  const [k, s] = windowArgs(info);
  const dil = [info.dilationHeight, info.dilationWidth];
  const idx = indices ?? (b.callAll(aten('max_pool2d_with_indices'), t.id, k, s, padding, dil, false)[1] as NativeTensor);
  const g = b.call(aten('max_pool2d_with_indices_backward'), nchw(b, b.input(dy)).id, t.id, k, s, padding, dil, false, idx.id);
  return nhwc(b, unpadded(b, g, info));
}

/** Average over the valid (unpadded) elements of each window, as tfjs does. */
export function avgPool(b: TorchBackend, x: TensorInfo, info: Info): NativeTensor {
  const [k, s] = windowArgs(info);
  if (nativePadOk(info)) {
    const y = b.call(aten('avg_pool2d'), nchw(b, b.input(x)).id, k, s, [padOf(info).top, padOf(info).left], false, false, null);
    return nhwc(b, y);
  }
  const { t } = paddedInput(b, x, info, 0);
  const sums = b.call(aten('avg_pool2d'), t.id, k, s, [0, 0], false, true, 1);
  const counts = windowCounts(b, info);
  return nhwc(b, b.call(aten('div', 'Tensor'), sums.id, counts.id));
}

export function avgPoolGrad(b: TorchBackend, dy: TensorInfo, x: TensorInfo, info: Info): NativeTensor {
  const [k, s] = windowArgs(info);
  const g = nchw(b, b.input(dy));
  if (nativePadOk(info)) {
    const gx = b.call(
      aten('avg_pool2d_backward'),
      g.id,
      nchw(b, b.input(x)).id,
      k,
      s,
      [padOf(info).top, padOf(info).left],
      false,
      false,
      null,
    );
    return nhwc(b, gx);
  }
  const { t } = paddedInput(b, x, info, 0);
  const scaled = b.call(aten('div', 'Tensor'), g.id, windowCounts(b, info).id);
  const gx = b.call(aten('avg_pool2d_backward'), scaled.id, t.id, k, s, [0, 0], false, true, 1);
  return nhwc(b, unpadded(b, gx, info));
}

/** Number of valid input elements in each output window: [1, 1, outH, outW]. */
function windowCounts(b: TorchBackend, info: Info): NativeTensor {
  const p = padOf(info);
  const ones = b.call(aten('ones'), [1, 1, info.inHeight, info.inWidth], 6);
  const padded = b.call(aten('constant_pad_nd'), ones.id, [p.left, p.right, p.top, p.bottom], 0);
  const [k, s] = windowArgs(info);
  return b.call(aten('avg_pool2d'), padded.id, k, s, [0, 0], false, true, 1);
}

export { prepareInput, unpad };
