/**
 * The simulated proxy task: a deterministic, fast stand-in for detector training, used by tests,
 * the demo and any run with `proxy.task.kind: simulated`. It trains a linear model on synthetic
 * features with the candidate loss (gradient from the fast evaluator, normalised steps) and
 * scores held-out data:
 *  - cls/bcls: logits = F·W + b; AP = mean over foreground classes of the average precision of
 *    ranking held-out samples by that class's score; `ap50` holds the accuracy (cls: argmax;
 *    bcls: balanced element accuracy).
 *  - reg: box parameters (cx, cy, log w, log h) = F·W + b; AP = mean over IoU thresholds
 *    .50:.05:.95 of the fraction of held-out boxes above it; `ap50` the fraction above .5.
 * Unlike MOS level 1 the model shares parameters across samples and is scored on data it did not
 * see, so the ranking differs from MOS's (the report's Kendall tau measures by how much).
 * It is NOT a detector: its AP numbers are not comparable with COCO AP.
 */
import type { Expr, Mode } from '../../loss/index.js';
import { Rng } from '../../util/rng.js';
import {
  ClsObjective,
  Diverged,
  RegObjective,
  cornerGradToParams,
  iouOf,
  isFiniteArray,
  normalisedStep,
  paramsToCorners,
  labelAccuracy,
  type ClsData,
} from './problems.js';

export interface SimulatedTask {
  iters: number;
  lr: number;
  trainSubset: number;
  valSubset: number;
  /** 'proxy': the proxy's held-out set; 'val': the final evaluation's set. */
  split: 'proxy' | 'val';
}

export interface SimulatedResult {
  status: 'ok' | 'diverged';
  ap: number;
  ap50: number;
  reason: string | null;
}

const DATA_SEED = 0xc5e2021;
const D = 8;
const CLASSES = 4;

interface Problem {
  F: Float64Array; // [n, D]
  n: number;
  labels: Int32Array;
  iou: Float64Array;
  target: Float64Array; // reg: [n, 4] corners
}

/** Synthetic data: a fixed random "teacher" (same for every candidate), noisy labels. */
function makeData(mode: Mode, n: number, splitSeed: number): Problem {
  const teacherRng = new Rng(DATA_SEED);
  const k = mode === 'reg' ? 4 : CLASSES + 1;
  const Wt = new Float64Array(D * k);
  for (let i = 0; i < Wt.length; i++) Wt[i] = teacherRng.normal(0, 1);
  const rng = new Rng(DATA_SEED + splitSeed);
  const F = new Float64Array(n * D);
  const labels = new Int32Array(n);
  const iou = new Float64Array(n);
  const target = new Float64Array(n * 4);
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < D; d++) F[i * D + d] = rng.normal(0, 1);
    const z: number[] = [];
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += F[i * D + d]! * Wt[d * k + j]!;
      z.push(s);
    }
    iou[i] = rng.uniform(0.4, 1);
    if (mode === 'reg') {
      const cx = 100 + 30 * z[0]! + rng.normal(0, 4);
      const cy = 100 + 30 * z[1]! + rng.normal(0, 4);
      const w = Math.exp(3.5 + 0.3 * z[2]! + rng.normal(0, 0.08));
      const h = Math.exp(3.5 + 0.3 * z[3]! + rng.normal(0, 0.08));
      target.set([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], i * 4);
    } else {
      // Background is the most common class (bias), plus label noise through the Gumbel-like jitter.
      let best = 0;
      let bestV = -Infinity;
      for (let j = 0; j < k; j++) {
        const v = z[j]! + (j === k - 1 ? 1.0 : 0) + rng.normal(0, 0.8);
        if (v > bestV) {
          bestV = v;
          best = j;
        }
      }
      labels[i] = best; // k-1 = background / negative
    }
  }
  return { F, n, labels, iou, target };
}

function averagePrecision(scores: number[], positives: boolean[]): number {
  const order = scores.map((s, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);
  let tp = 0;
  let sum = 0;
  let npos = 0;
  for (const p of positives) if (p) npos++;
  if (npos === 0) return 0;
  order.forEach((i, r) => {
    if (positives[i]) {
      tp++;
      sum += tp / (r + 1);
    }
  });
  return sum / npos;
}

/** logits [n, k] = F·W + b (W [D, k], b at W's tail). */
function linear(F: Float64Array, n: number, W: Float64Array, k: number, out: Float64Array): void {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      let s = W[D * k + j]!;
      for (let d = 0; d < D; d++) s += F[i * D + d]! * W[d * k + j]!;
      out[i * k + j] = s;
    }
  }
}

function linearGrad(F: Float64Array, n: number, g: Float64Array, k: number, gW: Float64Array): void {
  gW.fill(0);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const gij = g[i * k + j]!;
      if (gij === 0) continue;
      gW[D * k + j]! += gij;
      for (let d = 0; d < D; d++) gW[d * k + j]! += F[i * D + d]! * gij;
    }
  }
}

export function simulatedProxy(mode: Mode, e: Expr, task: SimulatedTask, seed: number): SimulatedResult {
  const nTrain = task.trainSubset > 0 ? task.trainSubset : 256;
  const nVal = task.valSubset > 0 ? task.valSubset : task.split === 'val' ? 1024 : 256;
  const train = makeData(mode, nTrain, 1);
  const held = makeData(mode, nVal, task.split === 'val' ? 3 : 2);
  const k = mode === 'reg' ? 4 : mode === 'cls' ? CLASSES + 1 : CLASSES;
  const rng = new Rng(seed);
  const W = new Float64Array((D + 1) * k);
  for (let i = 0; i < D * k; i++) W[i] = rng.normal(0, 0.1);
  if (mode === 'reg') {
    // Start from a mean box, so the first steps already see overlapping and non-overlapping pairs.
    W[D * k] = 100;
    W[D * k + 1] = 100;
    W[D * k + 2] = 3.5;
    W[D * k + 3] = 3.5;
  }
  const gW = new Float64Array(W.length);
  const out = new Float64Array(nTrain * k);
  const gOut = new Float64Array(nTrain * k);
  try {
    if (mode === 'reg') {
      const obj = new RegObjective(e, nTrain, train.target);
      const corners = new Float64Array(nTrain * 4);
      const gc = new Float64Array(nTrain * 4);
      for (let s = 0; s < task.iters; s++) {
        linear(train.F, nTrain, W, k, out);
        paramsToCorners(out, nTrain, corners);
        obj.eval(corners, gc);
        cornerGradToParams(out, gc, nTrain, gOut);
        linearGrad(train.F, nTrain, gOut, k, gW);
        // Position columns in pixels, size columns in log units.
        const gPos = new Float64Array(W.length);
        const gSz = new Float64Array(W.length);
        for (let r = 0; r <= D; r++) {
          for (let j = 0; j < 4; j++) (j < 2 ? gPos : gSz)[r * k + j] = gW[r * k + j]!;
        }
        if (!normalisedStep(W, gPos, task.lr * 100) || !normalisedStep(W, gSz, task.lr)) throw new Diverged('non-finite gradient');
      }
    } else {
      const cd: ClsData = { n: nTrain, k, labels: train.labels, iou: train.iou };
      const obj = new ClsObjective(mode, e, cd);
      for (let s = 0; s < task.iters; s++) {
        linear(train.F, nTrain, W, k, out);
        obj.eval(out, gOut);
        linearGrad(train.F, nTrain, gOut, k, gW);
        if (!normalisedStep(W, gW, task.lr)) throw new Diverged('non-finite gradient');
      }
    }
  } catch (err) {
    if (err instanceof Diverged) return { status: 'diverged', ap: 0, ap50: 0, reason: err.message };
    throw err;
  }
  if (!isFiniteArray(W)) return { status: 'diverged', ap: 0, ap50: 0, reason: 'non-finite weights' };
  const hv = new Float64Array(nVal * k);
  linear(held.F, nVal, W, k, hv);
  if (mode === 'reg') {
    const corners = new Float64Array(nVal * 4);
    paramsToCorners(hv, nVal, corners);
    const ious: number[] = [];
    for (let i = 0; i < nVal; i++) ious.push(iouOf(corners, i * 4, held.target, i * 4));
    let ap = 0;
    for (let t = 0; t < 10; t++) ap += ious.filter((v) => v >= 0.5 + 0.05 * t).length / nVal;
    return { status: 'ok', ap: ap / 10, ap50: ious.filter((v) => v >= 0.5).length / nVal, reason: null };
  }
  let ap = 0;
  for (let c = 0; c < CLASSES; c++) {
    const scores: number[] = [];
    const pos: boolean[] = [];
    for (let i = 0; i < nVal; i++) {
      if (mode === 'cls') {
        let m = -Infinity;
        for (let j = 0; j < k; j++) m = Math.max(m, hv[i * k + j]!);
        let z = 0;
        for (let j = 0; j < k; j++) z += Math.exp(hv[i * k + j]! - m);
        scores.push(Math.exp(hv[i * k + c]! - m) / z);
      } else scores.push(hv[i * k + c]!);
      pos.push(held.labels[i] === c);
    }
    ap += averagePrecision(scores, pos);
  }
  const acc = labelAccuracy(mode, hv, nVal, k, held.labels);
  return { status: 'ok', ap: ap / CLASSES, ap50: acc, reason: null };
}
