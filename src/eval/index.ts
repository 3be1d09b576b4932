export {
  evaluateCoco,
  formatSummary,
  formatFixed3,
  METRIC_KEYS,
  IOU_THRESHOLDS,
  RECALL_THRESHOLDS,
  AREA_RANGES,
  type CocoDetection,
  type CocoMetrics,
  type CocoGroundTruth,
  type CocoGtAnnotation,
  type CocoEvalResult,
  type EvaluateOptions,
  type PerClassResult,
} from './cocoeval.js';
export { validateGroundTruth, validateDetections, type DetectionCheck } from './validate.js';
export { writePrPlots, prCurveSvg, precisionCurve, type PrCurve } from './plots.js';
