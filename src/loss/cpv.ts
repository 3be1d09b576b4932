/**
 * Convergence property verification (CPV): numerical checks, on a fixed grid per mode
 * (cpv_grids.ts), of the properties a usable loss must have. Runs on the fast evaluator
 * (float64, values and gradients), thousands of candidates per second. Each property is documented in
 * docs/SEARCH_SPACE.md; the result names the first fatal property that failed and where.
 *
 * "Finite" means within float32 range (training runs in float32): |v| ≤ 3.4e38 and not NaN.
 */
import type { Expr } from './expr.js';
import { checkExpr, couplesBatch } from './expr.js';
import { compileFast, finite32, runFast, Workspace, type FastProgram } from './fast.js';
import type { ClsMode, Mode } from './primitives.js';
import { boxIUEGrad } from './box_iue.js';
import { clsGridOf, regGridOf, LOGIT_SWEEP, STRICT_RANGE, type Sweep } from './cpv_grids.js';

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

/**
 * Optional properties (off by default, so that the verdicts of existing runs never change).
 * `saturating` (cls, bcls): along a sweep, in the direction that lowers the loss, the loss levels
 * off: between the logits ±30 and ±50 it falls by at most SATURATION_TAIL × its fall over the
 * strict region [-6, 6]. A loss that keeps falling (e.g. linear in the logit: unbounded below)
 * lets training push logits without limit; such losses score well under a short proxy and
 * collapse in a long training (docs/PROXY.md, m2). Fatal, checked after the mode's properties.
 */
export interface CpvOptions {
  saturating?: boolean;
}
export const SATURATION_TAIL = 0.05;

/** The properties checked for a mode under the options, in check order. */
export function cpvProperties(mode: Mode, opts: CpvOptions = {}): readonly { name: string; fatal: boolean }[] {
  const base = CPV_PROPERTIES[mode];
  if (!opts.saturating || mode === 'reg') return base;
  return [...base, { name: 'saturating', fatal: true }];
}

/** Where the saturating check reads the logit sweep (indices into LOGIT_SWEEP; checked once). */
const TAIL_AT = (() => {
  const at = (x: number) => {
    const i = LOGIT_SWEEP.indexOf(x);
    if (i < 0) throw new Error(`cpv: LOGIT_SWEEP lacks ${x}, which the saturating property reads`);
    return i;
  };
  return { m50: at(-50), m30: at(-30), m6: at(-STRICT_RANGE), p6: at(STRICT_RANGE), p30: at(30), p50: at(50) };
})();

/** Relative slack for "never increases" (rounding noise in saturated regions). */
const SLACK = 1e-9;

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
export function convergenceChecks(mode: Mode, e: Expr, opts: CpvOptions = {}): CpvResult {
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
  const full = mode === 'reg' ? regGridOf() : clsGridOf(mode);
  let props: PropertyResult[] = [];
  for (const limit of [full.screenRows, full.n]) {
    const checks = mode === 'reg' ? regChecks(prog, coupled, limit) : clsChecks(mode, prog, coupled, limit);
    props = [];
    for (const { name, fatal } of cpvProperties(mode, opts)) {
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
  const full = clsGridOf(mode);
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
  checks['saturating'] = () => {
    // Sweeps with a strict region (a moderate base). The far end is where training drives the
    // logit: +50 for a positive (whatever its IoU target: a loss with its minimum inside the sweep
    // rises there and passes) and for cls's ground truth, -50 for a negative. The reference fall
    // is over [-6, 6], from the end the logit starts at to the lowest point there (for q < 1 the
    // minimum may lie inside).
    const tail = (sw: Sweep, dir: 1 | -1, what: string): string | null => {
      if (!sw.strict.some(Boolean)) return null;
      const v = (i: number) => L[sw.rows[i]!]!;
      const [near, far, start] = dir < 0 ? [TAIL_AT.p30, TAIL_AT.p50, TAIL_AT.m6] : [TAIL_AT.m30, TAIL_AT.m50, TAIL_AT.p6];
      let lowest = Infinity;
      for (let i = TAIL_AT.m6; i <= TAIL_AT.p6; i++) lowest = Math.min(lowest, v(i));
      const fall = v(start) - lowest;
      const tailFall = v(near) - v(far);
      if (tailFall > SATURATION_TAIL * fall + SLACK * Math.max(1, Math.abs(v(near))))
        return `${what}: the loss still falls by ${tailFall.toPrecision(4)} between ${sw.label(near)} and ${sw.label(far)} (over [-6, 6] it falls by ${fall.toPrecision(4)}; at most ${SATURATION_TAIL} of that): unbounded below`;
      return null;
    };
    for (const sw of grid.decreasing) {
      const w = tail(sw, -1, mode === 'cls' ? 'raising the ground-truth logit' : 'raising a positive logit');
      if (w) return w;
    }
    for (const sw of grid.increasing) {
      const w = tail(sw, 1, 'lowering a negative logit');
      if (w) return w;
    }
    return null;
  };
  return checks;
}

function regChecks(prog: FastProgram, coupled: boolean, n: number): Record<string, Check> {
  const full = regGridOf();
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
