import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/tf.js';
import { useTorchBackend } from '../../src/backend/index.js';
import { native } from '../../src/backend/native.js';

test('the addon times ATen operators by name, and misuse is a JS error', async () => {
  await useTorchBackend();
  const n = native();
  assert.throws(() => n.profileStop(), /not profiling/);
  const x = tf.ones([1, 6, 6, 2]) as tf.Tensor4D;
  const w = tf.ones([3, 3, 2, 4]) as tf.Tensor4D;
  n.profileStart(true);
  assert.throws(() => n.profileStart(), /already profiling/);
  for (let i = 0; i < 3; i++) tf.conv2d(x, w, 1, 'valid').dispose();
  const flat = n.profileStop();
  const rows = new Map<string, [number, number]>();
  for (let i = 0; i < flat.length; i += 3) rows.set(flat[i] as string, [flat[i + 1] as number, flat[i + 2] as number]);
  const conv = rows.get('aten::convolution');
  assert.ok(conv, `aten::convolution among ${[...rows.keys()].join(', ')}`);
  assert.equal(conv[0], 3);
  assert.ok(conv[1] > 0);
  // with parents: the nested call is keyed under its caller
  assert.equal(rows.get('aten::convolution > aten::_convolution')?.[0], 3);
  // stopped: nothing more is counted
  n.profileStart();
  const again = n.profileStop();
  assert.ok(!again.includes('aten::convolution'));
  tf.dispose([x, w]);
});
