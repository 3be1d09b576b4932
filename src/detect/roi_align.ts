/**
 * Differentiable RoIAlign (Mask R-CNN; the `aligned=True` variant of torchvision/mmcv) on NHWC
 * feature maps. The sampling geometry depends only on the RoIs, which are constants (proposals
 * carry no gradient in Faster R-CNN), so it is computed in plain JS as two per-axis weight
 * matrices per RoI; the features enter through batched matrix products, whose gradient the
 * tape derives.
 */
import { tf } from '../tf.js';

export interface RoiAlignOptions {
  outputSize: number;
  samplingRatio: number;
  /** Subtract half a pixel (pixel-center model), as aligned=True. */
  aligned: boolean;
}

/**
 * Per-axis RoIAlign weights: [S, size] where row p holds Σ over the `sr` samples of bin p of
 * their (1/sr-scaled) linear-interpolation weights, torchvision's bilinear_interpolate along one
 * axis (zero for a sample outside [-1, size], clamped at 0 and size − 1). Bilinear weights and
 * the outside test are products of per-axis factors, so RoIAlign = Ay · F · Axᵀ exactly.
 */
export function axisWeights(
  start: number,
  extent: number,
  S: number,
  sr: number,
  size: number,
  out = new Float32Array(S * size),
): Float32Array {
  const bin = extent / S;
  for (let p = 0; p < S; p++) {
    for (let i = 0; i < sr; i++) {
      let v = start + p * bin + ((i + 0.5) * bin) / sr;
      if (v < -1 || v > size) continue;
      if (v <= 0) v = 0;
      let lo = Math.floor(v);
      let hi: number;
      if (lo >= size - 1) {
        hi = lo = size - 1;
        v = lo;
      } else hi = lo + 1;
      const l = v - lo;
      out[p * size + lo]! += (1 - l) / sr;
      out[p * size + hi]! += l / sr;
    }
  }
  return out;
}

/** Start and extent (feature px) of a RoI along both axes. */
function roiGeometry(rois: Float32Array, r: number, scale: number, aligned: boolean) {
  const off = aligned ? 0.5 : 0;
  const x1 = rois[4 * r]! * scale - off;
  const y1 = rois[4 * r + 1]! * scale - off;
  let rw = rois[4 * r + 2]! * scale - off - x1;
  let rh = rois[4 * r + 3]! * scale - off - y1;
  if (!aligned) {
    rw = Math.max(rw, 1);
    rh = Math.max(rh, 1);
  }
  return { x1, y1, rw, rh };
}

/**
 * RoIAlign of RoIs that all lie on one image's map f [H, W, C] → [n, S, S, C], as two matrix
 * products per RoI (batched): out = Ay · f · Axᵀ.
 */
function alignOnMap(f: tf.Tensor3D, rois: Float32Array, idx: number[], scale: number, opt: RoiAlignOptions): tf.Tensor4D {
  const [H, W, C] = f.shape;
  const S = opt.outputSize;
  const n = idx.length;
  const ay = new Float32Array(n * S * H);
  const ax = new Float32Array(n * S * W);
  idx.forEach((r, k) => {
    const g = roiGeometry(rois, r, scale, opt.aligned);
    axisWeights(g.y1, g.rh, S, opt.samplingRatio, H, ay.subarray(k * S * H, (k + 1) * S * H));
    axisWeights(g.x1, g.rw, S, opt.samplingRatio, W, ax.subarray(k * S * W, (k + 1) * S * W));
  });
  const t = tf.matMul(tf.tensor2d(ay, [n * S, H]), tf.reshape(f, [H, W * C])); // [n·S(py), W·C]
  const tw = tf.reshape(tf.transpose(tf.reshape(t, [n, S, W, C]), [0, 2, 1, 3]), [n, W, S * C]); // [n, W, py·C]
  const o = tf.matMul(tf.tensor3d(ax, [n, S, W]), tw); // [n, px, py·C]
  return tf.transpose(tf.reshape(o, [n, S, S, C]), [0, 2, 1, 3]) as tf.Tensor4D; // [n, py, px, C]
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
  return multiLevelRoiAlign([features], [1 / scale], rois, batchIndex, Infinity, opt);
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
 * Multi-level RoIAlign: each RoI is pooled from its mapped level (with one level, from it).
 * features: per level [B, h, w, C]; result [R, S, S, C] in the RoIs' order.
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
  const levels = features.length === 1 ? new Int32Array(R) : mapRoiLevels(rois, features.length, finestScale);
  return tf.tidy(() => {
    const C = features[0]!.shape[3];
    if (R === 0) return tf.zeros([0, S, S, C]) as tf.Tensor4D;
    const parts: tf.Tensor4D[] = [];
    const order: number[] = [];
    features.forEach((f, l) => {
      const [B, H, W] = f.shape;
      for (let b = 0; b < B; b++) {
        const idx: number[] = [];
        for (let r = 0; r < R; r++) if (levels[r] === l && batchIndex[r] === b) idx.push(r);
        if (!idx.length) continue;
        const fb = tf.reshape(tf.slice(f, [b, 0, 0, 0], [1, H, W, C]), [H, W, C]) as tf.Tensor3D;
        parts.push(alignOnMap(fb, rois, idx, 1 / strides[l]!, opt));
        order.push(...idx);
      }
    });
    const stacked = parts.length === 1 ? parts[0]! : tf.concat(parts, 0);
    const inverse = new Int32Array(R);
    order.forEach((r, k) => (inverse[r] = k));
    const isIdentity = order.every((r, k) => r === k);
    return (isIdentity ? stacked : tf.gather(stacked, tf.tensor1d(inverse, 'int32'))) as tf.Tensor4D;
  });
}
