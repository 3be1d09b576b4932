import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProcessPool } from '../../src/search/transport/pool.js';
import { runStage } from '../../src/search/stages/index.js';
import type { StageTask } from '../../src/search/types.js';

const FAULTS = new URL('./fixtures/fault-stage.ts', import.meta.url).href;
const mos = (loss: string): StageTask => ({
  stage: 'mos1',
  mode: 'reg',
  loss,
  seed: 3,
  config: { samples: 32, classes: 4, steps: 60, lr: 0.05 },
});

test('pool: workers give the records the in-process stage gives; CSE_THREADS is set per worker', async () => {
  const pool = new ProcessPool({ workers: 2, threadsPerWorker: 3, stageModule: FAULTS });
  try {
    const losses = ['Sub(1,Div(I,U))', 'Neg(Log(Div(I,U)))', 'Div(I,U)', 'Sub(E,I)'];
    const got = await Promise.all(losses.map((l) => pool.run(mos(l), { timeoutSeconds: 60 })));
    for (let i = 0; i < losses.length; i++) {
      const want = await runStage(mos(losses[i]!));
      assert.equal(got[i]!.status, want.status);
      assert.equal(got[i]!.score, want.score);
    }
    const env = await pool.run({ ...mos('ENV') }, { timeoutSeconds: 30 });
    assert.equal(env.score, 3);
    assert.notEqual(env.metrics.pid, process.pid);
  } finally {
    await pool.close();
  }
});

test('pool: a crashed worker and a hung worker are recorded and replaced; other tasks finish', async () => {
  const pool = new ProcessPool({ workers: 2, threadsPerWorker: 1, stageModule: FAULTS });
  try {
    const [crash, hang, ok1] = await Promise.all([
      pool.run(mos('CRASH'), { timeoutSeconds: 60 }),
      pool.run(mos('HANG'), { timeoutSeconds: 3 }),
      pool.run(mos('Sub(1,Div(I,U))'), { timeoutSeconds: 60 }),
    ]);
    assert.equal(crash.status, 'crashed');
    assert.match(crash.reason!, /exit code 3/);
    assert.equal(hang.status, 'timeout');
    assert.match(hang.reason!, /no result within 3 s/);
    assert.equal(ok1.status, 'ok');
    // The pool keeps working at full size after both losses.
    const after = await Promise.all([pool.run(mos('Div(I,U)'), { timeoutSeconds: 60 }), pool.run(mos('Sub(E,I)'), { timeoutSeconds: 60 })]);
    assert.deepEqual(
      after.map((r) => r.status),
      ['ok', 'ok'],
    );
    // Both dead workers are replaced once their exit is seen.
    for (let i = 0; i < 200 && pool.replaced < 2; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(pool.replaced, 2);
    assert.ok(pool.pids().length <= 2);
  } finally {
    await pool.close();
  }
});
