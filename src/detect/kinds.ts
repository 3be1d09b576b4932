/** The detector kinds and model presets by name (no imports: the `train` command's help lists them at start-up). */
export const DETECTORS = ['fcos', 'faster-rcnn'] as const;
export type DetectorKind = (typeof DETECTORS)[number];
export const MODEL_PRESETS = ['tiny', 'cpu-small', 'r50-paper'] as const;
export type ModelPreset = (typeof MODEL_PRESETS)[number];
