/**
 * Box geometry on plain Float32Arrays (outside the tape) and its few differentiable twins.
 * Boxes are (x1, y1, x2, y2) in input pixels, stored row-major: box i is [4i, 4i+4).
 */
import { tf } from '../tf.js';
import { cornerIou } from '../util/iou.js';

/** IoU matrix [N, M] between two box lists (row-major result). */
export function iouMatrix(a: Float32Array, b: Float32Array): Float32Array {
  const n = a.length / 4;
  const m = b.length / 4;
  const out = new Float32Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) out[i * m + j] = cornerIou(a, 4 * i, b, 4 * j);
  return out;
}

/** Elementwise IoU of box i in `a` with box i in `b`. */
export function iouPaired(a: Float32Array, b: Float32Array): Float32Array {
  const n = a.length / 4;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = cornerIou(a, 4 * i, b, 4 * i);
  return out;
}

export interface DeltaStds {
  means: [number, number, number, number];
  stds: [number, number, number, number];
}

export const RPN_CODER: DeltaStds = { means: [0, 0, 0, 0], stds: [1, 1, 1, 1] };
export const RCNN_CODER: DeltaStds = { means: [0, 0, 0, 0], stds: [0.1, 0.1, 0.2, 0.2] };

/** Largest |dw|, |dh| accepted when decoding (log(1000/16), as torchvision and mmdetection). */
export const MAX_DELTA_WH = Math.log(1000 / 16);

/** Encode boxes `gt` relative to `anchors` as (dx, dy, dw, dh) deltas, normalised by means/stds. */
export function encodeDeltas(anchors: Float32Array, gt: Float32Array, coder: DeltaStds): Float32Array {
  const n = anchors.length / 4;
  const out = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const pw = anchors[4 * i + 2]! - anchors[4 * i]!;
    const ph = anchors[4 * i + 3]! - anchors[4 * i + 1]!;
    const px = anchors[4 * i]! + 0.5 * pw;
    const py = anchors[4 * i + 1]! + 0.5 * ph;
    const gw = gt[4 * i + 2]! - gt[4 * i]!;
    const gh = gt[4 * i + 3]! - gt[4 * i + 1]!;
    const gx = gt[4 * i]! + 0.5 * gw;
    const gy = gt[4 * i + 1]! + 0.5 * gh;
    out[4 * i] = ((gx - px) / pw - coder.means[0]) / coder.stds[0];
    out[4 * i + 1] = ((gy - py) / ph - coder.means[1]) / coder.stds[1];
    out[4 * i + 2] = (Math.log(gw / pw) - coder.means[2]) / coder.stds[2];
    out[4 * i + 3] = (Math.log(gh / ph) - coder.means[3]) / coder.stds[3];
  }
  return out;
}

/** Inverse of encodeDeltas; optionally clipped to an image of size (w, h). */
export function decodeDeltas(
  anchors: Float32Array,
  deltas: Float32Array,
  coder: DeltaStds,
  clip?: { width: number; height: number },
): Float32Array {
  const n = anchors.length / 4;
  const out = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const pw = anchors[4 * i + 2]! - anchors[4 * i]!;
    const ph = anchors[4 * i + 3]! - anchors[4 * i + 1]!;
    const px = anchors[4 * i]! + 0.5 * pw;
    const py = anchors[4 * i + 1]! + 0.5 * ph;
    const dx = deltas[4 * i]! * coder.stds[0] + coder.means[0];
    const dy = deltas[4 * i + 1]! * coder.stds[1] + coder.means[1];
    const dw = clamp(deltas[4 * i + 2]! * coder.stds[2] + coder.means[2], -MAX_DELTA_WH, MAX_DELTA_WH);
    const dh = clamp(deltas[4 * i + 3]! * coder.stds[3] + coder.means[3], -MAX_DELTA_WH, MAX_DELTA_WH);
    const cx = px + dx * pw;
    const cy = py + dy * ph;
    const w = pw * Math.exp(dw);
    const h = ph * Math.exp(dh);
    let x1 = cx - 0.5 * w,
      y1 = cy - 0.5 * h,
      x2 = cx + 0.5 * w,
      y2 = cy + 0.5 * h;
    if (clip) {
      x1 = clamp(x1, 0, clip.width);
      x2 = clamp(x2, 0, clip.width);
      y1 = clamp(y1, 0, clip.height);
      y2 = clamp(y2, 0, clip.height);
    }
    out[4 * i] = x1;
    out[4 * i + 1] = y1;
    out[4 * i + 2] = x2;
    out[4 * i + 3] = y2;
  }
  return out;
}

/**
 * Differentiable decode of deltas [N, 4] against constant anchors [N, 4] → boxes [N, 4]
 * (used when a reg-mode loss is applied to decoded boxes in the two-stage head).
 */
export function decodeDeltasTensor(anchors: Float32Array, deltas: tf.Tensor2D, coder: DeltaStds): tf.Tensor2D {
  return tf.tidy(() => {
    const n = anchors.length / 4;
    const a = tf.tensor2d(anchors, [n, 4]);
    const [ax1, ay1, ax2, ay2] = tf.split(a, 4, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const pw = tf.sub(ax2, ax1);
    const ph = tf.sub(ay2, ay1);
    const px = tf.add(ax1, tf.mul(pw, 0.5));
    const py = tf.add(ay1, tf.mul(ph, 0.5));
    const d = tf.add(tf.mul(deltas, tf.tensor1d(coder.stds)), tf.tensor1d(coder.means));
    const [dx, dy, dw0, dh0] = tf.split(d, 4, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const dw = tf.clipByValue(dw0, -MAX_DELTA_WH, MAX_DELTA_WH);
    const dh = tf.clipByValue(dh0, -MAX_DELTA_WH, MAX_DELTA_WH);
    const cx = tf.add(px, tf.mul(dx, pw));
    const cy = tf.add(py, tf.mul(dy, ph));
    const hw = tf.mul(tf.mul(pw, tf.exp(dw)), 0.5);
    const hh = tf.mul(tf.mul(ph, tf.exp(dh)), 0.5);
    return tf.concat([tf.sub(cx, hw), tf.sub(cy, hh), tf.add(cx, hw), tf.add(cy, hh)], 1) as tf.Tensor2D;
  });
}

/** Decode FCOS distances (l, t, r, b) [N, 4] at points [N, 2] (x, y) into boxes, differentiably. */
export function distanceToBoxTensor(points: Float32Array, ltrb: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const n = points.length / 2;
    const p = tf.tensor2d(points, [n, 2]);
    const pp = tf.concat([p, p], 1);
    const sign = tf.tensor1d([-1, -1, 1, 1]);
    return tf.add(pp, tf.mul(ltrb, sign)) as tf.Tensor2D;
  });
}

/** Plain-JS twin of distanceToBoxTensor. */
export function distanceToBox(points: Float32Array, ltrb: Float32Array): Float32Array {
  const n = points.length / 2;
  const out = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    out[4 * i] = points[2 * i]! - ltrb[4 * i]!;
    out[4 * i + 1] = points[2 * i + 1]! - ltrb[4 * i + 1]!;
    out[4 * i + 2] = points[2 * i]! + ltrb[4 * i + 2]!;
    out[4 * i + 3] = points[2 * i + 1]! + ltrb[4 * i + 3]!;
  }
  return out;
}

/**
 * Greedy NMS: indices of kept boxes, highest score first. A box is suppressed when its IoU with
 * a kept box is strictly greater than `iouThreshold`.
 */
export function nms(boxes: Float32Array, scores: Float32Array, iouThreshold: number, maxKeep = Infinity): number[] {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => scores[j]! - scores[i]! || i - j);
  const suppressed = new Uint8Array(n);
  const keep: number[] = [];
  const area = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    area[i] = Math.max(0, boxes[4 * i + 2]! - boxes[4 * i]!) * Math.max(0, boxes[4 * i + 3]! - boxes[4 * i + 1]!);
  }
  for (let oi = 0; oi < n && keep.length < maxKeep; oi++) {
    const i = order[oi]!;
    if (suppressed[i]) continue;
    keep.push(i);
    const x1 = boxes[4 * i]!,
      y1 = boxes[4 * i + 1]!,
      x2 = boxes[4 * i + 2]!,
      y2 = boxes[4 * i + 3]!;
    for (let oj = oi + 1; oj < n; oj++) {
      const j = order[oj]!;
      if (suppressed[j]) continue;
      const iw = Math.min(x2, boxes[4 * j + 2]!) - Math.max(x1, boxes[4 * j]!);
      const ih = Math.min(y2, boxes[4 * j + 3]!) - Math.max(y1, boxes[4 * j + 1]!);
      if (iw <= 0 || ih <= 0) continue;
      const inter = iw * ih;
      const union = area[i]! + area[j]! - inter;
      if (union > 0 && inter / union > iouThreshold) suppressed[j] = 1;
    }
  }
  return keep;
}

export interface Detections {
  boxes: Float32Array; // [K, 4]
  scores: Float32Array; // [K]
  labels: Int32Array; // [K] 0..C-1
}

/** Per-class NMS (each class separately), then the top `maxPerImage` by score overall. */
export function batchedNms(
  boxes: Float32Array,
  scores: Float32Array,
  labels: Int32Array,
  iouThreshold: number,
  maxPerImage: number,
): Detections {
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    let arr = byClass.get(l);
    if (!arr) byClass.set(l, (arr = []));
    arr.push(i);
  }
  const kept: number[] = [];
  for (const idx of byClass.values()) {
    const b = new Float32Array(idx.length * 4);
    const s = new Float32Array(idx.length);
    idx.forEach((k, t) => {
      b.set(boxes.subarray(4 * k, 4 * k + 4), 4 * t);
      s[t] = scores[k]!;
    });
    for (const t of nms(b, s, iouThreshold)) kept.push(idx[t]!);
  }
  kept.sort((i, j) => scores[j]! - scores[i]! || i - j);
  const top = kept.slice(0, maxPerImage);
  const out: Detections = {
    boxes: new Float32Array(top.length * 4),
    scores: new Float32Array(top.length),
    labels: new Int32Array(top.length),
  };
  top.forEach((k, t) => {
    out.boxes.set(boxes.subarray(4 * k, 4 * k + 4), 4 * t);
    out.scores[t] = scores[k]!;
    out.labels[t] = labels[k]!;
  });
  return out;
}

/** Indices of the k largest values (ties by lower index), all when k ≥ length. */
export function topKIndices(values: Float32Array, k: number): number[] {
  const idx = Array.from({ length: values.length }, (_, i) => i);
  if (k >= values.length) return idx.sort((i, j) => values[j]! - values[i]! || i - j);
  idx.sort((i, j) => values[j]! - values[i]! || i - j);
  return idx.slice(0, k);
}

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
