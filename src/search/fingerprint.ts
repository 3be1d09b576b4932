/**
 * Semantic fingerprint of a candidate: the expression evaluated on a fixed, seeded set of inputs
 * of its mode, values rounded to 9 significant digits, hashed. Two trees that compute the same
 * function (Add(X,Y) and Add(Y,X), Neg(Neg(X)) and X) get the same fingerprint; trees that
 * differ anywhere on the sample points get different ones. (Rounding can split two equivalent
 * trees whose float evaluation differs in the last digits: a missed duplicate, never a wrong merge
 * in practice.) Version tag in the hash: changing this function changes every fingerprint.
 */
import { createHash } from 'node:crypto';
import { boxIUE, compileFast, runFast, type Expr, type Mode } from '../loss/index.js';
import { Rng } from '../util/rng.js';

export const FINGERPRINT_VERSION = 'fp1';

interface Probe {
  n: number;
  k: number;
  inputs: Record<string, Float64Array>;
}
const probes = new Map<Mode, Probe>();

function probeFor(mode: Mode): Probe {
  const cached = probes.get(mode);
  if (cached) return cached;
  const rng = new Rng(0x5eed);
  const n = 24;
  let p: Probe;
  if (mode === 'reg') {
    const U = new Float64Array(n);
    const I = new Float64Array(n);
    const E = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const t = [rng.uniform(0, 50), rng.uniform(0, 50), 0, 0];
      t[2] = t[0]! + rng.uniform(5, 60);
      t[3] = t[1]! + rng.uniform(5, 60);
      const q = [t[0]! + rng.normal(0, 15), t[1]! + rng.normal(0, 15), 0, 0];
      q[2] = q[0]! + rng.uniform(3, 70);
      q[3] = q[1]! + rng.uniform(3, 70);
      const r = boxIUE(Float64Array.from(q), Float64Array.from(t));
      U[i] = r.U;
      I[i] = r.I;
      E[i] = r.E;
    }
    p = { n, k: 1, inputs: { U, I, E } };
  } else if (mode === 'cls') {
    const k = 5;
    const X = new Float64Array(n * k);
    const Y = new Float64Array(n * k);
    const Z = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      const label = rng.int(0, k - 1);
      const iou = label < k - 1 ? rng.uniform(0.3, 1) : 1;
      for (let j = 0; j < k; j++) {
        X[i * k + j] = rng.normal(0, 2);
        Y[i * k + j] = j === label ? 1 : 0;
        Z[i * k + j] = iou;
      }
    }
    p = { n, k, inputs: { X, Y, Z } };
  } else {
    const k = 4;
    const X = new Float64Array(n * k);
    const Q = new Float64Array(n * k);
    const PY = new Float64Array(n * k);
    const NY = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      const label = rng.int(0, k); // k: negative
      const iou = rng.uniform(0.3, 1);
      for (let j = 0; j < k; j++) {
        X[i * k + j] = rng.normal(0, 2);
        PY[i * k + j] = j === label ? 1 : 0;
        NY[i * k + j] = j === label ? 0 : 1;
        Q[i * k + j] = j === label ? iou : 0;
      }
    }
    p = { n, k, inputs: { X, Q, PY, NY } };
  }
  probes.set(mode, p);
  return p;
}

function roundSig(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return '0';
  return x.toPrecision(9);
}

/** The fingerprint of a valid tree of the mode. */
export function fingerprint(mode: Mode, e: Expr): string {
  const p = probeFor(mode);
  const prog = compileFast(mode, e);
  const r = runFast(prog, p.inputs, p.n, p.k);
  const h = createHash('sha1');
  h.update(`${FINGERPRINT_VERSION}|${mode}|${r.shape}|`);
  for (let i = 0; i < r.value.length; i++) h.update(roundSig(r.value[i]!) + ',');
  return h.digest('hex').slice(0, 20);
}
