/**
 * Model optimisation simulation, level 1: free parameters optimised with the candidate's
 * gradient, scored by how well they end up fitting their targets.
 *  - cls:  random logits [N, C+1] toward random labels (background included); score = accuracy
 *          of argmax. With `problem: detection`, the RoI-head-like problem of mos1DetectionCls.
 *  - bcls: random logits [N, C] toward one-hot targets (a quarter of the rows negative); score =
 *          balanced element accuracy ½(TPR + TNR) of sigmoid(x) > ½. With `problem: detection`,
 *          the detection-like problem of mos1Detection below instead.
 *  - reg:  random boxes, (cx, cy, log w, log h), toward random targets (some not overlapping at
 *          the start); score = mean IoU.
 * The data depend only on the task seed, so every candidate of a run sees the same problem; the
 * pass threshold (relative to the default loss's score) is applied by the loop.
 */
import type { ClsMode, Expr, Mode } from '../../loss/index.js';
import { Rng } from '../../util/rng.js';
import type { Mos1Config } from '../types.js';
import {
  ClsObjective,
  Diverged,
  RegObjective,
  cornerGradToParams,
  iouOf,
  normalisedStep,
  paramsToCorners,
  labelAccuracy,
  type ClsData,
} from './problems.js';
import { mos1Detection, mos1DetectionCls } from './mos_detection.js';

export { whiten, whitenBy, meanClassAP, DETECTION_PROBLEM, CLS_DETECTION_PROBLEM } from './mos_detection.js';

export interface Mos1Result {
  status: 'ok' | 'diverged';
  score: number;
  /** Score before optimisation (for the report: did it move?). */
  initialScore: number;
  reason: string | null;
}

export function mos1(mode: Mode, e: Expr, cfg: Mos1Config, seed: number): Mos1Result {
  if (mode === 'reg') return mos1Reg(e, cfg, seed);
  if (mode === 'bcls' && cfg.problem === 'detection') return mos1Detection(e, cfg, seed);
  if (mode === 'cls' && cfg.problem === 'detection') return mos1DetectionCls(e, cfg, seed);
  return mos1Cls(mode, e, cfg, seed);
}

function clsScore(mode: ClsMode, X: Float64Array, d: ClsData): number {
  return labelAccuracy(mode, X, d.n, d.k, d.labels);
}

function mos1Cls(mode: ClsMode, e: Expr, cfg: Mos1Config, seed: number): Mos1Result {
  const rng = new Rng(seed);
  const n = cfg.samples;
  const k = mode === 'cls' ? cfg.classes + 1 : cfg.classes;
  const labels = new Int32Array(n);
  const iou = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // A quarter background / negative rows, the rest spread over the foreground classes.
    labels[i] = rng.next() < 0.25 ? (mode === 'cls' ? k - 1 : k) : rng.int(0, cfg.classes - 1);
    iou[i] = rng.uniform(0.5, 1);
  }
  const d: ClsData = { n, k, labels, iou };
  const X = new Float64Array(n * k);
  for (let i = 0; i < X.length; i++) X[i] = rng.normal(0, 1);
  const initialScore = clsScore(mode, X, d);
  const obj = new ClsObjective(mode, e, d);
  const g = new Float64Array(n * k);
  try {
    for (let s = 0; s < cfg.steps; s++) {
      obj.eval(X, g);
      if (!normalisedStep(X, g, cfg.lr)) throw new Diverged('non-finite gradient');
    }
  } catch (err) {
    if (err instanceof Diverged) return { status: 'diverged', score: 0, initialScore, reason: err.message };
    throw err;
  }
  return { status: 'ok', score: clsScore(mode, X, d), initialScore, reason: null };
}

function mos1Reg(e: Expr, cfg: Mos1Config, seed: number): Mos1Result {
  const rng = new Rng(seed);
  const n = cfg.samples;
  const target = new Float64Array(n * 4);
  const p = new Float64Array(n * 4);
  for (let i = 0; i < n; i++) {
    const w = rng.uniform(10, 80);
    const h = rng.uniform(10, 80);
    const cx = rng.uniform(0, 200);
    const cy = rng.uniform(0, 200);
    target.set([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], i * 4);
    // Start shifted by up to about one box size (some not overlapping) and rescaled.
    p[i * 4] = cx + rng.normal(0, 0.6) * w;
    p[i * 4 + 1] = cy + rng.normal(0, 0.6) * h;
    p[i * 4 + 2] = Math.log(w) + rng.normal(0, 0.4);
    p[i * 4 + 3] = Math.log(h) + rng.normal(0, 0.4);
  }
  const corners = new Float64Array(n * 4);
  const meanIou = () => {
    paramsToCorners(p, n, corners);
    let s = 0;
    for (let i = 0; i < n; i++) s += iouOf(corners, i * 4, target, i * 4);
    return s / n;
  };
  const initialScore = meanIou();
  const obj = new RegObjective(e, n, target);
  const gc = new Float64Array(n * 4);
  const gp = new Float64Array(n * 4);
  // Positions move in pixels, log sizes in log units: one normalised step per group.
  const pos = new Float64Array(n * 2);
  const gpos = new Float64Array(n * 2);
  const lsz = new Float64Array(n * 2);
  const glsz = new Float64Array(n * 2);
  try {
    for (let s = 0; s < cfg.steps; s++) {
      paramsToCorners(p, n, corners);
      obj.eval(corners, gc);
      cornerGradToParams(p, gc, n, gp);
      for (let i = 0; i < n; i++) {
        pos[2 * i] = p[i * 4]!;
        pos[2 * i + 1] = p[i * 4 + 1]!;
        lsz[2 * i] = p[i * 4 + 2]!;
        lsz[2 * i + 1] = p[i * 4 + 3]!;
        gpos[2 * i] = gp[i * 4]!;
        gpos[2 * i + 1] = gp[i * 4 + 1]!;
        glsz[2 * i] = gp[i * 4 + 2]!;
        glsz[2 * i + 1] = gp[i * 4 + 3]!;
      }
      if (!normalisedStep(pos, gpos, cfg.lr * 20) || !normalisedStep(lsz, glsz, cfg.lr)) throw new Diverged('non-finite gradient');
      for (let i = 0; i < n; i++) {
        p[i * 4] = pos[2 * i]!;
        p[i * 4 + 1] = pos[2 * i + 1]!;
        p[i * 4 + 2] = lsz[2 * i]!;
        p[i * 4 + 3] = lsz[2 * i + 1]!;
      }
    }
  } catch (err) {
    if (err instanceof Diverged) return { status: 'diverged', score: 0, initialScore, reason: err.message };
    throw err;
  }
  const score = meanIou();
  return Number.isFinite(score)
    ? { status: 'ok', score, initialScore, reason: null }
    : { status: 'diverged', score: 0, initialScore, reason: 'non-finite boxes' };
}
