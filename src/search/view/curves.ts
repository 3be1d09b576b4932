/**
 * Loss and gradient curves of one loss over the quantity a detector's loss is about: the
 * predicted probability of the target class (cls, bcls) or the IoU of a box with its target
 * (reg). Evaluated with src/loss's fast float64 evaluator, one sample per point:
 *
 * - cls: one foreground class and the background (K = 2), a positive of class 0 with IoU Z = 1;
 *   logits (x, 0), so p = softmax(x, 0)[0] = σ(x). Gradient: d loss / d x (the target logit).
 * - bcls: one class, a positive (PY = 1, NY = 0, Q = 1); p = σ(x). Gradient: d loss / d x.
 * - cls and bcls also on a negative sample (a background RoI; PY = 0, NY = 1, Q = 0), p = σ(x)
 *   the probability given to the class it is not.
 * - reg: the predicted box inside its target, U = E = 1 (target area), I = IoU; gradient
 *   d loss / d I, which on this path is d loss / d IoU.
 *
 * The raw expression output is summed over a sample's row (the wrapper's weights are left out:
 * they scale a loss and the default alike). Non-finite values, and values beyond 1e300 (which no
 * chart can scale), are gaps (null).
 */
import { compileFast, parseExpr, resolveLoss, runFast, type Mode } from '../../loss/index.js';

export interface Curves {
  xLabel: string;
  gradLabel: string;
  /** Which inputs the curves hold fixed. */
  note: string;
  x: number[];
  loss: (number | null)[];
  grad: (number | null)[];
  defaultLoss: (number | null)[] | null;
  defaultGrad: (number | null)[] | null;
  /**
   * cls, bcls: the same over a negative sample (curveOf's 'negative' side: a background RoI, or
   * NY = 1), where most of a detector's samples are; x is the class's predicted probability. reg: null.
   */
  negative: {
    note: string;
    xLabel: string;
    loss: (number | null)[];
    grad: (number | null)[];
    defaultLoss: (number | null)[] | null;
    defaultGrad: (number | null)[] | null;
  } | null;
}

const POINTS = 99;

function grid(mode: Mode): number[] {
  // p or IoU in (0, 1): 0.01 .. 0.99.
  void mode;
  return Array.from({ length: POINTS }, (_, i) => (i + 1) / (POINTS + 1));
}

const fin = (v: number): number | null => (Number.isFinite(v) && Math.abs(v) < 1e300 ? v : null);

/**
 * Loss and gradient of `loss` (an official string or preset) at each point of the mode's grid. cls
 * and bcls: `side` 'positive' (the default) is a sample of the target class, p its probability;
 * 'negative' is one without it (cls: a background RoI, bcls: PY = 0, NY = 1, Q = 0), p the
 * probability the logit gives the class. reg has one side.
 */
export function curveOf(
  mode: Mode,
  loss: string,
  side: 'positive' | 'negative' = 'positive',
): { x: number[]; loss: (number | null)[]; grad: (number | null)[] } {
  if (side === 'negative' && mode === 'reg') throw new Error('curveOf: reg has no negative side');
  const neg = side === 'negative';
  const r = resolveLoss(mode, loss);
  const expr = r.expr ?? parseExpr(mode, loss);
  const prog = compileFast(mode, expr);
  const x = grid(mode);
  const n = x.length;
  let inputs: Record<string, Float64Array>;
  let k: number;
  let wrt: string;
  if (mode === 'cls') {
    k = 2;
    const X = new Float64Array(n * k);
    const Y = new Float64Array(n * k);
    const Z = new Float64Array(n * k).fill(1);
    x.forEach((p, i) => {
      X[i * k] = Math.log(p / (1 - p));
      Y[i * k + (neg ? 1 : 0)] = 1; // class 0, or the background column
    });
    inputs = { X, Y, Z };
    wrt = 'X';
  } else if (mode === 'bcls') {
    k = 1;
    inputs = {
      X: Float64Array.from(x, (p) => Math.log(p / (1 - p))),
      Q: new Float64Array(n).fill(neg ? 0 : 1),
      PY: new Float64Array(n).fill(neg ? 0 : 1),
      NY: new Float64Array(n).fill(neg ? 1 : 0),
    };
    wrt = 'X';
  } else {
    k = 1;
    inputs = { I: Float64Array.from(x), U: new Float64Array(n).fill(1), E: new Float64Array(n).fill(1) };
    wrt = 'I';
  }
  const run = runFast(prog, inputs, n, k, { grad: true });
  const perRow = run.shape === 'M' ? k : run.shape === 'V' ? 1 : 0;
  const lossOut: (number | null)[] = x.map((_, i) => {
    if (perRow === 0) return fin(run.value[0]!);
    let s = 0;
    for (let j = 0; j < perRow; j++) s += run.value[i * perRow + j]!;
    return fin(s);
  });
  const g = run.grads![wrt]!;
  const gradOut = x.map((_, i) => fin(g[i * k]!));
  return { x, loss: lossOut, grad: gradOut };
}

/** The curves of a loss and of the run's default loss, for the candidate page. */
export function lossCurves(mode: Mode, loss: string, defaultLoss: string | null): Curves {
  const c = curveOf(mode, loss);
  const def = (side: 'positive' | 'negative') => {
    if (!defaultLoss) return null;
    try {
      return curveOf(mode, defaultLoss, side);
    } catch {
      return null;
    }
  };
  const d = def('positive');
  let negative: Curves['negative'] = null;
  if (mode !== 'reg') {
    const n = curveOf(mode, loss, 'negative');
    const dn = def('negative');
    negative = {
      note:
        mode === 'cls'
          ? 'a background RoI (the target is the background column); logits (x, 0), p = σ(x) the probability of class 0.'
          : 'a negative (PY = 0, NY = 1, Q = 0); p = σ(x) the predicted probability of the class.',
      xLabel: 'p (predicted probability of a class the sample is not)',
      loss: n.loss,
      grad: n.grad,
      defaultLoss: dn?.loss ?? null,
      defaultGrad: dn?.grad ?? null,
    };
  }
  return {
    xLabel: mode === 'reg' ? 'IoU with the target box' : 'p (predicted probability of the target class)',
    gradLabel: mode === 'reg' ? 'd loss / d IoU' : 'd loss / d target logit',
    note:
      mode === 'reg'
        ? 'The predicted box inside its target box: U = E = 1 (the target area), I = IoU.'
        : mode === 'cls'
          ? 'A positive of class 0 with IoU 1; logits (x, 0) for the class and the background, p = softmax = σ(x).'
          : 'A positive (PY = 1, NY = 0, Q = 1); p = σ(x).',
    x: c.x,
    loss: c.loss,
    grad: c.grad,
    defaultLoss: d?.loss ?? null,
    defaultGrad: d?.grad ?? null,
    negative,
  };
}
