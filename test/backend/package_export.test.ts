import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test("plain node imports 'cse-autoloss/backend' and computes with the torch backend", () => {
  const code = [
    "import { tf } from 'cse-autoloss/tf';",
    "import { useTorchBackend } from 'cse-autoloss/backend';",
    'await useTorchBackend();',
    'const g = tf.grad((x) => tf.sum(tf.square(x)))(tf.tensor([1, 2, 3]));',
    "console.log(tf.getBackend(), Array.from(g.dataSync()).join(','));",
  ].join('\n');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').pop(), 'torch 2,4,6');
});
