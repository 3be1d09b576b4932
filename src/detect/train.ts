/**
 * The training loop of a detector: SGD with momentum, linear warm-up, step decay, weight
 * decay, gradient clipping by global norm; checkpoints and resume; a NaN/Inf loss stops the run
 * with status 'diverged' (log and last finite metrics kept); COCO evaluation on the val split
 * at the end (evaluate.ts). The run folder's files (config.json, log.jsonl, metrics.json,
 * results.json, the SVG curves) are written through run_folder.ts; the model is built by
 * build.ts. This module's exports are the detectors' training API.
 */
import { provenance } from '../util/provenance.js';
import { mkdir } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../tf.js';
import { BatchLoader, loadCoco, type Batch, type CocoDataset } from '../data/index.js';
import type { CocoDetection, CocoMetrics } from '../eval/index.js';
import { Rng } from '../util/rng.js';
import { acquireRunLock } from '../util/runlock.js';
import { fusedMomentumStep } from '../backend/fused_sgd.js';
import { getNumThreads } from '../backend/index.js';
import { checkpointName, commitCheckpoint, loadWeightsInto, readCheckpoint, readOptimizerState, CheckpointError } from './checkpoint.js';
import {
  buildHeadLosses,
  resolveTrainConfig,
  DetectConfigError,
  type ModelConfig,
  type ResolvedTrainConfig,
  type ScheduleConfig,
  type TrainConfigInput,
} from './config.js';
import { buildDetector, createDetector } from './build.js';
import { evaluateDetector, round3, subsetIds, testDetector, type EvalOutput } from './evaluate.js';
import type { TrainBatch } from './model.js';
import {
  appendLog,
  logBytes,
  prepareRunFolder,
  startRunFolder,
  truncateLog,
  writeCurves,
  writeMetrics,
  writeResults,
  type RunState,
  type SavedTraining,
} from './run_folder.js';

export interface TrainProgress {
  iter: number;
  iters: number;
  lr: number;
  /** Smoothed (last logEvery iterations) loss terms. */
  losses: Record<string, number>;
  itPerSec: number;
  etaSec: number;
  phase: 'train' | 'eval';
}

export interface TrainResult {
  /**
   * interrupted: stopped on request after a whole iteration, with a checkpoint to resume from;
   * stopped: ended early by `onCheck` (metrics: those of the check).
   */
  status: 'ok' | 'diverged' | 'failed' | 'interrupted' | 'stopped';
  /** Final COCO metrics (status ok), or the last finite ones (diverged; null if none). */
  metrics: CocoMetrics | null;
  /** Wall time of the whole call. */
  seconds: number;
  trainSeconds: number;
  evalSeconds: number;
  /** Iterations completed. */
  iters: number;
  /** Last finite loss terms (averaged over the last logging window). */
  lastLosses: Record<string, number> | null;
  /** Why the run diverged or failed. */
  reason?: string;
  /** The error behind a 'failed' status (to tell a broken environment from a bad loss). */
  error?: unknown;
  out?: string;
  /** Files (relative to out) this call wrote completely; listed only after they were written. */
  written: string[];
}

export interface TrainOptions {
  onProgress?: (p: TrainProgress) => void;
  /** Hard stop (e.g. a proxy's time limit): the run ends as 'failed' (reason 'aborted') at the next iteration. */
  signal?: AbortSignal;
  /** Graceful stop (Ctrl-C): the current iteration finishes, a checkpoint is saved, status 'interrupted'. */
  interrupt?: AbortSignal;
  /** Resume from this checkpoint folder instead of checkpoints/latest (implies resume). */
  resumeFrom?: string;
  /** Messages for the user (resume point, nothing to resume). */
  onNotice?: (message: string) => void;
  /**
   * Multi-fidelity: after iteration `checkAt` the model is evaluated (as at the end) and
   * `onCheck` decides whether the run goes on; true stops it with status 'stopped'. The check
   * does not change the training: a run that goes on ends exactly as one without it.
   */
  checkAt?: number;
  onCheck?: (metrics: CocoMetrics, iter: number) => boolean;
}

/** Learning rate at an iteration (0-based): linear warm-up from lr·warmupRatio, then step decay. */
export function learningRate(s: ScheduleConfig, iter: number): number {
  let lr = s.lr;
  for (const step of s.steps) if (iter >= step) lr *= s.gamma;
  if (iter < s.warmupIters) {
    const k = (1 - iter / s.warmupIters) * (1 - s.warmupRatio);
    lr *= 1 - k;
  }
  return lr;
}

/** Boxes in a batch smaller than this (input px) are dropped from the targets. */
export const MIN_BOX_SIDE = 1;

function toTrainBatch(b: Batch): TrainBatch {
  const boxes: Float32Array[] = [];
  const labels: Int32Array[] = [];
  b.boxes.forEach((bx, i) => {
    const keep: number[] = [];
    for (let k = 0; k < bx.length / 4; k++) {
      if (bx[4 * k + 2]! - bx[4 * k]! >= MIN_BOX_SIDE && bx[4 * k + 3]! - bx[4 * k + 1]! >= MIN_BOX_SIDE) keep.push(k);
    }
    const nb = new Float32Array(keep.length * 4);
    const nl = new Int32Array(keep.length);
    keep.forEach((k, j) => {
      nb.set(bx.subarray(4 * k, 4 * k + 4), 4 * j);
      nl[j] = b.labels[i]![k]!;
    });
    boxes.push(nb);
    labels.push(nl);
  });
  return { images: b.images, boxes, labels, contentSizes: b.contentSizes };
}

/** Checks on the data that would make a run pointless, reported before training starts. */
function checkData(train: CocoDataset, val: CocoDataset, trainIds: number[] | undefined): string[] {
  const warnings: string[] = [];
  const perClass = new Map<number, number>();
  for (const a of train.annotations) if (!a.iscrowd) perClass.set(a.category_id, (perClass.get(a.category_id) ?? 0) + 1);
  const empty = train.categories.filter((c) => !perClass.get(c.id));
  if (train.annotations.length === 0) throw new DetectConfigError(`${train.dir}: the training split has no annotations at all`);
  if (empty.length) {
    throw new DetectConfigError(
      `${train.dir}: no training annotations for ${empty.length} categor${empty.length === 1 ? 'y' : 'ies'}: ${empty
        .slice(0, 10)
        .map((c) => `${c.id} (${c.name})`)
        .join(', ')}; remove the category or add annotations`,
    );
  }
  const trainCats = train.categories.map((c) => c.id).join(',');
  const valCats = val.categories.map((c) => c.id).join(',');
  if (trainCats !== valCats) throw new DetectConfigError(`train and val splits have different categories ([${trainCats}] vs [${valCats}])`);
  const pool = trainIds ? new Set(trainIds) : null;
  const images = pool ? train.images.filter((im) => pool.has(im.id)) : train.images;
  const noObj = images.filter((im) => !(train.annsByImage.get(im.id) ?? []).length).length;
  if (noObj === images.length) throw new DetectConfigError(`${train.dir}: none of the ${images.length} training images has an object`);
  if (noObj) warnings.push(`${noObj} of ${images.length} training images have no objects (trained as background only)`);
  for (const w of train.warnings.slice(0, 5)) warnings.push(`${train.dir}: ${w.field ? `${w.field}: ` : ''}${w.message}`);
  return warnings;
}

/**
 * Trains a detector on `config.data`/train and scores it on `config.data`/val. Configuration and
 * data problems throw (DetectConfigError, DataError, CheckpointError) before training starts;
 * once training has started the outcome is a status.
 *
 * A run folder (`out`) belongs to one process at a time; a run already in it is continued only
 * with `resume` (same config), from `checkpoints/latest` or `options.resumeFrom`, and continues
 * bit-identically: weights, momentum, the data order, the sampling generator, the schedule
 * position and the log are all restored.
 */
export async function trainDetector(config: TrainConfigInput, options: TrainOptions = {}): Promise<TrainResult> {
  const t0 = Date.now();
  const dataDir = (config as { data?: string }).data ?? '';
  const trainDs = await loadCoco(join(dataDir, 'train'));
  const cfg = resolveTrainConfig(config, trainDs.categories.length);
  const valDs = cfg.raw.evalSplit === 'train' ? trainDs : await loadCoco(join(dataDir, 'val'));
  const trainIds = subsetIds(trainDs, cfg.raw.trainSubset);
  const flip = trainFlip(cfg.raw.flip, trainDs);
  const valIds = subsetIds(valDs, cfg.raw.valSubset);
  const warnings = checkData(trainDs, valDs, trainIds);
  const out = cfg.raw.out;
  let release: (() => void) | null = null;
  let folder: { checkpoint: string | null; fresh: boolean } = { checkpoint: null, fresh: true };
  if (out) {
    await mkdir(out, { recursive: true }).catch(() => undefined); // errors are named by prepareRunFolder
    if (existsSync(out) && statSync(out).isDirectory()) release = acquireRunLock(out);
    try {
      folder = await prepareRunFolder(out, cfg.raw as unknown as Record<string, unknown>, cfg.raw.resume, options.resumeFrom);
    } catch (e) {
      release?.();
      throw e;
    }
  }
  const model = await createDetector(cfg.model, cfg.raw.seed);
  model.setLosses(buildHeadLosses(cfg.raw.detector, cfg.clsLoss, cfg.regLoss, cfg.clsWeight, cfg.regWeight));
  const state: RunState = { iter: 0, lossCurve: [], apCurve: [], lastMetrics: null };
  const optimizer = tf.train.momentum(cfg.schedule.lr, cfg.schedule.momentum);
  const trainable = model.ps.trainable();
  const rng = new Rng(cfg.raw.seed ^ 0x5eed).fork();
  const window: Record<string, number[]> = {};
  let lastLosses: Record<string, number> | null = null;
  let resumedRng = false;
  let finishedBefore = false; // the checkpoint is the final one of a finished run: only the outputs are written again
  try {
    if (cfg.raw.initWeights) {
      const ck = await readCheckpoint(cfg.raw.initWeights);
      const { loaded } = loadWeightsInto(model.ps, ck.weights, cfg.raw.initWeights, false);
      if (loaded === 0) throw new CheckpointError(`--init-weights ${cfg.raw.initWeights}: none of its weights belongs to this model`);
    }
    if (out) {
      if (folder.checkpoint) {
        const ck = await readCheckpoint(folder.checkpoint);
        loadWeightsInto(model.ps, ck.weights, folder.checkpoint, true);
        checkSameModel(ck.meta.modelConfig, cfg.model, folder.checkpoint);
        const opt = await readOptimizerState(folder.checkpoint);
        if (opt) {
          await optimizer.setWeights(opt);
          tf.dispose(opt.map((w) => w.tensor)); // the buffers keep their data alone
        }
        const tr = ck.meta.training as SavedTraining;
        state.iter = tr.iter ?? 0;
        state.lossCurve = tr.lossCurve ?? [];
        state.apCurve = tr.apCurve ?? [];
        state.lastMetrics = tr.lastMetrics ?? null;
        lastLosses = tr.lastLosses ?? null;
        finishedBefore = tr.final === true && state.iter >= cfg.schedule.iters;
        for (const [k, v] of Object.entries(tr.window ?? {})) window[k] = v.slice();
        if (tr.rng) {
          rng.setState(tr.rng);
          resumedRng = true;
        } else {
          options.onNotice?.(
            `${folder.checkpoint} is a checkpoint of an earlier version (no generator state): the resumed run will not be bit-identical to an uninterrupted one`,
          );
        }
        // the log keeps each iteration once: lines written after the checkpoint are cut
        if (tr.logBytes !== undefined) await truncateLog(out, tr.logBytes);
        options.onNotice?.(`resuming from ${folder.checkpoint} at iteration ${state.iter}`);
      } else {
        if (!folder.fresh) options.onNotice?.(`${out} has no checkpoint yet: the run starts again from iteration 0`);
        await startRunFolder(out, cfg, flip);
      }
    }
  } catch (e) {
    optimizer.dispose();
    model.ps.dispose();
    release?.();
    throw e;
  }
  const log = async (rec: Record<string, unknown>) => {
    if (out) await appendLog(out, rec);
  };
  if (state.iter === 0) for (const w of warnings) await log({ warning: w });

  const loader = new BatchLoader(trainDs, {
    batchSize: cfg.schedule.batch,
    size: cfg.model.inputSize,
    flip,
    shuffle: true,
    seed: resumedRng || state.iter === 0 ? cfg.raw.seed : cfg.raw.seed + 1000 * state.iter, // the earlier layout's resume drew a fresh order
    readAhead: cfg.raw.readAhead,
    subset: trainIds,
  });
  if (resumedRng)
    loader.skip(state.iter); // the batches the interrupted run consumed
  else for (let k = 0; k < state.iter; k++) rng.next();
  let status: TrainResult['status'] = 'ok';
  let reason: string | undefined;
  let error: unknown;
  const tTrain = Date.now();
  let evalMs = 0;
  const startIter = state.iter;
  const { iters } = cfg.schedule;
  const ckEvery = cfg.raw.checkpointEvery ?? Math.max(100, Math.ceil(iters / 10));
  const saveLatest = async (final = false) => {
    if (!out) return;
    const optWeights = await optimizer.getWeights();
    const training: SavedTraining & { categories: unknown } = {
      iter: state.iter,
      lossCurve: state.lossCurve,
      apCurve: state.apCurve,
      lastMetrics: state.lastMetrics,
      categories: trainDs.categories,
      final,
      rng: rng.getState(),
      window,
      lastLosses,
      logBytes: logBytes(out),
    };
    await commitCheckpoint(
      join(out, 'checkpoints'),
      model.ps,
      { modelConfig: cfg.model, training: training as unknown as Record<string, unknown> },
      optWeights,
    );
  };
  const runEval = async () => {
    const te = Date.now();
    options.onProgress?.({ iter: state.iter, iters, lr: 0, losses: lastLosses ?? {}, itPerSec: 0, etaSec: 0, phase: 'eval' });
    const r = await evaluateDetector(model, valDs, {
      size: cfg.model.inputSize,
      batch: cfg.schedule.batch,
      subset: valIds,
      readAhead: cfg.raw.readAhead,
    });
    evalMs += Date.now() - te;
    return r;
  };
  try {
    while (state.iter < iters) {
      if (options.signal?.aborted) throw new Error('aborted');
      if (options.interrupt?.aborted) {
        status = 'interrupted';
        reason = `interrupted at iteration ${state.iter}`;
        break;
      }
      const lr = learningRate(cfg.schedule, state.iter);
      optimizer.setLearningRate(lr);
      const raw = await loader.next();
      if (!raw) throw new Error('the training loader ran dry');
      const batch = toTrainBatch(raw);
      const parts: Record<string, number> = {};
      const { value, grads } = tf.variableGrads(
        () => {
          const l = model.losses(batch, rng);
          for (const [k, v] of Object.entries(l)) parts[k] = (v as tf.Scalar).dataSync()[0]!;
          return l.total;
        },
        trainable.map(([, v]) => v),
      );
      raw.images.dispose();
      value.dispose();
      const bad = Object.entries(parts).filter(([, v]) => !Number.isFinite(v));
      let gradNorm = NaN;
      if (!bad.length) {
        gradNorm = applyUpdate(optimizer, trainable, grads, cfg.schedule);
      } else {
        tf.dispose(Object.values(grads));
      }
      if (bad.length || !Number.isFinite(gradNorm)) {
        status = 'diverged';
        reason = bad.length
          ? `non-finite loss at iteration ${state.iter + 1}: ${bad.map(([k, v]) => `${k}=${v}`).join(', ')}`
          : `non-finite gradient norm at iteration ${state.iter + 1}`;
        await log({ iter: state.iter + 1, diverged: reason, losses: parts });
        break;
      }
      state.iter++;
      for (const [k, v] of Object.entries(parts)) (window[k] ??= []).push(v);
      const logEvery = cfg.raw.logEvery;
      if (state.iter % logEvery === 0 || state.iter === iters) {
        const avg: Record<string, number> = {};
        for (const [k, arr] of Object.entries(window)) {
          avg[k] = arr.reduce((a, b) => a + b, 0) / arr.length;
          arr.length = 0;
        }
        lastLosses = avg;
        state.lossCurve.push({ iter: state.iter, losses: avg });
        const elapsed = (Date.now() - tTrain - evalMs) / 1000;
        const itPerSec = (state.iter - startIter) / Math.max(1e-9, elapsed);
        await log({ iter: state.iter, lr, losses: avg, gradNorm, itPerSec: round3(itPerSec), mem: tf.memory().numTensors });
        options.onProgress?.({
          iter: state.iter,
          iters,
          lr,
          losses: avg,
          itPerSec,
          etaSec: (iters - state.iter) / Math.max(1e-9, itPerSec),
          phase: 'train',
        });
      }
      if (cfg.raw.evalEvery > 0 && state.iter % cfg.raw.evalEvery === 0 && state.iter < iters) {
        const r = await runEval();
        state.lastMetrics = r.metrics;
        state.apCurve.push({ iter: state.iter, AP: r.metrics.AP, AP50: r.metrics.AP50 });
        await log({ iter: state.iter, eval: r.metrics });
      }
      if (options.checkAt === state.iter && options.onCheck && state.iter < iters) {
        const r = await runEval();
        state.lastMetrics = r.metrics;
        state.apCurve.push({ iter: state.iter, AP: r.metrics.AP, AP50: r.metrics.AP50 });
        await log({ iter: state.iter, check: r.metrics });
        if (options.onCheck(r.metrics, state.iter)) {
          status = 'stopped';
          reason = `stopped early at iteration ${state.iter} (AP ${r.metrics.AP.toFixed(4)})`;
          break;
        }
      }
      if (out && state.iter % ckEvery === 0 && state.iter < iters) await saveLatest();
    }
  } catch (e) {
    status = 'failed';
    reason = (e as Error).message;
    error = e;
    await log({ iter: state.iter, failed: reason }).catch(() => undefined);
  } finally {
    await loader.close();
  }
  const trainSeconds = (Date.now() - tTrain - evalMs) / 1000;
  let metrics: CocoMetrics | null = state.lastMetrics;
  const written: string[] = [];
  try {
    if (status === 'interrupted') {
      // the state at the end of the last finished iteration, for --resume; no evaluation, no metrics
      if (out) {
        await saveLatest();
        written.push(`checkpoints/${checkpointName(state.iter)}`);
      }
    } else {
      let detections: CocoDetection[] | null = null;
      if (status === 'ok') {
        const r = await runEval();
        metrics = r.metrics;
        detections = r.detections;
        if (!finishedBefore) {
          state.lastMetrics = metrics;
          state.apCurve.push({ iter: state.iter, AP: metrics.AP, AP50: metrics.AP50 });
          await log({ iter: state.iter, eval: metrics });
        }
      }
      if (out) {
        if (status === 'ok' && !finishedBefore) {
          await saveLatest(true);
          written.push('checkpoints/latest');
        }
        if (detections) {
          await writeResults(out, detections);
          written.push('results.json');
        }
        const seconds = (Date.now() - t0) / 1000;
        await writeMetrics(out, {
          status,
          reason,
          detector: cfg.raw.detector,
          preset: cfg.raw.preset,
          clsLoss: cfg.clsLoss,
          regLoss: cfg.regLoss,
          seed: cfg.raw.seed,
          iters: state.iter,
          metrics,
          timing: {
            seconds,
            trainSeconds,
            evalSeconds: evalMs / 1000,
            imagesPerSec: ((state.iter - startIter) * cfg.schedule.batch) / Math.max(1e-9, trainSeconds),
            backend: tf.getBackend(),
            threads: tf.getBackend() === 'torch' ? getNumThreads() : null,
            resumedFrom: startIter,
          },
          lastLosses,
          // the commit, the exact command and the environment (CPU, threads, libtorch, BLAS): training is bit-identical on one machine only
          provenance: provenance(),
        });
        written.push('metrics.json');
        written.push(...(await writeCurves(out, state)));
      }
    }
  } catch (e) {
    reason = `${reason ? `${reason}; ` : ''}cannot write the run's results: ${(e as Error).message}`;
    status = 'failed';
    error ??= e;
  } finally {
    optimizer.dispose();
    model.ps.dispose();
    release?.();
  }
  return {
    status,
    metrics,
    seconds: (Date.now() - t0) / 1000,
    trainSeconds,
    evalSeconds: evalMs / 1000,
    iters: state.iter,
    lastLosses,
    written,
    ...(reason ? { reason } : {}),
    ...(error !== undefined ? { error } : {}),
    ...(out ? { out } : {}),
  };
}

/** Horizontal flips: as configured, else as the training set's info asks (`horizontal_flip`), else on. */
export function trainFlip(configured: boolean | undefined, ds: CocoDataset): boolean {
  if (configured !== undefined) return configured;
  return ds.info?.horizontal_flip !== false;
}

/** Weight decay, clipping by global norm, one momentum step. Disposes the gradients; returns the (pre-clip) norm. */

export function applyUpdate(
  optimizer: tf.MomentumOptimizer,
  allTrainable: [string, tf.Variable][],
  grads: tf.NamedTensorMap,
  s: ScheduleConfig,
): number {
  // a weight that did not reach the loss this step (e.g. no RoI on a level) gets a zero gradient
  const trainable = allTrainable;
  const fused = fusedMomentumStep(
    optimizer,
    trainable.map(([, v]) => v),
    grads,
    {
      lr: (optimizer as unknown as { learningRate: number }).learningRate,
      momentum: (optimizer as unknown as { momentum: number }).momentum,
      weightDecay: s.weightDecay,
      gradClip: s.gradClip,
    },
  );
  if (fused !== null) {
    tf.dispose(Object.values(grads));
    return fused;
  }
  const list = trainable.map(([, v]) => grads[v.name] ?? tf.zerosLike(v));
  const normSq = tf.tidy(() => tf.addN(list.map((g) => tf.sum(tf.square(g)))).dataSync()[0]!);
  const norm = Math.sqrt(normSq);
  if (!Number.isFinite(norm)) {
    tf.dispose(list);
    return norm;
  }
  const clip = s.gradClip !== null && norm > s.gradClip ? s.gradClip / (norm + 1e-6) : 1;
  const named = tf.tidy(() =>
    trainable.map(([, v], i) => {
      let g = list[i]!;
      if (clip !== 1) g = tf.mul(g, clip);
      if (s.weightDecay > 0) g = tf.add(g, tf.mul(v, s.weightDecay));
      return { name: v.name, tensor: g };
    }),
  );
  tf.dispose(list);
  optimizer.applyGradients(named);
  tf.dispose(named.map((n) => n.tensor));
  return norm;
}

function checkSameModel(saved: unknown, current: ModelConfig, where: string): void {
  const a = JSON.stringify(saved);
  const b = JSON.stringify(current);
  if (a !== b) {
    const s = saved as { detector?: string };
    throw new CheckpointError(
      `checkpoint ${where} was saved for a different model (${s?.detector ?? '?'} vs ${current.detector}, or other settings); start a fresh run folder or drop --resume`,
    );
  }
}

export { buildDetector, createDetector, evaluateDetector, testDetector, type EvalOutput, type ResolvedTrainConfig };
