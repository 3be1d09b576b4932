/**
 * The exported PyTorch module computes what the project computes: every preset and seeded random
 * trees of each mode are exported (`exportPytorch`, the code path of `cse-autoloss export`), run
 * in PyTorch (Debian's python3-torch, one Python process for the whole batch) in float32 and in
 * float64, and `searched_loss`'s values and the gradients of sum(value) with respect to every
 * input are compared with the fast evaluator (src/loss/fast.ts) on the same inputs.
 *
 * Tolerances are relative, per dtype (float32: 1e-4, float64: 1e-9), plus the entry's own
 * rounding sensitivity: the fast evaluator is rerun with every operator node's output multiplied
 * by 1 ± a few units of roundoff of the dtype, and twice the spread of those runs is added to the
 * tolerance. An entry whose spread alone exceeds the tolerance (sin(3·exp(80)) has no meaningful
 * float32 value) is not compared but counted and reported; they must stay under 2 %.
 *
 * Trees whose evaluation leaves the dtype's finite range somewhere (an intermediate, the value or
 * a gradient) on the sampled inputs are compared on the entries finite on both sides; their
 * entries that are non-finite on either side are counted and reported, never skipped silently,
 * and at least two thirds of the random trees of each mode must be compared in full.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Rng } from '../../src/util/rng.js';
import {
  MODES,
  MODE_VARS,
  PRESETS,
  compileFast,
  parseExpr,
  printOfficial,
  randomTree,
  runFast,
  type Expr,
  type Mode,
} from '../../src/loss/index.js';
import { exportPytorch } from '../../src/search/export.js';
import { randomBatch, type Batch } from './helpers.js';

const PYTHON = '/usr/bin/python3';
const RUNNER = fileURLToPath(new URL('./pytorch_export.py', import.meta.url));
const TREES_PER_MODE = 30;
const F32_MAX = 3.4028234663852886e38;

interface DtypeSpec {
  name: 'float32' | 'float64';
  /** Unit roundoff. */
  u: number;
  /** Largest finite value. */
  max: number;
  rtol: number;
  atol: number;
}
const DTYPES: readonly DtypeSpec[] = [
  { name: 'float32', u: 2 ** -24, max: F32_MAX, rtol: 1e-4, atol: 1e-6 },
  { name: 'float64', u: 2 ** -53, max: Number.MAX_VALUE, rtol: 1e-9, atol: 1e-12 },
];

interface Case {
  label: string;
  mode: Mode;
  expr: Expr;
  batch: Batch;
  random: boolean;
}

type Num = number | string;
interface PyOut {
  value: Num[];
  grad: Record<string, Num[]>;
}
interface PyResult {
  torch: string;
  results: Array<Partial<Record<DtypeSpec['name'], PyOut>> & { error?: string }>;
}

function torchMissing(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} not found (${r.error.message})`;
  if (r.status !== 0) return `${PYTHON} cannot import torch (${r.stderr.trim().split('\n').pop()})`;
  return null;
}

/** Float32-representable inputs, so that both sides see the same numbers in either dtype. */
function f32Batch(b: Batch): Batch {
  const inputs: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(b.inputs)) inputs[k] = Float64Array.from(v, Math.fround);
  return { n: b.n, k: b.k, inputs };
}

function buildCases(): Case[] {
  const cases: Case[] = [];
  const rng = new Rng(2026);
  for (const [name, p] of Object.entries(PRESETS)) {
    if (!p.text) continue; // l1, smooth-l1: fixed baselines outside the language (nothing to export)
    cases.push({
      label: `preset ${name}`,
      mode: p.mode,
      expr: parseExpr(p.mode, p.text),
      batch: f32Batch(randomBatch(p.mode, rng, 8, 4)),
      random: false,
    });
  }
  for (const mode of MODES) {
    for (let i = 0; i < TREES_PER_MODE; i++) {
      const expr = randomTree(mode, rng);
      cases.push({ label: `${mode} tree ${i}`, mode, expr, batch: f32Batch(randomBatch(mode, rng, 8, 4)), random: true });
    }
  }
  return cases;
}

/** Output tensors of a fast run: the value, then the gradient of each input. */
function fastTensors(mode: Mode, e: Expr, b: Batch): { tensors: Float64Array[]; intermediates: Float64Array[] } {
  const r = runFast(compileFast(mode, e), b.inputs, b.n, b.k, { grad: true });
  return { tensors: [r.value, ...MODE_VARS[mode].map((v) => r.grads![v]!)], intermediates: r.values };
}

/** The tree with every operator node's output multiplied by a factor (identical subtrees alike). */
function perturbed(e: Expr, factor: (key: string) => number): Expr {
  const walk = (x: Expr): Expr => {
    if (x.kind !== 'op') return x;
    const node: Expr = { kind: 'op', op: x.op, args: x.args.map(walk) };
    return { kind: 'op', op: 'Mul', args: [node, { kind: 'const', value: factor(printOfficial(x)) }] };
  };
  return walk(e);
}

/** Per entry, the largest change of the fast result when intermediates are perturbed by a few roundoffs. */
function sensitivity(c: Case, base: Float64Array[], u: number, rng: Rng): Float64Array[] {
  const spread = base.map((t) => new Float64Array(t.length));
  for (let p = 0; p < 8; p++) {
    const factors = new Map<string, number>();
    const factor = (key: string): number => {
      let f = factors.get(key);
      if (f === undefined) {
        f = 1 + (rng.next() < 0.5 ? -1 : 1) * rng.uniform(1, 4) * u;
        factors.set(key, f);
      }
      return f;
    };
    const { tensors } = fastTensors(c.mode, perturbed(c.expr, factor), c.batch);
    tensors.forEach((t, i) => {
      for (let j = 0; j < t.length; j++) {
        const d = Math.abs(t[j]! - base[i]![j]!);
        spread[i]![j] = Number.isNaN(d) ? Infinity : Math.max(spread[i]![j]!, d);
      }
    });
  }
  return spread;
}

const num = (x: Num): number => (typeof x === 'number' ? x : x === 'nan' ? NaN : x === 'inf' ? Infinity : -Infinity);
const within = (x: number, max: number) => x <= max && x >= -max;

test('exported PyTorch modules match the fast evaluator: values and gradients, every preset and random trees', (t) => {
  const missing = torchMissing();
  if (missing) assert.fail(`PyTorch is required for this test: ${missing}. Run scripts/setup.sh (it installs Debian's python3-torch).`);
  const cases = buildCases();
  const request = {
    dtypes: DTYPES.map((d) => d.name),
    cases: cases.map((c) => ({
      module: exportPytorch(c.mode, printOfficial(c.expr)),
      mode: c.mode,
      vars: MODE_VARS[c.mode],
      n: c.batch.n,
      k: c.batch.k,
      inputs: Object.fromEntries(MODE_VARS[c.mode].map((v) => [v, Array.from(c.batch.inputs[v]!)])),
    })),
  };
  const py = spawnSync(PYTHON, [RUNNER], { input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(py.status, 0, `${RUNNER} failed: ${py.stderr}`);
  const out = JSON.parse(py.stdout) as PyResult;
  assert.equal(out.results.length, cases.length);

  const rng = new Rng(7);
  const failures: string[] = [];
  const partial: Record<string, string[]> = {};
  let illConditioned = 0;
  let compared = 0;
  const fullyCompared: Record<Mode, number> = { cls: 0, bcls: 0, reg: 0 };
  cases.forEach((c, ci) => {
    const res = out.results[ci]!;
    const where = `${c.label} ${printOfficial(c.expr)}`;
    if (res.error) {
      failures.push(`${where}: PyTorch raised ${res.error}`);
      return;
    }
    const fast = fastTensors(c.mode, c.expr, c.batch);
    const names = ['value', ...MODE_VARS[c.mode].map((v) => `d/d${v}`)];
    let full = true;
    for (const dt of DTYPES) {
      const r = res[dt.name]!;
      const torch = [r.value, ...MODE_VARS[c.mode].map((v) => r.grad[v]!)].map((a) => a.map(num));
      const finite = [...fast.intermediates, ...fast.tensors].every((a) => a.every((x) => within(x, dt.max)));
      const spread = sensitivity(c, fast.tensors, dt.u, rng);
      let skipped = 0;
      let disagree = 0;
      fast.tensors.forEach((f, ti) => {
        const tt = torch[ti]!;
        if (tt.length !== f.length) {
          failures.push(`${where} ${dt.name} ${names[ti]}: ${tt.length} entries from PyTorch, ${f.length} from the fast evaluator`);
          return;
        }
        for (let j = 0; j < f.length; j++) {
          const a = f[j]!;
          const b = tt[j]!;
          if (!within(a, dt.max) || !within(b, dt.max)) {
            if (finite) failures.push(`${where} ${dt.name} ${names[ti]}[${j}]: PyTorch ${b}, fast ${a} (all fast values are finite)`);
            skipped++;
            if (within(a, dt.max) !== within(b, dt.max)) disagree++;
            continue;
          }
          const base = dt.rtol * Math.max(Math.abs(a), Math.abs(b)) + dt.atol;
          const sens = spread[ti]![j]!;
          if (!(sens <= base)) {
            // A few roundoffs move this entry by more than the tolerance: it has no value to compare at this precision.
            illConditioned++;
            continue;
          }
          compared++;
          const tol = base + 2 * sens;
          if (!(Math.abs(a - b) <= tol)) {
            failures.push(`${where} ${dt.name} ${names[ti]}[${j}]: PyTorch ${b}, fast ${a} (tolerance ${tol.toExponential(2)})`);
          }
        }
      });
      if (!finite) {
        full = false;
        if (!c.random) failures.push(`${where} ${dt.name}: a preset leaves the finite range on the sampled inputs`);
        (partial[c.mode] ??= []).push(`${c.label} ${dt.name}: ${skipped} entries non-finite (${disagree} on one side only)`);
      }
    }
    if (full && c.random) fullyCompared[c.mode]++;
  });

  t.diagnostic(
    `torch ${out.torch}: ${cases.length} cases; ${compared} finite entries compared, ${illConditioned} ill-conditioned ones not (a few roundoffs move them by more than the tolerance)`,
  );
  for (const mode of MODES) {
    t.diagnostic(
      `${mode}: ${fullyCompared[mode]} of ${TREES_PER_MODE} random trees compared in full; partly non-finite: ${(partial[mode] ?? []).join('; ') || 'none'}`,
    );
  }
  assert.deepEqual(failures, []);
  assert.ok(
    illConditioned <= compared / 50,
    `${illConditioned} ill-conditioned entries, ${compared} compared: the comparison lost its reach`,
  );
  for (const mode of MODES) {
    assert.ok(
      fullyCompared[mode] >= (2 * TREES_PER_MODE) / 3,
      `${mode}: only ${fullyCompared[mode]} of ${TREES_PER_MODE} random trees finite on the sampled inputs`,
    );
  }
});
