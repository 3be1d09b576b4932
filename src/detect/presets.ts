/**
 * The detectors' presets and override schemas, without tfjs (the search config and the CLI's
 * help read them at start-up): a model config per preset (`tiny`, `cpu-small`, `r50-paper`), the
 * schedule defaults of each preset, and the zod schema of a training config's `model` overrides.
 * The registry that ties them to a detector kind is kinds.ts.
 */
import { z } from 'zod';
import type { BackboneConfig } from './backbone.js';
import type { FasterRcnnConfig } from './faster_rcnn.js';
import type { FcosConfig } from './fcos.js';

export const MODEL_PRESETS = ['tiny', 'cpu-small', 'r50-paper'] as const;
export type ModelPreset = (typeof MODEL_PRESETS)[number];

/** An unbounded regression range's upper end (FCOS). */
export const INF = 1e8;

/** A preset's schedule defaults (a training config's fields override them). */
export interface SchedulePreset {
  iters: number;
  batch: number;
  lr: number;
  warmupIters: number;
  inputSize: number;
}

export const FCOS_SCHEDULES: Record<ModelPreset, SchedulePreset> = {
  tiny: { iters: 20, batch: 2, lr: 0.01, warmupIters: 0, inputSize: 64 },
  'cpu-small': { iters: 4000, batch: 8, lr: 0.02, warmupIters: 300, inputSize: 128 },
  // mmdetection's 1x on COCO: 12 epochs ≈ 90k iterations at batch 16, 500 warm-up iterations
  'r50-paper': { iters: 90000, batch: 16, lr: 0.01, warmupIters: 500, inputSize: 800 },
};

export const RCNN_SCHEDULES: Record<ModelPreset, SchedulePreset> = {
  tiny: { iters: 20, batch: 2, lr: 0.02, warmupIters: 0, inputSize: 64 },
  'cpu-small': { iters: 3000, batch: 8, lr: 0.02, warmupIters: 300, inputSize: 128 },
  'r50-paper': { iters: 90000, batch: 16, lr: 0.02, warmupIters: 500, inputSize: 800 },
};

const backboneSchema = z
  .object({
    depth: z.union([z.literal(18), z.literal(34), z.literal(50)]),
    widthMult: z.number().positive().max(4),
    norm: z.enum(['gn', 'frozen-bn', 'none']),
    gnGroups: z.number().int().positive(),
  })
  .strict();

const range = z.tuple([z.number(), z.number()]);

/** The model settings a training config may override for FCOS (`model`: any field of FcosConfig but numClasses). */
export const fcosModelSchema = z
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

/** The same for Faster R-CNN (FasterRcnnConfig). */
export const rcnnModelSchema = z
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

export function backbonePreset(p: ModelPreset): BackboneConfig {
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
      regressRanges: [
        [-1, 64],
        [64, 128],
        [128, 256],
        [256, 512],
        [512, INF],
      ],
      nmsPre: 1000,
    };
  }
  if (p === 'cpu-small') {
    // R18 at width 0.5 for FCOS: at 0.25 it reaches AP50 0.789 on mnist-det after 6000 iterations,
    // at 0.5 0.80 after 3000 and 0.82 after 4000 (docs/DETECTORS.md)
    return {
      ...common,
      backbone: { ...common.backbone, widthMult: 0.5 },
      fpnChannels: 64,
      minLevel: 3,
      maxLevel: 5,
      stackedConvs: 2,
      gnGroups: 16,
      regressRanges: [
        [-1, 32],
        [32, 64],
        [64, INF],
      ],
      nmsPre: 300,
    };
  }
  return {
    ...common,
    fpnChannels: 16,
    minLevel: 3,
    maxLevel: 4,
    stackedConvs: 1,
    gnGroups: 4,
    regressRanges: [
      [-1, 24],
      [24, INF],
    ],
    nmsPre: 100,
  };
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
