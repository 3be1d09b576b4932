import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '../../src/tf.js';
import { groupNorm, groupNormReference, useTorchBackend } from '../../src/backend/index.js';
import { Rng } from '../../src/util/rng.js';

function run(
  backend: string,
  xs: number[],
  gs: number[],
  bs: number[],
  w: number[],
  shape: [number, number, number, number],
  groups: number,
  fused: boolean,
) {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(xs, shape);
    const g = tf.tensor1d(gs);
    const b = tf.tensor1d(bs);
    const f = (a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(
        tf.mul(
          fused
            ? groupNorm(a as tf.Tensor4D, gg as tf.Tensor1D, bb as tf.Tensor1D, groups)
            : groupNormReference(a as tf.Tensor4D, gg as tf.Tensor1D, bb as tf.Tensor1D, groups),
          tf.tensor4d(w, shape),
        ),
      );
    const y = (fused ? groupNorm(x, g, b, groups) : groupNormReference(x, g, b, groups)).dataSync();
    const grads = tf
      .grads(f)([x, g, b])
      .map((t) => Array.from(t.dataSync()));
    return { y: Array.from(y), grads };
  });
}

test('fused group norm on torch equals the composed reference on cpu (values and gradients)', async () => {
  await useTorchBackend();
  const rng = new Rng(8);
  for (const [shape, groups] of [
    [[2, 5, 3, 8], 4],
    [[1, 4, 4, 6], 3],
    [[3, 2, 7, 4], 1],
  ] as [[number, number, number, number], number][]) {
    const n = shape.reduce((a, b) => a * b, 1);
    const xs = Array.from({ length: n }, () => rng.normal(1, 2));
    const gs = Array.from({ length: shape[3] }, () => rng.uniform(0.5, 1.5));
    const bs = Array.from({ length: shape[3] }, () => rng.normal(0, 1));
    const w = Array.from({ length: n }, () => rng.normal(0, 1));
    const ref = run('cpu', xs, gs, bs, w, shape, groups, false);
    const got = run('torch', xs, gs, bs, w, shape, groups, true);
    got.y.forEach((v, i) => assert.ok(Math.abs(v - ref.y[i]!) < 1e-4, `y[${i}] ${v} vs ${ref.y[i]}`));
    got.grads.forEach((g, k) =>
      g.forEach((v, i) =>
        assert.ok(
          Math.abs(v - ref.grads[k]![i]!) < 2e-4 * Math.max(1, Math.abs(ref.grads[k]![i]!)),
          `grad ${k}[${i}] ${v} vs ${ref.grads[k]![i]}`,
        ),
      ),
    );
  }
  assert.throws(
    () => groupNorm(tf.zeros([1, 2, 2, 6]) as tf.Tensor4D, tf.ones([6]) as tf.Tensor1D, tf.zeros([6]) as tf.Tensor1D, 4),
    /not divisible/,
  );
});

test('fused group norm leaks no tensors across training steps', async () => {
  await useTorchBackend();
  const x = tf.randomNormal([2, 4, 4, 8]) as tf.Tensor4D;
  const g = tf.variable(tf.ones([8]) as tf.Tensor1D);
  const b = tf.variable(tf.zeros([8]) as tf.Tensor1D);
  const opt = tf.train.sgd(0.1);
  const step = () =>
    opt.minimize(() => tf.sum(tf.square(groupNorm(x, g as unknown as tf.Tensor1D, b as unknown as tf.Tensor1D, 2))) as tf.Scalar);
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) step();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, g, b]);
});
