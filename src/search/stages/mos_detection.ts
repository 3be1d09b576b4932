/**
 * MOS level 1's detection problems (`mos.level1.problem: detection`, docs/SEARCH.md): a shared
 * linear classifier on whitened features, trained with the candidate's gradient on imbalanced,
 * detector-like rows and scored by a ranking metric, as a detector's head is.
 *  - bcls (mos1Detection): FCOS-like locations, few positives with a quality target;
 *  - cls (mos1DetectionCls): Faster R-CNN RoI-head-like rows over C + 1 classes.
 */
import type { Expr } from '../../loss/index.js';
import { Rng } from '../../util/rng.js';
import type { Mos1Config } from '../types.js';
import type { Mos1Result } from './mos.js';
import { ClsObjective, Diverged, normalisedStep, averagePrecision, type ClsData } from './problems.js';

/**
 * Centres and whitens the rows of F [n, d] in place (mean 0, covariance I, by the Cholesky factor
 * of the covariance): the evidence's mean and principal directions carry no information, so a
 * loss blind to the targets cannot rank by them.
 */
export function whiten(F: Float64Array, n: number, d: number): void {
  whitenBy(F, n, n, d);
}

/**
 * As whiten, with the mean and covariance of the first `fit` rows applied to all n rows (so
 * held-out rows are transformed as the training rows are). whitenBy(F, n, n, d) = whiten.
 */
export function whitenBy(F: Float64Array, n: number, fit: number, d: number): void {
  for (let j = 0; j < d; j++) {
    let m = 0;
    for (let i = 0; i < fit; i++) m += F[i * d + j]!;
    m /= fit;
    for (let i = 0; i < n; i++) F[i * d + j]! -= m;
  }
  const L = new Float64Array(d * d);
  for (let a = 0; a < d; a++)
    for (let b = 0; b <= a; b++) {
      let s = 0;
      for (let i = 0; i < fit; i++) s += F[i * d + a]! * F[i * d + b]!;
      s /= fit;
      for (let t = 0; t < b; t++) s -= L[a * d + t]! * L[b * d + t]!;
      L[a * d + b] = a === b ? Math.sqrt(Math.max(s, 1e-12)) : s / L[b * d + b]!;
    }
  // Each row f ← L⁻¹ f (forward substitution).
  for (let i = 0; i < n; i++)
    for (let a = 0; a < d; a++) {
      let s = F[i * d + a]!;
      for (let t = 0; t < a; t++) s -= L[a * d + t]! * F[i * d + t]!;
      F[i * d + a] = s / L[a * d + a]!;
    }
}

/** The constants of the bcls detection problem (docs/SEARCH.md, "MOS level 1"). */
export const DETECTION_PROBLEM = {
  /** Locations per sample (rows = samples × this). */
  rowsPerSample: 4,
  /** Fraction of the locations that are positive (one class each), as FCOS's few positive points. */
  positiveRate: 0.05,
  /** Fraction of hard negatives: background locations with part of an object class's evidence. */
  hardNegativeRate: 0.15,
  /** Feature dimensions of the linear classifier. */
  features: 8,
  /** Evidence strength: a positive's features are signal · (0.5 + Q) · its class direction + noise. */
  signal: 2,
  /** Initial bias: FCOS's prior probability 0.01 (logit −4.595). */
  priorProb: 0.01,
  /**
   * A location–class pair is detected when sigmoid(logit) > this: FCOS keeps sqrt(cls · quality) >
   * its scoreThr 0.05, i.e. cls > 0.005 at a predicted quality of 0.5.
   */
  scoreThr: 0.005,
};

/**
 * bcls, detection-like: L = rows locations with C classes; a few positive locations (one class,
 * quality target Q ~ U(0.2, 1)), most background, some of them hard (part of a class's
 * evidence). The logits come from one shared linear classifier X = F·Wᵀ + b (b at FCOS's prior),
 * so positives and the many negatives compete for the same parameters, as in a detector's head.
 * Trained with the candidate's gradient (the bcls wrapper's alpha_t and sum / positives as
 * seed), normalised steps. Score: average precision of the element scores sigmoid(X), positives
 * against negatives, counting only pairs above the detector's score threshold.
 */
export function mos1Detection(e: Expr, cfg: Mos1Config, seed: number): Mos1Result {
  const P = DETECTION_PROBLEM;
  const rng = new Rng(seed);
  const n = cfg.samples * P.rowsPerSample;
  const k = cfg.classes;
  const d = P.features;
  // One unit direction per class.
  const dir = new Float64Array(k * d);
  for (let c = 0; c < k; c++) {
    let ss = 0;
    for (let j = 0; j < d; j++) ss += (dir[c * d + j] = rng.normal(0, 1)) ** 2;
    for (let j = 0; j < d; j++) dir[c * d + j]! /= Math.sqrt(ss);
  }
  const labels = new Int32Array(n);
  const iou = new Float64Array(n);
  const F = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) F[i * d + j] = rng.normal(0, 1);
    const u = rng.next();
    const c = rng.int(0, k - 1);
    let strength = 0;
    if (u < P.positiveRate) {
      labels[i] = c;
      iou[i] = rng.uniform(0.2, 1);
      strength = P.signal * (0.5 + iou[i]!);
    } else {
      labels[i] = k;
      if (u < P.positiveRate + P.hardNegativeRate) strength = P.signal * rng.uniform(0, 1);
    }
    for (let j = 0; j < d; j++) F[i * d + j]! += strength * dir[c * d + j]!;
  }
  whiten(F, n, d);
  const data: ClsData = { n, k, labels, iou };
  const positive = new Uint8Array(n * k);
  for (let i = 0; i < n; i++) if (labels[i]! < k) positive[i * k + labels[i]!] = 1;
  // Parameters: W [k, d] (small random), then b [k] at the prior.
  const params = new Float64Array(k * d + k);
  for (let j = 0; j < k * d; j++) params[j] = rng.normal(0, 0.01);
  params.fill(Math.log(P.priorProb / (1 - P.priorProb)), k * d);
  const X = new Float64Array(n * k);
  const logits = () => {
    for (let i = 0; i < n; i++)
      for (let c = 0; c < k; c++) {
        let s = params[k * d + c]!;
        for (let j = 0; j < d; j++) s += params[c * d + j]! * F[i * d + j]!;
        X[i * k + c] = s;
      }
  };
  const score = () => {
    const p = new Float64Array(n * k);
    for (let i = 0; i < p.length; i++) p[i] = 1 / (1 + Math.exp(-X[i]!));
    return averagePrecision(p, positive, P.scoreThr);
  };
  logits();
  const initialScore = score();
  try {
    trainShared(new ClsObjective('bcls', e, data), X, F, params, { n, k, d }, cfg, logits);
  } catch (err) {
    if (err instanceof Diverged) return { status: 'diverged', score: 0, initialScore, reason: err.message };
    throw err;
  }
  return { status: 'ok', score: score(), initialScore, reason: null };
}

/**
 * Optimises the shared linear classifier X = F·Wᵀ + b (params: W [k, d] row-major, then b [k])
 * with the candidate's gradient: `cfg.steps` normalised steps, `refresh` recomputing X after each.
 * Throws Diverged on a non-finite gradient.
 */
function trainShared(
  obj: ClsObjective,
  X: Float64Array,
  F: Float64Array,
  params: Float64Array,
  dims: { n: number; k: number; d: number },
  cfg: Mos1Config,
  refresh: () => void,
): void {
  const { n, k, d } = dims;
  const gx = new Float64Array(n * k);
  const gp = new Float64Array(params.length);
  for (let s = 0; s < cfg.steps; s++) {
    obj.eval(X, gx);
    gp.fill(0);
    for (let i = 0; i < n; i++)
      for (let c = 0; c < k; c++) {
        const g = gx[i * k + c]!;
        if (g === 0) continue;
        gp[k * d + c]! += g;
        for (let j = 0; j < d; j++) gp[c * d + j]! += g * F[i * d + j]!;
      }
    if (!normalisedStep(params, gp, cfg.lr)) throw new Diverged('non-finite gradient');
    refresh();
  }
}

/** The constants of the cls detection problem (docs/SEARCH.md, "MOS level 1"). */
export const CLS_DETECTION_PROBLEM = {
  /** Training rows (sampled RoIs) per sample. */
  rowsPerSample: 4,
  /** Fraction of the training rows that are positive: Faster R-CNN's roiPosFraction. */
  positiveRate: 0.25,
  /** Fraction of hard negatives among the training rows: background RoIs partly on an object. */
  hardNegativeRate: 0.25,
  /** Scored rows (all proposals) per training row. */
  evalRowsPerRow: 8,
  /** Positive fraction among the scored rows: far fewer than among the sampled RoIs. */
  evalPositiveRate: 0.05,
  /** Hard negatives among the scored rows. */
  evalHardNegativeRate: 0.15,
  /** Feature dimensions of the linear classifier. */
  features: 8,
  /** Evidence strength: a positive's features are signal · 2·IoU · its class direction + noise. */
  signal: 1.5,
  /** A row–class pair is detected when softmax(X)[class] > this (Faster R-CNN's scoreThr). */
  scoreThr: 0.05,
};

/**
 * Rows of a detection-like classification problem: features F [n, d] (noise plus evidence along
 * a class direction), labels (k = background), IoU of positives. Positives (IoU ~ U(0.5, 1), the
 * RoI head's positive threshold) carry signal · 2·IoU of their class's evidence, hard negatives
 * (IoU ~ U(0.1, 0.5)) signal · 2·IoU of a random class's, the rest none.
 */
function detectionRows(
  rng: Rng,
  n: number,
  k: number,
  d: number,
  dir: Float64Array,
  rates: { positive: number; hard: number },
  signal: number,
): { F: Float64Array; labels: Int32Array; iou: Float64Array } {
  const labels = new Int32Array(n);
  const iou = new Float64Array(n);
  const F = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) F[i * d + j] = rng.normal(0, 1);
    const u = rng.next();
    const c = rng.int(0, k - 1);
    let strength = 0;
    if (u < rates.positive) {
      labels[i] = c;
      iou[i] = rng.uniform(0.5, 1);
      strength = signal * 2 * iou[i]!;
    } else {
      labels[i] = k;
      if (u < rates.positive + rates.hard) strength = signal * 2 * rng.uniform(0.1, 0.5);
    }
    for (let j = 0; j < d; j++) F[i * d + j]! += strength * dir[c * d + j]!;
  }
  return { F, labels, iou };
}

/**
 * Mean over the foreground classes of the average precision of ranking all rows by that class's
 * softmax probability (rows of the class positive, every other row negative), counting only
 * probabilities above minScore: as a detector's mAP ranks a class's detections over all images.
 * probs [n, k+1] (background last), labels per row (k = background).
 */
export function meanClassAP(probs: ArrayLike<number>, labels: ArrayLike<number>, n: number, k: number, minScore = -Infinity): number {
  const s = new Float64Array(n);
  const pos = new Uint8Array(n);
  let sum = 0;
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < n; i++) {
      s[i] = probs[i * (k + 1) + c]!;
      pos[i] = labels[i] === c ? 1 : 0;
    }
    sum += averagePrecision(s, pos, minScore);
  }
  return sum / k;
}

/** Row-wise softmax of X [n, k] (max-shifted). */
function softmaxRows(X: Float64Array, n: number, k: number): Float64Array {
  const p = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let j = 0; j < k; j++) m = Math.max(m, X[i * k + j]!);
    let z = 0;
    for (let j = 0; j < k; j++) z += p[i * k + j] = Math.exp(X[i * k + j]! - m);
    for (let j = 0; j < k; j++) p[i * k + j]! /= z;
  }
  return p;
}

/**
 * cls, detection-like (a Faster R-CNN RoI head): training rows as sampled RoIs (a quarter
 * positive, one of C classes with IoU ~ U(0.5, 1), a quarter hard negatives, the rest
 * background), logits over C+1 classes (background last) from one shared linear classifier
 * X = F·Wᵀ + b (fc_cls's init: W ~ N(0, 0.01), b = 0), trained with the candidate's gradient
 * through the cls wrapper (Y one-hot, Z = IoU on positives and 1 elsewhere, mean over rows),
 * normalised steps. Scored on other rows drawn as all proposals (5% positive): the mean over
 * the foreground classes of the AP of ranking every row by that class's softmax probability,
 * counting only probabilities above the detector's score threshold.
 */
export function mos1DetectionCls(e: Expr, cfg: Mos1Config, seed: number): Mos1Result {
  const P = CLS_DETECTION_PROBLEM;
  const rng = new Rng(seed);
  const n = cfg.samples * P.rowsPerSample;
  const C = cfg.classes;
  const k = C + 1;
  const d = P.features;
  const dir = new Float64Array(C * d);
  for (let c = 0; c < C; c++) {
    let ss = 0;
    for (let j = 0; j < d; j++) ss += (dir[c * d + j] = rng.normal(0, 1)) ** 2;
    for (let j = 0; j < d; j++) dir[c * d + j]! /= Math.sqrt(ss);
  }
  const train = detectionRows(rng, n, C, d, dir, { positive: P.positiveRate, hard: P.hardNegativeRate }, P.signal);
  const m = n * P.evalRowsPerRow;
  const held = detectionRows(rng, m, C, d, dir, { positive: P.evalPositiveRate, hard: P.evalHardNegativeRate }, P.signal);
  // Both sets whitened by the training rows' statistics: a loss blind to the labels gains nothing
  // from the features' mean or principal directions.
  const all = new Float64Array((n + m) * d);
  all.set(train.F);
  all.set(held.F, n * d);
  whitenBy(all, n + m, n, d);
  const Ftr = all.subarray(0, n * d);
  const Fev = all.subarray(n * d);
  const data: ClsData = { n, k, labels: train.labels, iou: train.iou };
  const params = new Float64Array(k * d + k);
  for (let j = 0; j < k * d; j++) params[j] = rng.normal(0, 0.01);
  const logitsOf = (F: Float64Array, rows: number, out: Float64Array) => {
    for (let i = 0; i < rows; i++)
      for (let c = 0; c < k; c++) {
        let s = params[k * d + c]!;
        for (let j = 0; j < d; j++) s += params[c * d + j]! * F[i * d + j]!;
        out[i * k + c] = s;
      }
  };
  const Xev = new Float64Array(m * k);
  const score = () => {
    logitsOf(Fev, m, Xev);
    return meanClassAP(softmaxRows(Xev, m, k), held.labels, m, C, P.scoreThr);
  };
  const initialScore = score();
  const X = new Float64Array(n * k);
  logitsOf(Ftr, n, X);
  try {
    trainShared(new ClsObjective('cls', e, data), X, Ftr, params, { n, k, d }, cfg, () => logitsOf(Ftr, n, X));
  } catch (err) {
    if (err instanceof Diverged) return { status: 'diverged', score: 0, initialScore, reason: err.message };
    throw err;
  }
  const final = score();
  return Number.isFinite(final)
    ? { status: 'ok', score: final, initialScore, reason: null }
    : { status: 'diverged', score: 0, initialScore, reason: 'non-finite scores' };
}
