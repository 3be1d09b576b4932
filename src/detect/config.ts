/**
 * Training configuration: one zod schema (plain, serialisable: the search sends it to workers),
 * presets for the model and schedule, and resolution of the searched losses with errors that
 * name the head and the mode.
 */
import { z } from 'zod';
import { buildBclsLoss, buildClsLoss, buildRegLoss, resolveLoss, type Mode } from '../loss/index.js';
import type { FasterRcnnConfig } from './faster_rcnn.js';
import type { FcosConfig } from './fcos.js';
import type { HeadLosses } from './model.js';
import { UserError } from '../util/errors.js';
import { DETECTORS, DETECTOR_KINDS, MODEL_PRESETS, detectorSpec, type DetectorKind, type ModelPreset } from './kinds.js';
import { fcosPreset, rcnnPreset } from './presets.js';

export { DETECTORS, DETECTOR_KINDS, MODEL_PRESETS, fcosPreset, rcnnPreset, type DetectorKind, type ModelPreset };

/** A configuration error found before training starts (the CLI turns it into exit code 2). */
export class DetectConfigError extends UserError {
  override name = 'DetectConfigError';
}

const subset = z.union([z.number().int().positive(), z.array(z.number().int())]);

export const trainConfigSchema = z
  .object({
    detector: z.enum(DETECTOR_KINDS),
    /** Dataset root holding train/ and val/ (COCO folders, as `cse-autoloss data make` writes them). */
    data: z.string().min(1),
    /** Run folder (checkpoints, log, metrics, curves); none = nothing written. */
    out: z.string().min(1).optional(),
    preset: z.enum(MODEL_PRESETS).default('cpu-small'),
    iters: z.number().int().positive().optional(),
    batch: z.number().int().positive().optional(),
    lr: z.number().positive().optional(),
    momentum: z.number().min(0).lt(1).default(0.9),
    weightDecay: z.number().min(0).default(1e-4),
    warmupIters: z.number().int().min(0).optional(),
    warmupRatio: z.number().gt(0).max(1).default(0.001),
    /** Step decay points as fractions of `iters` (mmdetection's 1x: epochs 8 and 11 of 12). */
    steps: z.array(z.number().gt(0).lt(1)).default([8 / 12, 11 / 12]),
    gamma: z.number().gt(0).max(1).default(0.1),
    /** Max global gradient norm (null: no clipping). */
    gradClip: z.number().positive().nullable().default(35),
    seed: z.number().int().min(0).default(0),
    clsLoss: z.string().min(1).optional(),
    regLoss: z.string().min(1).optional(),
    clsWeight: z.number().min(0).default(1),
    regWeight: z.number().min(0).optional(),
    inputSize: z.number().int().min(32).optional(),
    /** Random horizontal flips; default: on, unless the training set's info says `horizontal_flip: false` (mnist-det does). */
    flip: z.boolean().optional(),
    /** Train / val images: the first N of the split, or explicit image ids. */
    trainSubset: subset.optional(),
    valSubset: subset.optional(),
    /** Split scored at the end: 'val', or held-out images of 'train' (valSubset then picks them, e.g. ids not in trainSubset). */
    evalSplit: z.enum(['val', 'train']).default('val'),
    checkpointEvery: z.number().int().min(0).optional(),
    /** Evaluate on val every N iterations for the AP curve (0: only at the end). */
    evalEvery: z.number().int().min(0).default(0),
    logEvery: z.number().int().positive().default(10),
    /** tfjs checkpoint (model.json) whose matching weights initialise the model (e.g. a backbone). */
    initWeights: z.string().optional(),
    /** Continue from the run folder's last checkpoint when one exists. */
    resume: z.boolean().default(false),
    /** Model overrides; checked against the detector's own fields below (so that errors name the field). */
    model: z.record(z.string(), z.unknown()).optional(),
    /** Batches decoded ahead by the loader's worker (0: in the training thread). */
    readAhead: z.number().int().min(0).default(2),
  })
  .strict();

export type TrainConfigInput = z.input<typeof trainConfigSchema>;

export interface ScheduleConfig {
  iters: number;
  batch: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  warmupIters: number;
  warmupRatio: number;
  steps: number[]; // absolute iterations
  gamma: number;
  gradClip: number | null;
}

export type ModelConfig =
  { detector: 'fcos'; inputSize: number; fcos: FcosConfig } | { detector: 'faster-rcnn'; inputSize: number; rcnn: FasterRcnnConfig };

export interface ResolvedTrainConfig {
  raw: z.output<typeof trainConfigSchema>;
  model: ModelConfig;
  schedule: ScheduleConfig;
  clsLoss: string;
  regLoss: string;
  clsWeight: number;
  regWeight: number;
}

function formatZod(e: z.ZodError, prefix?: string): string {
  return e.issues
    .map((i) => {
      const path = [...(prefix ? [prefix] : []), ...i.path].join('.') || '(config)';
      const msg = i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.map((k) => `'${k}'`).join(', ')}` : i.message;
      return `${path}: ${msg}`;
    })
    .join('; ');
}

/** Validates and fills in a training config; every problem is reported before training starts. */
export function resolveTrainConfig(input: unknown, numClasses: number): ResolvedTrainConfig {
  const parsed = trainConfigSchema.safeParse(input);
  if (!parsed.success) throw new DetectConfigError(`invalid training config: ${formatZod(parsed.error)}`);
  const raw = parsed.data;
  const spec = detectorSpec(raw.detector);
  const sp = spec.schedules[raw.preset];
  const inputSize = raw.inputSize ?? sp.inputSize;
  const o = spec.modelSchema.safeParse(raw.model ?? {});
  if (!o.success) throw new DetectConfigError(`invalid ${raw.detector} model settings: ${formatZod(o.error, 'model')}`);
  const base = spec.preset(raw.preset, numClasses);
  const { backbone, ...rest } = o.data;
  const m = { ...base, ...rest, backbone: { ...base.backbone, ...backbone } } as FcosConfig & FasterRcnnConfig;
  const problem = spec.check?.(m) ?? null;
  if (problem) throw new DetectConfigError(problem);
  const model = { detector: raw.detector, inputSize, [spec.configKey]: m } as unknown as ModelConfig;
  if (m.maxLevel < m.minLevel) throw new DetectConfigError(`model.maxLevel (${m.maxLevel}) is below model.minLevel (${m.minLevel})`);
  if (inputSize % 32 !== 0) {
    throw new DetectConfigError(`inputSize ${inputSize} must be a multiple of 32 (the backbone's output stride)`);
  }
  const iters = raw.iters ?? sp.iters;
  const schedule: ScheduleConfig = {
    iters,
    batch: raw.batch ?? sp.batch,
    lr: raw.lr ?? sp.lr,
    momentum: raw.momentum,
    weightDecay: raw.weightDecay,
    warmupIters: Math.min(raw.warmupIters ?? sp.warmupIters, iters),
    warmupRatio: raw.warmupRatio,
    steps: raw.steps.map((f) => Math.round(f * iters)),
    gamma: raw.gamma,
    gradClip: raw.gradClip,
  };
  const clsLoss = raw.clsLoss ?? spec.defaultLosses.cls;
  const regLoss = raw.regLoss ?? spec.defaultLosses.reg;
  // check the loss strings now (mode, syntax), naming the head
  const heads = spec.heads;
  checkLoss(spec.clsMode, clsLoss, heads.cls, 'clsLoss');
  const reg = checkLoss('reg', regLoss, heads.reg, 'regLoss');
  const onDeltas = reg.fixed !== null;
  const regWeight = raw.regWeight ?? (raw.detector === 'faster-rcnn' && !onDeltas ? 10 : 1);
  return { raw, model, schedule, clsLoss, regLoss, clsWeight: raw.clsWeight, regWeight };
}

function checkLoss(mode: Mode, spec: string, head: string, field: string) {
  try {
    return resolveLoss(mode, spec);
  } catch (e) {
    throw new DetectConfigError(`${field} '${spec}' cannot be used for ${head}: ${(e as Error).message}`);
  }
}

/** The head's loss functions from strings (already checked by resolveTrainConfig). */
export function buildHeadLosses(
  detector: DetectorKind,
  clsLoss: string,
  regLoss: string,
  clsWeight: number,
  regWeight: number,
): HeadLosses {
  const { heads, clsMode } = DETECTORS[detector];
  const reg = checkLoss('reg', regLoss, heads.reg, 'regLoss');
  checkLoss(clsMode, clsLoss, heads.cls, 'clsLoss');
  return {
    cls: clsMode === 'cls' ? buildClsLoss(clsLoss) : buildBclsLoss(clsLoss),
    reg: buildRegLoss(regLoss),
    regOnDeltas: reg.fixed !== null,
    clsWeight,
    regWeight,
  };
}
