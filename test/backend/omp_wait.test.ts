import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { DEFAULT_GOMP_SPINCOUNT, ompWaitSetting } from '../../src/backend/native.js';

test('OpenMP waiting: a short spin on an idle machine, PASSIVE on a busy one', () => {
  assert.deepEqual(ompWaitSetting({}, 0.2, 2), { name: 'GOMP_SPINCOUNT', value: String(DEFAULT_GOMP_SPINCOUNT) });
  assert.deepEqual(ompWaitSetting({}, 0.99, 2), { name: 'GOMP_SPINCOUNT', value: String(DEFAULT_GOMP_SPINCOUNT) });
  assert.deepEqual(ompWaitSetting({}, 1, 2), { name: 'OMP_WAIT_POLICY', value: 'PASSIVE' });
  assert.deepEqual(ompWaitSetting({}, 5, 16), { name: 'GOMP_SPINCOUNT', value: String(DEFAULT_GOMP_SPINCOUNT) });
  assert.deepEqual(ompWaitSetting({}, 9, 16), { name: 'OMP_WAIT_POLICY', value: 'PASSIVE' });
});

test("OpenMP waiting: the user's OMP_WAIT_POLICY or GOMP_SPINCOUNT stands", () => {
  assert.equal(ompWaitSetting({ OMP_WAIT_POLICY: 'ACTIVE' }, 0, 2), null);
  assert.equal(ompWaitSetting({ GOMP_SPINCOUNT: '1000' }, 5, 2), null);
  // and the addon load leaves it in the environment libgomp reads
  const code =
    "import('./src/backend/index.js').then(async (m) => { await m.useTorchBackend(); console.log(JSON.stringify([process.env.OMP_WAIT_POLICY ?? null, process.env.GOMP_SPINCOUNT ?? null])); })";
  const run = (env: NodeJS.ProcessEnv) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], {
      encoding: 'utf8',
      env: { ...process.env, OMP_WAIT_POLICY: undefined, GOMP_SPINCOUNT: undefined, ...env },
    });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as [string | null, string | null];
  };
  assert.deepEqual(run({ OMP_WAIT_POLICY: 'ACTIVE' }), ['ACTIVE', null]);
  const auto = run({});
  assert.ok(
    (auto[0] === 'PASSIVE' && auto[1] === null) || (auto[0] === null && auto[1] === String(DEFAULT_GOMP_SPINCOUNT)),
    JSON.stringify(auto),
  );
});
