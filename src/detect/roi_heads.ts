/**
 * The RoI head of the two-stage detector: RoI sampling among the proposals and the ground truth,
 * multi-level RoIAlign, a 2-fc box head, its losses (the searched ones: a `cls`-mode loss with
 * Z = IoU of the decoded predicted box with its GT for positives, and L1 on deltas or a
 * `reg`-mode loss on decoded boxes) and the per-class post-processing. Shapes: R sampled RoIs,
 * C classes (label C is the background), S the pooled size, ch the FPN channels.
 */
import { tf } from '../tf.js';
import type { ClsLossInput } from '../loss/index.js';
import type { Rng } from '../util/rng.js';
import { maxIouAssign, randomSample } from './assign.js';
import { batchedNms, decodeDeltas, decodeDeltasTensor, encodeDeltas, iouPaired, RCNN_CODER, type Detections } from './boxes.js';
import { linear, type ParamStore } from './layers.js';
import type { HeadLosses } from './model.js';

/** The box head's layers: pooled RoIs [R, S, S, ch] → class logits [R, C+1] and class-specific deltas [R, 4C]. */
export function buildBoxHead(
  ps: ParamStore,
  S: number,
  ch: number,
  fcDim: number,
  C: number,
): (rois: tf.Tensor4D) => { cls: tf.Tensor2D; reg: tf.Tensor2D } {
  const n01 = { kind: 'normal' as const, std: 0.01 };
  const fc1 = linear(ps, 'roi_head.bbox_head.shared_fcs.0', S * S * ch, fcDim, { kind: 'xavier-uniform' });
  const fc2 = linear(ps, 'roi_head.bbox_head.shared_fcs.1', fcDim, fcDim, { kind: 'xavier-uniform' });
  const fcCls = linear(ps, 'roi_head.bbox_head.fc_cls', fcDim, C + 1, n01);
  const fcReg = linear(ps, 'roi_head.bbox_head.fc_reg', fcDim, 4 * C, { kind: 'normal', std: 0.001 });
  return (rois) => {
    const R = rois.shape[0];
    const h = tf.relu(fc2(tf.relu(fc1(tf.reshape(rois, [R, -1]) as tf.Tensor2D))));
    return { cls: fcCls(h), reg: fcReg(h) }; // [R, C+1], [R, 4C]
  };
}

/** The sampled RoIs of a batch. */
export interface RoiSample {
  /** [R·4] boxes, image-major (each image's positives, then its negatives). */
  rois: Float32Array;
  /** Image of each RoI [R]. */
  roiBatch: number[];
  /** Label of each RoI [R] (C for a negative). */
  roiLabels: number[];
  /** Row in `rois` of each positive [nPos]. */
  posRoi: number[];
  /** GT box of each positive [nPos·4]. */
  posGt: Float32Array;
}

/**
 * Per image: the ground truth joins the proposals, every candidate is assigned (positive at IoU
 * ≥ roiPosIou, no low-quality matches) and `roiBatch` of them are sampled with up to
 * `roiPosFraction` positives (draws from `rng`, image by image).
 */
export function sampleRois(
  props: Float32Array[],
  gtBoxes: Float32Array[],
  gtLabels: Int32Array[],
  numClasses: number,
  cfg: { roiPosIou: number; roiBatch: number; roiPosFraction: number },
  rng: Rng,
): RoiSample {
  const rois: number[] = [];
  const roiBatch: number[] = [];
  const roiLabels: number[] = [];
  const roiGt: number[] = []; // target boxes of positives (4 per positive)
  const posRoi: number[] = []; // row index in rois of each positive
  gtBoxes.forEach((gt, b) => {
    const gl = gtLabels[b]!;
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
      roiLabels.push(numClasses);
    }
  });
  return { rois: Float32Array.from(rois), roiBatch, roiLabels, posRoi, posGt: Float32Array.from(roiGt) };
}

/**
 * The RoI head's losses on the sampled RoIs. `head.cls` [R, C+1] logits, `head.reg` [R, 4C]
 * class-specific deltas; each positive's deltas are taken at its GT class. The regression loss is
 * averaged over all R sampled RoIs (mmdetection); the classification loss gets, per RoI, the IoU
 * of its decoded predicted box with its GT (0 for negatives). Returns two scalars.
 */
export function roiHeadLosses(
  head: { cls: tf.Tensor2D; reg: tf.Tensor2D },
  s: RoiSample,
  C: number,
  L: HeadLosses,
): { cls: tf.Scalar; reg: tf.Scalar } {
  const R = s.roiBatch.length;
  const nPos = s.posRoi.length;
  const posAnchors = new Float32Array(nPos * 4); // [nPos·4] the positives' RoIs
  s.posRoi.forEach((r, k) => posAnchors.set(s.rois.subarray(4 * r, 4 * r + 4), 4 * k));
  const posGt = s.posGt;
  const iouAll = new Float32Array(R);
  let reg: tf.Scalar;
  if (nPos > 0) {
    // rows r·C + label of [R·C, 4]
    const sel = tf.tensor1d(
      s.posRoi.map((r) => r * C + s.roiLabels[r]!),
      'int32',
    );
    const posDeltas = tf.gather(tf.reshape(head.reg, [-1, 4]), sel) as tf.Tensor2D; // [nPos, 4]
    const predBoxes = decodeDeltas(posAnchors, posDeltas.dataSync() as Float32Array, RCNN_CODER);
    const iou = iouPaired(predBoxes, posGt);
    s.posRoi.forEach((r, k) => (iouAll[r] = iou[k]!));
    const target = tf.tensor2d(posGt, [nPos, 4]);
    reg = L.reg({
      pred: L.regOnDeltas ? target : decodeDeltasTensor(posAnchors, posDeltas, RCNN_CODER),
      target,
      predDeltas: posDeltas,
      targetDeltas: tf.tensor2d(encodeDeltas(posAnchors, posGt, RCNN_CODER), [nPos, 4]),
      avgFactor: Math.max(1, R), // mmdetection: averaged over all sampled RoIs
    });
  } else {
    reg = tf.mul(tf.sum(head.reg), 0) as tf.Scalar;
  }
  const cls = (L.cls as (x: ClsLossInput) => tf.Scalar)({
    logits: head.cls,
    labels: tf.tensor1d(s.roiLabels, 'int32'),
    iou: tf.tensor1d(iouAll),
  });
  return { cls, reg };
}

/**
 * Detections from the box head's outputs (values only): per RoI and class with probability
 * above `scoreThr`, the class's deltas decoded on the RoI and clipped to the content; per-class
 * NMS, at most `maxPerImage` per image. `rois` [R·4] image-major, `counts` RoIs per image.
 */
export function roiHeadDetections(
  prob: Float32Array,
  deltas: Float32Array,
  rois: Float32Array,
  counts: number[],
  contentSizes: [number, number][],
  C: number,
  cfg: { scoreThr: number; nmsIou: number; maxPerImage: number },
): Detections[] {
  const result: Detections[] = [];
  let start = 0;
  counts.forEach((n, b) => {
    const [cw, chh] = contentSizes[b]!;
    const an: number[] = [];
    const de: number[] = [];
    const scores: number[] = [];
    const labels: number[] = [];
    for (let i = start; i < start + n; i++) {
      for (let c = 0; c < C; c++) {
        const p = prob[i * (C + 1) + c]!;
        if (p <= cfg.scoreThr) continue;
        for (let q = 0; q < 4; q++) {
          an.push(rois[4 * i + q]!);
          de.push(deltas[i * 4 * C + 4 * c + q]!);
        }
        scores.push(p);
        labels.push(c);
      }
    }
    start += n;
    const boxes = decodeDeltas(Float32Array.from(an), Float32Array.from(de), RCNN_CODER, { width: cw, height: chh });
    result.push(batchedNms(boxes, Float32Array.from(scores), Int32Array.from(labels), cfg.nmsIou, cfg.maxPerImage));
  });
  return result;
}
