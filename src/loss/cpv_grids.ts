/**
 * The grids on which CPV (cpv.ts) checks a loss: per mode, the input rows (logits, targets or
 * box parts) ordered into sweeps along which the loss must improve, the rows checked first
 * (screenRows) and a description of each row for the failure message. Built once, on first use.
 */
import { boxIUE, type Box } from './box_iue.js';
import type { ClsMode, Mode } from './primitives.js';

/** Logit sweep shared by the classification grids (ascending). */
export const LOGIT_SWEEP: readonly number[] = [-50, -30, -20, -12, -8, -6, -4, -3, -2, -1, -0.5, 0, 0.5, 1, 2, 3, 4, 6, 8, 12, 20, 30, 50];
/** Strict monotonicity and gradient signs are required where the swept logit lies in this range (and the base is moderate). */
export const STRICT_RANGE = 6;

export interface Sweep {
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

export interface ClsGrid {
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

export interface RegPath {
  rows: number[];
  label: string;
}
export interface RegGrid {
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

/** The grid of a classification mode (built on first use). */
export function clsGridOf(mode: ClsMode): ClsGrid {
  return mode === 'cls' ? (clsGrid ??= buildClsGrid()) : (bclsGrid ??= buildBclsGrid());
}

/** The regression grid (built on first use). */
export function regGridOf(): RegGrid {
  return (regGrid ??= buildRegGrid());
}

/** The CPV grids' sizes (rows, columns), for documentation and benchmarks. */
export function cpvGridSizes(): Record<Mode, { rows: number; cols: number }> {
  const [cls, bcls, reg] = [clsGridOf('cls'), clsGridOf('bcls'), regGridOf()];
  return { cls: { rows: cls.n, cols: cls.k }, bcls: { rows: bcls.n, cols: bcls.k }, reg: { rows: reg.n, cols: 1 } };
}
