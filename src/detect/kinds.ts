/**
 * The detector registry: each detector kind registered once, with its config schema (the
 * training config's `model` overrides), presets, default losses, head descriptions and a builder
 * loaded on first use. Everything else derives from it: the training config's `detector` enum,
 * the search config's `detector` and `preset` enums, the CLI's help. This file and presets.ts
 * load no tfjs (the CLI's help lists the kinds at start-up); the builders do.
 */
import type { z } from 'zod';
import type { BackboneConfig } from './backbone.js';
import type { FasterRcnnConfig } from './faster_rcnn.js';
import type { FcosConfig } from './fcos.js';
import type { ParamStore } from './layers.js';
import type { DetectorModel } from './model.js';
import {
  FCOS_SCHEDULES,
  RCNN_SCHEDULES,
  fcosModelSchema,
  fcosPreset,
  rcnnModelSchema,
  rcnnPreset,
  MODEL_PRESETS,
  type ModelPreset,
  type SchedulePreset,
} from './presets.js';

export { MODEL_PRESETS, type ModelPreset, type SchedulePreset };

/** One detector kind. `C` is its model config (FcosConfig, FasterRcnnConfig). */
export interface DetectorSpec<C extends { backbone: BackboneConfig; minLevel: number; maxLevel: number }> {
  /** The field of ModelConfig that holds `C`. */
  configKey: 'fcos' | 'rcnn';
  /** The loss mode of the classification head: 'bcls' (binary sigmoid) or 'cls' (softmax). */
  clsMode: 'bcls' | 'cls';
  /** The heads whose losses are searched, as errors and help name them. */
  heads: { cls: string; reg: string };
  /** The losses a run trains with unless told otherwise (preset names of their modes). */
  defaultLosses: { cls: string; reg: string };
  /** The `model` overrides a training config may give (every field of `C` but numClasses; backbone in part). */
  modelSchema: z.ZodType<Partial<Omit<C, 'backbone' | 'numClasses'>> & { backbone?: Partial<BackboneConfig> }>;
  /** The model of a preset. */
  preset(p: ModelPreset, numClasses: number): C;
  /** The schedule defaults of each preset. */
  schedules: Record<ModelPreset, SchedulePreset>;
  /** A problem of a resolved model beyond its fields' own checks, or null. */
  check?(c: C): string | null;
  /** The builder (loads tfjs and the detector's modules). */
  load(): Promise<(ps: ParamStore, cfg: C) => DetectorModel>;
}

const fcos: DetectorSpec<FcosConfig> = {
  configKey: 'fcos',
  clsMode: 'bcls',
  heads: {
    cls: 'the FCOS head classification (bcls mode: binary sigmoid, variables X, Q, PY, NY)',
    reg: 'the FCOS head box regression (reg mode: variables I, U, E)',
  },
  defaultLosses: { cls: 'focal', reg: 'giou' },
  modelSchema: fcosModelSchema,
  preset: fcosPreset,
  schedules: FCOS_SCHEDULES,
  check(c) {
    const n = c.maxLevel - c.minLevel + 1;
    return c.regressRanges.length !== n
      ? `model.regressRanges has ${c.regressRanges.length} ranges for ${n} levels (P${c.minLevel}..P${c.maxLevel})`
      : null;
  },
  load: async () => (await import('./fcos.js')).buildFcos,
};

const fasterRcnn: DetectorSpec<FasterRcnnConfig> = {
  configKey: 'rcnn',
  clsMode: 'cls',
  heads: {
    cls: 'the Faster R-CNN RoI head classification (cls mode: multi-class softmax, variables X, Y, Z)',
    reg: 'the Faster R-CNN RoI head box regression (reg mode: variables I, U, E, or the fixed l1 / smooth-l1 on deltas)',
  },
  defaultLosses: { cls: 'ce', reg: 'l1' },
  modelSchema: rcnnModelSchema,
  preset: rcnnPreset,
  schedules: RCNN_SCHEDULES,
  load: async () => (await import('./faster_rcnn.js')).buildFasterRcnn,
};

/** The registry. A new detector kind is added here (and to ModelConfig in config.ts). */
export const DETECTORS = { fcos, 'faster-rcnn': fasterRcnn } as const;
export type DetectorKind = keyof typeof DETECTORS;
/** The kinds' names, in registration order (for enums and help). */
export const DETECTOR_KINDS = Object.keys(DETECTORS) as [DetectorKind, ...DetectorKind[]];

/** A kind's entry, with its model config type erased (for code that handles every kind alike). */
export function detectorSpec(kind: DetectorKind): DetectorSpec<FcosConfig | FasterRcnnConfig> {
  return DETECTORS[kind] as unknown as DetectorSpec<FcosConfig | FasterRcnnConfig>;
}
