/**
 * Training configuration: one zod schema (plain, serialisable: the search sends it to workers),
 * presets for the model and schedule, and resolution of the searched losses with errors that
 * name the head and the mode.
 */
import { z } from 'zod';
import { buildBclsLoss, buildClsLoss, buildRegLoss, resolveLoss, type Mode } from '../loss/index.js';
import type { BackboneConfig } from './backbone.js';
import type { FasterRcnnConfig } from './faster_rcnn.js';
import type { FcosConfig, } from './fcos.js';
import { INF } from './fcos.js';
import type { HeadLosses } from './model.js';
import { UserError } from '../util/errors.js';
import { DETECTORS, MODEL_PRESETS, type DetectorKind, type ModelPreset } from './kinds.js';

export { DETECTORS, MODEL_PRESETS, type DetectorKind, type ModelPreset };

/** A configuration error found before training starts (the CLI turns it into exit code 2). */
export class DetectConfigError extends UserError {
  override name = 'DetectConfigError';
}

const backboneSchema = z
  .object({
    depth: z.union([z.literal(18), z.literal(34), z.literal(50)]),
    widthMult: z.number().positive().max(4),
    norm: z.enum(['gn', 'frozen-bn', 'none']),
    gnGroups: z.number().int().positive(),
  })
  .strict();

const range = z.tuple([z.number(), z.number()]);

const fcosOverrides = z
  .object({
    backbone: backboneSchema.partial().strict(),
    fpnChannels: z.number().int().positive(),
    minLevel: z.number().int().min(2).max(5),
    maxLevel: z.number().int().min(2).max(7),
    stackedConvs: z.number().int().min(0),
    gnGroups: z.number().int().positive(),
    regressRanges: z.array(range).min(1),
    centerSampling: z.boolean(),
    centerSampleRadius: z.number().positive(),
    qualityTarget: z.enum(['iou', 'centerness']),
    qualityWeight: z.number().min(0),
    priorProb: z.number().gt(0).lt(1),
    nmsPre: z.number().int().positive(),
    scoreThr: z.number().min(0).max(1),
    nmsIou: z.number().gt(0).max(1),
    maxPerImage: z.number().int().positive(),
  })
  .partial()
  .strict();

const rcnnOverrides = z
  .object({
    backbone: backboneSchema.partial().strict(),
    fpnChannels: z.number().int().positive(),
    minLevel: z.number().int().min(2).max(5),
    maxLevel: z.number().int().min(2).max(7),
    anchorScale: z.number().positive(),
    anchorRatios: z.array(z.number().positive()).min(1),
    rpnPosIou: z.number().min(0).max(1),
    rpnNegIou: z.number().min(0).max(1),
    rpnMinPosIou: z.number().min(0).max(1),
    rpnBatch: z.number().int().positive(),
    rpnPosFraction: z.number().gt(0).max(1),
    rpnNmsIou: z.number().gt(0).max(1),
    rpnPreNmsTrain: z.number().int().positive(),
    rpnPostNmsTrain: z.number().int().positive(),
    rpnPreNmsTest: z.number().int().positive(),
    rpnPostNmsTest: z.number().int().positive(),
    roiBatch: z.number().int().positive(),
    roiPosFraction: z.number().gt(0).max(1),
    roiPosIou: z.number().min(0).max(1),
    roiSize: z.number().int().positive(),
    samplingRatio: z.number().int().positive(),
    finestScale: z.number().positive(),
    fcDim: z.number().int().positive(),
    scoreThr: z.number().min(0).max(1),
    nmsIou: z.number().gt(0).max(1),
    maxPerImage: z.number().int().positive(),
  })
  .partial()
  .strict();

const subset = z.union([z.number().int().positive(), z.array(z.number().int())]);

export const trainConfigSchema = z
  .object({
    detector: z.enum(DETECTORS),
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
  | { detector: 'fcos'; inputSize: number; fcos: FcosConfig }
  | { detector: 'faster-rcnn'; inputSize: number; rcnn: FasterRcnnConfig };

export interface ResolvedTrainConfig {
  raw: z.output<typeof trainConfigSchema>;
  model: ModelConfig;
  schedule: ScheduleConfig;
  clsLoss: string;
  regLoss: string;
  clsWeight: number;
  regWeight: number;
}

function backbonePreset(p: ModelPreset): BackboneConfig {
  if (p === 'r50-paper') return { depth: 50, widthMult: 1, norm: 'gn', gnGroups: 32 };
  if (p === 'cpu-small') return { depth: 18, widthMult: 0.25, norm: 'gn', gnGroups: 8 };
  return { depth: 18, widthMult: 0.125, norm: 'gn', gnGroups: 4 };
}

export function fcosPreset(p: ModelPreset, numClasses: number): FcosConfig {
  const common = {
    numClasses,
    backbone: backbonePreset(p),
    centerSampling: true,
    centerSampleRadius: 1.5,
    qualityTarget: 'iou' as const,
    qualityWeight: 1,
    priorProb: 0.01,
    scoreThr: 0.05,
    nmsIou: 0.5,
    maxPerImage: 100,
  };
  if (p === 'r50-paper') {
    return {
      ...common,
      fpnChannels: 256,
      minLevel: 3,
      maxLevel: 7,
      stackedConvs: 4,
      gnGroups: 32,
      regressRanges: [[-1, 64], [64, 128], [128, 256], [256, 512], [512, INF]],
      nmsPre: 1000,
    };
  }
  if (p === 'cpu-small') {
    // R18 at width 0.5 for FCOS: at 0.25 it reaches AP50 0.789 on mnist-det after 6000 iterations,
    // at 0.5 0.80 after 3000 and 0.82 after 4000 (docs/DETECTORS.md)
    return { ...common, backbone: { ...common.backbone, widthMult: 0.5 }, fpnChannels: 64, minLevel: 3, maxLevel: 5, stackedConvs: 2, gnGroups: 16, regressRanges: [[-1, 32], [32, 64], [64, INF]], nmsPre: 300 };
  }
  return { ...common, fpnChannels: 16, minLevel: 3, maxLevel: 4, stackedConvs: 1, gnGroups: 4, regressRanges: [[-1, 24], [24, INF]], nmsPre: 100 };
}

export function rcnnPreset(p: ModelPreset, numClasses: number): FasterRcnnConfig {
  const common = {
    numClasses,
    backbone: backbonePreset(p),
    anchorRatios: [0.5, 1, 2],
    rpnPosIou: 0.7,
    rpnNegIou: 0.3,
    rpnMinPosIou: 0.3,
    rpnBatch: 256,
    rpnPosFraction: 0.5,
    rpnNmsIou: 0.7,
    roiPosFraction: 0.25,
    roiPosIou: 0.5,
    roiSize: 7,
    samplingRatio: 2,
    scoreThr: 0.05,
    nmsIou: 0.5,
    maxPerImage: 100,
  };
  if (p === 'r50-paper') {
    return {
      ...common,
      fpnChannels: 256,
      minLevel: 2,
      maxLevel: 6,
      anchorScale: 8,
      rpnPreNmsTrain: 2000,
      rpnPostNmsTrain: 1000,
      rpnPreNmsTest: 1000,
      rpnPostNmsTest: 1000,
      roiBatch: 512,
      finestScale: 56,
      fcDim: 1024,
    };
  }
  if (p === 'cpu-small') {
    return {
      ...common,
      fpnChannels: 64,
      minLevel: 2,
      maxLevel: 5,
      anchorScale: 4,
      rpnPreNmsTrain: 500,
      rpnPostNmsTrain: 200,
      rpnPreNmsTest: 500,
      rpnPostNmsTest: 100,
      roiBatch: 64,
      finestScale: 28,
      fcDim: 256,
    };
  }
  return {
    ...common,
    fpnChannels: 16,
    minLevel: 3,
    maxLevel: 4,
    anchorScale: 3,
    rpnBatch: 64,
    rpnPreNmsTrain: 100,
    rpnPostNmsTrain: 32,
    rpnPreNmsTest: 100,
    rpnPostNmsTest: 32,
    roiBatch: 32,
    roiSize: 4,
    finestScale: 28,
    fcDim: 32,
  };
}

const SCHEDULE_PRESETS: Record<ModelPreset, Record<DetectorKind, { iters: number; batch: number; lr: number; warmupIters: number; inputSize: number }>> = {
  tiny: {
    fcos: { iters: 20, batch: 2, lr: 0.01, warmupIters: 0, inputSize: 64 },
    'faster-rcnn': { iters: 20, batch: 2, lr: 0.02, warmupIters: 0, inputSize: 64 },
  },
  'cpu-small': {
    fcos: { iters: 4000, batch: 8, lr: 0.02, warmupIters: 300, inputSize: 128 },
    'faster-rcnn': { iters: 3000, batch: 8, lr: 0.02, warmupIters: 300, inputSize: 128 },
  },
  // mmdetection's 1x on COCO: 12 epochs ≈ 90k iterations at batch 16, 500 warm-up iterations
  'r50-paper': {
    fcos: { iters: 90000, batch: 16, lr: 0.01, warmupIters: 500, inputSize: 800 },
    'faster-rcnn': { iters: 90000, batch: 16, lr: 0.02, warmupIters: 500, inputSize: 800 },
  },
};

export const HEAD_NAMES: Record<DetectorKind, { cls: string; reg: string; clsMode: Mode }> = {
  fcos: { cls: 'the FCOS head classification (bcls mode: binary sigmoid, variables X, Q, PY, NY)', reg: 'the FCOS head box regression (reg mode: variables I, U, E)', clsMode: 'bcls' },
  'faster-rcnn': {
    cls: 'the Faster R-CNN RoI head classification (cls mode: multi-class softmax, variables X, Y, Z)',
    reg: 'the Faster R-CNN RoI head box regression (reg mode: variables I, U, E, or the fixed l1 / smooth-l1 on deltas)',
    clsMode: 'cls',
  },
};

export const DEFAULT_LOSSES: Record<DetectorKind, { cls: string; reg: string }> = {
  fcos: { cls: 'focal', reg: 'giou' },
  'faster-rcnn': { cls: 'ce', reg: 'l1' },
};

function formatZod(e: z.ZodError, prefix?: string): string {
  return e.issues
    .map((i) => {
      const path = [...(prefix ? [prefix] : []), ...i.path].join('.') || '(config)';
      const msg = i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.map((k) => `'${k}'`).join(', ')}` : i.message;
      return `${path}: ${msg}`;
    })
    .join('; ');
}

/**
 * A detector's preset with the config's `model` overrides merged in (the backbone's fields one
 * by one), checked against the detector's override schema so that errors name the field.
 */
function withOverrides<C extends { backbone: BackboneConfig }, O extends { backbone?: Partial<BackboneConfig> }>(
  detector: DetectorKind,
  schema: z.ZodType<O, z.ZodTypeDef, unknown>,
  base: C,
  overrides: Record<string, unknown> | undefined,
): C {
  const o = schema.safeParse(overrides ?? {});
  if (!o.success) throw new DetectConfigError(`invalid ${detector} model settings: ${formatZod(o.error, 'model')}`);
  const { backbone, ...rest } = o.data;
  return { ...base, ...rest, backbone: { ...base.backbone, ...backbone } };
}

/** Validates and fills in a training config; every problem is reported before training starts. */
export function resolveTrainConfig(input: unknown, numClasses: number): ResolvedTrainConfig {
  const parsed = trainConfigSchema.safeParse(input);
  if (!parsed.success) throw new DetectConfigError(`invalid training config: ${formatZod(parsed.error)}`);
  const raw = parsed.data;
  const sp = SCHEDULE_PRESETS[raw.preset][raw.detector];
  const inputSize = raw.inputSize ?? sp.inputSize;
  const model: ModelConfig =
    raw.detector === 'fcos'
      ? { detector: 'fcos', inputSize, fcos: withOverrides(raw.detector, fcosOverrides, fcosPreset(raw.preset, numClasses), raw.model) }
      : { detector: 'faster-rcnn', inputSize, rcnn: withOverrides(raw.detector, rcnnOverrides, rcnnPreset(raw.preset, numClasses), raw.model) };
  if (model.detector === 'fcos') {
    const { fcos } = model;
    const n = fcos.maxLevel - fcos.minLevel + 1;
    if (fcos.regressRanges.length !== n) {
      throw new DetectConfigError(`model.regressRanges has ${fcos.regressRanges.length} ranges for ${n} levels (P${fcos.minLevel}..P${fcos.maxLevel})`);
    }
  }
  const m = model.detector === 'fcos' ? model.fcos : model.rcnn;
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
  const clsLoss = raw.clsLoss ?? DEFAULT_LOSSES[raw.detector].cls;
  const regLoss = raw.regLoss ?? DEFAULT_LOSSES[raw.detector].reg;
  // check the loss strings now (mode, syntax), naming the head
  const heads = HEAD_NAMES[raw.detector];
  checkLoss(heads.clsMode, clsLoss, heads.cls, 'clsLoss');
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
export function buildHeadLosses(detector: DetectorKind, clsLoss: string, regLoss: string, clsWeight: number, regWeight: number): HeadLosses {
  const heads = HEAD_NAMES[detector];
  const reg = checkLoss('reg', regLoss, heads.reg, 'regLoss');
  checkLoss(heads.clsMode, clsLoss, heads.cls, 'clsLoss');
  return {
    cls: heads.clsMode === 'cls' ? buildClsLoss(clsLoss) : buildBclsLoss(clsLoss),
    reg: buildRegLoss(regLoss),
    regOnDeltas: reg.fixed !== null,
    clsWeight,
    regWeight,
  };
}
