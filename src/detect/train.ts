/**
 * The training loop of a detector: one SGD step per iteration (sgd.ts) on the batches of
 * train_data.ts, logging, periodic evaluation and checkpoints, the multi-fidelity check, stops
 * on request; a NaN/Inf loss stops the run with status 'diverged' (log and last finite metrics
 * kept); COCO evaluation on the val split at the end (evaluate.ts). What a checkpoint holds and
 * how a resume restores it is train_state.ts; the run folder's files (config.json, log.jsonl,
 * metrics.json, results.json, the SVG curves) are written through run_folder.ts; the model is
 * built by build.ts. This module's exports are the detectors' training API.
 */
import { mkdir } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../tf.js';
import { BatchLoader, loadCoco } from '../data/index.js';
import type { CocoDetection, CocoMetrics } from '../eval/index.js';
import { acquireRunLock } from '../util/runlock.js';
import { checkpointName, loadWeightsInto, readCheckpoint, CheckpointError } from './checkpoint.js';
import { buildHeadLosses, resolveTrainConfig, type ResolvedTrainConfig, type TrainConfigInput } from './config.js';
import { buildDetector, createDetector } from './build.js';
import { evaluateDetector, round3, subsetIds, testDetector, type EvalOutput } from './evaluate.js';
import { appendLog, prepareRunFolder, startRunFolder, writeOutputs } from './run_folder.js';
import { applyUpdate, learningRate } from './sgd.js';
import { checkData, toTrainBatch, trainFlip } from './train_data.js';
import { dataSeed, initialState, restoreTraining, saveTraining, skipConsumed, type Restored } from './train_state.js';

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
  const optimizer = tf.train.momentum(cfg.schedule.lr, cfg.schedule.momentum);
  const trainable = model.ps.trainable();
  const state = initialState(cfg.raw.seed);
  let restored: Restored = { resumedRng: false, finishedBefore: false };
  try {
    if (cfg.raw.initWeights) {
      const ck = await readCheckpoint(cfg.raw.initWeights);
      const { loaded } = loadWeightsInto(model.ps, ck.weights, cfg.raw.initWeights, false);
      if (loaded === 0) throw new CheckpointError(`--init-weights ${cfg.raw.initWeights}: none of its weights belongs to this model`);
    }
    if (out) {
      if (folder.checkpoint) {
        restored = await restoreTraining(folder.checkpoint, out, model.ps, optimizer, cfg, state, options.onNotice);
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
    seed: dataSeed(cfg.raw.seed, state, restored),
    readAhead: cfg.raw.readAhead,
    subset: trainIds,
  });
  skipConsumed(loader, state, restored);
  let status: TrainResult['status'] = 'ok';
  let reason: string | undefined;
  let error: unknown;
  const tTrain = Date.now();
  let evalMs = 0;
  const startIter = state.iter;
  const { iters } = cfg.schedule;
  const ckEvery = cfg.raw.checkpointEvery ?? Math.max(100, Math.ceil(iters / 10));
  const saveLatest = async (final = false) => {
    if (out) await saveTraining(out, model.ps, optimizer, cfg.model, trainDs.categories, state, final);
  };
  const runEval = async () => {
    const te = Date.now();
    options.onProgress?.({ iter: state.iter, iters, lr: 0, losses: state.lastLosses ?? {}, itPerSec: 0, etaSec: 0, phase: 'eval' });
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
          const l = model.losses(batch, state.rng);
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
      for (const [k, v] of Object.entries(parts)) (state.window[k] ??= []).push(v);
      const logEvery = cfg.raw.logEvery;
      if (state.iter % logEvery === 0 || state.iter === iters) {
        const avg: Record<string, number> = {};
        for (const [k, arr] of Object.entries(state.window)) {
          avg[k] = arr.reduce((a, b) => a + b, 0) / arr.length;
          arr.length = 0;
        }
        state.lastLosses = avg;
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
        if (!restored.finishedBefore) {
          state.lastMetrics = metrics;
          state.apCurve.push({ iter: state.iter, AP: metrics.AP, AP50: metrics.AP50 });
          await log({ iter: state.iter, eval: metrics });
        }
      }
      if (out) {
        if (status === 'ok' && !restored.finishedBefore) {
          await saveLatest(true);
          written.push('checkpoints/latest');
        }
        const outcome = {
          status,
          reason,
          metrics,
          state,
          startIter,
          lastLosses: state.lastLosses,
          startedAt: t0,
          trainSeconds,
          evalSeconds: evalMs / 1000,
        };
        await writeOutputs(out, cfg, outcome, detections, written);
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
    lastLosses: state.lastLosses,
    written,
    ...(reason ? { reason } : {}),
    ...(error !== undefined ? { error } : {}),
    ...(out ? { out } : {}),
  };
}

export { buildDetector, createDetector, evaluateDetector, testDetector, type EvalOutput, type ResolvedTrainConfig };
