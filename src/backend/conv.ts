/**
 * 2-D convolution and pooling on tfjs's NHWC tensors through ATen. An NHWC tensor is viewed
 * as NCHW with channels-last strides (a permute, no copy), which is the layout oneDNN prefers;
 * results are permuted back the same way. Asymmetric 'same' padding is applied explicitly.
 */
import { backend_util } from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { TorchBackend } from './backend_torch.js';
import { nchw, nhwc } from './kernel_utils.js';
import { aten, MemoryFormat, ScalarType } from './native.js';
import type { NativeTensor } from './native.js';

type PadInfo = { top: number; bottom: number; left: number; right: number };

/**
 * tfjs's padding, plus extra rows/columns at the bottom/right where tfjs's output size (e.g. with
 * dimRoundingMode 'ceil' or 'round') needs more input than ATen's floor rule would use.
 */
export function padOf(info: backend_util.Conv2DInfo): PadInfo {
  const p = info.padInfo;
  const needH = (info.outHeight - 1) * info.strideHeight + info.effectiveFilterHeight;
  const needW = (info.outWidth - 1) * info.strideWidth + info.effectiveFilterWidth;
  return {
    top: p.top,
    left: p.left,
    bottom: p.bottom + Math.max(0, needH - (info.inHeight + p.top + p.bottom)),
    right: p.right + Math.max(0, needW - (info.inWidth + p.left + p.right)),
  };
}

export function isSymmetric(p: PadInfo): boolean {
  return p.top === p.bottom && p.left === p.right;
}

/** Input as NCHW (view), explicitly padded with `value` when the padding is asymmetric. */
export function prepareInput(
  b: TorchBackend,
  x: NativeTensor,
  channelsLast: boolean,
  pad: PadInfo,
  value = 0,
): { t: NativeTensor; padding: [number, number] } {
  let t = channelsLast ? nchw(b, x) : x;
  if (isSymmetric(pad)) return { t, padding: [pad.top, pad.left] };
  t = b.call(aten('constant_pad_nd'), t.id, [pad.left, pad.right, pad.top, pad.bottom], value);
  return { t, padding: [0, 0] };
}

/** Removes explicit asymmetric padding from an NCHW gradient. */
export function unpad(b: TorchBackend, g: NativeTensor, pad: PadInfo, h: number, w: number): NativeTensor {
  if (isSymmetric(pad)) return g;
  const rows = b.call(aten('slice', 'Tensor'), g.id, 2, pad.top, pad.top + h, 1);
  return b.call(aten('slice', 'Tensor'), rows.id, 3, pad.left, pad.left + w, 1);
}

/** tfjs filter [fh, fw, in, out] (or depthwise [fh, fw, in, mult]) → ATen weight [out, in/groups, fh, fw]. */
export function weightOf(b: TorchBackend, filter: NativeTensor, depthwise: boolean): NativeTensor {
  if (!depthwise) return b.call(aten('permute'), filter.id, [3, 2, 0, 1]);
  const [fh, fw, inC, mult] = filter.shape as [number, number, number, number];
  const r = b.call(aten('reshape'), filter.id, [fh, fw, inC * mult, 1]);
  return b.call(aten('permute'), r.id, [2, 3, 0, 1]);
}

/** Whether a 4-D NCHW tensor (or view) is stored channels-last, e.g. an NHWC-contiguous tfjs tensor's NCHW view. */
export function storedChannelsLast(t: NativeTensor): boolean {
  if (t.shape.length !== 4 || (t.shape[1] ?? 1) <= 1) return false;
  return aten('stride', 'int')(t.id, 1)[1] === 1;
}

/**
 * A convolution input with very few channels (an image: 1-4) stored channels-last is copied to
 * NCHW first (cheap at that size): ATen then computes the convolution, and hands on its output,
 * in NCHW, which is what the GroupNorm and convolutions after it read without copying.
 */
export function fewChannelsNchw(b: TorchBackend, t: NativeTensor): NativeTensor {
  if (t.shape.length !== 4 || (t.shape[1] ?? 0) > 4 || !storedChannelsLast(t)) return t;
  return b.call(aten('contiguous'), t.id);
}

/** A convolution's input as ATen reads it: prepareInput, then fewChannelsNchw (not for depthwise). */
function convInput(
  b: TorchBackend,
  x: TensorInfo,
  channelsLast: boolean,
  pad: PadInfo,
  depthwise: boolean,
): { t: NativeTensor; padding: [number, number] } {
  const p = prepareInput(b, b.input(x), channelsLast, pad);
  return depthwise ? p : { t: fewChannelsNchw(b, p.t), padding: p.padding };
}

/** ATen weight gradient [out, in/groups, fh, fw] → tfjs filter layout. */
export function weightGradToTfjs(b: TorchBackend, g: NativeTensor, filterShape: number[], depthwise: boolean): NativeTensor {
  if (!depthwise) return b.call(aten('permute'), g.id, [2, 3, 1, 0]);
  const p = b.call(aten('permute'), g.id, [2, 3, 0, 1]); // [fh, fw, in*mult, 1]
  return b.call(aten('reshape'), p.id, filterShape);
}

export interface ConvArgs {
  x: TensorInfo;
  filter: TensorInfo;
  info: backend_util.Conv2DInfo;
  depthwise: boolean;
  bias?: TensorInfo;
}

/** Forward convolution; returns an NHWC (or NCHW when the info says channelsFirst) native tensor. */
export function conv2d(b: TorchBackend, { x, filter, info, depthwise, bias }: ConvArgs): NativeTensor {
  const channelsLast = info.dataFormat === 'channelsLast';
  const { t, padding } = convInput(b, x, channelsLast, padOf(info), depthwise);
  const w = weightOf(b, b.input(filter), depthwise);
  const groups = depthwise ? info.inChannels : 1;
  const biasOk = bias && bias.shape.length === 1 && bias.shape[0] === info.outChannels;
  const [y] = b.callAllWithFallback(
    aten('convolution'),
    t.id,
    w.id,
    biasOk ? b.id(bias) : null,
    [info.strideHeight, info.strideWidth],
    padding,
    [info.dilationHeight, info.dilationWidth],
    false,
    [0, 0],
    groups,
  );
  if (!y) throw new Error('convolution returned no tensor');
  let out = channelsLast ? nhwc(b, y) : y;
  if (bias && !biasOk) out = b.call(aten('add', 'Tensor'), out.id, b.id(bias));
  return out;
}

function paddedNchwShape(info: backend_util.Conv2DInfo): number[] {
  const p = padOf(info);
  const extraH = isSymmetric(p) ? 0 : p.top + p.bottom;
  const extraW = isSymmetric(p) ? 0 : p.left + p.right;
  return [info.batchSize, info.inChannels, info.inHeight + extraH, info.inWidth + extraW];
}

/** Gradient of the convolution with respect to its input (tfjs layout). */
export function conv2dBackpropInput(
  b: TorchBackend,
  dy: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
  depthwise: boolean,
): NativeTensor {
  const channelsLast = info.dataFormat === 'channelsLast';
  const g = channelsLast ? nchw(b, b.input(dy)) : b.input(dy);
  const w = weightOf(b, b.input(filter), depthwise);
  // ATen computes in the memory format of this (shape-only) input: match dy's storage, else it
  // copies dy and the weight into the other format first
  const fmt = storedChannelsLast(g) ? MemoryFormat.channelsLast : MemoryFormat.contiguous;
  const shape = paddedNchwShape(info);
  const dummy = b.call(aten('empty', 'memory_format'), shape, ScalarType.float32, null, null, null, fmt);
  const pad = padOf(info);
  const padding = isSymmetric(pad) ? [pad.top, pad.left] : [0, 0];
  const [gx] = b.callAllWithFallback(
    aten('convolution_backward'),
    g.id,
    dummy.id,
    w.id,
    null,
    [info.strideHeight, info.strideWidth],
    padding,
    [info.dilationHeight, info.dilationWidth],
    false,
    [0, 0],
    depthwise ? info.inChannels : 1,
    [true, false, false],
  );
  if (!gx) throw new Error('convolution_backward returned no input gradient');
  const un = unpad(b, gx, pad, info.inHeight, info.inWidth);
  return channelsLast ? nhwc(b, un) : un;
}

/** Gradient of the convolution with respect to its filter (tfjs layout). */
export function conv2dBackpropFilter(
  b: TorchBackend,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
  filterShape: number[],
  depthwise: boolean,
): NativeTensor {
  const channelsLast = info.dataFormat === 'channelsLast';
  const { t, padding } = convInput(b, x, channelsLast, padOf(info), depthwise);
  const g = channelsLast ? nchw(b, b.input(dy)) : b.input(dy);
  const [fh, fw, inC, last] = filterShape as [number, number, number, number];
  const wShape = depthwise ? [inC * last, 1, fh, fw] : [last, inC, fh, fw];
  const dummy = b.call(aten('empty', 'memory_format'), wShape, ScalarType.float32);
  const outs = b.callAllWithFallback(
    aten('convolution_backward'),
    g.id,
    t.id,
    dummy.id,
    null,
    [info.strideHeight, info.strideWidth],
    padding,
    [info.dilationHeight, info.dilationWidth],
    false,
    [0, 0],
    depthwise ? info.inChannels : 1,
    [false, true, false],
  );
  const gw = outs.find((o) => o.shape.length === 4 && o.shape[0] === wShape[0] && o.shape[2] === fh);
  if (!gw) throw new Error('convolution_backward returned no weight gradient');
  return weightGradToTfjs(b, gw, filterShape, depthwise);
}

/** Key of a filter gradient: the attributes tfjs's Conv2DBackpropFilter kernel gets. */
export function filterGradKey(
  strides: number | [number, number],
  pad: unknown,
  dataFormat: string,
  dimRoundingMode: unknown,
  filterShape: number[],
): string {
  return JSON.stringify([strides, pad, dataFormat, dimRoundingMode ?? null, filterShape]);
}

/**
 * Input and filter gradients of a (non-depthwise) convolution in one ATen call, as PyTorch's
 * autograd does. Returns both in tfjs layout.
 */
export function conv2dBackwardBoth(
  b: TorchBackend,
  x: TensorInfo,
  dy: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
): { dx: NativeTensor; dw: NativeTensor } {
  const channelsLast = info.dataFormat === 'channelsLast';
  const pad = padOf(info);
  const { t, padding } = convInput(b, x, channelsLast, pad, false);
  const g = channelsLast ? nchw(b, b.input(dy)) : b.input(dy);
  const w = weightOf(b, b.input(filter), false);
  const outs = b.callAllWithFallback(
    aten('convolution_backward'),
    g.id,
    t.id,
    w.id,
    null,
    [info.strideHeight, info.strideWidth],
    padding,
    [info.dilationHeight, info.dilationWidth],
    false,
    [0, 0],
    1,
    [true, true, false],
  );
  const [gx, gw] = outs;
  if (!gx || !gw || gx.shape.length !== 4 || gw.shape.length !== 4 || gw.shape[0] !== w.shape[0] || gx.shape[0] !== t.shape[0]) {
    throw new Error('convolution_backward did not return both gradients');
  }
  const un = unpad(b, gx, pad, info.inHeight, info.inWidth);
  return { dx: channelsLast ? nhwc(b, un) : un, dw: weightGradToTfjs(b, gw, filter.shape, false) };
}
