import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { tf } from '../../src/tf.js';
import { numNativeTensors, useTorchBackend } from '../../src/backend/index.js';
import { makeSmallNet, syntheticBatch } from '../../src/demo/smallnet.js';
import { Rng } from '../../src/util/rng.js';

test('training steps leak neither tfjs tensors nor native tensors nor memory', async () => {
  await useTorchBackend();
  const cfg = { batch: 8, size: 32, channels: [8, 16, 16] as [number, number, number], classes: 10, lr: 0.05, seed: 3 };
  const net = makeSmallNet(cfg);
  const rng = new Rng(5);
  const batches = Array.from({ length: 4 }, () => syntheticBatch(cfg, rng));
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      const b = batches[i % batches.length]!;
      net.step(b.x, b.labels);
    }
  };
  run(30); // warm-up (allocator pools, oneDNN primitive caches)
  const tensors0 = tf.memory().numTensors;
  const native0 = numNativeTensors();
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  run(300);
  global.gc?.();
  const rss1 = process.memoryUsage().rss;
  assert.equal(tf.memory().numTensors, tensors0, 'tfjs tensor count changed');
  assert.equal(numNativeTensors(), native0, 'native tensor count changed');
  // RSS may wobble with the allocator; a leak of one activation per step would add ~100 MB here.
  assert.ok(rss1 - rss0 < 40 * 1024 * 1024, `RSS grew by ${((rss1 - rss0) / 1048576).toFixed(1)} MB over 300 steps`);
  net.dispose();
  for (const b of batches) tf.dispose([b.x, b.labels]);
  // Every native tensor left belongs to a live tfjs tensor: dispose freed the rest.
  assert.equal(numNativeTensors(), tf.engine().backend.numDataIds(), 'native tensors are freed on dispose');
});

test('the loss of the small net falls on the torch backend', async () => {
  await useTorchBackend();
  const cfg = { batch: 16, size: 32, channels: [8, 16, 16] as [number, number, number], classes: 6, lr: 0.1, seed: 4 };
  const net = makeSmallNet(cfg);
  const rng = new Rng(9);
  const losses: number[] = [];
  for (let i = 0; i < 100; i++) {
    const b = syntheticBatch(cfg, rng);
    losses.push(net.step(b.x, b.labels));
    tf.dispose([b.x, b.labels]);
  }
  const first = losses.slice(0, 10).reduce((a, b) => a + b) / 10;
  const last = losses.slice(-10).reduce((a, b) => a + b) / 10;
  assert.ok(Math.abs(first - Math.log(6)) < 0.5, `initial loss ${first} should be near log(6)`);
  assert.ok(last < first * 0.8, `loss did not fall: ${first} -> ${last}`);
  net.dispose();
});

test('training on torch follows the cpu backend step for step', async () => {
  await import('@tensorflow/tfjs-backend-cpu');
  const cfg = { batch: 4, size: 16, channels: [4, 8, 8] as [number, number, number], classes: 5, lr: 0.1, seed: 7 };
  const lossesOn = async (backend: string) => {
    await tf.setBackend(backend);
    const net = makeSmallNet(cfg);
    const rng = new Rng(11);
    const out: number[] = [];
    for (let i = 0; i < 6; i++) {
      const b = syntheticBatch(cfg, rng);
      out.push(net.step(b.x, b.labels));
      tf.dispose([b.x, b.labels]);
    }
    net.dispose();
    return out;
  };
  const cpu = await lossesOn('cpu');
  await useTorchBackend();
  const torch = await lossesOn('torch');
  torch.forEach((l, i) =>
    assert.ok(Math.abs(l - cpu[i]!) < 1e-4 * Math.max(1, Math.abs(cpu[i]!)), `step ${i}: torch ${l} vs cpu ${cpu[i]}`),
  );
});

test('native errors become JS errors with the ATen message; the process lives on', async () => {
  await useTorchBackend();
  const a = tf.ones([2, 3]);
  const b = tf.ones([4, 5]);
  // Bypass tfjs's own shape checks to reach ATen with mismatched shapes.
  assert.throws(
    () => tf.engine().runKernel('BatchMatMul', { a, b }, { transposeA: false, transposeB: false }),
    /mat1 and mat2 shapes cannot be multiplied|size mismatch|shapes cannot be multiplied/,
  );
  assert.throws(
    () => tf.engine().runKernel('Sum', { x: tf.ones([2], 'int32') }, { axis: [5], keepDims: false }),
    /out of range|Dimension out of range/,
  );
  // still alive and correct
  assert.deepEqual(Array.from(tf.add(a, a).dataSync()), [2, 2, 2, 2, 2, 2]);
  tf.dispose([a, b]);
});

test('a kernel the backend lacks is named in the error', async () => {
  await useTorchBackend();
  const x = tf.ones([1, 2, 2, 2, 1]) as tf.Tensor5D;
  assert.throws(
    () => tf.conv3d(x, tf.ones([1, 1, 1, 1, 1]) as tf.Tensor5D, 1, 'valid'),
    /Conv3D.*torch|Kernel 'Conv3D' not registered for backend 'torch'/,
  );
});

test('a tensor used after dispose is an error, not a crash', async () => {
  await useTorchBackend();
  const t = tf.tensor([1, 2, 3]);
  const id = t.dataId;
  t.dispose();
  assert.throws(() => t.dataSync(), /disposed/);
  assert.throws(() => tf.engine().backend.readSync(id), /not found|disposed/);
});

test('unsupported dtypes are refused with a clear error', async () => {
  await useTorchBackend();
  assert.throws(() => tf.tensor(['a', 'b']), /dtype 'string' is not supported/);
});

test('a missing addon or libtorch gives an actionable error', () => {
  const code = `import { useTorchBackend } from './src/backend/index.js'; useTorchBackend().then(() => console.log('loaded'), (e) => { console.log('ERR ' + e.message); });`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    encoding: 'utf8',
    env: { ...process.env, CSE_TORCH_ADDON: '/nonexistent/torch_addon.node' },
  });
  assert.match(r.stdout, /ERR .*addon is not built.*scripts\/setup\.sh/s);
  assert.equal(r.status, 0);
});
