import { CropAndResize } from '@tensorflow/tfjs-core';
import type { CropAndResizeAttrs, TypedArray } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten, NDType } from '../native.js';

/**
 * tf.image.cropAndResize: per output pixel, up to four source pixels and weights are computed
 * in JS with tfjs's sampling rule, then gathered from the image in one index_select.
 */
export const cropAndResizeConfig = kernel(CropAndResize, (b, inputs, attrs) => {
  const image = req(inputs, 'image', CropAndResize);
  const boxes = req(inputs, 'boxes', CropAndResize);
  const boxInd = req(inputs, 'boxInd', CropAndResize);
  const { cropSize, method, extrapolationValue } = attrs as unknown as CropAndResizeAttrs;
  const [batch, ih, iw, ch] = image.shape as [number, number, number, number];
  const [ch_, cw] = cropSize;
  const bx = b.readSync(boxes.dataId) as TypedArray;
  const bi = b.readSync(boxInd.dataId) as TypedArray;
  const nBoxes = boxes.shape[0] as number;
  const m = nBoxes * ch_ * cw;
  const idx = new Int32Array(m * 4);
  const w = new Float32Array(m * 4);
  const extra = new Float32Array(m);
  const bilinear = method === 'bilinear';
  for (let k = 0; k < nBoxes; k++) {
    const [y1, x1, y2, x2] = [bx[4 * k], bx[4 * k + 1], bx[4 * k + 2], bx[4 * k + 3]] as number[] as [number, number, number, number];
    const bIdx = bi[k] as number;
    if (bIdx < 0 || bIdx >= batch) throw new Error(`CropAndResize: box index ${bIdx} is not in [0, ${batch})`);
    const hs = ch_ > 1 ? ((y2 - y1) * (ih - 1)) / (ch_ - 1) : 0;
    const ws = cw > 1 ? ((x2 - x1) * (iw - 1)) / (cw - 1) : 0;
    for (let y = 0; y < ch_; y++) {
      const yIn = ch_ > 1 ? y1 * (ih - 1) + y * hs : 0.5 * (y1 + y2) * (ih - 1);
      for (let x = 0; x < cw; x++) {
        const o = (k * ch_ + y) * cw + x;
        const xIn = cw > 1 ? x1 * (iw - 1) + x * ws : 0.5 * (x1 + x2) * (iw - 1);
        if (yIn < 0 || yIn > ih - 1 || xIn < 0 || xIn > iw - 1) {
          extra[o] = extrapolationValue;
          continue; // all four weights stay 0 (indices 0)
        }
        const base = bIdx * ih * iw;
        if (bilinear) {
          const t = Math.floor(yIn);
          const bt = Math.ceil(yIn);
          const l = Math.floor(xIn);
          const r = Math.ceil(xIn);
          const yl = yIn - t;
          const xl = xIn - l;
          idx[4 * o] = base + t * iw + l;
          idx[4 * o + 1] = base + t * iw + r;
          idx[4 * o + 2] = base + bt * iw + l;
          idx[4 * o + 3] = base + bt * iw + r;
          w[4 * o] = (1 - yl) * (1 - xl);
          w[4 * o + 1] = (1 - yl) * xl;
          w[4 * o + 2] = yl * (1 - xl);
          w[4 * o + 3] = yl * xl;
        } else {
          idx[4 * o] = base + Math.round(yIn) * iw + Math.round(xIn);
          w[4 * o] = 1;
        }
      }
    }
  }
  const flat = b.call(aten('reshape'), b.id(image), [batch * ih * iw, ch]);
  const rows = b.call(aten('index_select'), flat.id, 0, b.constant(idx, [m * 4], NDType.I32).id); // [4m, C]
  const r3 = b.call(aten('reshape'), rows.id, [m, 4, ch]);
  const weighted = b.call(aten('mul', 'Tensor'), r3.id, b.constant(w, [m, 4, 1], NDType.F32).id);
  const summed = b.call(aten('sum', 'dim_IntList'), weighted.id, [1], false);
  const withExtra = b.call(aten('add', 'Tensor'), summed.id, b.constant(extra, [m, 1], NDType.F32).id);
  return b.output(b.call(aten('reshape'), withExtra.id, [nBoxes, ch_, cw, ch]), 'float32');
});
