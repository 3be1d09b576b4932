import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '../../src/tf.js';
import { numNativeTensors, useTorchBackend } from '../../src/backend/index.js';

// Conv2D's gradient on torch computes the input and filter gradients in one ATen call and hands
// the filter gradient to the Conv2DBackpropFilter kernel that follows; checked against tfjs's cpu
// backend (tfjs-core's own gradient) for both, a filter shared by two convolutions (accumulated
// gradients), the filter alone (input is data) and the input alone (filter is a constant).
const cases: [[number, number, number, number], [number, number, number, number], number, number | 'same' | 'valid'][] = [
  [[2, 9, 9, 3], [3, 3, 3, 4], 1, 1],
  [[2, 8, 8, 4], [3, 3, 4, 5], 2, 'same'], // asymmetric padding
  [[1, 7, 6, 2], [1, 1, 2, 3], 2, 0],
  [[2, 10, 10, 3], [7, 7, 3, 4], 2, 3],
];

function run(): number[][] {
  const out: number[][] = [];
  for (const [xs, ws, s, p] of cases) {
    const x = tf.tensor(
      Array.from({ length: xs.reduce((a, b) => a * b) }, (_, i) => Math.sin(i)),
      xs,
    ) as tf.Tensor4D;
    const w = tf.tensor(
      Array.from({ length: ws.reduce((a, b) => a * b) }, (_, i) => Math.cos(i * 0.7)),
      ws,
    ) as tf.Tensor4D;
    const conv = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, p as 'same');
    const both = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.add(tf.sum(tf.square(conv(a, b))), tf.sum(conv(tf.mul(a, 2), b))))([x, w]);
    const filterOnly = tf.grad((b: tf.Tensor) => tf.sum(tf.square(conv(x, b))))(w);
    const inputOnly = tf.grad((a: tf.Tensor) => tf.sum(tf.square(conv(a, w))))(x);
    for (const t of [...both, filterOnly, inputOnly]) out.push(Array.from(t.dataSync()));
    tf.dispose([x, w, ...both, filterOnly, inputOnly]);
  }
  return out;
}

test('Conv2D gradients (one ATen call for both) match the cpu backend and leak nothing', async () => {
  await tf.setBackend('cpu');
  const ref = run();
  await useTorchBackend();
  run(); // warm-up
  const tensors = tf.memory().numTensors;
  const natives = numNativeTensors();
  const got = run();
  assert.equal(tf.memory().numTensors, tensors, 'tfjs tensors');
  assert.equal(numNativeTensors(), natives, 'native tensors (an unclaimed filter gradient is freed)');
  ref.forEach((r, i) =>
    r.forEach((v, j) =>
      assert.ok(Math.abs(got[i]![j]! - v) <= 1e-4 * Math.max(1, Math.abs(v)), `output ${i} [${j}]: ${got[i]![j]} vs ${v}`),
    ),
  );
});
