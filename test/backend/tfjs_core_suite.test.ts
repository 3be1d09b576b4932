import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const runner = join(dirname(fileURLToPath(import.meta.url)), 'tfjs_core_suite_runner.ts');

test("tfjs-core's own kernel tests pass on the torch backend (exclusions listed with reasons)", () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', runner], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  let summary: { passed: number; failed: number; excluded: number; failures: { name: string; message: string }[] };
  try {
    summary = JSON.parse(last);
  } catch {
    assert.fail(`suite runner printed no summary (exit ${r.status}):\n${r.stderr.slice(-3000)}\n${r.stdout.slice(-3000)}`);
  }
  process.stdout.write(`tfjs-core suite on torch: ${summary.passed} passed, ${summary.failed} failed, ${summary.excluded} excluded\n`);
  assert.deepEqual(summary.failures.slice(0, 20), [], `${summary.failed} tfjs-core tests failed`);
  assert.ok(summary.passed > 3000, `only ${summary.passed} tfjs-core tests ran`);
});
