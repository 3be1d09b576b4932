import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/tf.js';
import '@tensorflow/tfjs-backend-cpu';
import { Rng } from '../../src/util/rng.js';
import {
  MODE_VARS,
  PRESETS,
  PRIMITIVES,
  compileFast,
  evalTfjs,
  parseExpr,
  printOfficial,
  randomTree,
  runFast,
  variablesOf,
  type Expr,
  type Mode,
} from '../../src/loss/index.js';
import { close, randomBatch } from './helpers.js';

before(async () => {
  await tf.setBackend('cpu');
});

function fastEval(mode: Mode, e: Expr, b: ReturnType<typeof randomBatch>) {
  return runFast(compileFast(mode, e), b.inputs, b.n, b.k, { grad: true });
}

/** Values and gradients of sum(output) on the tfjs cpu backend (float32). */
function tfjsEval(mode: Mode, e: Expr, b: ReturnType<typeof randomBatch>) {
  const names = MODE_VARS[mode];
  const shape = mode === 'reg' ? [b.n] : [b.n, b.k];
  const used = names.filter((nm) => variablesOf(e).has(nm));
  const out = tf.tidy(() => {
    const ts = names.map((nm) => tf.tensor(Array.from(b.inputs[nm]!), shape, 'float32'));
    const byName = Object.fromEntries(names.map((nm, i) => [nm, ts[i]!]));
    const value = evalTfjs(mode, e, byName);
    const f = (...xs: tf.Tensor[]) => tf.sum(evalTfjs(mode, e, { ...byName, ...Object.fromEntries(used.map((nm, i) => [nm, xs[i]!])) }));
    return [value, ...(used.length ? tf.grads(f)(used.map((nm) => byName[nm]!)) : [])];
  });
  const [value, ...gs] = out.map((t) => Float64Array.from(t.dataSync()));
  tf.dispose(out);
  const len = b.inputs[names[0]!]!.length;
  return {
    value: value!,
    grads: Object.fromEntries(names.map((nm) => [nm, used.includes(nm) ? gs[used.indexOf(nm)]! : new Float64Array(len)])),
  };
}

test('closed forms of the primitives (fast evaluator)', () => {
  const xs = [-30, -7, -2.5, -1, -0.3, 0, 0.4, 1, 2, 6.5, 19.5, 20.5, 40, 90, 100];
  const one = (name: string, x: number) => {
    const e = parseExpr('cls', `${name}(X)`);
    return runFast(compileFast('cls', e), { X: Float64Array.of(x), Y: new Float64Array(1), Z: new Float64Array(1) }, 1, 1).value[0]!;
  };
  for (const x of xs) {
    assert.ok(close(one('Exp', x), Math.exp(Math.min(x, 88)), 1e-14, 0));
    assert.ok(close(one('Log', Math.abs(x)), Math.log(Math.abs(x) + 1e-20), 1e-14, 0));
    assert.ok(close(one('Softplus', x), x > 20 ? x : Math.log(1 + Math.exp(x)), 1e-12, 1e-15), `softplus ${x}`);
    assert.ok(close(one('Sig', x), 1 / (1 + Math.exp(-x)), 1e-14, 1e-300));
    // Gudermannian via atan(sinh(t)), an identity independent of the 2·atan(tanh(t/2)) form.
    assert.ok(close(one('Sgdf', x), ((Math.atan(Math.sinh((x * Math.PI) / 4)) * 2) / Math.PI + 1) / 2, 1e-12, 1e-15));
    assert.ok(close(one('Salf', x), (x / 2 / Math.sqrt(1 + (x * x) / 4) + 1) / 2, 1e-14, 1e-15));
    assert.ok(close(one('Relu', x), Math.max(x, 0), 0, 0));
    assert.ok(close(one('Abs', x), Math.abs(x), 0, 0));
  }
  // erf reference values: erf(0.5), erf(1), erf(2), erf(-1.5).
  const serf = (x: number) => one('Serf', (4 * x) / Math.sqrt(Math.PI)) * 2 - 1;
  assert.ok(close(serf(0.5), 0.5204998778130465, 1e-14, 0));
  assert.ok(close(serf(1), 0.8427007929497149, 1e-14, 0));
  assert.ok(close(serf(2), 0.9953222650189527, 1e-14, 0));
  assert.ok(close(serf(-1.5), -0.9661051464753108, 1e-14, 0));
  assert.ok(Number.isNaN(one('Sqrt', -1)));
});

test('every primitive: fast derivative agrees with central finite differences', () => {
  const rng = new Rng(7);
  for (const p of PRIMITIVES) {
    const mode: Mode = p.modes.includes('cls') ? 'cls' : 'reg';
    const text = p.arity === 1 ? `${p.name}(X)` : `${p.name}(X,Y)`;
    const e = parseExpr('cls', p.name === 'Sqrt' || p.name === 'Log' ? `${p.name}(Exp(X))` : text.replace('Y', 'Sig(Z)'));
    void mode;
    const n = 6;
    const k = 3;
    const X = Float64Array.from({ length: n * k }, () => rng.normal(0, 1.5));
    const Z = Float64Array.from({ length: n * k }, () => rng.normal(0, 1.5));
    const Y = new Float64Array(n * k);
    const prog = compileFast('cls', e);
    const run = runFast(prog, { X, Y, Z }, n, k, { grad: true });
    const sum = (x: Float64Array, z: Float64Array) => runFast(prog, { X: x, Y, Z: z }, n, k).value.reduce((s, v) => s + v, 0);
    for (const [name, buf] of [
      ['X', X],
      ['Z', Z],
    ] as const) {
      for (let i = 0; i < buf.length; i++) {
        const h = 1e-6;
        const a = Float64Array.from(buf);
        const b = Float64Array.from(buf);
        a[i]! += h;
        b[i]! -= h;
        const fd = name === 'X' ? (sum(a, Z) - sum(b, Z)) / (2 * h) : (sum(X, a) - sum(X, b)) / (2 * h);
        const g = run.grads![name]![i]!;
        assert.ok(close(g, fd, 1e-5, 1e-6), `${printOfficial(e)} d/d${name}[${i}]: ${g} vs ${fd}`);
      }
    }
  }
});

test('fast evaluator agrees with the tfjs evaluator (cpu backend) on the presets and random trees', () => {
  const rng = new Rng(11);
  for (const [name, p] of Object.entries(PRESETS)) {
    if (!p.text) continue;
    const e = parseExpr(p.mode, p.text);
    for (let rep = 0; rep < 3; rep++) {
      const b = randomBatch(p.mode, rng);
      const f = fastEval(p.mode, e, b);
      const t = tfjsEval(p.mode, e, b);
      f.value.forEach((v, i) => assert.ok(close(v, t.value[i]!, 1e-4, 1e-5), `${name} value ${v} vs ${t.value[i]}`));
      for (const nm of MODE_VARS[p.mode]) {
        f.grads![nm]!.forEach((g, i) =>
          assert.ok(close(g, t.grads[nm]![i]!, 1e-3, 1e-4), `${name} grad ${nm}[${i}] ${g} vs ${t.grads[nm]![i]}`),
        );
      }
    }
  }
  // Random trees: float32 vs float64 can legitimately drift (cancellation); require near-total agreement.
  for (const mode of ['cls', 'bcls', 'reg'] as const) {
    let compared = 0;
    let agreed = 0;
    for (let i = 0; i < 120; i++) {
      const e = randomTree(mode, rng, { maxDepth: 4, maxSize: 30 });
      const b = randomBatch(mode, rng);
      const f = fastEval(mode, e, b);
      const vals = [...f.value, ...MODE_VARS[mode].flatMap((nm) => [...f.grads![nm]!])];
      if (!vals.every((v) => Number.isFinite(v) && Math.abs(v) < 1e4)) continue;
      const t = tfjsEval(mode, e, b);
      const tv = [...t.value, ...MODE_VARS[mode].flatMap((nm) => [...t.grads[nm]!])];
      compared++;
      if (vals.length === tv.length && vals.every((v, j) => close(v, tv[j]!, 2e-3, 2e-3))) agreed++;
    }
    assert.ok(compared >= 40, `${mode}: only ${compared} comparable trees`);
    assert.ok(agreed / compared >= 0.95, `${mode}: ${agreed}/${compared} random trees agree`);
  }
});

test('fast gradients agree with finite differences on random trees', () => {
  const rng = new Rng(12);
  for (const mode of ['cls', 'bcls', 'reg'] as const) {
    let compared = 0;
    let agreed = 0;
    for (let i = 0; i < 100; i++) {
      const e = randomTree(mode, rng, { maxDepth: 4, maxSize: 30 });
      const b = randomBatch(mode, rng, 3, 3);
      const prog = compileFast(mode, e);
      const run = runFast(prog, b.inputs, b.n, b.k, { grad: true });
      const name = mode === 'reg' ? 'I' : 'X';
      const base = b.inputs[name]!;
      const g = run.grads![name]!;
      if (![...run.value, ...g].every((v) => Number.isFinite(v) && Math.abs(v) < 1e4)) continue;
      compared++;
      let ok = true;
      for (let j = 0; j < base.length; j++) {
        const h = 1e-6 * Math.max(1, Math.abs(base[j]!));
        const plus = Float64Array.from(base);
        const minus = Float64Array.from(base);
        plus[j]! += h;
        minus[j]! -= h;
        const s = (x: Float64Array) => runFast(prog, { ...b.inputs, [name]: x }, b.n, b.k).value.reduce((a, v) => a + v, 0);
        const fd = (s(plus) - s(minus)) / (2 * h);
        if (!close(g[j]!, fd, 1e-4, 1e-5)) ok = false;
      }
      if (ok) agreed++;
    }
    assert.ok(compared >= 40, `${mode}: only ${compared} comparable trees`);
    assert.ok(agreed / compared >= 0.95, `${mode}: ${agreed}/${compared} trees agree with finite differences`);
  }
});

test('masked gradients follow torch: Relu and the Exp clamp select, no inf·0 = NaN', () => {
  const e = parseExpr('cls', 'Sqrt(Relu(X))');
  const b = { X: Float64Array.of(-1, 4), Y: new Float64Array(2), Z: new Float64Array(2) };
  const f = runFast(compileFast('cls', e), b, 1, 2, { grad: true });
  assert.deepEqual(Array.from(f.grads!.X!), [0, 0.25]);
  const t = tf.tidy(() => {
    const x = tf.tensor2d([[-1, 4]]);
    return Array.from(
      tf
        .grad((x: tf.Tensor) => tf.sum(evalTfjs('cls', e, { X: x, Y: x, Z: x })))(x)
        .dataSync(),
    );
  });
  assert.deepEqual(t, [0, 0.25]);
  const ex = parseExpr('cls', 'Exp(X)');
  const g = tf.tidy(() =>
    Array.from(
      tf
        .grad((x: tf.Tensor) => tf.sum(evalTfjs('cls', ex, { X: x, Y: x, Z: x })))(tf.tensor2d([[100, 1]]))
        .dataSync(),
    ),
  );
  assert.equal(g[0], 0);
  assert.ok(close(g[1]!, Math.E, 1e-6, 0));
});

test('Dot: [N, K] → [N]; a [N] product sums to a scalar; shapes of the output', () => {
  const e = parseExpr('cls', 'Dot(Dot(Y,X),Dot(Y,X))');
  const prog = compileFast('cls', e);
  assert.equal(prog.shape, 'S');
  const X = Float64Array.of(1, 2, 3, 4);
  const Y = Float64Array.of(0, 1, 1, 0);
  const r = runFast(prog, { X, Y, Z: Y }, 2, 2, { grad: true });
  assert.equal(r.value[0], 2 * 2 + 3 * 3);
  assert.deepEqual(Array.from(r.grads!.X!), [0, 4, 6, 0]);
});
