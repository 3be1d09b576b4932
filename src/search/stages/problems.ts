/**
 * Small optimisation problems driven by a candidate's gradient, on the fast CPU evaluator
 * (float64, no tfjs). Shared by MOS level 1 (free logits / free boxes) and the simulated proxy
 * (a linear model on synthetic features). Every step:
 *   loss value and dLoss/dInput from runFast (the mode's wrapper weighting as the gradient seed),
 *   chain rule to the free parameters, a normalised gradient step (step / rms(gradient)), so a
 *   loss and the same loss times a positive constant follow the same path.
 */
import { boxIUEGrad, compileFast, runFast, Workspace, type ClsMode, type Expr, type FastProgram, type Mode } from '../../loss/index.js';

export interface ClsData {
  n: number;
  /** Columns: C+1 for cls (background last), C for bcls. */
  k: number;
  /** Label per row: 0..C-1 foreground, C = background / negative. */
  labels: Int32Array;
  /** IoU per row (used for positives). */
  iou: Float64Array;
}

/** The mode's inputs (all but X) for classification data. */
export function clsInputs(mode: ClsMode, d: ClsData): { inputs: Record<string, Float64Array>; seed: Float64Array } {
  const { n, k } = d;
  const seed = new Float64Array(n * k);
  if (mode === 'cls') {
    const Y = new Float64Array(n * k);
    const Z = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      const pos = d.labels[i]! < k - 1;
      for (let j = 0; j < k; j++) {
        Y[i * k + j] = j === d.labels[i] ? 1 : 0;
        Z[i * k + j] = pos ? d.iou[i]! : 1;
      }
    }
    return { inputs: { Y, Z }, seed: seed.fill(1 / n) };
  }
  const PY = new Float64Array(n * k);
  const NY = new Float64Array(n * k);
  const Q = new Float64Array(n * k);
  let npos = 0;
  for (let i = 0; i < n; i++) if (d.labels[i]! < k) npos++;
  const avg = Math.max(1, npos);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const p = j === d.labels[i] ? 1 : 0;
      PY[i * k + j] = p;
      NY[i * k + j] = 1 - p;
      Q[i * k + j] = p * d.iou[i]!;
      seed[i * k + j] = (p ? 0.25 : 0.75) / avg; // alpha_t, sum / avg_factor as focal-loss heads
    }
  }
  return { inputs: { PY, NY, Q }, seed };
}

/** Gradient seed matching the output shape (elementwise weights only apply to [N, K] outputs). */
function seedFor(prog: FastProgram, n: number, k: number, elementSeed: Float64Array): Float64Array {
  if (prog.shape === 'M') return elementSeed;
  if (prog.shape === 'V') return new Float64Array(n).fill(1 / n);
  return new Float64Array(1).fill(1);
}

export function isFiniteArray(x: Float64Array): boolean {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return false;
  return true;
}

function dotSeed(value: Float64Array, seed: Float64Array): number {
  let s = 0;
  for (let i = 0; i < value.length; i++) s += value[i]! * seed[i]!;
  return s;
}

/** One normalised step: p -= lr · g / rms(g). Returns false when the gradient is not finite. */
export function normalisedStep(p: Float64Array, g: Float64Array, lr: number): boolean {
  let ss = 0;
  for (let i = 0; i < g.length; i++) ss += g[i]! * g[i]!;
  if (!Number.isFinite(ss)) return false;
  const rms = Math.sqrt(ss / g.length);
  if (rms === 0) return true;
  const f = lr / rms;
  for (let i = 0; i < p.length; i++) p[i]! -= f * g[i]!;
  return true;
}

export class Diverged extends Error {
  override name = 'Diverged';
}

/** Loss value and dLoss/dX for classification logits X [n, k]. */
export class ClsObjective {
  readonly prog: FastProgram;
  private readonly ws = new Workspace();
  private readonly inputs: Record<string, Float64Array>;
  private readonly seed: Float64Array;
  constructor(
    readonly mode: ClsMode,
    e: Expr,
    readonly data: ClsData,
  ) {
    this.prog = compileFast(mode, e);
    const ci = clsInputs(mode, data);
    this.inputs = ci.inputs;
    this.seed = seedFor(this.prog, data.n, data.k, ci.seed);
  }
  /** Returns the loss; writes dLoss/dX into gx. Throws Diverged on a non-finite loss or gradient. */
  eval(X: Float64Array, gx: Float64Array): number {
    const r = runFast(this.prog, { ...this.inputs, X }, this.data.n, this.data.k, { grad: true, workspace: this.ws, seed: this.seed });
    const loss = dotSeed(r.value, this.seed);
    const g = r.grads!.X!;
    if (!Number.isFinite(loss) || !isFiniteArray(g)) throw new Diverged('non-finite loss or gradient');
    gx.set(g);
    return loss;
  }
}

export interface Box4 {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** I, U, E per box pair and their gradients with respect to the predicted corners. */
export class RegObjective {
  readonly prog: FastProgram;
  private readonly ws = new Workspace();
  private readonly seed: Float64Array;
  private readonly I: Float64Array;
  private readonly U: Float64Array;
  private readonly E: Float64Array;
  constructor(
    e: Expr,
    readonly n: number,
    /** [n, 4] target corners. */
    readonly target: Float64Array,
  ) {
    this.prog = compileFast('reg', e);
    this.seed = this.prog.shape === 'S' ? new Float64Array(1).fill(1) : new Float64Array(n).fill(1 / n);
    this.I = new Float64Array(n);
    this.U = new Float64Array(n);
    this.E = new Float64Array(n);
  }
  /** pred: [n, 4] corners; writes dLoss/dCorner into g [n, 4]. */
  eval(pred: Float64Array, g: Float64Array): number {
    const { n, target: t } = this;
    for (let i = 0; i < n; i++) {
      const o = i * 4;
      const iw = Math.max(Math.min(pred[o + 2]!, t[o + 2]!) - Math.max(pred[o]!, t[o]!), 0);
      const ih = Math.max(Math.min(pred[o + 3]!, t[o + 3]!) - Math.max(pred[o + 1]!, t[o + 1]!), 0);
      const I = iw * ih;
      const ap = (pred[o + 2]! - pred[o]!) * (pred[o + 3]! - pred[o + 1]!);
      const at = (t[o + 2]! - t[o]!) * (t[o + 3]! - t[o + 1]!);
      const ew = Math.max(Math.max(pred[o + 2]!, t[o + 2]!) - Math.min(pred[o]!, t[o]!), 0);
      const eh = Math.max(Math.max(pred[o + 3]!, t[o + 3]!) - Math.min(pred[o + 1]!, t[o + 1]!), 0);
      this.I[i] = I;
      this.U[i] = ap + at - I + 1e-7;
      this.E[i] = ew * eh + 1e-7;
    }
    const r = runFast(this.prog, { I: this.I, U: this.U, E: this.E }, n, 1, { grad: true, workspace: this.ws, seed: this.seed });
    const loss = dotSeed(r.value, this.seed);
    const gI = r.grads!.I!;
    const gU = r.grads!.U!;
    const gE = r.grads!.E!;
    if (!Number.isFinite(loss) || !isFiniteArray(gI) || !isFiniteArray(gU) || !isFiniteArray(gE))
      throw new Diverged('non-finite loss or gradient');
    for (let i = 0; i < n; i++) {
      const o = i * 4;
      boxIUEGrad(pred.subarray(o, o + 4), t.subarray(o, o + 4), gU[i]!, gI[i]!, gE[i]!, g.subarray(o, o + 4));
    }
    return loss;
  }
}

/** IoU of two corner boxes (the project's one box IoU). */
export { cornerIou as iouOf } from '../../util/iou.js';

/** Boxes as (cx, cy, log w, log h) parameters → corners [n, 4]. */
export function paramsToCorners(p: Float64Array, n: number, out: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const o = i * 4;
    const w = Math.exp(Math.min(p[o + 2]!, 30));
    const h = Math.exp(Math.min(p[o + 3]!, 30));
    out[o] = p[o]! - w / 2;
    out[o + 1] = p[o + 1]! - h / 2;
    out[o + 2] = p[o]! + w / 2;
    out[o + 3] = p[o + 1]! + h / 2;
  }
}

/** Chain rule from corner gradients to (cx, cy, log w, log h) gradients. */
export function cornerGradToParams(p: Float64Array, gc: Float64Array, n: number, out: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const o = i * 4;
    const w = Math.exp(Math.min(p[o + 2]!, 30));
    const h = Math.exp(Math.min(p[o + 3]!, 30));
    out[o] = gc[o]! + gc[o + 2]!;
    out[o + 1] = gc[o + 1]! + gc[o + 3]!;
    out[o + 2] = ((gc[o + 2]! - gc[o]!) / 2) * w;
    out[o + 3] = ((gc[o + 3]! - gc[o + 1]!) / 2) * h;
  }
}

export type { Mode };

/**
 * How well scores X [n, k] fit the labels: cls, the accuracy of the argmax; bcls, the balanced
 * element accuracy ½(TPR + TNR) of X > 0 (label j of row i: positive when labels[i] === j).
 */
export function labelAccuracy(mode: ClsMode, X: ArrayLike<number>, n: number, k: number, labels: ArrayLike<number>): number {
  if (mode === 'cls') {
    let right = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (X[i * k + j]! > X[i * k + best]!) best = j;
      if (best === labels[i]) right++;
    }
    return right / n;
  }
  let tp = 0;
  let p = 0;
  let tn = 0;
  let q = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const pos = labels[i] === j;
      const predPos = X[i * k + j]! > 0;
      if (pos) {
        p++;
        if (predPos) tp++;
      } else {
        q++;
        if (!predPos) tn++;
      }
    }
  }
  return 0.5 * (p ? tp / p : 1) + 0.5 * (q ? tn / q : 1);
}

/**
 * Average precision of scores over elements, as a detector's AP ranks its detections: elements
 * sorted by score (descending; ties put negatives first, so equal scores earn nothing), only
 * those with score > minScore detected, AP = (1 / positives) · Σ over detected positives of the
 * precision at their rank. A perfect ranking with every positive detected gives 1; no detection, 0.
 */
export function averagePrecision(scores: ArrayLike<number>, positive: ArrayLike<number>, minScore = -Infinity): number {
  const idx: number[] = [];
  let npos = 0;
  for (let i = 0; i < scores.length; i++) {
    if (positive[i]) npos++;
    if (scores[i]! > minScore) idx.push(i);
  }
  if (!npos) return 0;
  idx.sort((a, b) => scores[b]! - scores[a]! || (positive[a] ? 1 : 0) - (positive[b] ? 1 : 0) || a - b);
  let tp = 0;
  let sum = 0;
  for (let r = 0; r < idx.length; r++) {
    if (!positive[idx[r]!]) continue;
    tp++;
    sum += tp / (r + 1);
  }
  return sum / npos;
}
