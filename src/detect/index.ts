/** Detectors (FCOS-style one-stage, Faster R-CNN-style two-stage), their training and evaluation. */
export {
  trainDetector,
  testDetector,
  evaluateDetector,
  buildDetector,
  createDetector,
  type TrainResult,
  type TrainOptions,
  type TrainProgress,
  type EvalOutput,
} from './train.js';
export { learningRate, applyUpdate } from './sgd.js';
export {
  trainConfigSchema,
  resolveTrainConfig,
  buildHeadLosses,
  fcosPreset,
  rcnnPreset,
  DetectConfigError,
  DETECTORS,
  DETECTOR_KINDS,
  MODEL_PRESETS,
  type TrainConfigInput,
  type ModelConfig,
  type DetectorKind,
  type ModelPreset,
  type ScheduleConfig,
} from './config.js';
export {
  saveCheckpoint,
  commitCheckpoint,
  readCheckpoint,
  verifyCheckpoint,
  intactCheckpoints,
  loadWeightsInto,
  CheckpointError,
} from './checkpoint.js';
export { nms, batchedNms, iouMatrix, iouPaired, encodeDeltas, decodeDeltas, type Detections } from './boxes.js';
export { roiAlign, multiLevelRoiAlign, axisWeights, mapRoiLevels } from './roi_align.js';
export { buildFcos, fcosTargets, levelPoints, type FcosConfig } from './fcos.js';
export { buildFasterRcnn, type FasterRcnnConfig } from './faster_rcnn.js';
export { levelAnchors, rpnLoss, rpnTargets, rpnProposals } from './rpn.js';
export { sampleRois, roiHeadLosses, roiHeadDetections } from './roi_heads.js';
export { maxIouAssign, randomSample } from './assign.js';
export { type DetectorSpec } from './kinds.js';
export { ParamStore } from './layers.js';
export type { DetectorModel, TrainBatch, HeadLosses } from './model.js';
