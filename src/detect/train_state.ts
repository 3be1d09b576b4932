/**
 * A training's resumable state: what a checkpoint of a run holds besides the weights (the momentum
 * buffers, the sampling generator, the data position, the logging window, the log's length, the
 * curves) and how it is saved and restored, so that a resumed run continues bit-identically.
 * The checkpoint's files and their atomic commit are checkpoint.ts's; the run folder's other
 * files are run_folder.ts's; the loop that advances the state is train.ts.
 */
import { join } from 'node:path';
import { tf } from '../tf.js';
import type { BatchLoader } from '../data/index.js';
import { Rng, type RngState } from '../util/rng.js';
import { commitCheckpoint, loadWeightsInto, readCheckpoint, readOptimizerState, CheckpointError } from './checkpoint.js';
import type { ModelConfig, ResolvedTrainConfig } from './config.js';
import type { ParamStore } from './layers.js';
import { logBytes, truncateLog, type RunState } from './run_folder.js';

/** What a checkpoint's `training` field holds: the run state and everything a resume needs to continue bit-identically. */
export interface SavedTraining extends Partial<RunState> {
  /** The sampling generator's state (model.losses). */
  rng?: RngState;
  /** The loss terms of the current logging window (iterations since the last log line). */
  window?: Record<string, number[]>;
  lastLosses?: Record<string, number> | null;
  /** log.jsonl's length when the checkpoint was made: a resume cuts the log back to it. */
  logBytes?: number;
  final?: boolean;
}

/** The state the training loop advances; all of it is in a checkpoint. */
export interface TrainingState extends RunState {
  /** The sampling generator (model.losses). */
  rng: Rng;
  /** The loss terms of the current logging window (iterations since the last log line). */
  window: Record<string, number[]>;
  /** The last finite loss terms (averaged over the last logging window). */
  lastLosses: Record<string, number> | null;
}

/** The state of a run at iteration 0. */
export function initialState(seed: number): TrainingState {
  return { iter: 0, lossCurve: [], apCurve: [], lastMetrics: null, rng: new Rng(seed ^ 0x5eed).fork(), window: {}, lastLosses: null };
}

/** What a restore found. */
export interface Restored {
  /** The checkpoint had the generator's state (all but the earliest layout): the run continues bit-identically. */
  resumedRng: boolean;
  /** The checkpoint is the final one of a finished run: only the outputs are written again. */
  finishedBefore: boolean;
}

/**
 * Restores a run from the checkpoint folder `checkpoint` of run folder `out`: the weights (which
 * must belong to this model), the momentum buffers, `state`, and log.jsonl cut back to its length
 * at the checkpoint.
 */
export async function restoreTraining(
  checkpoint: string,
  out: string,
  ps: ParamStore,
  optimizer: tf.MomentumOptimizer,
  cfg: ResolvedTrainConfig,
  state: TrainingState,
  onNotice?: (message: string) => void,
): Promise<Restored> {
  const ck = await readCheckpoint(checkpoint);
  loadWeightsInto(ps, ck.weights, checkpoint, true);
  checkSameModel(ck.meta.modelConfig, cfg.model, checkpoint);
  const opt = await readOptimizerState(checkpoint);
  if (opt) {
    await optimizer.setWeights(opt);
    tf.dispose(opt.map((w) => w.tensor)); // the buffers keep their data alone
  }
  const tr = ck.meta.training as SavedTraining;
  state.iter = tr.iter ?? 0;
  state.lossCurve = tr.lossCurve ?? [];
  state.apCurve = tr.apCurve ?? [];
  state.lastMetrics = tr.lastMetrics ?? null;
  state.lastLosses = tr.lastLosses ?? null;
  const finishedBefore = tr.final === true && state.iter >= cfg.schedule.iters;
  for (const [k, v] of Object.entries(tr.window ?? {})) state.window[k] = v.slice();
  let resumedRng = false;
  if (tr.rng) {
    state.rng.setState(tr.rng);
    resumedRng = true;
  } else {
    onNotice?.(
      `${checkpoint} is a checkpoint of an earlier version (no generator state): the resumed run will not be bit-identical to an uninterrupted one`,
    );
  }
  // the log keeps each iteration once: lines written after the checkpoint are cut
  if (tr.logBytes !== undefined) await truncateLog(out, tr.logBytes);
  onNotice?.(`resuming from ${checkpoint} at iteration ${state.iter}`);
  return { resumedRng, finishedBefore };
}

/** Commits a checkpoint of the run (weights, momentum, state) as `out`/checkpoints/latest; `final` marks a finished run's. */
export async function saveTraining(
  out: string,
  ps: ParamStore,
  optimizer: tf.MomentumOptimizer,
  modelConfig: ModelConfig,
  categories: unknown,
  state: TrainingState,
  final: boolean,
): Promise<void> {
  const optWeights = await optimizer.getWeights();
  const training: SavedTraining & { categories: unknown } = {
    iter: state.iter,
    lossCurve: state.lossCurve,
    apCurve: state.apCurve,
    lastMetrics: state.lastMetrics,
    categories,
    final,
    rng: state.rng.getState(),
    window: state.window,
    lastLosses: state.lastLosses,
    logBytes: logBytes(out),
  };
  await commitCheckpoint(
    join(out, 'checkpoints'),
    ps,
    { modelConfig, training: training as unknown as Record<string, unknown> },
    optWeights,
  );
}

/** The data order's seed: a resume with the generator's state continues the run's order; the earlier layout's resume drew a fresh one. */
export function dataSeed(seed: number, state: TrainingState, restored: Restored): number {
  return restored.resumedRng || state.iter === 0 ? seed : seed + 1000 * state.iter;
}

/** Moves the data position past the batches the interrupted run consumed (the earlier layout: the generator past its draws). */
export function skipConsumed(loader: BatchLoader, state: TrainingState, restored: Restored): void {
  if (restored.resumedRng) loader.skip(state.iter);
  else for (let k = 0; k < state.iter; k++) state.rng.next();
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
