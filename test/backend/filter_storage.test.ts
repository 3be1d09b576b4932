import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '../../src/tf.js';
import { convFilterStorage, groupNorm, groupNormReference, useTorchBackend } from '../../src/backend/index.js';
import { fusedMomentumStep } from '../../src/backend/fused_sgd.js';
import { Rng } from '../../src/util/rng.js';

const close = (got: ArrayLike<number>, ref: ArrayLike<number>, tol: number, what: string) => {
  assert.equal(got.length, ref.length, what);
  for (let i = 0; i < ref.length; i++)
    assert.ok(Math.abs(got[i]! - ref[i]!) <= tol * Math.max(1, Math.abs(ref[i]!)), `${what}[${i}]: ${got[i]} vs ${ref[i]}`);
};

test('convFilterStorage keeps values and shape (torch and cpu)', async () => {
  const rng = new Rng(3);
  const vals = Array.from({ length: 3 * 3 * 4 * 5 }, () => rng.normal(0, 1));
  for (const backend of ['torch', 'cpu']) {
    if (backend === 'torch') await useTorchBackend();
    else await tf.setBackend('cpu');
    const w = tf.tensor4d(vals, [3, 3, 4, 5]);
    const s = convFilterStorage(w);
    assert.deepEqual(s.shape, [3, 3, 4, 5]);
    assert.deepEqual(Array.from(s.dataSync()), Array.from(w.dataSync()));
    assert.throws(() => convFilterStorage(tf.zeros([2, 2]) as unknown as tf.Tensor4D), /4-D filter/);
    tf.dispose([w, s]);
  }
});

// conv → group norm → relu → conv (stride 2) → group norm → weighted sum: on torch the filters are
// stored OIHW and the second conv's output gradient arrives NCHW-stored from the group-norm
// backward; the reference is tfjs's cpu backend with the composed group norm.
function chain(backend: 'torch' | 'cpu', xs: number[], w1s: number[], w2s: number[], rs: number[]) {
  const torch = backend === 'torch';
  return tf.tidy(() => {
    const x = tf.tensor4d(xs, [2, 9, 9, 3]);
    const w1 = torch ? convFilterStorage(tf.tensor4d(w1s, [3, 3, 3, 8])) : tf.tensor4d(w1s, [3, 3, 3, 8]);
    const w2 = torch ? convFilterStorage(tf.tensor4d(w2s, [3, 3, 8, 6])) : tf.tensor4d(w2s, [3, 3, 8, 6]);
    const gn = (t: tf.Tensor4D, c: number) =>
      (torch ? groupNorm : groupNormReference)(t, tf.ones([c]) as tf.Tensor1D, tf.zeros([c]) as tf.Tensor1D, 2);
    const f = (a: tf.Tensor, b1: tf.Tensor, b2: tf.Tensor) => {
      const h = tf.relu(gn(tf.conv2d(a as tf.Tensor4D, b1 as tf.Tensor4D, 1, 1), 8));
      const y = gn(tf.conv2d(h as tf.Tensor4D, b2 as tf.Tensor4D, 2, 1), 6);
      return tf.sum(tf.mul(y, tf.tensor4d(rs, y.shape)));
    };
    return tf
      .grads(f)([x, w1, w2])
      .map((g) => Array.from(g.dataSync()));
  });
}

test('convolutions with OIHW-stored filters and NCHW-stored output gradients match the cpu backend', async () => {
  const rng = new Rng(5);
  const xs = Array.from({ length: 2 * 9 * 9 * 3 }, () => rng.normal(0, 1));
  const w1s = Array.from({ length: 3 * 3 * 3 * 8 }, () => rng.normal(0, 0.3));
  const w2s = Array.from({ length: 3 * 3 * 8 * 6 }, () => rng.normal(0, 0.3));
  const rs = Array.from({ length: 2 * 5 * 5 * 6 }, () => rng.normal(0, 1));
  await tf.setBackend('cpu');
  const ref = chain('cpu', xs, w1s, w2s, rs);
  await useTorchBackend();
  const got = chain('torch', xs, w1s, w2s, rs);
  ['dx', 'dw1', 'dw2'].forEach((name, k) => close(got[k]!, ref[k]!, 2e-3, name));
});

test('the fused SGD step updates OIHW-stored filters exactly as contiguous ones', async () => {
  await useTorchBackend();
  const rng = new Rng(9);
  const w0 = Array.from({ length: 3 * 3 * 4 * 5 }, () => rng.normal(0, 1));
  const gs = [0, 1].map(() => Array.from({ length: w0.length }, () => rng.normal(0, 1)));
  const run = (stored: boolean) => {
    const init = tf.tensor4d(w0, [3, 3, 4, 5]);
    const start = stored ? convFilterStorage(init) : tf.tensor4d(w0, [3, 3, 4, 5]);
    const v = tf.variable(start, true, stored ? 'w_stored' : 'w_plain');
    start.dispose(); // the variable owns its data alone, as ParamStore's do
    const opt = tf.train.momentum(0.1, 0.9);
    for (const g of gs) {
      const grad = tf.tensor4d(g, [3, 3, 4, 5]);
      const norm = fusedMomentumStep(opt, [v], { [v.name]: grad }, { lr: 0.1, momentum: 0.9, weightDecay: 1e-4, gradClip: 35 });
      assert.notEqual(norm, null, 'the fused path applies');
      grad.dispose();
    }
    const out = Array.from(v.dataSync());
    tf.dispose([init, v]);
    opt.dispose();
    return out;
  };
  close(run(true), run(false), 1e-6, 'weights');
});
