/**
 * Faster R-CNN-style two-stage detector on an FPN: an RPN (anchors, objectness BCE and L1 on
 * deltas, fixed: the paper searches only the RoI head's losses), proposals by NMS, RoI
 * sampling, multi-level RoIAlign, a 2-fc box head whose classification uses a `cls`-mode loss
 * (Z = IoU of the decoded predicted box with its GT for positives) and whose regression is L1 on
 * deltas (default) or any `reg`-mode loss on decoded boxes; per-class NMS.
 */
import { tf } from '../tf.js';
import { buildRegLoss, type ClsLossInput } from '../loss/index.js';
import type { Rng } from '../util/rng.js';
import { buildBackbone, buildFpn, type BackboneConfig } from './backbone.js';
import {
  batchedNms,
  decodeDeltas,
  decodeDeltasTensor,
  encodeDeltas,
  iouMatrix,
  iouPaired,
  topKIndices,
  RCNN_CODER,
  RPN_CODER,
  type Detections,
} from './boxes.js';
import { conv2d, linear, type ParamStore } from './layers.js';
import type { DetectorModel, HeadLosses, TrainBatch } from './model.js';
import { multiLevelRoiAlign } from './roi_align.js';

export interface FasterRcnnConfig {
  numClasses: number;
  backbone: BackboneConfig;
  fpnChannels: number;
  minLevel: number;
  maxLevel: number;
  /** Anchor side = anchorScale · stride; one anchor per ratio (h/w) at each location. */
  anchorScale: number;
  anchorRatios: number[];
  rpnPosIou: number;
  rpnNegIou: number;
  rpnMinPosIou: number;
  rpnBatch: number;
  rpnPosFraction: number;
  rpnNmsIou: number;
  rpnPreNmsTrain: number;
  rpnPostNmsTrain: number;
  rpnPreNmsTest: number;
  rpnPostNmsTest: number;
  roiBatch: number;
  roiPosFraction: number;
  roiPosIou: number;
  roiSize: number;
  samplingRatio: number;
  finestScale: number;
  fcDim: number;
  scoreThr: number;
  nmsIou: number;
  maxPerImage: number;
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

export interface MaxIouAssignment {
  /** Per candidate: GT index (≥ 0), -1 negative, -2 ignored. */
  assigned: Int32Array;
  /** Per candidate: its max IoU over GTs. */
  maxIou: Float32Array;
}

/**
 * mmdetection's MaxIoUAssigner: negative below negIou, positive at or above posIou, then every
 * GT also claims the candidates of its highest IoU when that IoU ≥ minPosIou (low-quality
 * matches, when `matchLowQuality`).
 */
export function maxIouAssign(
  candidates: Float32Array,
  gt: Float32Array,
  posIou: number,
  negIou: number,
  minPosIou: number,
  matchLowQuality: boolean,
): MaxIouAssignment {
  const N = candidates.length / 4;
  const G = gt.length / 4;
  const assigned = new Int32Array(N).fill(-1);
  const maxIou = new Float32Array(N);
  if (G === 0) return { assigned, maxIou };
  const iou = iouMatrix(candidates, gt); // [N, G]
  const argmax = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    let m = -1, a = 0;
    for (let g = 0; g < G; g++) {
      const v = iou[i * G + g]!;
      if (v > m) {
        m = v;
        a = g;
      }
    }
    maxIou[i] = m;
    argmax[i] = a;
    assigned[i] = m >= posIou ? a : m < negIou ? -1 : -2;
  }
  if (matchLowQuality) {
    for (let g = 0; g < G; g++) {
      let best = 0;
      for (let i = 0; i < N; i++) best = Math.max(best, iou[i * G + g]!);
      if (best < minPosIou) continue;
      for (let i = 0; i < N; i++) if (iou[i * G + g] === best) assigned[i] = g;
    }
  }
  return { assigned, maxIou };
}

/** Random sampler: up to num·posFraction positives, negatives fill the rest. Returns indices. */
export function randomSample(assigned: Int32Array, num: number, posFraction: number, rng: Rng): { pos: number[]; neg: number[] } {
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < assigned.length; i++) {
    if (assigned[i]! >= 0) pos.push(i);
    else if (assigned[i] === -1) neg.push(i);
  }
  const nPos = Math.min(pos.length, Math.floor(num * posFraction));
  const p = pos.length > nPos ? rng.shuffle(pos).slice(0, nPos) : pos;
  const nNeg = Math.min(neg.length, num - p.length);
  const n = neg.length > nNeg ? rng.shuffle(neg).slice(0, nNeg) : neg;
  return { pos: p.sort((a, b) => a - b), neg: n.sort((a, b) => a - b) };
}

interface RpnLevel {
  obj: tf.Tensor4D; // [B, h, w, A]
  deltas: tf.Tensor4D; // [B, h, w, 4A]
}

export function buildFasterRcnn(ps: ParamStore, cfg: FasterRcnnConfig): DetectorModel & { strides: number[] } {
  const backbone = buildBackbone(ps, cfg.backbone);
  const fpn = buildFpn(ps, backbone.channels, { channels: cfg.fpnChannels, minLevel: cfg.minLevel, maxLevel: cfg.maxLevel, extra: 'pool' });
  const strides = fpn.strides;
  const roiLevels = Math.min(strides.length, Math.max(1, 5 - cfg.minLevel + 1)); // RoIs pooled from P_min..P5
  const ch = cfg.fpnChannels;
  const A = cfg.anchorRatios.length;
  const C = cfg.numClasses;
  const n01 = { kind: 'normal' as const, std: 0.01 };
  const rpnConv = conv2d(ps, 'rpn_head.rpn_conv', ch, ch, 3, { init: n01 });
  const rpnCls = conv2d(ps, 'rpn_head.rpn_cls', ch, A, 1, { init: n01 });
  const rpnReg = conv2d(ps, 'rpn_head.rpn_reg', ch, 4 * A, 1, { init: n01 });
  const S = cfg.roiSize;
  const fc1 = linear(ps, 'roi_head.bbox_head.shared_fcs.0', S * S * ch, cfg.fcDim, { kind: 'xavier-uniform' });
  const fc2 = linear(ps, 'roi_head.bbox_head.shared_fcs.1', cfg.fcDim, cfg.fcDim, { kind: 'xavier-uniform' });
  const fcCls = linear(ps, 'roi_head.bbox_head.fc_cls', cfg.fcDim, C + 1, n01);
  const fcReg = linear(ps, 'roi_head.bbox_head.fc_reg', cfg.fcDim, 4 * C, { kind: 'normal', std: 0.001 });
  const rpnL1 = buildRegLoss('l1');
  const alignOpt = { outputSize: S, samplingRatio: cfg.samplingRatio, aligned: true };

  const anchorCache = new Map<string, Float32Array[]>();
  const anchorsFor = (shapes: [number, number][]): Float32Array[] => {
    const key = shapes.map((s) => s.join('x')).join(',');
    let a = anchorCache.get(key);
    if (!a) {
      a = shapes.map(([h, w], i) => levelAnchors(h, w, strides[i]!, cfg.anchorScale, cfg.anchorRatios));
      anchorCache.set(key, a);
    }
    return a;
  };

  const features = (x: tf.Tensor4D) => fpn.forward(backbone.forward(x));
  const rpn = (feats: tf.Tensor4D[]): RpnLevel[] =>
    feats.map((f) => {
      const h = tf.relu(rpnConv(f));
      return { obj: rpnCls(h), deltas: rpnReg(h) };
    });
  const boxHead = (rois: tf.Tensor4D) => {
    const R = rois.shape[0];
    const h = tf.relu(fc2(tf.relu(fc1(tf.reshape(rois, [R, -1]) as tf.Tensor2D))));
    return { cls: fcCls(h), reg: fcReg(h) }; // [R, C+1], [R, 4C]
  };

  /** Proposals per image from RPN outputs (values only): per-level top-k, decode, clip, NMS per level, top maxNum. */
  const proposals = (levels: RpnLevel[], contentSizes: [number, number][], preNms: number, maxNum: number): Float32Array[] => {
    const B = contentSizes.length;
    const vals = levels.map((l) => ({
      h: l.obj.shape[1],
      w: l.obj.shape[2],
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
        const n = v.h * v.w * A;
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
      const kept = batchedNms(Float32Array.from(boxes), Float32Array.from(scores), Int32Array.from(lvl), cfg.rpnNmsIou, maxNum);
      out.push(kept.boxes);
    }
    return out;
  };

  let losses: HeadLosses | null = null;

  return {
    kind: 'faster-rcnn',
    ps,
    strides,
    setLosses(l: HeadLosses) {
      losses = l;
    },
    losses(batch: TrainBatch, rng: Rng) {
      if (!losses) throw new Error('Faster R-CNN: no losses set');
      const L = losses;
      const B = batch.images.shape[0];
      const feats = features(batch.images);
      const levels = rpn(feats);
      const shapes = levels.map((l) => [l.obj.shape[1], l.obj.shape[2]] as [number, number]);
      const anchorsPerLevel = anchorsFor(shapes);
      const nA = anchorsPerLevel.reduce((s, a) => s + a.length / 4, 0);
      const allAnchors = new Float32Array(nA * 4);
      {
        let o = 0;
        for (const a of anchorsPerLevel) {
          allAnchors.set(a, o);
          o += a.length;
        }
      }
      // ---- RPN loss (fixed: BCE on objectness, L1 on deltas, averaged over sampled anchors)
      const objFlat = tf.reshape(tf.concat(levels.map((l) => tf.reshape(l.obj, [B, -1])), 1), [-1]) as tf.Tensor1D; // [B·nA]
      const deltaFlat = tf.reshape(tf.concat(levels.map((l) => tf.reshape(l.deltas, [B, -1, 4])), 1), [-1, 4]) as tf.Tensor2D; // [B·nA, 4]
      const sampled: number[] = [];
      const sampledLabel: number[] = [];
      const posRows: number[] = [];
      const posTargets: number[] = [];
      for (let b = 0; b < B; b++) {
        const gt = batch.boxes[b]!;
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
          sampled.push(b * nA + i);
          sampledLabel.push(1);
          posRows.push(b * nA + i);
          for (let q = 0; q < 4; q++) posTargets.push(d[4 * k + q]!);
        });
        for (const i of neg) {
          sampled.push(b * nA + i);
          sampledLabel.push(0);
        }
      }
      const nSampled = Math.max(1, sampled.length);
      const sLogits = tf.gather(objFlat, tf.tensor1d(sampled, 'int32'));
      const sLabels = tf.tensor1d(sampledLabel);
      const rpnCls = tf.div(tf.sum(tf.sub(tf.softplus(sLogits), tf.mul(sLogits, sLabels))), nSampled) as tf.Scalar;
      const rpnReg =
        posRows.length > 0
          ? rpnL1({
              pred: tf.zeros([posRows.length, 4]),
              target: tf.zeros([posRows.length, 4]),
              predDeltas: tf.gather(deltaFlat, tf.tensor1d(posRows, 'int32')) as tf.Tensor2D,
              targetDeltas: tf.tensor2d(posTargets, [posRows.length, 4]),
              avgFactor: nSampled,
            })
          : (tf.mul(tf.sum(deltaFlat), 0) as tf.Scalar);

      // ---- proposals (no gradient), RoI sampling
      const props = proposals(levels, batch.contentSizes, cfg.rpnPreNmsTrain, cfg.rpnPostNmsTrain);
      const rois: number[] = [];
      const roiBatch: number[] = [];
      const roiLabels: number[] = [];
      const roiGt: number[] = []; // target boxes of positives (4 per positive)
      const posRoi: number[] = []; // row index in rois of each positive
      for (let b = 0; b < B; b++) {
        const gt = batch.boxes[b]!;
        const gl = batch.labels[b]!;
        const cand = new Float32Array(props[b]!.length + gt.length);
        cand.set(props[b]!, 0);
        cand.set(gt, props[b]!.length); // ground truth joins the proposals
        const asg = maxIouAssign(cand, gt, cfg.roiPosIou, cfg.roiPosIou, cfg.roiPosIou, false);
        const { pos, neg } = randomSample(asg.assigned, cfg.roiBatch, cfg.roiPosFraction, rng);
        for (const i of pos) {
          posRoi.push(roiBatch.length);
          const g = asg.assigned[i]!;
          for (let q = 0; q < 4; q++) {
            rois.push(cand[4 * i + q]!);
            roiGt.push(gt[4 * g + q]!);
          }
          roiBatch.push(b);
          roiLabels.push(gl[g]!);
        }
        for (const i of neg) {
          for (let q = 0; q < 4; q++) rois.push(cand[4 * i + q]!);
          roiBatch.push(b);
          roiLabels.push(C);
        }
      }
      const R = roiBatch.length;
      const roiArr = Float32Array.from(rois);
      const pooled = multiLevelRoiAlign(feats.slice(0, roiLevels), strides.slice(0, roiLevels), roiArr, Int32Array.from(roiBatch), cfg.finestScale, alignOpt);
      const head = boxHead(pooled);
      // class-specific deltas of each positive at its GT class: rows r·C + label of [R·C, 4]
      const nPos = posRoi.length;
      const posAnchors = new Float32Array(nPos * 4);
      posRoi.forEach((r, k) => posAnchors.set(roiArr.subarray(4 * r, 4 * r + 4), 4 * k));
      const posGt = Float32Array.from(roiGt);
      const iouAll = new Float32Array(R);
      let regLoss: tf.Scalar;
      if (nPos > 0) {
        const sel = tf.tensor1d(posRoi.map((r) => r * C + roiLabels[r]!), 'int32');
        const posDeltas = tf.gather(tf.reshape(head.reg, [-1, 4]), sel) as tf.Tensor2D; // [nPos, 4]
        const predBoxes = decodeDeltas(posAnchors, posDeltas.dataSync() as Float32Array, RCNN_CODER);
        const iou = iouPaired(predBoxes, posGt);
        posRoi.forEach((r, k) => (iouAll[r] = iou[k]!));
        const target = tf.tensor2d(posGt, [nPos, 4]);
        regLoss = L.reg({
          pred: L.regOnDeltas ? target : decodeDeltasTensor(posAnchors, posDeltas, RCNN_CODER),
          target,
          predDeltas: posDeltas,
          targetDeltas: tf.tensor2d(encodeDeltas(posAnchors, posGt, RCNN_CODER), [nPos, 4]),
          avgFactor: Math.max(1, R), // mmdetection: averaged over all sampled RoIs
        });
      } else {
        regLoss = tf.mul(tf.sum(head.reg), 0) as tf.Scalar;
      }
      const clsLoss = (L.cls as (x: ClsLossInput) => tf.Scalar)({
        logits: head.cls,
        labels: tf.tensor1d(roiLabels, 'int32'),
        iou: tf.tensor1d(iouAll),
      });
      const total = tf.addN([rpnCls, rpnReg, tf.mul(clsLoss, L.clsWeight), tf.mul(regLoss, L.regWeight)]) as tf.Scalar;
      return { total, rpn_cls: rpnCls, rpn_reg: rpnReg, cls: clsLoss, reg: regLoss };
    },
    predict(images: tf.Tensor4D, contentSizes: [number, number][]): Detections[] {
      const B = images.shape[0];
      tf.engine().startScope();
      try {
        const feats = features(images);
        const levels = rpn(feats);
        const props = proposals(levels, contentSizes, cfg.rpnPreNmsTest, cfg.rpnPostNmsTest);
        const roiBatch: number[] = [];
        props.forEach((p, b) => {
          for (let i = 0; i < p.length / 4; i++) roiBatch.push(b);
        });
        const rois = new Float32Array(roiBatch.length * 4);
        let o = 0;
        for (const p of props) {
          rois.set(p, o);
          o += p.length;
        }
        const R = roiBatch.length;
        const result: Detections[] = [];
        if (R === 0) {
          for (let b = 0; b < B; b++) result.push({ boxes: new Float32Array(0), scores: new Float32Array(0), labels: new Int32Array(0) });
          return result;
        }
        const pooled = multiLevelRoiAlign(feats.slice(0, roiLevels), strides.slice(0, roiLevels), rois, Int32Array.from(roiBatch), cfg.finestScale, alignOpt);
        const head = boxHead(pooled);
        const prob = tf.softmax(head.cls).dataSync() as Float32Array; // [R, C+1]
        const deltas = head.reg.dataSync() as Float32Array; // [R, 4C]
        let start = 0;
        for (let b = 0; b < B; b++) {
          const n = props[b]!.length / 4;
          const [cw, chh] = contentSizes[b]!;
          const an: number[] = [];
          const de: number[] = [];
          const scores: number[] = [];
          const labels: number[] = [];
          for (let i = start; i < start + n; i++) {
            for (let c = 0; c < C; c++) {
              const s = prob[i * (C + 1) + c]!;
              if (s <= cfg.scoreThr) continue;
              for (let q = 0; q < 4; q++) {
                an.push(rois[4 * i + q]!);
                de.push(deltas[i * 4 * C + 4 * c + q]!);
              }
              scores.push(s);
              labels.push(c);
            }
          }
          start += n;
          const boxes = decodeDeltas(Float32Array.from(an), Float32Array.from(de), RCNN_CODER, { width: cw, height: chh });
          result.push(batchedNms(boxes, Float32Array.from(scores), Int32Array.from(labels), cfg.nmsIou, cfg.maxPerImage));
        }
        return result;
      } finally {
        tf.engine().endScope();
      }
    },
  };
}

