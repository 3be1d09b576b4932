/**
 * Differentiable RoIAlign (Mask R-CNN; the `aligned=True` variant of torchvision/mmcv) on NHWC
 * feature maps. The sampling geometry (which feature cells, which bilinear weights) depends only
 * on the RoIs, which are constants (proposals carry no gradient in Faster R-CNN), so it is
 * computed in plain JS; the features enter through one gather and a weighted sum, whose
 * gradient the tape derives (a scatter-add of the weights).
 */
import { tf } from '../tf.js';

export interface RoiAlignOptions {
  outputSize: number;
  samplingRatio: number;
  /** Subtract half a pixel (pixel-center model), as aligned=True. */
  aligned: boolean;
}

export interface RoiSampling {
  /** [R·S·S·k] row of the flattened feature table for each (bin, sample, corner). */
  index: Int32Array;
  /** Matching weights (bilinear weight / samples per bin). */
  weight: Float32Array;
  /** Samples·corners per output cell (k). */
  perCell: number;
}

/**
 * Sampling plan for RoIs on one feature map of size [B, H, W] with `scale` = 1/stride. `rois`
 * is [R, 4] x1y1x2y2 in input px and `batchIndex` [R]; `rowOffset` is added to every row index
 * (the map's offset in a table that stacks several maps).
 */
export function roiSampling(
  rois: Float32Array,
  batchIndex: Int32Array,
  H: number,
  W: number,
  scale: number,
  opt: RoiAlignOptions,
  rowOffset = 0,
): RoiSampling {
  const R = batchIndex.length;
  const S = opt.outputSize;
  const sr = opt.samplingRatio;
  const perCell = sr * sr * 4;
  const index = new Int32Array(R * S * S * perCell);
  const weight = new Float32Array(R * S * S * perCell);
  const off = opt.aligned ? 0.5 : 0;
  const count = sr * sr;
  for (let r = 0; r < R; r++) {
    const b = batchIndex[r]!;
    const x1 = rois[4 * r]! * scale - off;
    const y1 = rois[4 * r + 1]! * scale - off;
    let rw = rois[4 * r + 2]! * scale - off - x1;
    let rh = rois[4 * r + 3]! * scale - off - y1;
    if (!opt.aligned) {
      rw = Math.max(rw, 1);
      rh = Math.max(rh, 1);
    }
    const bw = rw / S;
    const bh = rh / S;
    const base = rowOffset + b * H * W;
    for (let py = 0; py < S; py++) {
      for (let px = 0; px < S; px++) {
        let slot = ((r * S + py) * S + px) * perCell;
        for (let iy = 0; iy < sr; iy++) {
          const y0 = y1 + py * bh + ((iy + 0.5) * bh) / sr;
          for (let ix = 0; ix < sr; ix++) {
            const x0 = x1 + px * bw + ((ix + 0.5) * bw) / sr;
            // bilinear corners, torchvision's bilinear_interpolate (zero outside [-1, H] x [-1, W])
            if (y0 < -1 || y0 > H || x0 < -1 || x0 > W) {
              for (let k = 0; k < 4; k++) {
                index[slot] = base;
                weight[slot++] = 0;
              }
              continue;
            }
            let y = y0 <= 0 ? 0 : y0;
            let x = x0 <= 0 ? 0 : x0;
            let yl = Math.floor(y), xl = Math.floor(x);
            let yh: number, xh: number;
            if (yl >= H - 1) {
              yh = yl = H - 1;
              y = yl;
            } else yh = yl + 1;
            if (xl >= W - 1) {
              xh = xl = W - 1;
              x = xl;
            } else xh = xl + 1;
            const ly = y - yl, lx = x - xl, hy = 1 - ly, hx = 1 - lx;
            index[slot] = base + yl * W + xl;
            weight[slot++] = (hy * hx) / count;
            index[slot] = base + yl * W + xh;
            weight[slot++] = (hy * lx) / count;
            index[slot] = base + yh * W + xl;
            weight[slot++] = (ly * hx) / count;
            index[slot] = base + yh * W + xh;
            weight[slot++] = (ly * lx) / count;
          }
        }
      }
    }
  }
  return { index, weight, perCell };
}

/**
 * RoIAlign on one map: features [B, H, W, C], rois [R, 4] (input px), batchIndex [R] →
 * [R, S, S, C].
 */
export function roiAlign(
  features: tf.Tensor4D,
  rois: Float32Array,
  batchIndex: Int32Array,
  scale: number,
  opt: RoiAlignOptions,
): tf.Tensor4D {
  const [B, H, W, C] = features.shape;
  const plan = roiSampling(rois, batchIndex, H, W, scale, opt);
  return tf.tidy(() => applySampling(tf.reshape(features, [B * H * W, C]) as tf.Tensor2D, plan, batchIndex.length, opt.outputSize));
}

/** Weighted gather from a feature table [T, C] by a sampling plan → [R, S, S, C]. */
export function applySampling(table: tf.Tensor2D, plan: RoiSampling, R: number, S: number): tf.Tensor4D {
  return tf.tidy(() => {
    const C = table.shape[1];
    if (R === 0) return tf.mul(tf.reshape(tf.slice(table, [0, 0], [0, C]), [0, S, S, C]), 1) as tf.Tensor4D;
    const g = tf.gather(table, tf.tensor1d(plan.index, 'int32')); // [R·S·S·k, C]
    const w = tf.tensor3d(plan.weight, [R * S * S, plan.perCell, 1]);
    const cells = tf.sum(tf.mul(tf.reshape(g, [R * S * S, plan.perCell, C]), w), 1); // [R·S·S, C]
    return tf.reshape(cells, [R, S, S, C]) as tf.Tensor4D;
  });
}

/**
 * mmdetection's RoI-to-level mapping: level = floor(log2(sqrt(w·h) / finestScale + 1e-6)),
 * clamped to [0, numLevels − 1].
 */
export function mapRoiLevels(rois: Float32Array, numLevels: number, finestScale: number): Int32Array {
  const R = rois.length / 4;
  const out = new Int32Array(R);
  for (let r = 0; r < R; r++) {
    const s = Math.sqrt(Math.max(0, rois[4 * r + 2]! - rois[4 * r]!) * Math.max(0, rois[4 * r + 3]! - rois[4 * r + 1]!));
    const l = Math.floor(Math.log2(s / finestScale + 1e-6));
    out[r] = Math.min(numLevels - 1, Math.max(0, l));
  }
  return out;
}

/**
 * Multi-level RoIAlign: each RoI is pooled from its mapped level; one gather over the stacked
 * maps. features: per level [B, h, w, C]; result [R, S, S, C] in the RoIs' order.
 */
export function multiLevelRoiAlign(
  features: tf.Tensor4D[],
  strides: number[],
  rois: Float32Array,
  batchIndex: Int32Array,
  finestScale: number,
  opt: RoiAlignOptions,
): tf.Tensor4D {
  const R = batchIndex.length;
  const S = opt.outputSize;
  const levels = mapRoiLevels(rois, features.length, finestScale);
  const perCell = opt.samplingRatio * opt.samplingRatio * 4;
  const index = new Int32Array(R * S * S * perCell);
  const weight = new Float32Array(R * S * S * perCell);
  const offsets: number[] = [];
  let off = 0;
  for (const f of features) {
    offsets.push(off);
    off += f.shape[0] * f.shape[1] * f.shape[2];
  }
  const block = S * S * perCell;
  for (let l = 0; l < features.length; l++) {
    const sel: number[] = [];
    for (let r = 0; r < R; r++) if (levels[r] === l) sel.push(r);
    if (!sel.length) continue;
    const sub = new Float32Array(sel.length * 4);
    const bi = new Int32Array(sel.length);
    sel.forEach((r, i) => {
      sub.set(rois.subarray(4 * r, 4 * r + 4), 4 * i);
      bi[i] = batchIndex[r]!;
    });
    const [, H, W] = features[l]!.shape;
    const plan = roiSampling(sub, bi, H, W, 1 / strides[l]!, opt, offsets[l]!);
    sel.forEach((r, i) => {
      index.set(plan.index.subarray(i * block, (i + 1) * block), r * block);
      weight.set(plan.weight.subarray(i * block, (i + 1) * block), r * block);
    });
  }
  return tf.tidy(() => {
    const C = features[0]!.shape[3];
    const table = tf.concat(features.map((f) => tf.reshape(f, [-1, C])), 0) as tf.Tensor2D;
    return applySampling(table, { index, weight, perCell }, R, S);
  });
}
