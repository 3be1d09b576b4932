/**
 * The TS side of the PyTorch twin (bench/detectors.py): the training config it is built from,
 * the weights and a batch written for it, and one loss-and-backward check run through it.
 * bench/detectors.ts uses `twinTrainConfig`; test/bench/twin.test.ts all of it.
 *
 * Files: weights are JSON {name: {shape, data}} with the ParamStore's names and tfjs layouts
 * (conv filters HWIO, fc weights [in, out]) and `data` the little-endian float32 values in
 * base64; the Python side changes the layouts and refuses a missing or extra name or a shape
 * mismatch. A batch is JSON {shape, images (NHWC float32, base64), boxes, labels, contentSizes}.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ParamStore, TrainBatch, resolveTrainConfig } from '../src/detect/index.js';

/** Debian's python3-torch (scripts/setup.sh installs it). */
export const PYTHON = '/usr/bin/python3';
export const TWIN_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'detectors.py');

type Resolved = ReturnType<typeof resolveTrainConfig>;

/** What the twin reads of a resolved training config (`raw` holds paths and run settings it does not use). */
export function twinTrainConfig(cfg: Resolved): Omit<Resolved, 'raw'> {
  const { model, schedule, clsLoss, regLoss, clsWeight, regWeight } = cfg;
  return { model, schedule, clsLoss, regLoss, clsWeight, regWeight };
}

/** Why the twin cannot run here (no python3, or no torch in it), or null. */
export function torchMissing(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} cannot be started (${r.error.message})`;
  if (r.status !== 0) return `${PYTHON} -c 'import torch' failed: ${r.stderr.trim().split('\n').pop() ?? ''}`;
  return null;
}

const b64 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

/** Writes every parameter of the store (trainable or not) for load_ts_weights in bench/detectors.py. */
export function writeTwinWeights(ps: ParamStore, path: string): void {
  const out: Record<string, { shape: number[]; data: string }> = {};
  for (const [name, v] of ps.vars) out[name] = { shape: v.shape, data: b64(v.dataSync() as Float32Array) };
  writeFileSync(path, JSON.stringify(out));
}

/** Writes a batch for load_batch in bench/detectors.py. */
export function writeTwinBatch(batch: TrainBatch, path: string): void {
  writeFileSync(
    path,
    JSON.stringify({
      shape: batch.images.shape,
      images: b64(batch.images.dataSync() as Float32Array),
      boxes: batch.boxes.map((b) => Array.from(b)),
      labels: batch.labels.map((l) => Array.from(l)),
      contentSizes: batch.contentSizes,
    }),
  );
}

export interface TwinCheck {
  /** The loss terms (`self.parts`), named as the TS detector's `losses()` names them. */
  parts: Record<string, number>;
  total: number;
  /** L2 norm of each parameter's gradient after one backward of `total`. */
  grads: Record<string, number>;
}

/** Runs the twin's check mode: the weights and batch files through its loss and backward. */
export function runTwinCheck(cfg: Resolved, weights: string, batch: string, threads = 1): TwinCheck {
  const arg = JSON.stringify({ threads, train: twinTrainConfig(cfg), check: { weights, batch } });
  const r = spawnSync(PYTHON, [TWIN_SCRIPT, arg], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${TWIN_SCRIPT}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${TWIN_SCRIPT} exited with ${r.status}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as TwinCheck;
}
