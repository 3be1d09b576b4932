/**
 * The search over the queue, end to end through the CLI: `cse-autoloss search --queue` with two
 * `cse-autoloss worker` processes writes the same journal results as the local pool for the same
 * config and seed; killed with kill -9 mid-run and resumed, it adopts the queued jobs (no
 * evaluation runs twice) and still ends with the local pool's results.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Journal } from '../../src/search/journal.js';
import {
  CLI,
  ROOT,
  RedisServer,
  STAND_IN_ENV,
  closed,
  execLog,
  exited,
  haveRedis,
  killAll,
  startWorker,
  tempDir,
  track,
  waitFor,
  workerReady,
} from './helpers.js';

// CPV off and a MOS threshold of 0: most candidates reach the workers (MOS, proxy, final).
const CONFIG = `
mode: cls
seed: 5
population: { size: 24, maxSize: 20, minDepth: 2, maxDepth: 4 }
evolution: { generations: 2, parents: 4, elites: 1 }
cpv: { enabled: false }
mos: { level1: { samples: 16, steps: 20, threshold: 0.0 } }
proxy: { topK: 4, task: { kind: simulated, iters: 30 } }
final: { enabled: true, top: 2, seeds: [0, 1], task: { kind: simulated, iters: 40 } }
`;

function search(args: string[], env: Record<string, string> = {}): { proc: ChildProcess; out: () => string } {
  let out = '';
  const proc = track(
    spawn(process.execPath, [CLI, 'search', '--json-log', '--no-report', ...args], {
      cwd: ROOT,
      env: { ...process.env, CSE_CODE_VERSION: 'test-version', ...STAND_IN_ENV, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { proc, out: () => out };
}

/** Waits for the exit and the end of the output (the tests then match lines of it). */
async function finished(s: { proc: ChildProcess; out: () => string }): Promise<void> {
  const code = await closed(s.proc);
  assert.equal(code, 0, `search failed:\n${s.out().slice(-3000)}`);
}

/** The journal's stage results without timings, in a canonical order. */
function results(runDir: string): string[] {
  const j = Journal.open(runDir, { readonly: true });
  try {
    return j
      .allResults()
      .map((r) => JSON.stringify([r.fingerprint, r.stage, r.key, r.loss, r.status, r.pass, r.score, r.metrics, r.reason]))
      .sort();
  } finally {
    j.close();
  }
}

describe('search --queue', { skip: haveRedis() ? false : 'redis-server is not installed (scripts/setup.sh installs it)' }, () => {
  let redis: RedisServer;
  let dir: string;
  let cfg: string;
  let reference: string[];

  before(async () => {
    dir = tempDir('search');
    cfg = join(dir, 'search.yaml');
    writeFileSync(cfg, CONFIG);
    redis = await RedisServer.start();
    // The reference: the same search on the local process pool.
    await finished(search(['--config', cfg, '--out', join(dir, 'pool'), '--workers', '2']));
    reference = results(join(dir, 'pool'));
  });
  after(killAll);

  test('two queue workers give the local pool journal results', async () => {
    const log = join(dir, 'exec-2w.log');
    const workers = [
      startWorker(redis.url, { env: { CSE_TEST_EXEC_LOG: log } }),
      startWorker(redis.url, { env: { CSE_TEST_EXEC_LOG: log } }),
    ];
    await Promise.all(workers.map(workerReady));
    await finished(search(['--config', cfg, '--out', join(dir, 'queue'), '--queue', redis.url]));
    const got = results(join(dir, 'queue'));
    assert.ok(reference.length > 10, `the reference run has ${reference.length} results`);
    assert.deepEqual(got, reference);
    // Every evaluation but CPV (run by the coordinator) ran once, on one of the two workers.
    const ends = execLog(log).filter((l) => l.what === 'end');
    const pids = new Set(workers.map((w) => w.proc.pid));
    assert.ok(ends.every((l) => pids.has(l.ppid)));
    assert.equal(ends.length, reference.filter((r) => JSON.parse(r)[1] !== 'cpv').length);
    for (const w of workers) w.proc.kill('SIGTERM');
    assert.deepEqual(await Promise.all(workers.map((w) => exited(w.proc))), [0, 0]);
  });

  test('the coordinator killed mid-run and resumed adopts the queued jobs', async (t) => {
    await redis.restart(); // an empty queue: no result of the previous test to adopt
    const log = join(dir, 'exec-resume.log');
    const env = { CSE_TEST_EXEC_LOG: log, CSE_TEST_STAGE_DELAY_MS: '40' };
    const workers = [startWorker(redis.url, { env }), startWorker(redis.url, { env })];
    await Promise.all(workers.map(workerReady));
    const out = join(dir, 'resumed');
    const first = search(['--config', cfg, '--out', out, '--queue', redis.url]);
    await waitFor('a few evaluations', () => execLog(log).filter((l) => l.what === 'end').length >= 12);
    first.proc.kill('SIGKILL');
    await exited(first.proc);
    const partial = results(out).length;
    t.diagnostic(`killed with ${partial} of ${reference.length} results journalled`);
    assert.ok(
      partial < reference.length,
      `killed before the end (${partial} of ${reference.length} results; ${execLog(log).length} log lines, ${reference.filter((r) => JSON.parse(r)[1] !== 'cpv').length} non-CPV)`,
    );
    const second = search(['--resume', '--out', out, '--queue', redis.url]);
    await finished(second);
    assert.match(second.out(), /"type":"start".*"resumed":true/);
    assert.match(second.out(), /queue: jobs of this run are already in the queue/);
    assert.deepEqual(results(out), reference);
    // No evaluation ran twice: the jobs in flight at the kill were adopted, not sent again.
    const ends = execLog(log).filter((l) => l.what === 'end');
    const keys = ends.map((l) => `${l.stage} ${l.loss} ${l.seed}`);
    assert.equal(new Set(keys).size, keys.length, 'an evaluation ran twice');
    assert.equal(ends.length, reference.filter((r) => JSON.parse(r)[1] !== 'cpv').length);
  });
});
