/**
 * Convergence property verification (CPV): numerical checks, on a fixed grid per mode, of the
 * properties a usable loss must have. Runs on the fast evaluator (float64, values and
 * gradients), thousands of candidates per second. Each property is documented in
 * docs/SEARCH_SPACE.md; the result names the first fatal property that failed and where.
 *
 * "Finite" means within float32 range (training runs in float32): |v| ≤ 3.4e38 and not NaN.
 */
import type { Expr } from './expr.js';
import { checkExpr, couplesBatch } from './expr.js';
import { compileFast, finite32, runFast, Workspace, type FastProgram } from './fast.js';
import type { ClsMode, Mode } from './primitives.js';

export interface PropertyResult {
  name: string;
  /** A non-fatal property is reported but does not fail the check. */
  fatal: boolean;
  pass: boolean;
  /** Where it failed, in words (null when it passed). */
  where: string | null;
}
export interface CpvDetails {
  mode: Mode;
  /** Properties in the order they are checked; checking stops at the first fatal failure. */
  properties: PropertyResult[];
}
export interface CpvResult {
  pass: boolean;
  failed: string | null;
  details: CpvDetails;
}

/** Names of the properties of each mode, in check order (non-fatal ones last). */
export const CPV_PROPERTIES: Record<Mode, readonly { name: string; fatal: boolean }[]> = {
  cls: [
    { name: 'finite', fatal: true },
    { name: 'gt-logit-monotone', fatal: true },
    { name: 'gradient-direction', fatal: true },
  ],
  bcls: [
    { name: 'finite', fatal: true },
    { name: 'positive-decreasing', fatal: true },
    { name: 'negative-increasing', fatal: true },
  ],
  reg: [
    { name: 'finite', fatal: true },
    { name: 'iou-monotone', fatal: true },
    { name: 'minimum-at-overlap', fatal: true },
    { name: 'non-overlap-gradient', fatal: false },
  ],
};

/** Logit sweep shared by the classification grids (ascending). */
export const LOGIT_SWEEP: readonly number[] = [-50, -30, -20, -12, -8, -6, -4, -3, -2, -1, -0.5, 0, 0.5, 1, 2, 3, 4, 6, 8, 12, 20, 30, 50];
/** Strict monotonicity and gradient signs are required where the swept logit lies in this range (and the base is moderate). */
export const STRICT_RANGE = 6;
/** Relative slack for "never increases" (rounding noise in saturated regions). */
const SLACK = 1e-9;

// ------------------------------------------------------------------------------------ grids

interface Sweep {
  /** Row indices in sweep order (the swept quantity improves along the sweep). */
  rows: number[];
  /** Column of the swept logit (cls/bcls). */
  col: number;
  /** Step i → i+1 must strictly improve. */
  strict: boolean[];
  /** Point i is in the checked region (non-strict: must not get worse). */
  checked: boolean[];
  label: (i: number) => string;
}

/** Configurations × bases, the listed [config, base] index pairs first. */
function orderPairs<C, B>(configs: C[], bases: B[], first: [number, number][]): [C, B][] {
  const all: [number, number][] = [];
  for (let i = 0; i < configs.length; i++) for (let j = 0; j < bases.length; j++) all.push([i, j]);
  const key = (p: [number, number]) => p[0] * 1000 + p[1];
  const firstKeys = new Set(first.map(key));
  const ordered = [...first, ...all.filter((p) => !firstKeys.has(key(p)))];
  return ordered.map(([i, j]) => [configs[i]!, bases[j]!]);
}

interface ClsGrid {
  n: number;
  k: number;
  /** The first screenRows rows hold whole sweeps, checked first (most candidates fail there). */
  screenRows: number;
  inputs: Record<string, Float64Array>;
  /** Per-row gradient seed (bcls: alpha_t), length n·k; null for cls (all ones). */
  seed: Float64Array | null;
  /** Ground-truth column per row (-1: none, for bcls negatives). */
  gt: Int32Array;
  sweeps: Sweep[];
  /** bcls: sweeps that must decrease (positives) vs increase (negative elements). */
  decreasing: Sweep[];
  increasing: Sweep[];
  describe: (row: number) => string;
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toPrecision(3));

function buildClsGrid(): ClsGrid {
  const k = 4; // 3 foreground classes + background (last)
  const bases: { v: number[]; extreme: boolean }[] = [
    { v: [0, 0, 0], extreme: false },
    { v: [2, -1, 0.5], extreme: false },
    { v: [50, -50, 0], extreme: true },
  ];
  const configs: { gt: number; z: number }[] = [
    { gt: 0, z: 0.01 },
    { gt: 0, z: 0.3 },
    { gt: 0, z: 1 },
    { gt: 2, z: 0.7 },
    { gt: 3, z: 1 }, // negative (background)
  ];
  const T = LOGIT_SWEEP;
  const n = bases.length * configs.length * T.length;
  const X = new Float64Array(n * k);
  const Y = new Float64Array(n * k);
  const Z = new Float64Array(n * k);
  const gt = new Int32Array(n);
  const sweeps: Sweep[] = [];
  const desc: string[] = [];
  // Screening sweeps first (see screenRows).
  const pairs = orderPairs(configs, bases, [
    [1, 0],
    [4, 0],
    [0, 2],
  ]);
  const screenRows = 3 * T.length;
  let r = 0;
  for (const [cfg, base] of pairs) {
    {
      const rows: number[] = [];
      for (const t of T) {
        let b = 0;
        for (let j = 0; j < k; j++) {
          X[r * k + j] = j === cfg.gt ? t : base.v[b++]!;
          Y[r * k + j] = j === cfg.gt ? 1 : 0;
          Z[r * k + j] = cfg.gt < k - 1 ? cfg.z : 1;
        }
        gt[r] = cfg.gt;
        const kind = cfg.gt < k - 1 ? `positive (class ${cfg.gt}, IoU ${cfg.z})` : 'negative (background)';
        desc.push(
          `${kind}, logits [${Array.from(X.subarray(r * k, r * k + k))
            .map(fmt)
            .join(', ')}]`,
        );
        rows.push(r++);
      }
      const strict = T.map(
        (t, i) => !base.extreme && i + 1 < T.length && Math.abs(t) <= STRICT_RANGE && Math.abs(T[i + 1]!) <= STRICT_RANGE,
      );
      sweeps.push({ rows, col: cfg.gt, strict, checked: T.map(() => true), label: (i) => desc[rows[i]!]! });
    }
  }
  return {
    n,
    k,
    screenRows,
    inputs: { X, Y, Z },
    seed: null,
    gt,
    sweeps,
    decreasing: sweeps,
    increasing: [],
    describe: (row) => desc[row]!,
  };
}

function logit(q: number): number {
  return q >= 1 ? Infinity : Math.log(q / (1 - q));
}

function buildBclsGrid(): ClsGrid {
  const k = 3;
  const T = LOGIT_SWEEP;
  const bases: { v: number[]; extreme: boolean }[] = [
    { v: [0, 0], extreme: false },
    { v: [-4, 2], extreme: false },
    { v: [50, -50], extreme: true },
  ];
  interface Cfg {
    kind: 'pos' | 'neg' | 'neg-in-pos';
    q: number;
  }
  const configs: Cfg[] = [
    { kind: 'pos', q: 0.05 },
    { kind: 'pos', q: 0.3 },
    { kind: 'pos', q: 0.7 },
    { kind: 'pos', q: 1 },
    { kind: 'neg', q: 0 },
    { kind: 'neg-in-pos', q: 0.7 },
  ];
  const n = bases.length * configs.length * T.length;
  const X = new Float64Array(n * k);
  const Q = new Float64Array(n * k);
  const PY = new Float64Array(n * k);
  const NY = new Float64Array(n * k).fill(1);
  const seed = new Float64Array(n * k);
  const gt = new Int32Array(n).fill(-1);
  const desc: string[] = [];
  const decreasing: Sweep[] = [];
  const increasing: Sweep[] = [];
  const pairs = orderPairs(configs, bases, [
    [1, 0],
    [4, 0],
    [3, 2],
  ]);
  const screenRows = 3 * T.length;
  let r = 0;
  for (const [cfg, base] of pairs) {
    {
      const rows: number[] = [];
      // Swept column: 0 for positives and pure negatives; 1 (a negative class) in a positive row.
      const col = cfg.kind === 'neg-in-pos' ? 1 : 0;
      for (const t of T) {
        const o = r * k;
        if (cfg.kind === 'neg-in-pos') {
          X[o] = 1;
          X[o + 1] = t;
          X[o + 2] = base.v[0]!;
        } else {
          X[o] = t;
          X[o + 1] = base.v[0]!;
          X[o + 2] = base.v[1]!;
        }
        if (cfg.kind !== 'neg') {
          PY[o] = 1;
          NY[o] = 0;
          Q[o] = cfg.q;
          gt[r] = 0;
        }
        for (let j = 0; j < k; j++) seed[o + j] = 0.25 * PY[o + j]! + 0.75 * (1 - PY[o + j]!);
        const what =
          cfg.kind === 'pos'
            ? `positive (class 0, IoU ${cfg.q})`
            : cfg.kind === 'neg'
              ? 'negative row'
              : `negative class 1 in a positive row (class 0, IoU ${cfg.q})`;
        desc.push(
          `${what}, logits [${Array.from(X.subarray(o, o + k))
            .map(fmt)
            .join(', ')}]`,
        );
        rows.push(r++);
      }
      const lim = cfg.kind === 'pos' ? logit(cfg.q) : Infinity;
      // Positives: only below the IoU target (σ(x) ≤ q); the whole sweep for q = 1 and negatives.
      const checked = T.map((t) => t <= lim);
      const strict = T.map(
        (t, i) =>
          !base.extreme && i + 1 < T.length && checked[i + 1]! && Math.abs(t) <= STRICT_RANGE && Math.abs(T[i + 1]!) <= STRICT_RANGE,
      );
      const sw: Sweep = { rows, col, strict, checked, label: (i) => desc[rows[i]!]! };
      (cfg.kind === 'pos' ? decreasing : increasing).push(sw);
    }
  }
  return {
    n,
    k,
    screenRows,
    inputs: { X, Q, PY, NY },
    seed,
    gt,
    sweeps: [...decreasing, ...increasing],
    decreasing,
    increasing,
    describe: (row) => desc[row]!,
  };
}

type Box = [number, number, number, number];
interface RegPath {
  rows: number[];
  label: string;
}
interface RegGrid {
  n: number;
  /** Rows of the first target (whole paths and perturbations), checked first. */
  screenRows: number;
  inputs: { U: Float64Array; I: Float64Array; E: Float64Array };
  pred: Float64Array; // [n, 4]
  target: Float64Array; // [n, 4]
  iou: Float64Array;
  paths: RegPath[];
  /** For each target: the row of perfect overlap and the rows that must not beat it. */
  optimum: { row: number; others: number[]; label: string }[];
  describe: (row: number) => string;
}

/** I, U, E as the public reg_loss computes them (eps 1e-7). */
export function boxIUE(p: Box | Float64Array, t: Box | Float64Array, eps = 1e-7): { I: number; U: number; E: number } {
  const iw = Math.max(Math.min(p[2]!, t[2]!) - Math.max(p[0]!, t[0]!), 0);
  const ih = Math.max(Math.min(p[3]!, t[3]!) - Math.max(p[1]!, t[1]!), 0);
  const I = iw * ih;
  const ap = (p[2]! - p[0]!) * (p[3]! - p[1]!);
  const ag = (t[2]! - t[0]!) * (t[3]! - t[1]!);
  const ew = Math.max(Math.max(p[2]!, t[2]!) - Math.min(p[0]!, t[0]!), 0);
  const eh = Math.max(Math.max(p[3]!, t[3]!) - Math.min(p[1]!, t[1]!), 0);
  return { I, U: ap + ag - I + eps, E: ew * eh + eps };
}

/**
 * d(U, I, E)/d(pred x1, y1, x2, y2) (the box areas of boxIUE), combined with upstream gradients
 * gU, gI, gE into out[0..3]. Clamps pass the gradient where their input is ≥ 0, as torch's do.
 */
export function boxIUEGrad(
  p: ArrayLike<number>,
  t: ArrayLike<number>,
  gU: number,
  gI: number,
  gE: number,
  out: { [j: number]: number },
): void {
  const [px1, py1, px2, py2] = [p[0]!, p[1]!, p[2]!, p[3]!];
  const [tx1, ty1, tx2, ty2] = [t[0]!, t[1]!, t[2]!, t[3]!];
  const iw = Math.min(px2, tx2) - Math.max(px1, tx1);
  const ih = Math.min(py2, ty2) - Math.max(py1, ty1);
  const ciw = Math.max(iw, 0);
  const cih = Math.max(ih, 0);
  // Clamp at 0 passes the gradient where its input is ≥ 0 (torch's clamp backward).
  const dIw = iw >= 0 ? cih : 0;
  const dIh = ih >= 0 ? ciw : 0;
  const dI = [px1 > tx1 ? -dIw : 0, py1 > ty1 ? -dIh : 0, px2 < tx2 ? dIw : 0, py2 < ty2 ? dIh : 0];
  const pw = px2 - px1;
  const ph = py2 - py1;
  const dAp = [-ph, -pw, ph, pw];
  const ew = Math.max(px2, tx2) - Math.min(px1, tx1);
  const eh = Math.max(py2, ty2) - Math.min(py1, ty1);
  const dE = [px1 < tx1 ? -eh : 0, py1 < ty1 ? -ew : 0, px2 > tx2 ? eh : 0, py2 > ty2 ? ew : 0];
  for (let j = 0; j < 4; j++) out[j] = gU * (dAp[j]! - dI[j]!) + gI * dI[j]! + gE * dE[j]!;
}

function buildRegGrid(): RegGrid {
  const targets: { box: Box; name: string }[] = [
    { box: [10, 20, 60, 100], name: 'normal 50x80' },
    { box: [5, 5, 5.5, 5.8], name: 'tiny 0.5x0.8' },
    { box: [100, 50, 5100, 8050], name: 'huge 5000x8000' },
    { box: [0, 0, 0.05, 0.04], name: 'sub-pixel 0.05x0.04' },
  ];
  const preds: Box[] = [];
  const tgts: Box[] = [];
  const desc: string[] = [];
  const paths: RegPath[] = [];
  const optimum: RegGrid['optimum'] = [];
  let screenRows = 0;
  const push = (p: Box, t: Box, d: string) => {
    preds.push(p);
    tgts.push(t);
    desc.push(d);
    return preds.length - 1;
  };
  const g = (x: number) => fmt(x);
  const boxStr = (b: Box) => `(${b.map(g).join(', ')})`;
  // A fixed pseudo-random sequence for perturbations (no Math.random).
  let s = 12345;
  const rnd = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
  for (const { box: t, name } of targets) {
    const [x1, y1, x2, y2] = t;
    const w = x2 - x1;
    const h = y2 - y1;
    const cx = (x1 + x2) / 2;
    const cy = (y1 + y2) / 2;
    const scaled = (sw: number, sh: number): Box => [cx - (sw * w) / 2, cy - (sh * h) / 2, cx + (sw * w) / 2, cy + (sh * h) / 2];
    const shifted = (dx: number, dy: number): Box => [x1 + dx, y1 + dy, x2 + dx, y2 + dy];
    const firstRow = preds.length;
    const addPath = (label: string, boxes: Box[]) => {
      const rows = boxes.map((b) => push(b, t, `${label}: pred ${boxStr(b)}, target ${boxStr(t)} (${name})`));
      paths.push({ rows, label: `${label} (${name})` });
    };
    addPath(
      'shrinking toward the target',
      [4, 3, 2, 1.5, 1.25, 1.1, 1.03, 1].map((k) => scaled(k, k)),
    );
    addPath(
      'growing toward the target',
      [0.1, 0.25, 0.5, 0.7, 0.85, 0.95, 1].map((k) => scaled(k, k)),
    );
    const D = [4, 2.5, 1.5, 1.1, 0.9, 0.7, 0.5, 0.3, 0.15, 0.05, 0];
    addPath(
      'shifting along x',
      D.map((d) => shifted(d * w, 0)),
    );
    addPath(
      'shifting along -y',
      D.map((d) => shifted(0, -d * h)),
    );
    addPath(
      'shifting diagonally',
      D.map((d) => shifted(-0.8 * d * w, 0.9 * d * h)),
    );
    addPath(
      'changing aspect',
      [3, 2, 1.5, 1.2, 1.05, 1].map((a) => scaled(a, 1 / a)),
    );
    const perfect = push(t, t, `perfect overlap, target ${boxStr(t)} (${name})`);
    const others: number[] = [];
    for (let i = preds.length - 1; i >= firstRow; i--) if (i !== perfect) others.push(i);
    for (let i = 0; i < 12; i++) {
      const amp = i < 6 ? 0.05 : 0.5;
      const p: Box = [
        x1 + amp * w * (rnd() - 0.5),
        y1 + amp * h * (rnd() - 0.5),
        x2 + amp * w * (rnd() - 0.5),
        y2 + amp * h * (rnd() - 0.5),
      ];
      others.push(push(p, t, `perturbed pred ${boxStr(p)}, target ${boxStr(t)} (${name})`));
    }
    optimum.push({ row: perfect, others, label: name });
    if (screenRows === 0) screenRows = preds.length;
  }
  const n = preds.length;
  const U = new Float64Array(n);
  const I = new Float64Array(n);
  const E = new Float64Array(n);
  const iou = new Float64Array(n);
  const pred = new Float64Array(n * 4);
  const target = new Float64Array(n * 4);
  for (let r = 0; r < n; r++) {
    const a = boxIUE(preds[r]!, tgts[r]!);
    U[r] = a.U;
    I[r] = a.I;
    E[r] = a.E;
    iou[r] = a.I / a.U;
    pred.set(preds[r]!, r * 4);
    target.set(tgts[r]!, r * 4);
  }
  return { n, screenRows, inputs: { U, I, E }, pred, target, iou, paths, optimum, describe: (row) => desc[row]! };
}

let clsGrid: ClsGrid | null = null;
let bclsGrid: ClsGrid | null = null;
let regGrid: RegGrid | null = null;
const workspace = new Workspace();

// ------------------------------------------------------------------------------- evaluation

interface RowEval {
  /** Per-row loss (bcls: alpha_t-weighted row sum). */
  loss: Float64Array;
  /** Gradient of the per-row loss with respect to each input (same layout as the inputs). */
  grads: Record<string, Float64Array>;
  /** Every intermediate value within float32 range. */
  intermediatesFinite: boolean;
  /** First row with a non-finite intermediate (or -1). */
  badRow: number;
}

function evalRows(
  prog: FastProgram,
  coupled: boolean,
  inputs: Record<string, Float64Array>,
  n: number,
  k: number,
  seed: Float64Array | null,
): RowEval {
  const per = prog.mode === 'reg' ? 1 : k;
  if (coupled) {
    // The tree sums over the batch: evaluate every row as its own batch of one.
    const loss = new Float64Array(n);
    const grads: Record<string, Float64Array> = {};
    for (const name of Object.keys(inputs)) grads[name] = new Float64Array(n * per);
    let ok = true;
    let badRow = -1;
    for (let r = 0; r < n; r++) {
      const sub: Record<string, Float64Array> = {};
      for (const [name, x] of Object.entries(inputs)) sub[name] = x.subarray(r * per, r * per + per);
      const rowSeed = seed ? seed.subarray(r * per, r * per + per) : null;
      const one = evalRows(prog, false, sub, 1, k, rowSeed);
      loss[r] = one.loss[0]!;
      for (const name of Object.keys(inputs)) grads[name]!.set(one.grads[name]!, r * per);
      if (!one.intermediatesFinite && ok) {
        ok = false;
        badRow = r;
      }
    }
    return { loss, grads, intermediatesFinite: ok, badRow };
  }
  let outSeed: Float64Array | undefined;
  if (seed) {
    if (prog.shape === 'M') outSeed = seed;
    else if (prog.shape === 'S') {
      let s = 0;
      for (let i = 0; i < seed.length; i++) s += seed[i]!;
      outSeed = Float64Array.of(s);
    } else throw new Error('cpv: unexpected [N] output with a per-element seed');
  }
  const run = runFast(prog, inputs, n, k, { grad: true, workspace, seed: outSeed });
  const loss = new Float64Array(n);
  const v = run.value;
  if (prog.shape === 'V') loss.set(v);
  else if (prog.shape === 'S') {
    // Broadcast over the batch (by the wrapper): each row sees the scalar, alpha_t-weighted in bcls.
    for (let r = 0; r < n; r++) {
      let a = 0;
      if (seed) for (let j = 0; j < k; j++) a += seed[r * k + j]!;
      else a = 1;
      loss[r] = v[0]! * a;
    }
  } else {
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += (seed ? seed[r * k + j]! : 1) * v[r * k + j]!;
      loss[r] = s;
    }
  }
  let ok = true;
  for (const buf of run.values) {
    if (!finite32(buf)) {
      ok = false;
      break;
    }
  }
  const grads: Record<string, Float64Array> = {};
  for (const [name, g] of Object.entries(run.grads!)) grads[name] = g;
  return { loss, grads, intermediatesFinite: ok, badRow: ok ? -1 : firstBadRow(run.values, n, k, per) };
}

function firstBadRow(values: Float64Array[], n: number, k: number, per: number): number {
  let best = -1;
  for (const buf of values) {
    if (finite32(buf)) continue;
    const rowLen = buf.length === n * per ? per : buf.length === n ? 1 : buf.length === n * k ? k : 0;
    if (rowLen === 0) return 0;
    for (let i = 0; i < buf.length; i++) {
      const v = buf[i]!;
      if (!(v <= 3.4028234663852886e38 && v >= -3.4028234663852886e38)) {
        const r = Math.floor(i / rowLen);
        if (best < 0 || r < best) best = r;
        break;
      }
    }
  }
  return Math.max(best, 0);
}

const isFinite32 = (v: number) => v <= 3.4028234663852886e38 && v >= -3.4028234663852886e38;

// ----------------------------------------------------------------------------------- checks

/**
 * Convergence property verification of a tree in a mode. Never throws for a valid tree;
 * an invalid tree (wrong primitive, variable or shapes for the mode) fails 'valid'.
 */
export function convergenceChecks(mode: Mode, e: Expr): CpvResult {
  const problem = checkExpr(mode, e);
  if (problem) {
    return {
      pass: false,
      failed: 'valid',
      details: { mode, properties: [{ name: 'valid', fatal: true, pass: false, where: problem.message }] },
    };
  }
  const prog = compileFast(mode, e);
  const coupled = couplesBatch(mode, e);
  // Pass 1 screens on the first sweeps of the grid, pass 2 checks the whole grid. Both passes run
  // the same checks, so the verdict is the full grid's; a failure found in pass 1 is reported
  // from there (most random candidates fail there, at a fraction of the cost).
  const full =
    mode === 'reg' ? (regGrid ??= buildRegGrid()) : mode === 'cls' ? (clsGrid ??= buildClsGrid()) : (bclsGrid ??= buildBclsGrid());
  let props: PropertyResult[] = [];
  for (const limit of [full.screenRows, full.n]) {
    const checks = mode === 'reg' ? regChecks(prog, coupled, limit) : clsChecks(mode, prog, coupled, limit);
    props = [];
    for (const { name, fatal } of CPV_PROPERTIES[mode]) {
      const where = checks[name]!();
      props.push({ name, fatal, pass: where === null, where });
      if (where !== null && fatal) return { pass: false, failed: name, details: { mode, properties: props } };
    }
  }
  return { pass: true, failed: null, details: { mode, properties: props } };
}

type Check = () => string | null;

const prefix = (inputs: Record<string, Float64Array>, len: number): Record<string, Float64Array> => {
  const out: Record<string, Float64Array> = {};
  for (const [name, x] of Object.entries(inputs)) out[name] = x.length === len ? x : x.subarray(0, len);
  return out;
};

function clsChecks(mode: ClsMode, prog: FastProgram, coupled: boolean, n: number): Record<string, Check> {
  const full = mode === 'cls' ? (clsGrid ??= buildClsGrid()) : (bclsGrid ??= buildBclsGrid());
  const k = full.k;
  const inRange = (sw: Sweep) => sw.rows[sw.rows.length - 1]! < n;
  const grid = {
    ...full,
    sweeps: full.sweeps.filter(inRange),
    decreasing: full.decreasing.filter(inRange),
    increasing: full.increasing.filter(inRange),
  };
  const ev = evalRows(prog, coupled, prefix(grid.inputs, n * k), n, k, grid.seed ? grid.seed.subarray(0, n * k) : null);
  const gx = ev.grads.X!;
  const L = ev.loss;
  const checkSweep = (sw: Sweep, dir: 1 | -1, what: string): string | null => {
    // dir -1: must decrease along the sweep; +1: must increase.
    const { rows } = sw;
    for (let i = 0; i + 1 < rows.length; i++) {
      if (!sw.checked[i] || !sw.checked[i + 1]) continue;
      const a = L[rows[i]!]!;
      const b = L[rows[i + 1]!]!;
      const slack = SLACK * Math.max(1, Math.abs(a));
      const worse = dir < 0 ? b > a + slack : b < a - slack;
      if (worse)
        return `${what}: loss ${dir < 0 ? 'rose' : 'fell'} from ${a.toPrecision(6)} to ${b.toPrecision(6)} between ${sw.label(i)} and ${sw.label(i + 1)}`;
      if (sw.strict[i]) {
        const tight = 1e-12 * Math.max(1, Math.abs(a));
        const better = dir < 0 ? b < a - tight : b > a + tight;
        if (!better)
          return `${what}: loss not strictly ${dir < 0 ? 'decreasing' : 'increasing'} (${a.toPrecision(6)} then ${b.toPrecision(6)}) between ${sw.label(i)} and ${sw.label(i + 1)}`;
      }
    }
    return null;
  };
  const gradSign = (sw: Sweep, dir: 1 | -1, what: string): string | null => {
    for (let i = 0; i < sw.rows.length; i++) {
      if (!sw.strict[i]) continue;
      const r = sw.rows[i]!;
      const g = gx[r * k + sw.col]!;
      if (!(dir < 0 ? g < 0 : g > 0)) return `${what}: d loss / d x = ${g.toPrecision(4)} at ${sw.label(i)}`;
    }
    return null;
  };
  const checks: Record<string, Check> = {
    finite: () => {
      for (let r = 0; r < n; r++) if (!isFinite32(L[r]!)) return `loss ${L[r]} at ${grid.describe(r)}`;
      for (let i = 0; i < gx.length; i++) {
        if (!isFinite32(gx[i]!)) return `d loss / d X = ${gx[i]} at ${grid.describe(Math.floor(i / k))}`;
      }
      if (!ev.intermediatesFinite) return `an intermediate value leaves float32 range at ${grid.describe(ev.badRow)}`;
      return null;
    },
  };
  if (mode === 'cls') {
    checks['gt-logit-monotone'] = () => {
      for (const sw of grid.sweeps) {
        const w = checkSweep(sw, -1, 'raising the ground-truth logit');
        if (w) return w;
      }
      return null;
    };
    checks['gradient-direction'] = () => {
      for (const sw of grid.sweeps) {
        for (let i = 0; i < sw.rows.length; i++) {
          if (!sw.strict[i]) continue;
          const r = sw.rows[i]!;
          for (let j = 0; j < k; j++) {
            const g = gx[r * k + j]!;
            if (j === sw.col ? !(g < 0) : !(g > 0)) {
              return `d loss / d x_${j} = ${g.toPrecision(4)} (${j === sw.col ? 'ground truth: must be < 0' : 'other class: must be > 0'}) at ${sw.label(i)}`;
            }
          }
        }
      }
      return null;
    };
  } else {
    checks['positive-decreasing'] = () => {
      for (const sw of grid.decreasing) {
        const w = checkSweep(sw, -1, 'raising a positive logit (below its IoU target)') ?? gradSign(sw, -1, 'positive logit gradient');
        if (w) return w;
      }
      return null;
    };
    checks['negative-increasing'] = () => {
      for (const sw of grid.increasing) {
        const w = checkSweep(sw, 1, 'raising a negative logit') ?? gradSign(sw, 1, 'negative logit gradient');
        if (w) return w;
      }
      return null;
    };
  }
  return checks;
}

function regChecks(prog: FastProgram, coupled: boolean, n: number): Record<string, Check> {
  const full = (regGrid ??= buildRegGrid());
  const grid = {
    ...full,
    paths: full.paths.filter((p) => p.rows[p.rows.length - 1]! < n),
    optimum: full.optimum.filter((o) => o.row < n).map((o) => ({ ...o, others: o.others.filter((r) => r < n) })),
  };
  const ev = evalRows(prog, coupled, prefix(grid.inputs, n), n, 1, null);
  const L = ev.loss;
  const { U: gU, I: gI, E: gE } = ev.grads as { U: Float64Array; I: Float64Array; E: Float64Array };
  const coord = new Float64Array(n * 4);
  const tmp = [0, 0, 0, 0];
  for (let r = 0; r < n; r++) {
    boxIUEGrad(grid.pred.subarray(r * 4, r * 4 + 4), grid.target.subarray(r * 4, r * 4 + 4), gU[r]!, gI[r]!, gE[r]!, tmp);
    coord.set(tmp, r * 4);
  }
  return {
    finite: () => {
      for (let r = 0; r < n; r++) {
        if (!isFinite32(L[r]!)) return `loss ${L[r]} at ${grid.describe(r)}`;
        for (const [name, g] of [
          ['U', gU],
          ['I', gI],
          ['E', gE],
        ] as const) {
          if (!isFinite32(g[r]!)) return `d loss / d ${name} = ${g[r]} at ${grid.describe(r)}`;
        }
        for (let j = 0; j < 4; j++)
          if (!isFinite32(coord[r * 4 + j]!)) return `d loss / d box = ${coord[r * 4 + j]} at ${grid.describe(r)}`;
      }
      if (!ev.intermediatesFinite) return `an intermediate value leaves float32 range at ${grid.describe(ev.badRow)}`;
      return null;
    },
    'iou-monotone': () => {
      for (const p of grid.paths) {
        for (let i = 0; i + 1 < p.rows.length; i++) {
          const ra = p.rows[i]!;
          const rb = p.rows[i + 1]!;
          const a = L[ra]!;
          const b = L[rb]!;
          if (b > a + SLACK * Math.max(1, Math.abs(a))) {
            return `loss rose from ${a.toPrecision(6)} to ${b.toPrecision(6)} (IoU ${grid.iou[ra]!.toPrecision(4)} → ${grid.iou[rb]!.toPrecision(4)}) between ${grid.describe(ra)} and ${grid.describe(rb)}`;
          }
          if (grid.iou[rb]! > grid.iou[ra]! && !(b < a - 1e-12 * Math.max(1, Math.abs(a)))) {
            return `loss not strictly decreasing as IoU rises ${grid.iou[ra]!.toPrecision(4)} → ${grid.iou[rb]!.toPrecision(4)} (loss ${a.toPrecision(6)} then ${b.toPrecision(6)}) between ${grid.describe(ra)} and ${grid.describe(rb)}`;
          }
        }
      }
      return null;
    },
    'minimum-at-overlap': () => {
      for (const o of grid.optimum) {
        const best = L[o.row]!;
        for (const r of o.others) {
          const slack = SLACK * Math.max(1, Math.abs(best));
          if (L[r]! < best - slack)
            return `loss ${L[r]!.toPrecision(6)} below the perfect overlap's ${best.toPrecision(6)} at ${grid.describe(r)}`;
        }
      }
      return null;
    },
    'non-overlap-gradient': () => {
      for (let r = 0; r < n; r++) {
        if (grid.inputs.I[r]! > 0) continue;
        let any = false;
        for (let j = 0; j < 4; j++) if (coord[r * 4 + j] !== 0) any = true;
        if (!any) return `zero gradient with respect to the predicted box at ${grid.describe(r)}`;
      }
      return null;
    },
  };
}

/** The CPV grids' sizes (rows, columns), for documentation and benchmarks. */
export function cpvGridSizes(): Record<Mode, { rows: number; cols: number }> {
  clsGrid ??= buildClsGrid();
  bclsGrid ??= buildBclsGrid();
  regGrid ??= buildRegGrid();
  return { cls: { rows: clsGrid.n, cols: clsGrid.k }, bcls: { rows: bclsGrid.n, cols: bclsGrid.k }, reg: { rows: regGrid.n, cols: 1 } };
}
