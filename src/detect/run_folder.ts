/**
 * A training run's folder (`--out`): config.json (the input config and what it resolved to),
 * log.jsonl (one JSON line per log event), metrics.json, results.json (COCO detections), the SVG
 * curves, and the checks before a run starts or resumes there (`prepareRunFolder`). The training
 * loop (train.ts) decides what to write and when; this file knows the files' names and formats
 * and what metrics.json records. The checkpoints/ folder is checkpoint.ts's and train_state.ts's.
 */
import { appendFile, lstat, mkdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CocoDetection, CocoMetrics } from '../eval/index.js';
import { tf } from '../tf.js';
import { getNumThreads } from '../backend/index.js';
import { provenance } from '../util/provenance.js';
import { writeFileAtomic } from './checkpoint.js';
import { DetectConfigError, type ResolvedTrainConfig } from './config.js';
import { lineChartSvg } from './svg.js';

/** The state of a run that its outputs and checkpoints carry. */
export interface RunState {
  iter: number;
  lossCurve: { iter: number; losses: Record<string, number> }[];
  apCurve: { iter: number; AP: number; AP50: number }[];
  lastMetrics: CocoMetrics | null;
}

/** Config fields that may differ between a run and its resume (they do not change the result). */
export const RESUME_FREE_FIELDS = new Set(['resume', 'out', 'readAhead', 'checkpointEvery']);

/** The run folder's state before a training starts: refuses what would destroy or mix work. */
export async function prepareRunFolder(
  out: string,
  raw: Record<string, unknown>,
  resume: boolean,
  resumeFrom: string | undefined,
): Promise<{ checkpoint: string | null; fresh: boolean }> {
  const st = await stat(out).catch(() => null);
  if (st && !st.isDirectory()) throw new DetectConfigError(`--out ${out} is a file, not a folder`);
  const configFile = join(out, 'config.json');
  const latest = join(out, 'checkpoints', 'latest');
  const latestSt = await lstat(latest).catch(() => null);
  if (latestSt && !latestSt.isSymbolicLink() && !latestSt.isDirectory())
    throw new DetectConfigError(`${latest} is a file; the run folder cannot hold checkpoints there (move it away)`);
  const holdsRun =
    existsSync(configFile) ||
    existsSync(join(out, 'log.jsonl')) ||
    existsSync(join(out, 'checkpoints')) ||
    existsSync(join(out, 'metrics.json'));
  if (!resume && !resumeFrom) {
    if (holdsRun) throw new DetectConfigError(`${out} already holds a training run; use --resume to continue it, or another --out`);
  } else {
    if (!holdsRun) throw new DetectConfigError(`--resume: ${out} holds no training run to resume; drop --resume to start one`);
    if (existsSync(configFile)) {
      let saved: Record<string, unknown>;
      try {
        saved = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
      } catch (e) {
        throw new DetectConfigError(`${configFile}: not readable JSON (${(e as Error).message}); the run folder is damaged`);
      }
      const diffs: string[] = [];
      const keys = new Set([...Object.keys(saved), ...Object.keys(raw)]);
      keys.delete('resolved');
      for (const k of [...keys].sort()) {
        if (RESUME_FREE_FIELDS.has(k)) continue;
        const x = JSON.stringify(saved[k]);
        const y = JSON.stringify(raw[k]);
        if (x !== y) diffs.push(`${k}: ${x ?? '(unset)'} → ${y ?? '(unset)'}`);
      }
      if (diffs.length)
        throw new DetectConfigError(
          `${out} holds a run of another config; refusing to resume. Differences (run → now):\n  ${diffs.join('\n  ')}`,
        );
    }
  }
  await mkdir(out, { recursive: true });
  // an output folder that cannot be written is found now, not after the training
  const probe = join(out, `.write-probe-${process.pid}`);
  try {
    await writeFile(probe, 'probe');
  } catch (e) {
    throw new DetectConfigError(`cannot write into --out ${out}: ${(e as Error).message}`);
  } finally {
    await rm(probe, { force: true });
  }
  const checkpoint = resumeFrom ?? (latestSt ? latest : null);
  return { checkpoint, fresh: !holdsRun };
}

/** Writes config.json (the input config and what it resolved to) and starts an empty log.jsonl. */
export async function startRunFolder(out: string, cfg: ResolvedTrainConfig, flip: boolean): Promise<void> {
  await writeFileAtomic(
    join(out, 'config.json'),
    JSON.stringify(
      {
        ...cfg.raw,
        resolved: { model: cfg.model, schedule: cfg.schedule, clsLoss: cfg.clsLoss, regLoss: cfg.regLoss, regWeight: cfg.regWeight, flip },
      },
      null,
      1,
    ),
  );
  await writeFileAtomic(logPath(out), '');
}

export const logPath = (out: string): string => join(out, 'log.jsonl');

/** Appends one record to log.jsonl. */
export async function appendLog(out: string, rec: Record<string, unknown>): Promise<void> {
  await appendFile(logPath(out), `${JSON.stringify(rec)}\n`);
}

/** log.jsonl's size now (0 when absent): a checkpoint records it. */
export function logBytes(out: string): number {
  const f = logPath(out);
  return existsSync(f) ? statSync(f).size : 0;
}

/** Cuts log.jsonl back to `bytes` (a resume drops the lines written after its checkpoint). */
export async function truncateLog(out: string, bytes: number): Promise<void> {
  const f = logPath(out);
  if (existsSync(f) && statSync(f).size > bytes) await truncate(f, bytes);
}

/** Writes results.json: the COCO detections of the final evaluation. */
export async function writeResults(out: string, detections: CocoDetection[]): Promise<void> {
  await writeFileAtomic(join(out, 'results.json'), JSON.stringify(detections));
}

/** Writes metrics.json: the outcome, the final metrics, timing and the last loss terms. */
export async function writeMetrics(out: string, record: Record<string, unknown>): Promise<void> {
  await writeFileAtomic(join(out, 'metrics.json'), JSON.stringify(record, null, 1));
}

/** Writes the loss and AP curves (loss.svg, ap.svg); returns their names. */
export async function writeCurves(out: string, state: RunState): Promise<string[]> {
  const keys = new Set<string>();
  for (const p of state.lossCurve) for (const k of Object.keys(p.losses)) keys.add(k);
  const loss = lineChartSvg({
    title: 'training losses',
    xLabel: 'iteration',
    yLabel: 'loss',
    series: [...keys].map((k) => ({
      name: k,
      points: state.lossCurve.filter((p) => k in p.losses).map((p) => [p.iter, p.losses[k]!] as [number, number]),
    })),
  });
  await writeFileAtomic(join(out, 'loss.svg'), loss);
  const ap = lineChartSvg({
    title: 'val AP',
    xLabel: 'iteration',
    yLabel: 'AP',
    series: [
      { name: 'AP', points: state.apCurve.map((p) => [p.iter, p.AP] as [number, number]) },
      { name: 'AP50', points: state.apCurve.map((p) => [p.iter, p.AP50] as [number, number]) },
    ],
  });
  await writeFileAtomic(join(out, 'ap.svg'), ap);
  return ['loss.svg', 'ap.svg'];
}

/** How a training call ended: what metrics.json records besides the config. */
export interface RunOutcome {
  status: string;
  reason: string | undefined;
  /** Final COCO metrics, or the last finite ones. */
  metrics: CocoMetrics | null;
  state: RunState;
  /** The iteration the call started from (0, or its resume point). */
  startIter: number;
  lastLosses: Record<string, number> | null;
  /** Date.now() when the call started. */
  startedAt: number;
  trainSeconds: number;
  evalSeconds: number;
}

/**
 * Writes a finished call's outputs: results.json (when there are detections), metrics.json and
 * the curves; each file's name is pushed onto `written` once it is written completely.
 */
export async function writeOutputs(
  out: string,
  cfg: ResolvedTrainConfig,
  o: RunOutcome,
  detections: CocoDetection[] | null,
  written: string[],
): Promise<void> {
  if (detections) {
    await writeResults(out, detections);
    written.push('results.json');
  }
  const seconds = (Date.now() - o.startedAt) / 1000;
  await writeMetrics(out, {
    status: o.status,
    reason: o.reason,
    detector: cfg.raw.detector,
    preset: cfg.raw.preset,
    clsLoss: cfg.clsLoss,
    regLoss: cfg.regLoss,
    seed: cfg.raw.seed,
    iters: o.state.iter,
    metrics: o.metrics,
    timing: {
      seconds,
      trainSeconds: o.trainSeconds,
      evalSeconds: o.evalSeconds,
      imagesPerSec: ((o.state.iter - o.startIter) * cfg.schedule.batch) / Math.max(1e-9, o.trainSeconds),
      backend: tf.getBackend(),
      threads: tf.getBackend() === 'torch' ? getNumThreads() : null,
      resumedFrom: o.startIter,
    },
    lastLosses: o.lastLosses,
    // the commit, the exact command and the environment (CPU, threads, libtorch, BLAS): training is bit-identical on one machine only
    provenance: provenance(),
  });
  written.push('metrics.json');
  written.push(...(await writeCurves(out, o.state)));
}
