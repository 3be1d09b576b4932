/**
 * FCOS-style one-stage detector: per-level assignment by regression range, center sampling,
 * ltrb regression (normalised by the stride, ReLU'd, a learned scale per level), a sigmoid
 * classifier trained with a `bcls`-mode loss, box regression with a `reg`-mode loss on the
 * decoded boxes, and a quality branch (the centerness branch of FCOS) trained toward the IoU
 * of the predicted and the target box, as in the paper's public fork. Score = sqrt(cls · quality).
 */
import { tf } from '../tf.js';
import type { BclsLossInput } from '../loss/index.js';
import type { Rng } from '../util/rng.js';
import { buildBackbone, buildFpn, type BackboneConfig } from './backbone.js';
import { batchedNms, distanceToBox, distanceToBoxTensor, iouPaired, topKIndices, type Detections } from './boxes.js';
import { conv2d, groupNorm, priorProbBias, type Layer, type ParamStore } from './layers.js';
import type { DetectorModel, HeadLosses, TrainBatch } from './model.js';
import { INF } from './presets.js';

export interface FcosConfig {
  numClasses: number;
  backbone: BackboneConfig;
  fpnChannels: number;
  minLevel: number;
  maxLevel: number;
  /** Convs in each of the cls and reg towers (4 in the paper). */
  stackedConvs: number;
  gnGroups: number;
  /** One [lo, hi] per level: a point is assigned at a level when lo < max(l,t,r,b) ≤ hi. */
  regressRanges: [number, number][];
  centerSampling: boolean;
  centerSampleRadius: number;
  /** 'iou' (the fork's quality target, default) or 'centerness' (original FCOS). */
  qualityTarget: 'iou' | 'centerness';
  qualityWeight: number;
  priorProb: number;
  nmsPre: number;
  scoreThr: number;
  nmsIou: number;
  maxPerImage: number;
}

export { INF };

/** Points (x, y) of one level, row-major, at (i + 0.5)·stride... as mmdetection: i·stride + stride/2. */
export function levelPoints(h: number, w: number, stride: number): Float32Array {
  const out = new Float32Array(h * w * 2);
  const off = Math.floor(stride / 2);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      out[2 * (y * w + x)] = x * stride + off;
      out[2 * (y * w + x) + 1] = y * stride + off;
    }
  }
  return out;
}

export interface FcosTargets {
  /** [P] label 0..C-1 or C (negative). */
  labels: Int32Array;
  /** [P] index of the assigned GT box, -1 for negatives. */
  gtIndex: Int32Array;
  /** [P, 4] ltrb distances in input px (0 for negatives). */
  ltrb: Float32Array;
}

/**
 * FCOS assignment for one image. `points` [P, 2], `pointLevel` [P] level index of each point,
 * `strides` per level. A point is a candidate for a GT when it lies inside the box (or, with
 * center sampling, inside the box ∩ a square of side 2·radius·stride around the box center),
 * and its max ltrb distance falls within the level's regression range; among candidates the
 * GT of smallest area wins (ties: the first).
 */
export function fcosTargets(
  points: Float32Array,
  pointLevel: Int32Array,
  strides: number[],
  gtBoxes: Float32Array,
  gtLabels: Int32Array,
  cfg: Pick<FcosConfig, 'numClasses' | 'regressRanges' | 'centerSampling' | 'centerSampleRadius'>,
): FcosTargets {
  const P = pointLevel.length;
  const G = gtLabels.length;
  const labels = new Int32Array(P).fill(cfg.numClasses);
  const gtIndex = new Int32Array(P).fill(-1);
  const ltrb = new Float32Array(P * 4);
  for (let p = 0; p < P; p++) {
    const x = points[2 * p]!,
      y = points[2 * p + 1]!;
    const lvl = pointLevel[p]!;
    const [lo, hi] = cfg.regressRanges[lvl]!;
    let best = -1;
    let bestArea = Infinity;
    for (let g = 0; g < G; g++) {
      const x1 = gtBoxes[4 * g]!,
        y1 = gtBoxes[4 * g + 1]!,
        x2 = gtBoxes[4 * g + 2]!,
        y2 = gtBoxes[4 * g + 3]!;
      const l = x - x1,
        t = y - y1,
        r = x2 - x,
        b = y2 - y;
      let inside: boolean;
      if (cfg.centerSampling) {
        const cx = (x1 + x2) / 2,
          cy = (y1 + y2) / 2;
        const rad = strides[lvl]! * cfg.centerSampleRadius;
        const cx1 = Math.max(cx - rad, x1),
          cy1 = Math.max(cy - rad, y1);
        const cx2 = Math.min(cx + rad, x2),
          cy2 = Math.min(cy + rad, y2);
        inside = Math.min(x - cx1, y - cy1, cx2 - x, cy2 - y) > 0;
      } else {
        inside = Math.min(l, t, r, b) > 0;
      }
      if (!inside) continue;
      const m = Math.max(l, t, r, b);
      if (!(m >= lo && m <= hi)) continue;
      const area = (x2 - x1) * (y2 - y1);
      if (area < bestArea) {
        bestArea = area;
        best = g;
      }
    }
    if (best >= 0) {
      labels[p] = gtLabels[best]!;
      gtIndex[p] = best;
      ltrb[4 * p] = x - gtBoxes[4 * best]!;
      ltrb[4 * p + 1] = y - gtBoxes[4 * best + 1]!;
      ltrb[4 * p + 2] = gtBoxes[4 * best + 2]! - x;
      ltrb[4 * p + 3] = gtBoxes[4 * best + 3]! - y;
    }
  }
  return { labels, gtIndex, ltrb };
}

interface LevelOutputs {
  cls: tf.Tensor4D; // [B, h, w, C]
  reg: tf.Tensor4D; // [B, h, w, 4] ltrb / stride (≥ 0)
  quality: tf.Tensor4D; // [B, h, w, 1] logits
}

export function buildFcos(
  ps: ParamStore,
  cfg: FcosConfig,
): DetectorModel & { forwardLevels(x: tf.Tensor4D): LevelOutputs[]; strides: number[] } {
  const backbone = buildBackbone(ps, cfg.backbone);
  const fpn = buildFpn(ps, backbone.channels, { channels: cfg.fpnChannels, minLevel: cfg.minLevel, maxLevel: cfg.maxLevel, extra: 'conv' });
  const nLevels = cfg.maxLevel - cfg.minLevel + 1;
  if (cfg.regressRanges.length !== nLevels) {
    throw new Error(`fcos.regressRanges has ${cfg.regressRanges.length} ranges for ${nLevels} levels (P${cfg.minLevel}..P${cfg.maxLevel})`);
  }
  const ch = cfg.fpnChannels;
  const headInit = { kind: 'normal' as const, std: 0.01 };
  const tower = (name: string): Layer => {
    const layers: Layer[] = [];
    for (let i = 0; i < cfg.stackedConvs; i++) {
      const c = conv2d(ps, `bbox_head.${name}_convs.${i}.conv`, ch, ch, 3, { init: headInit, bias: false });
      const n = groupNorm(ps, `bbox_head.${name}_convs.${i}.gn`, ch, cfg.gnGroups);
      layers.push((x) => tf.relu(n(c(x))));
    }
    return (x) => layers.reduce((h, l) => l(h), x);
  };
  const clsTower = tower('cls');
  const regTower = tower('reg');
  const clsOut = conv2d(ps, 'bbox_head.conv_cls', ch, cfg.numClasses, 3, { init: headInit, biasInit: priorProbBias(cfg.priorProb) });
  // ltrb = ReLU(scale · conv): with a zero bias (mmdetection's init) half the distances start in
  // ReLU's flat part, and from random backbone weights a whole run can start with every distance
  // there (no gradient ever reaches the regression: loss stuck at 1; seen with seed 1 of the
  // cpu-small preset). A bias of 1 starts every box at ±1 stride around its point, alive.
  const regOut = conv2d(ps, 'bbox_head.conv_reg', ch, 4, 3, { init: headInit, biasInit: 1 });
  const qualityOut = conv2d(ps, 'bbox_head.conv_centerness', ch, 1, 3, { init: headInit });
  const scales = fpn.strides.map((_, i) => ps.add(`bbox_head.scales.${i}.scale`, [1], { kind: 'constant', value: 1 }, 1, 1));
  const strides = fpn.strides;

  const forwardLevels = (x: tf.Tensor4D): LevelOutputs[] => {
    const feats = fpn.forward(backbone.forward(x));
    return feats.map((f, i) => {
      const c = clsTower(f);
      const r = regTower(f);
      return {
        cls: clsOut(c),
        reg: tf.relu(tf.mul(regOut(r), scales[i]!)) as tf.Tensor4D,
        quality: qualityOut(r), // centerness on the reg tower (mmdetection's centerness_on_reg)
      };
    });
  };

  /** All points of a batch's pyramid: per-image flattening order is level-major, then row-major. */
  const pyramidPoints = (outs: LevelOutputs[]) => {
    const pts: Float32Array[] = [];
    const lvl: number[] = [];
    const stridePerPoint: number[] = [];
    outs.forEach((o, i) => {
      const [, h, w] = o.cls.shape;
      pts.push(levelPoints(h, w, strides[i]!));
      for (let k = 0; k < h * w; k++) {
        lvl.push(i);
        stridePerPoint.push(strides[i]!);
      }
    });
    const points = new Float32Array(lvl.length * 2);
    let off = 0;
    for (const p of pts) {
      points.set(p, off);
      off += p.length;
    }
    return { points, pointLevel: Int32Array.from(lvl), stridePerPoint: Float32Array.from(stridePerPoint) };
  };

  /** [B·P, k] from per-level [B, h, w, k] (image-major, then level, then row-major). */
  const flatten = (maps: tf.Tensor4D[], k: number): tf.Tensor2D => {
    const b = maps[0]!.shape[0];
    const per = maps.map((m) => tf.reshape(m, [b, -1, k]));
    return tf.reshape(tf.concat(per, 1), [-1, k]) as tf.Tensor2D;
  };

  let losses: HeadLosses | null = null;

  const model = {
    kind: 'fcos' as const,
    ps,
    strides,
    forwardLevels,
    setLosses(l: HeadLosses) {
      losses = l;
    },
    losses(batch: TrainBatch, _rng: Rng) {
      if (!losses) throw new Error('FCOS: no losses set');
      const L = losses;
      const outs = forwardLevels(batch.images);
      const B = batch.images.shape[0];
      const { points, pointLevel, stridePerPoint } = pyramidPoints(outs);
      const P = pointLevel.length;
      const C = cfg.numClasses;
      const clsFlat = flatten(
        outs.map((o) => o.cls),
        C,
      ); // [B·P, C]
      const regFlat = flatten(
        outs.map((o) => o.reg),
        4,
      ); // [B·P, 4] in stride units
      const qFlat = tf.reshape(
        flatten(
          outs.map((o) => o.quality),
          1,
        ),
        [-1],
      ) as tf.Tensor1D; // [B·P]

      const labels = new Int32Array(B * P);
      const posIdx: number[] = [];
      const posPoints: number[] = [];
      const posStride: number[] = [];
      const posTargetBoxes: number[] = [];
      const posTargetLtrb: number[] = [];
      for (let b = 0; b < B; b++) {
        const t = fcosTargets(points, pointLevel, strides, batch.boxes[b]!, batch.labels[b]!, cfg);
        labels.set(t.labels, b * P);
        for (let p = 0; p < P; p++) {
          const g = t.gtIndex[p]!;
          if (g < 0) continue;
          posIdx.push(b * P + p);
          posPoints.push(points[2 * p]!, points[2 * p + 1]!);
          posStride.push(stridePerPoint[p]!);
          for (let k = 0; k < 4; k++) posTargetBoxes.push(batch.boxes[b]![4 * g + k]!);
          for (let k = 0; k < 4; k++) posTargetLtrb.push(t.ltrb[4 * p + k]! / stridePerPoint[p]!);
        }
      }
      const nPos = posIdx.length;
      const avgFactor = Math.max(1, nPos);
      const iouAll = new Float32Array(B * P);
      let regLoss: tf.Scalar;
      let qualityLoss: tf.Scalar;
      if (nPos > 0) {
        const idx = tf.tensor1d(posIdx, 'int32');
        const posReg = tf.gather(regFlat, idx) as tf.Tensor2D; // [nPos, 4] stride units
        const posLtrb = tf.mul(posReg, tf.tensor2d(posStride, [nPos, 1])) as tf.Tensor2D; // [nPos, 4] px
        const ptsArr = Float32Array.from(posPoints);
        const predBoxes = distanceToBoxTensor(ptsArr, posLtrb); // [nPos, 4]
        const targetBoxes = tf.tensor2d(posTargetBoxes, [nPos, 4]);
        const iou = iouPaired(distanceToBox(ptsArr, posLtrb.dataSync() as Float32Array), Float32Array.from(posTargetBoxes));
        posIdx.forEach((k, i) => (iouAll[k] = iou[i]!));
        regLoss = L.reg({
          pred: predBoxes,
          target: targetBoxes,
          avgFactor,
          predDeltas: posReg,
          targetDeltas: tf.tensor2d(posTargetLtrb, [nPos, 4]),
        });
        const qTarget = cfg.qualityTarget === 'iou' ? iou : centerness(Float32Array.from(posTargetLtrb));
        const qLogits = tf.gather(qFlat, idx);
        // binary cross-entropy with logits, mean over positives (a fixed auxiliary loss, not searched)
        const t = tf.tensor1d(qTarget);
        qualityLoss = tf.div(tf.sum(tf.sub(tf.softplus(qLogits), tf.mul(qLogits, t))), avgFactor) as tf.Scalar;
      } else {
        regLoss = tf.mul(tf.sum(regFlat), 0) as tf.Scalar;
        qualityLoss = tf.mul(tf.sum(qFlat), 0) as tf.Scalar;
      }
      const clsLoss = (L.cls as (x: BclsLossInput) => tf.Scalar)({
        logits: clsFlat,
        labels: tf.tensor1d(labels, 'int32'),
        iou: tf.tensor1d(iouAll),
        avgFactor,
      });
      const total = tf.addN([
        tf.mul(clsLoss, L.clsWeight),
        tf.mul(regLoss, L.regWeight),
        tf.mul(qualityLoss, cfg.qualityWeight),
      ]) as tf.Scalar;
      return { total, cls: clsLoss, reg: regLoss, quality: qualityLoss };
    },
    predict(images: tf.Tensor4D, contentSizes: [number, number][]): Detections[] {
      const arrays = tf.tidy(() => {
        const outs = forwardLevels(images);
        return outs.map((o) => ({
          h: o.cls.shape[1],
          w: o.cls.shape[2],
          cls: tf.sigmoid(o.cls),
          reg: o.reg,
          q: tf.sigmoid(o.quality),
        }));
      });
      const B = images.shape[0];
      const C = cfg.numClasses;
      const data = arrays.map((a) => ({
        h: a.h,
        w: a.w,
        cls: a.cls.dataSync() as Float32Array,
        reg: a.reg.dataSync() as Float32Array,
        q: a.q.dataSync() as Float32Array,
      }));
      tf.dispose(arrays.flatMap((a) => [a.cls, a.reg, a.q]));
      const result: Detections[] = [];
      for (let b = 0; b < B; b++) {
        const boxes: number[] = [];
        const scores: number[] = [];
        const labels: number[] = [];
        const [cw, chh] = contentSizes[b]!;
        data.forEach((lv, li) => {
          const hw = lv.h * lv.w;
          const stride = strides[li]!;
          const pts = levelPoints(lv.h, lv.w, stride);
          // candidate (point, class) pairs above the threshold, top nmsPre of them per level
          const candScore: number[] = [];
          const candPair: number[] = [];
          for (let p = 0; p < hw; p++) {
            const q = lv.q[b * hw + p]!;
            for (let c = 0; c < C; c++) {
              const s = Math.sqrt(lv.cls[(b * hw + p) * C + c]! * q);
              if (s > cfg.scoreThr) {
                candScore.push(s);
                candPair.push(p * C + c);
              }
            }
          }
          for (const k of topKIndices(Float32Array.from(candScore), cfg.nmsPre)) {
            const p = Math.floor(candPair[k]! / C);
            const c = candPair[k]! % C;
            const o = (b * hw + p) * 4;
            const x = pts[2 * p]!,
              y = pts[2 * p + 1]!;
            boxes.push(
              clampTo(x - lv.reg[o]! * stride, cw),
              clampTo(y - lv.reg[o + 1]! * stride, chh),
              clampTo(x + lv.reg[o + 2]! * stride, cw),
              clampTo(y + lv.reg[o + 3]! * stride, chh),
            );
            scores.push(candScore[k]!);
            labels.push(c);
          }
        });
        result.push(batchedNms(Float32Array.from(boxes), Float32Array.from(scores), Int32Array.from(labels), cfg.nmsIou, cfg.maxPerImage));
      }
      return result;
    },
  };
  return model;
}

/** FCOS centerness of ltrb targets: sqrt(min(l,r)/max(l,r) · min(t,b)/max(t,b)). */
export function centerness(ltrb: Float32Array): Float32Array {
  const n = ltrb.length / 4;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const l = ltrb[4 * i]!,
      t = ltrb[4 * i + 1]!,
      r = ltrb[4 * i + 2]!,
      b = ltrb[4 * i + 3]!;
    out[i] = Math.sqrt((Math.min(l, r) / Math.max(l, r)) * (Math.min(t, b) / Math.max(t, b)));
  }
  return out;
}

function clampTo(v: number, hi: number): number {
  return v < 0 ? 0 : v > hi ? hi : v;
}
