/**
 * The region proposal network of the two-stage detector: a shared 3×3 conv and two 1×1 convs
 * per FPN level (objectness logits and anchor deltas), anchors, the fixed RPN loss (BCE on the
 * objectness of sampled anchors, L1 on the deltas of positives; the paper searches only the RoI
 * head's losses) and proposals by per-level top-k, decoding and NMS. Shapes: B images, A anchors
 * per location (one per ratio), nA anchors of an image over all levels.
 */
import { tf } from '../tf.js';
import { buildRegLoss } from '../loss/index.js';
import type { Rng } from '../util/rng.js';
import { maxIouAssign, randomSample } from './assign.js';
import { batchedNms, decodeDeltas, encodeDeltas, topKIndices, RPN_CODER } from './boxes.js';
import { conv2d, type ParamStore } from './layers.js';

/** The RPN's settings (a part of FasterRcnnConfig). */
export interface RpnConfig {
  /** Anchor side = anchorScale · stride; one anchor per ratio (h/w) at each location. */
  anchorScale: number;
  anchorRatios: number[];
  rpnPosIou: number;
  rpnNegIou: number;
  rpnMinPosIou: number;
  rpnBatch: number;
  rpnPosFraction: number;
  rpnNmsIou: number;
}

export interface RpnLevel {
  obj: tf.Tensor4D; // [B, h, w, A]
  deltas: tf.Tensor4D; // [B, h, w, 4A]
}

/** Anchors of one level [h·w·A, 4], location-major (y, x, then ratio), centred at (i + 0.5)·stride. */
export function levelAnchors(h: number, w: number, stride: number, scale: number, ratios: number[]): Float32Array {
  const A = ratios.length;
  const out = new Float32Array(h * w * A * 4);
  const base = scale * stride;
  let o = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const cx = (x + 0.5) * stride;
      const cy = (y + 0.5) * stride;
      for (const r of ratios) {
        const hr = Math.sqrt(r);
        const aw = base / hr;
        const ah = base * hr;
        out[o++] = cx - aw / 2;
        out[o++] = cy - ah / 2;
        out[o++] = cx + aw / 2;
        out[o++] = cy + ah / 2;
      }
    }
  }
  return out;
}

/** The RPN head's layers (`ch` FPN channels, A anchors per location): features → per-level outputs. */
export function buildRpnHead(ps: ParamStore, ch: number, A: number): (feats: tf.Tensor4D[]) => RpnLevel[] {
  const n01 = { kind: 'normal' as const, std: 0.01 };
  const rpnConv = conv2d(ps, 'rpn_head.rpn_conv', ch, ch, 3, { init: n01 });
  const rpnCls = conv2d(ps, 'rpn_head.rpn_cls', ch, A, 1, { init: n01 });
  const rpnReg = conv2d(ps, 'rpn_head.rpn_reg', ch, 4 * A, 1, { init: n01 });
  return (feats) =>
    feats.map((f) => {
      const h = tf.relu(rpnConv(f));
      return { obj: rpnCls(h), deltas: rpnReg(h) };
    });
}

/** Anchors per level for feature maps of the given [h, w] (cached by shape). */
export function anchorGenerator(strides: number[], scale: number, ratios: number[]): (shapes: [number, number][]) => Float32Array[] {
  const cache = new Map<string, Float32Array[]>();
  return (shapes) => {
    const key = shapes.map((s) => s.join('x')).join(',');
    let a = cache.get(key);
    if (!a) {
      a = shapes.map(([h, w], i) => levelAnchors(h, w, strides[i]!, scale, ratios));
      cache.set(key, a);
    }
    return a;
  };
}

/** The anchors of all levels of one image in one array [nA·4] (level-major). */
export function concatAnchors(perLevel: Float32Array[]): Float32Array {
  const nA = perLevel.reduce((s, a) => s + a.length / 4, 0);
  const all = new Float32Array(nA * 4);
  let o = 0;
  for (const a of perLevel) {
    all.set(a, o);
    o += a.length;
  }
  return all;
}

/** The RPN's sampled anchors of a batch, as rows of the flattened [B·nA] outputs. */
export interface RpnTargets {
  /** Sampled rows (positives and negatives of each image, image-major). */
  sampled: number[];
  /** 1 for a positive, 0 for a negative, per sampled row. */
  sampledLabel: number[];
  /** Rows of the positives. */
  posRows: number[];
  /** Target deltas of the positives, 4 per positive. */
  posTargets: number[];
}

/** Assigns the anchors [nA·4] to each image's GT boxes and samples them (draws from `rng`, image by image). */
export function rpnTargets(allAnchors: Float32Array, gtBoxes: Float32Array[], cfg: RpnConfig, rng: Rng): RpnTargets {
  const nA = allAnchors.length / 4;
  const t: RpnTargets = { sampled: [], sampledLabel: [], posRows: [], posTargets: [] };
  gtBoxes.forEach((gt, b) => {
    const asg = maxIouAssign(allAnchors, gt, cfg.rpnPosIou, cfg.rpnNegIou, cfg.rpnMinPosIou, true);
    const { pos, neg } = randomSample(asg.assigned, cfg.rpnBatch, cfg.rpnPosFraction, rng);
    const an = new Float32Array(pos.length * 4);
    const gb = new Float32Array(pos.length * 4);
    pos.forEach((i, k) => {
      an.set(allAnchors.subarray(4 * i, 4 * i + 4), 4 * k);
      const g = asg.assigned[i]!;
      gb.set(gt.subarray(4 * g, 4 * g + 4), 4 * k);
    });
    const d = encodeDeltas(an, gb, RPN_CODER);
    pos.forEach((i, k) => {
      t.sampled.push(b * nA + i);
      t.sampledLabel.push(1);
      t.posRows.push(b * nA + i);
      for (let q = 0; q < 4; q++) t.posTargets.push(d[4 * k + q]!);
    });
    for (const i of neg) {
      t.sampled.push(b * nA + i);
      t.sampledLabel.push(0);
    }
  });
  return t;
}

let l1Loss: ReturnType<typeof buildRegLoss> | null = null;
const rpnL1: ReturnType<typeof buildRegLoss> = (x) => (l1Loss ??= buildRegLoss('l1'))(x);

/**
 * The fixed RPN loss: BCE with logits on the objectness of the sampled anchors and L1 on the
 * deltas of the positives, both averaged over the number of sampled anchors.
 * `levels`: per level obj [B, h, w, A] and deltas [B, h, w, 4A]; returns two scalars.
 */
export function rpnLoss(levels: RpnLevel[], t: RpnTargets): { cls: tf.Scalar; reg: tf.Scalar } {
  const B = levels[0]!.obj.shape[0];
  const objFlat = tf.reshape(
    tf.concat(
      levels.map((l) => tf.reshape(l.obj, [B, -1])),
      1,
    ),
    [-1],
  ) as tf.Tensor1D; // [B·nA]
  const deltaFlat = tf.reshape(
    tf.concat(
      levels.map((l) => tf.reshape(l.deltas, [B, -1, 4])),
      1,
    ),
    [-1, 4],
  ) as tf.Tensor2D; // [B·nA, 4]
  const nSampled = Math.max(1, t.sampled.length);
  const sLogits = tf.gather(objFlat, tf.tensor1d(t.sampled, 'int32')); // [S]
  const sLabels = tf.tensor1d(t.sampledLabel); // [S]
  const cls = tf.div(tf.sum(tf.sub(tf.softplus(sLogits), tf.mul(sLogits, sLabels))), nSampled) as tf.Scalar;
  const nPos = t.posRows.length;
  const reg =
    nPos > 0
      ? rpnL1({
          pred: tf.zeros([nPos, 4]),
          target: tf.zeros([nPos, 4]),
          predDeltas: tf.gather(deltaFlat, tf.tensor1d(t.posRows, 'int32')) as tf.Tensor2D, // [nPos, 4]
          targetDeltas: tf.tensor2d(t.posTargets, [nPos, 4]),
          avgFactor: nSampled,
        })
      : (tf.mul(tf.sum(deltaFlat), 0) as tf.Scalar);
  return { cls, reg };
}

/**
 * Proposals per image from the RPN outputs (values only, no gradient): per level the top
 * `preNms` anchors by objectness, decoded and clipped to the image's content, empty boxes
 * dropped; NMS within each level, then the top `maxNum` overall. Returns [n·4] per image.
 */
export function rpnProposals(
  levels: RpnLevel[],
  anchorsFor: (shapes: [number, number][]) => Float32Array[],
  contentSizes: [number, number][],
  preNms: number,
  maxNum: number,
  nmsIou: number,
): Float32Array[] {
  const B = contentSizes.length;
  const vals = levels.map((l) => ({
    h: l.obj.shape[1],
    w: l.obj.shape[2],
    A: l.obj.shape[3],
    obj: l.obj.dataSync() as Float32Array,
    deltas: l.deltas.dataSync() as Float32Array,
  }));
  const anchors = anchorsFor(vals.map((v) => [v.h, v.w]));
  const out: Float32Array[] = [];
  for (let b = 0; b < B; b++) {
    const [cw, chh] = contentSizes[b]!;
    const boxes: number[] = [];
    const scores: number[] = [];
    const lvl: number[] = [];
    vals.forEach((v, li) => {
      const n = v.h * v.w * v.A;
      const obj = v.obj.subarray(b * n, (b + 1) * n);
      const top = topKIndices(obj, preNms);
      const an = new Float32Array(top.length * 4);
      const de = new Float32Array(top.length * 4);
      top.forEach((k, i) => {
        an.set(anchors[li]!.subarray(4 * k, 4 * k + 4), 4 * i);
        de.set(v.deltas.subarray((b * n + k) * 4, (b * n + k) * 4 + 4), 4 * i);
      });
      const dec = decodeDeltas(an, de, RPN_CODER, { width: cw, height: chh });
      top.forEach((k, i) => {
        if (dec[4 * i + 2]! - dec[4 * i]! <= 0 || dec[4 * i + 3]! - dec[4 * i + 1]! <= 0) return;
        for (let q = 0; q < 4; q++) boxes.push(dec[4 * i + q]!);
        scores.push(1 / (1 + Math.exp(-obj[k]!)));
        lvl.push(li);
      });
    });
    // NMS within each level (mmdetection's batched_nms with level ids), then the top maxNum overall
    const kept = batchedNms(Float32Array.from(boxes), Float32Array.from(scores), Int32Array.from(lvl), nmsIou, maxNum);
    out.push(kept.boxes);
  }
  return out;
}
