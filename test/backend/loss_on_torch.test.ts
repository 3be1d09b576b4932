/**
 * The loss layer's tfjs wrappers (cls/bcls/reg) on the torch backend against the cpu backend:
 * values and gradients for every preset and for random candidate trees.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '../../src/tf.js';
import { useTorchBackend } from '../../src/backend/index.js';
import { PRESETS, buildBclsLoss, buildClsLoss, buildRegLoss, printOfficial, randomTree } from '../../src/loss/index.js';
import type { Expr, Mode } from '../../src/loss/index.js';
import { Rng } from '../../src/util/rng.js';

const N = 12;
const C = 4;

function inputsFor(mode: Mode, rng: Rng) {
  if (mode === 'reg') {
    const box = () => {
      const x1 = rng.uniform(0, 50);
      const y1 = rng.uniform(0, 50);
      return [x1, y1, x1 + rng.uniform(1, 40), y1 + rng.uniform(1, 40)];
    };
    return {
      pred: Array.from({ length: N }, box),
      target: Array.from({ length: N }, box),
      weights: Array.from({ length: N }, () => rng.uniform(0, 1)),
    };
  }
  const k = mode === 'cls' ? C + 1 : C;
  return {
    logits: Array.from({ length: N }, () => Array.from({ length: k }, () => rng.normal(0, 2))),
    labels: Array.from({ length: N }, () => rng.int(0, C)), // C = background / negative
    iou: Array.from({ length: N }, () => rng.uniform(0.05, 1)),
  };
}

type Data = ReturnType<typeof inputsFor>;

/** Value and gradient; a candidate that does not depend on the predictions has no gradient (grad []). */
function lossAndGrad(mode: Mode, spec: string | Expr, d: Data): { value: number; grad: number[] } {
  try {
    return lossAndGradRaw(mode, spec, d);
  } catch (e) {
    if (!/Cannot compute gradient of y=f\(x\)/.test((e as Error).message)) throw e;
    return { value: lossAndGradRaw(mode, spec, d, false).value, grad: [] };
  }
}

function lossAndGradRaw(mode: Mode, spec: string | Expr, d: Data, withGrad = true): { value: number; grad: number[] } {
  return tf.tidy(() => {
    if (mode === 'reg') {
      const r = d as { pred: number[][]; target: number[][]; weights: number[] };
      const f = buildRegLoss(spec);
      const target = tf.tensor2d(r.target);
      const weights = tf.tensor1d(r.weights);
      const loss = (p: tf.Tensor) => f({ pred: p as tf.Tensor2D, target, weights, avgFactor: 5 });
      if (!withGrad) return { value: loss(tf.tensor2d(r.pred)).dataSync()[0]!, grad: [] };
      const g = tf.valueAndGrad(loss);
      const { value, grad } = g(tf.tensor2d(r.pred));
      return { value: value.dataSync()[0]!, grad: Array.from(grad.dataSync()) };
    }
    const c = d as { logits: number[][]; labels: number[]; iou: number[] };
    const labels = tf.tensor1d(c.labels, 'int32');
    const iou = tf.tensor1d(c.iou);
    const f = mode === 'cls' ? buildClsLoss(spec) : buildBclsLoss(spec);
    const loss = (x: tf.Tensor) => (f as (a: object) => tf.Scalar)({ logits: x, labels, iou, avgFactor: 3 });
    if (!withGrad) return { value: loss(tf.tensor2d(c.logits)).dataSync()[0]!, grad: [] };
    const g = tf.valueAndGrad(loss);
    const { value, grad } = g(tf.tensor2d(c.logits));
    return { value: value.dataSync()[0]!, grad: Array.from(grad.dataSync()) };
  });
}

function near(a: number, b: number, what: string): void {
  if (Number.isNaN(a) && Number.isNaN(b)) return;
  assert.ok(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b)), `${what}: torch ${a} vs cpu ${b}`);
}

test('loss wrappers give the same values and gradients on torch as on cpu', async () => {
  await useTorchBackend();
  const rng = new Rng(17);
  const specs: { mode: Mode; spec: string | Expr; name: string }[] = [];
  for (const [name, p] of Object.entries(PRESETS)) if (!p.fixed) specs.push({ mode: p.mode, spec: name, name });
  for (const mode of ['cls', 'bcls', 'reg'] as const) {
    for (let i = 0; i < 15; i++) {
      const e = randomTree(mode, rng, { maxDepth: 4, maxSize: 14 });
      specs.push({ mode, spec: e, name: printOfficial(e) });
    }
  }
  for (const s of specs) {
    const d = inputsFor(s.mode, rng);
    await tf.setBackend('cpu');
    const ref = lossAndGrad(s.mode, s.spec, d);
    await tf.setBackend('torch');
    const got = lossAndGrad(s.mode, s.spec, d);
    near(got.value, ref.value, `${s.name} value`);
    assert.equal(got.grad.length, ref.grad.length, `${s.name} gradient presence`);
    got.grad.forEach((g, i) => near(g, ref.grad[i]!, `${s.name} grad[${i}]`));
  }
});
