/**
 * Bilinear and nearest-neighbour resizing with tfjs's exact sampling rules (alignCorners,
 * halfPixelCenters), as separable gathers along rows and columns; the gradients are the exact
 * adjoints (index_add of the weighted output gradient).
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { TorchBackend } from './backend_torch.js';
import { aten, NDType, ScalarType } from './native.js';
import type { NativeTensor } from './native.js';

interface Axis1D {
  lo: Int32Array;
  hi: Int32Array;
  frac: Float32Array; // weight of `hi`; `lo` gets 1 - frac
}

function ratio(inSize: number, outSize: number, alignCorners: boolean): number {
  const effIn = alignCorners && outSize > 1 ? inSize - 1 : inSize;
  const effOut = alignCorners && outSize > 1 ? outSize - 1 : outSize;
  return effIn / effOut;
}

export function bilinearAxis(inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): Axis1D {
  const r = ratio(inSize, outSize, alignCorners);
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const frac = new Float32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const src = halfPixelCenters ? r * (i + 0.5) - 0.5 : r * i;
    const fl = Math.floor(src);
    lo[i] = Math.max(0, fl);
    hi[i] = Math.min(inSize - 1, Math.ceil(src));
    frac[i] = src - fl;
  }
  return { lo, hi, frac };
}

export function nearestAxis(inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): Int32Array {
  const r = ratio(inSize, outSize, alignCorners);
  const idx = new Int32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const src = halfPixelCenters ? r * (i + 0.5) : r * i;
    let k = Math.min(inSize - 1, alignCorners ? Math.round(src) : Math.floor(src));
    if (halfPixelCenters) k = Math.max(0, k);
    idx[i] = k;
  }
  return idx;
}

function weightsShape(dim: number, n: number): number[] {
  const s = [1, 1, 1, 1];
  s[dim] = n;
  return s;
}

/** Linear interpolation along one axis (1 = rows, 2 = cols) of an NHWC tensor. */
function lerpAxis(b: TorchBackend, x: NativeTensor, dim: number, ax: Axis1D): NativeTensor {
  const n = ax.lo.length;
  const lo = b.call(aten('index_select'), x.id, dim, b.constant(ax.lo, [n], NDType.I32).id);
  const hi = b.call(aten('index_select'), x.id, dim, b.constant(ax.hi, [n], NDType.I32).id);
  const w = b.constant(ax.frac, weightsShape(dim, n), NDType.F32);
  // lo + (hi - lo) * w, the order of operations tfjs uses.
  const d = b.call(aten('sub', 'Tensor'), hi.id, lo.id);
  return b.call(aten('add', 'Tensor'), lo.id, b.call(aten('mul', 'Tensor'), d.id, w.id).id);
}

/** Adjoint of lerpAxis: scatters g back onto `inSize` positions along `dim`. */
function lerpAxisAdjoint(b: TorchBackend, g: NativeTensor, dim: number, ax: Axis1D, inSize: number): NativeTensor {
  const n = ax.lo.length;
  const shape = g.shape.slice();
  shape[dim] = inSize;
  const w = b.constant(ax.frac, weightsShape(dim, n), NDType.F32);
  const gHi = b.call(aten('mul', 'Tensor'), g.id, w.id);
  const gLo = b.call(aten('sub', 'Tensor'), g.id, gHi.id);
  const zeros = b.call(aten('zeros'), shape, ScalarType.float32);
  const a = b.call(aten('index_add'), zeros.id, dim, b.constant(ax.lo, [n], NDType.I32).id, gLo.id);
  return b.call(aten('index_add'), a.id, dim, b.constant(ax.hi, [n], NDType.I32).id, gHi.id);
}

export function resizeBilinear(
  b: TorchBackend,
  x: TensorInfo,
  size: [number, number],
  alignCorners: boolean,
  halfPixelCenters: boolean,
): NativeTensor {
  const [, inH, inW] = x.shape as [number, number, number, number];
  let t = b.input(x);
  if (x.dtype !== 'float32') t = b.cast(t, 'float32');
  const rows = lerpAxis(b, t, 1, bilinearAxis(inH, size[0], alignCorners, halfPixelCenters));
  return lerpAxis(b, rows, 2, bilinearAxis(inW, size[1], alignCorners, halfPixelCenters));
}

export function resizeBilinearGrad(
  b: TorchBackend,
  dy: TensorInfo,
  x: TensorInfo,
  alignCorners: boolean,
  halfPixelCenters: boolean,
): NativeTensor {
  const [, inH, inW] = x.shape as [number, number, number, number];
  const [, outH, outW] = dy.shape as [number, number, number, number];
  const cols = lerpAxisAdjoint(b, b.input(dy), 2, bilinearAxis(inW, outW, alignCorners, halfPixelCenters), inW);
  return lerpAxisAdjoint(b, cols, 1, bilinearAxis(inH, outH, alignCorners, halfPixelCenters), inH);
}

export function resizeNearest(
  b: TorchBackend,
  x: TensorInfo,
  size: [number, number],
  alignCorners: boolean,
  halfPixelCenters: boolean,
): NativeTensor {
  const [, inH, inW] = x.shape as [number, number, number, number];
  const r = nearestAxis(inH, size[0], alignCorners, halfPixelCenters);
  const c = nearestAxis(inW, size[1], alignCorners, halfPixelCenters);
  const rows = b.call(aten('index_select'), b.id(x), 1, b.constant(r, [r.length], NDType.I32).id);
  return b.call(aten('index_select'), rows.id, 2, b.constant(c, [c.length], NDType.I32).id);
}

export function resizeNearestGrad(
  b: TorchBackend,
  dy: TensorInfo,
  x: TensorInfo,
  alignCorners: boolean,
  halfPixelCenters: boolean,
): NativeTensor {
  const [n, inH, inW, ch] = x.shape as [number, number, number, number];
  const [, outH, outW] = dy.shape as [number, number, number, number];
  const r = nearestAxis(inH, outH, alignCorners, halfPixelCenters);
  const c = nearestAxis(inW, outW, alignCorners, halfPixelCenters);
  const z1 = b.call(aten('zeros'), [n, outH, inW, ch], ScalarType.float32);
  const cols = b.call(aten('index_add'), z1.id, 2, b.constant(c, [c.length], NDType.I32).id, b.id(dy));
  const z2 = b.call(aten('zeros'), [n, inH, inW, ch], ScalarType.float32);
  return b.call(aten('index_add'), z2.id, 1, b.constant(r, [r.length], NDType.I32).id, cols.id);
}
