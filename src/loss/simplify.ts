/**
 * Equivalence and simplification.
 *
 * fingerprint: a hash of a tree's outputs and gradients (with respect to the trainable input: X
 * for cls/bcls, U, I, E for reg) on fixed pseudo-random inputs drawn from the mode's real input
 * domain (one-hot Y, IoU rows Z, boxes for U, I, E). Trees that compute the same function on
 * that domain share a fingerprint (the gradient-equivalence idea of AutoLoss-Zero).
 *
 * simplify: algebraic rewrites that keep the values (exactly, or within ~1e-13 relative for
 * Div(x, x) with x ≥ 1e-7), applied bottom-up to a fixed point. Rewrites that could turn a NaN
 * or an infinity into a finite number (x - x → 0, x·0 → 0, x/x → 1) only fire when the operand
 * cannot produce one ("total": no Log of a possibly negative value, no Sqrt of one, no Div by
 * one that may be near 0). Node shapes are kept, except that a [N] node may become a scalar
 * below the root in reg (where the two broadcast identically).
 */
import { createHash } from 'node:crypto';
import { Rng } from '../util/rng.js';
import { checkExpr, exprEquals, inputShape, opShape, type Expr, type Shape } from './expr.js';
import { boxIUE } from './box_iue.js';
import { compileFast, runFast } from './fast.js';
import { PRIM_BY_NAME, type Mode } from './primitives.js';

// ------------------------------------------------------------------------------ fingerprint

interface FpInputs {
  n: number;
  k: number;
  inputs: Record<string, Float64Array>;
  trainable: readonly string[];
}
const fpCache = new Map<Mode, FpInputs>();

function fingerprintInputs(mode: Mode): FpInputs {
  const hit = fpCache.get(mode);
  if (hit) return hit;
  const rng = new Rng(0x5eed1);
  let r: FpInputs;
  if (mode === 'reg') {
    const n = 12;
    const U = new Float64Array(n);
    const I = new Float64Array(n);
    const E = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const tw = rng.uniform(5, 100);
      const th = rng.uniform(5, 100);
      const t: [number, number, number, number] = [0, 0, tw, th];
      const px = rng.uniform(-0.6, 0.6) * tw * (i < 10 ? 1 : 3);
      const py = rng.uniform(-0.6, 0.6) * th * (i < 10 ? 1 : 3);
      const p: [number, number, number, number] = [px, py, px + tw * rng.uniform(0.5, 1.5), py + th * rng.uniform(0.5, 1.5)];
      const a = boxIUE(p, t);
      U[i] = a.U;
      I[i] = a.I;
      E[i] = a.E;
    }
    r = { n, k: 1, inputs: { U, I, E }, trainable: ['U', 'I', 'E'] };
  } else {
    const n = 8;
    const k = mode === 'cls' ? 4 : 3;
    const X = new Float64Array(n * k);
    for (let i = 0; i < X.length; i++) X[i] = rng.normal(0, 2.5);
    const iou = Array.from({ length: n }, () => rng.uniform(0.2, 1));
    // Labels: cls has background k-1; bcls has "negative" = k (no positive column).
    const labels = Array.from({ length: n }, (_, i) =>
      i % 3 === 2 ? (mode === 'cls' ? k - 1 : k) : rng.int(0, mode === 'cls' ? k - 2 : k - 1),
    );
    if (mode === 'cls') {
      const Y = new Float64Array(n * k);
      const Z = new Float64Array(n * k);
      for (let i = 0; i < n; i++) {
        Y[i * k + labels[i]!] = 1;
        for (let j = 0; j < k; j++) Z[i * k + j] = labels[i]! < k - 1 ? iou[i]! : 1;
      }
      r = { n, k, inputs: { X, Y, Z }, trainable: ['X'] };
    } else {
      const PY = new Float64Array(n * k);
      const Q = new Float64Array(n * k);
      const NY = new Float64Array(n * k).fill(1);
      for (let i = 0; i < n; i++) {
        if (labels[i]! < k) {
          PY[i * k + labels[i]!] = 1;
          NY[i * k + labels[i]!] = 0;
          Q[i * k + labels[i]!] = iou[i]!;
        }
      }
      r = { n, k, inputs: { X, Q, PY, NY }, trainable: ['X'] };
    }
  }
  fpCache.set(mode, r);
  return r;
}

function quantize(x: number): string {
  if (x !== x) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Math.abs(x) < 1e-9) return '0';
  return x.toPrecision(8);
}

/**
 * Canonical fingerprint of the function a tree computes in a mode: `mode:` + 16 hex digits.
 * Outputs are broadcast over the batch first, so a scalar and a [N] tree of equal values match.
 */
export function fingerprint(mode: Mode, e: Expr): string {
  return fingerprintOf(mode, e, true);
}

/**
 * The same over the gradients only (with respect to the trainable inputs: the logits, or the
 * box's I, U, E): two trees that differ by a constant, or by a term of the targets alone, train a
 * detector the same way and share it. `gradient:` + mode + `:` + 16 hex digits.
 */
export function gradientFingerprint(mode: Mode, e: Expr): string {
  return fingerprintOf(mode, e, false);
}

function fingerprintOf(mode: Mode, e: Expr, values: boolean): string {
  const fi = fingerprintInputs(mode);
  const prog = compileFast(mode, e);
  const run = runFast(prog, fi.inputs, fi.n, fi.k, { grad: true });
  const parts: string[] = [];
  if (values) {
    const v = run.value;
    parts.push(prog.shape === 'M' ? 'M' : 'B');
    if (prog.shape === 'S') for (let i = 0; i < fi.n; i++) parts.push(quantize(v[0]!));
    else for (let i = 0; i < v.length; i++) parts.push(quantize(v[i]!));
  }
  for (const name of fi.trainable) {
    parts.push('|' + name);
    const g = run.grads![name]!;
    // A scalar output's gradient is that of a sum over the batch: normalise per sample.
    const scale = prog.shape === 'S' ? fi.n : 1;
    for (let i = 0; i < g.length; i++) parts.push(quantize(g[i]! * scale));
  }
  const h = createHash('sha1').update(parts.join(',')).digest('hex').slice(0, 16);
  return values ? `${mode}:${h}` : `gradient:${mode}:${h}`;
}

// ------------------------------------------------------------------------------- simplify

const C = (value: number): Expr => ({ kind: 'const', value });
const isConst = (e: Expr, v?: number): boolean => e.kind === 'const' && (v === undefined || e.value === v);
const mk = (name: string, ...args: Expr[]): Expr => ({ kind: 'op', op: name, args });

const NONNEG_VARS = new Set(['Y', 'Z', 'Q', 'PY', 'NY', 'U', 'I', 'E']);
const NONNEG_OPS = new Set(['Exp', 'Sig', 'Softplus', 'Softmax', 'Sgdf', 'Salf', 'Serf', 'Relu', 'Abs', 'Sqrt']);

/** The tree's values are ≥ 0 (or NaN) for every input of the mode. */
function nonneg(e: Expr): boolean {
  if (e.kind === 'const') return e.value >= 0;
  if (e.kind === 'var') return NONNEG_VARS.has(e.name);
  if (NONNEG_OPS.has(e.op)) return true;
  if (e.op === 'Add' || e.op === 'Mul' || e.op === 'Div' || e.op === 'Dot') return nonneg(e.args[0]!) && nonneg(e.args[1]!);
  return false;
}

/** A positive lower bound of the tree's values (0 when none is known). */
function lowerBound(e: Expr): number {
  if (e.kind === 'const') return Math.max(e.value, 0);
  if (e.kind === 'var') return e.name === 'U' || e.name === 'E' ? 1e-7 : 0;
  const [a, b] = e.args;
  if (e.op === 'Add' && nonneg(a!) && nonneg(b!)) return lowerBound(a!) + lowerBound(b!);
  if (e.op === 'Mul') return lowerBound(a!) * lowerBound(b!);
  return 0;
}

/** The tree cannot produce NaN or an infinity from finite inputs (overflow of huge products aside). */
function total(e: Expr): boolean {
  if (e.kind !== 'op') return true;
  if (!e.args.every(total)) return false;
  if (e.op === 'Log' || e.op === 'Sqrt') return nonneg(e.args[0]!);
  if (e.op === 'Div') return nonneg(e.args[1]!);
  return true;
}

/**
 * Simplifies a tree of a mode; the result is valid in the mode and computes the same values
 * (see the module comment for the exact guarantee).
 */
export function simplify(mode: Mode, e: Expr): Expr {
  const problem = checkExpr(mode, e);
  if (problem) throw new Error(`invalid ${mode} expression: ${problem.message}`);
  let cur = e;
  for (let i = 0; i < 50; i++) {
    const next = pass(mode, cur, true);
    if (exprEquals(next, cur)) return next;
    cur = next;
  }
  return cur;
}

function shapeOf(mode: Mode, e: Expr): Shape {
  if (e.kind === 'const') return 'S';
  if (e.kind === 'var') return inputShape(mode);
  return opShape(
    PRIM_BY_NAME.get(e.op)!,
    e.args.map((a) => shapeOf(mode, a)),
  ) as Shape;
}

function pass(mode: Mode, e: Expr, isRoot: boolean): Expr {
  if (e.kind !== 'op') return e;
  const args = e.args.map((a) => pass(mode, a, false));
  const node: Expr = { kind: 'op', op: e.op, args };
  const want = shapeOf(mode, node);
  const r = rewrite(mode, node);
  if (r === node) return node;
  const got = shapeOf(mode, r);
  const ok = got === want || (mode === 'reg' && !isRoot && want === 'V' && got === 'S');
  return ok ? r : node;
}

function fold(mode: Mode, e: Expr & { kind: 'op' }): Expr | null {
  if (!e.args.every((a) => a.kind === 'const')) return null;
  if (PRIM_BY_NAME.get(e.op)!.kind === 'softmax') return null;
  const prog = compileFast(mode, e);
  const v = runFast(prog, {}, 1, 1).value[0]!;
  return Number.isFinite(v) ? C(v) : null;
}

function rewrite(mode: Mode, e: Expr & { kind: 'op' }): Expr {
  const folded = fold(mode, e);
  if (folded) return folded;
  const [a, b] = e.args as [Expr, Expr];
  switch (e.op) {
    case 'Neg':
      if (a.kind === 'op' && a.op === 'Neg') return a.args[0]!;
      if (a.kind === 'op' && a.op === 'Sub') return mk('Sub', a.args[1]!, a.args[0]!);
      break;
    case 'Add':
      if (isConst(b, 0)) return a;
      if (isConst(a, 0)) return b;
      if (b.kind === 'op' && b.op === 'Neg') return mk('Sub', a, b.args[0]!);
      if (a.kind === 'op' && a.op === 'Neg') return mk('Sub', b, a.args[0]!);
      if (exprEquals(a, b)) return mk('Mul', C(2), a);
      // Gather constants: c1 + (c2 + x) → (c1 + c2) + x (reassociation: within an ulp).
      if (a.kind === 'const' && b.kind === 'op' && b.op === 'Add') {
        const [b0, b1] = b.args as [Expr, Expr];
        if (b0.kind === 'const') return mk('Add', C(a.value + b0.value), b1);
        if (b1.kind === 'const') return mk('Add', C(a.value + b1.value), b0);
      }
      if (b.kind === 'const' && a.kind !== 'const') return mk('Add', b, a);
      break;
    case 'Sub':
      if (isConst(b, 0)) return a;
      if (isConst(a, 0)) return mk('Neg', b);
      if (b.kind === 'op' && b.op === 'Neg') return mk('Add', a, b.args[0]!);
      if (exprEquals(a, b) && total(a)) return C(0);
      break;
    case 'Mul':
      if (isConst(b, 1)) return a;
      if (isConst(a, 1)) return b;
      if (isConst(b, -1)) return mk('Neg', a);
      if (isConst(a, -1)) return mk('Neg', b);
      if ((isConst(a, 0) && total(b)) || (isConst(b, 0) && total(a))) return C(0);
      if (a.kind === 'op' && a.op === 'Neg' && b.kind === 'op' && b.op === 'Neg') return mk('Mul', a.args[0]!, b.args[0]!);
      break;
    case 'Div':
      if (isConst(b, 1)) return a;
      if (isConst(b, -1)) return mk('Neg', a);
      if (exprEquals(a, b) && total(a) && lowerBound(a) >= 1e-7) return C(1);
      if (a.kind === 'op' && a.op === 'Neg' && b.kind === 'op' && b.op === 'Neg' && lowerBound(b.args[0]!) >= 1e-7) {
        return mk('Div', a.args[0]!, b.args[0]!);
      }
      if (isConst(a, 0) && nonneg(b) && total(b)) return C(0);
      // (-a)/c → a/(-c) for a constant away from 0 (exact: the 1e-20 guard vanishes in rounding).
      if (a.kind === 'op' && a.op === 'Neg' && b.kind === 'const' && Math.abs(b.value) >= 1e-4) return mk('Div', a.args[0]!, C(-b.value));
      if (b.kind === 'op' && b.op === 'Neg' && lowerBound(b.args[0]!) >= 1e-7) return mk('Neg', mk('Div', a, b.args[0]!));
      break;
    // Abs(x) → x and Relu(x) → x only for x > 0 everywhere: at x = 0 their derivatives (0) differ from x's (1).
    case 'Abs':
      if (a.kind === 'op' && (a.op === 'Abs' || a.op === 'Neg')) return mk('Abs', a.args[0]!);
      if (lowerBound(a) > 0 && total(a)) return a;
      break;
    case 'Relu':
      if (a.kind === 'op' && a.op === 'Relu') return a;
      if (lowerBound(a) > 0 && total(a)) return a;
      break;
  }
  return e;
}
