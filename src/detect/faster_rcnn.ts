/**
 * Faster R-CNN-style two-stage detector on an FPN, assembled from its parts: the backbone and FPN
 * (backbone.ts), the RPN (rpn.ts: anchors, the fixed RPN loss, proposals) and the RoI head
 * (roi_heads.ts: RoI sampling, multi-level RoIAlign, the 2-fc box head, the searched losses,
 * per-class NMS). The assigner and sampler both stages use are in assign.ts.
 */
import { tf } from '../tf.js';
import type { Rng } from '../util/rng.js';
import { buildBackbone, buildFpn, type BackboneConfig } from './backbone.js';
import type { Detections } from './boxes.js';
import type { ParamStore } from './layers.js';
import type { DetectorModel, HeadLosses, TrainBatch } from './model.js';
import { multiLevelRoiAlign } from './roi_align.js';
import { anchorGenerator, buildRpnHead, concatAnchors, rpnLoss, rpnProposals, rpnTargets, type RpnConfig } from './rpn.js';
import { buildBoxHead, roiHeadDetections, roiHeadLosses, sampleRois } from './roi_heads.js';

export { levelAnchors } from './rpn.js';
export { maxIouAssign, randomSample, type MaxIouAssignment } from './assign.js';

/** The whole model's settings: the RPN's (RpnConfig: anchors, assignment, sampling, NMS) and these. */
export interface FasterRcnnConfig extends RpnConfig {
  numClasses: number;
  backbone: BackboneConfig;
  fpnChannels: number;
  minLevel: number;
  maxLevel: number;
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

export function buildFasterRcnn(ps: ParamStore, cfg: FasterRcnnConfig): DetectorModel & { strides: number[] } {
  const backbone = buildBackbone(ps, cfg.backbone);
  const fpn = buildFpn(ps, backbone.channels, { channels: cfg.fpnChannels, minLevel: cfg.minLevel, maxLevel: cfg.maxLevel, extra: 'pool' });
  const strides = fpn.strides;
  const roiLevels = Math.min(strides.length, Math.max(1, 5 - cfg.minLevel + 1)); // RoIs pooled from P_min..P5
  const C = cfg.numClasses;
  const rpn = buildRpnHead(ps, cfg.fpnChannels, cfg.anchorRatios.length);
  const boxHead = buildBoxHead(ps, cfg.roiSize, cfg.fpnChannels, cfg.fcDim, C);
  const alignOpt = { outputSize: cfg.roiSize, samplingRatio: cfg.samplingRatio, aligned: true };
  const anchorsFor = anchorGenerator(strides, cfg.anchorScale, cfg.anchorRatios);
  const features = (x: tf.Tensor4D) => fpn.forward(backbone.forward(x));
  const pool = (feats: tf.Tensor4D[], rois: Float32Array, roiBatch: number[]) =>
    multiLevelRoiAlign(feats.slice(0, roiLevels), strides.slice(0, roiLevels), rois, Int32Array.from(roiBatch), cfg.finestScale, alignOpt);

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
      const feats = features(batch.images);
      const levels = rpn(feats);
      const allAnchors = concatAnchors(anchorsFor(levels.map((l) => [l.obj.shape[1], l.obj.shape[2]] as [number, number])));
      const rpnL = rpnLoss(levels, rpnTargets(allAnchors, batch.boxes, cfg, rng));
      // proposals (no gradient), RoI sampling, the box head on the pooled RoIs
      const props = rpnProposals(levels, anchorsFor, batch.contentSizes, cfg.rpnPreNmsTrain, cfg.rpnPostNmsTrain, cfg.rpnNmsIou);
      const sample = sampleRois(props, batch.boxes, batch.labels, C, cfg, rng);
      const head = boxHead(pool(feats, sample.rois, sample.roiBatch));
      const roi = roiHeadLosses(head, sample, C, losses);
      const total = tf.addN([rpnL.cls, rpnL.reg, tf.mul(roi.cls, losses.clsWeight), tf.mul(roi.reg, losses.regWeight)]) as tf.Scalar;
      return { total, rpn_cls: rpnL.cls, rpn_reg: rpnL.reg, cls: roi.cls, reg: roi.reg };
    },
    predict(images: tf.Tensor4D, contentSizes: [number, number][]): Detections[] {
      const B = images.shape[0];
      tf.engine().startScope();
      try {
        const feats = features(images);
        const levels = rpn(feats);
        const props = rpnProposals(levels, anchorsFor, contentSizes, cfg.rpnPreNmsTest, cfg.rpnPostNmsTest, cfg.rpnNmsIou);
        const counts = props.map((p) => p.length / 4);
        const roiBatch: number[] = [];
        counts.forEach((n, b) => {
          for (let i = 0; i < n; i++) roiBatch.push(b);
        });
        const rois = new Float32Array(roiBatch.length * 4);
        let o = 0;
        for (const p of props) {
          rois.set(p, o);
          o += p.length;
        }
        if (roiBatch.length === 0) {
          const result: Detections[] = [];
          for (let b = 0; b < B; b++) result.push({ boxes: new Float32Array(0), scores: new Float32Array(0), labels: new Int32Array(0) });
          return result;
        }
        const head = boxHead(pool(feats, rois, roiBatch));
        const prob = tf.softmax(head.cls).dataSync() as Float32Array; // [R, C+1]
        const deltas = head.reg.dataSync() as Float32Array; // [R, 4C]
        return roiHeadDetections(prob, deltas, rois, counts, contentSizes, C, cfg);
      } finally {
        tf.engine().endScope();
      }
    },
  };
}
