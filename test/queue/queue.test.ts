/**
 * The queue transport and worker against a real redis-server (started here on a free loopback
 * port, stopped at the end): faults and refusals. Each test uses its own queue name; the Redis
 * restart tests use their own server. Stage work is the stand-in module (fixtures/stand-in-stage.ts),
 * loaded by the worker processes' stage workers through fixtures/stand-in-hook.mjs (STAND_IN_ENV).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import {
  KEY_PREFIX,
  QueueTransport,
  QueueUnavailableError,
  hashDataset,
  redisOptions,
  parseQueueUrl,
  type QueueTransportOptions,
} from '../../src/queue/index.js';
import type { StageTask } from '../../src/search/types.js';
import { sleepScore } from './fixtures/stand-in-stage.js';
import {
  CLI,
  ROOT,
  RedisServer,
  closed,
  execLog,
  exited,
  freePort,
  haveRedis,
  killAll,
  startWorker,
  tempDir,
  track,
  waitFor,
  workerReady,
} from './helpers.js';

const VERSION = { protocol: 1, code: 'test-version', config: 'test-version' };
const MOS = { samples: 4, classes: 2, steps: 2, lr: 0.1 };

function sleepTask(ms: number, seed: number): StageTask {
  return { stage: 'mos1', mode: 'cls', loss: `SLEEP:${ms}`, seed, config: MOS };
}

async function open(
  url: string,
  queueName: string,
  extra: Partial<QueueTransportOptions> = {},
): Promise<{ t: QueueTransport; notices: string[] }> {
  const notices: string[] = [];
  const t = await QueueTransport.open({
    url,
    queueName,
    version: VERSION,
    reconcileSeconds: 1,
    onNotice: (m) => notices.push(m),
    ...extra,
  });
  return { t, notices };
}

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  let out = '';
  const p = track(
    spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, CSE_CODE_VERSION: 'test-version', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return closed(p).then((code) => ({ code, out }));
}

describe(
  'queue transport and worker',
  { skip: haveRedis() ? false : 'redis-server is not installed (scripts/setup.sh installs it)' },
  () => {
    let redis: RedisServer;
    let dir: string;
    const transports: QueueTransport[] = [];
    before(async () => {
      redis = await RedisServer.start();
      dir = tempDir('queue');
    });
    after(async () => {
      await Promise.all(transports.map((t) => t.close()));
      await killAll();
    });

    test('Redis unreachable at start: a clear error naming the address, from the API and both commands', async () => {
      const port = await freePort();
      const url = `redis://127.0.0.1:${port}/0`;
      await assert.rejects(QueueTransport.open({ url, version: VERSION }), (e: Error) => {
        assert.ok(e instanceof QueueUnavailableError);
        assert.match(e.message, new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${port}/0: connect ECONNREFUSED`));
        return true;
      });
      const [w, s] = await Promise.all([
        cli(['worker', '--queue', url]),
        cli(['search', '--demo', '--out', join(dir, 'unreachable'), '--queue', url, '--no-report']),
      ]);
      assert.equal(w.code, 1);
      assert.match(w.out, /error: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/0: connect ECONNREFUSED/);
      assert.equal(s.code, 2);
      assert.match(s.out, /error: --queue: cannot reach Redis/);
      const bad = await cli(['worker', '--queue', `redis://127.0.0.1:${port}/x`]);
      assert.equal(bad.code, 2);
      assert.match(bad.out, /the database '\/x' is not a database number/);
    });

    test('a worker killed mid-job (kill -9): the job finishes on another worker and is counted once', async () => {
      const log = join(dir, 'kill.log');
      const q = 'kill';
      const workers = [
        startWorker(redis.url, { args: ['--queue-name', q], env: { CSE_TEST_EXEC_LOG: log } }),
        startWorker(redis.url, { args: ['--queue-name', q], env: { CSE_TEST_EXEC_LOG: log } }),
      ];
      await Promise.all(workers.map(workerReady));
      const { t } = await open(redis.url, q);
      transports.push(t);
      const tasks = [sleepTask(2000, 1), sleepTask(20, 2), sleepTask(20, 3), sleepTask(20, 4)];
      const runs = tasks.map((task) => t.run(task, { timeoutSeconds: 30 }));
      const long = (await waitFor('the long job to start', () => execLog(log).find((l) => l.loss === 'SLEEP:2000' && l.what === 'start')))!;
      const victim = workers.find((w) => w.proc.pid === long.ppid)!;
      assert.ok(victim, 'the long job runs on one of the two workers');
      victim.proc.kill('SIGKILL');
      const records = await Promise.all(runs);
      assert.deepEqual(
        records.map((r) => [r.status, r.score]),
        tasks.map((task) => ['ok', sleepScore(task.loss, task.seed)]),
      );
      const lines = execLog(log).filter((l) => l.loss === 'SLEEP:2000');
      assert.equal(lines.filter((l) => l.what === 'start').length, 2, 'started on the killed worker, then on the other');
      const ends = lines.filter((l) => l.what === 'end');
      assert.equal(ends.length, 1);
      assert.notEqual(ends[0]!.ppid, victim.proc.pid);
      assert.equal(t.stats.completed, tasks.length);
      assert.equal(t.inFlight, 0);
      const survivor = workers.find((w) => w !== victim)!;
      assert.match(survivor.output(), /its worker was lost; put back in the queue/);
    });

    test('a job whose workers keep dying is recorded crashed once the stalled limit is reached, not retried forever', async () => {
      const log = join(dir, 'stalled.log');
      const q = 'stalled';
      const args = ['--queue-name', q, '--max-stalled', '0'];
      const first = startWorker(redis.url, { args, env: { CSE_TEST_EXEC_LOG: log } });
      await workerReady(first);
      const { t } = await open(redis.url, q);
      transports.push(t);
      const run = t.run(sleepTask(3000, 7), { timeoutSeconds: 30 });
      await waitFor('the job to start', () => execLog(log).some((l) => l.what === 'start'));
      first.proc.kill('SIGKILL');
      const checker = startWorker(redis.url, { args, env: { CSE_TEST_EXEC_LOG: log } });
      const r = await run;
      assert.equal(r.status, 'crashed');
      assert.match(r.reason ?? '', /workers running this job were lost .*stalled more than allowable limit/);
      assert.equal(execLog(log).filter((l) => l.what === 'start').length, 1, 'not run again past the limit');
      assert.equal(t.stats.failed, 1);
      checker.proc.kill('SIGTERM');
      await exited(checker.proc);
    });

    test('bounded attempts: a crashing stage is recorded crashed after 2 attempts; a transient crash is retried once', async () => {
      const log = join(dir, 'crash.log');
      const q = 'crash';
      const w = startWorker(redis.url, { args: ['--queue-name', q], env: { CSE_TEST_EXEC_LOG: log, CSE_TEST_DIR: dir } });
      await workerReady(w);
      const { t } = await open(redis.url, q);
      transports.push(t);
      const [crash, once, nonFinite] = await Promise.all([
        t.run({ stage: 'proxy', mode: 'cls', loss: 'CRASH', seed: 0, config: { kind: 'simulated' } as never }, { timeoutSeconds: 30 }),
        t.run(
          { stage: 'proxy', mode: 'cls', loss: 'CRASH_ONCE:a', seed: 0, config: { kind: 'simulated' } as never },
          { timeoutSeconds: 30 },
        ),
        t.run({ stage: 'mos1', mode: 'cls', loss: 'NONFINITE', seed: 0, config: MOS }, { timeoutSeconds: 30 }),
      ] as const);
      assert.equal(crash.status, 'crashed');
      assert.match(crash.reason ?? '', /exit code 3/);
      assert.equal(execLog(log).filter((l) => l.loss === 'CRASH').length, 2, 'two attempts, then recorded');
      assert.equal(once.status, 'ok');
      assert.equal(once.score, 0.5);
      // NaN and ±Infinity survive the JSON of the queue.
      assert.equal(nonFinite.status, 'diverged');
      assert.ok(Number.isNaN(nonFinite.score));
      assert.deepEqual(nonFinite.metrics, { up: Infinity, down: -Infinity, fine: 1.5 });
      assert.equal(w.proc.exitCode, null, 'the worker survives its stage processes');
    });

    test('invalid payloads: refused before submitting, and failed at once (naming the field) by a worker', async () => {
      const q = 'payload';
      const w = startWorker(redis.url, { args: ['--queue-name', q] });
      await workerReady(w);
      const { t } = await open(redis.url, q);
      transports.push(t);
      const bad = await t.run({ stage: 'mos1', mode: 'cls', loss: 'SLEEP:1', seed: -1, config: MOS }, { timeoutSeconds: 5 });
      assert.equal(bad.status, 'error');
      assert.match(bad.reason ?? '', /invalid job payload: task\.seed: Number must be greater than or equal to 0/);
      const noConfig = await t.run({ stage: 'proxy', mode: 'cls', loss: 'x', seed: 1 } as unknown as StageTask, { timeoutSeconds: 5 });
      assert.match(noConfig.reason ?? '', /task\.config: required for stage 'proxy'/);
      // A foreign job in the queue: failed by the worker without running, nothing retried, the worker goes on.
      const queue = new Queue(q, { connection: redisOptions(parseQueueUrl(redis.url)), prefix: KEY_PREFIX });
      try {
        await queue.add('stage', { protocol: 1, code: 'test-version', task: { stage: 'mos1' } }, { jobId: 'foreign-1', attempts: 3 });
        const job = (await waitFor('the foreign job to fail', async () => {
          const j = await queue.getJob('foreign-1');
          return j && (await j.getState()) === 'failed' ? j : null;
        }))!;
        assert.match(job.failedReason, /invalid job payload: .*config: Required.*task\.mode: Required/);
        assert.equal(job.attemptsMade, 1);
      } finally {
        await queue.close();
      }
      const good = await t.run(sleepTask(1, 9), { timeoutSeconds: 5 });
      assert.equal(good.score, sleepScore('SLEEP:1', 9));
      // Nothing was queued for the two refused tasks.
      assert.equal(t.stats.submitted, 1);
    });

    test('a worker of another version refuses (naming both versions) and the job waits for a matching worker', async () => {
      const q = 'version';
      const { t, notices } = await open(redis.url, q);
      transports.push(t);
      const run = t.run(sleepTask(1, 5), { timeoutSeconds: 10 });
      const old = startWorker(redis.url, { args: ['--queue-name', q], env: { CSE_CODE_VERSION: 'other-version' } });
      assert.equal(await closed(old.proc), 3);
      assert.match(
        old.output(),
        /refused job mos1-[0-9a-f]+: the job was made by code version test-version, this worker runs code version other-version/,
      );
      await waitFor('the refusal notice', () => notices.some((n) => /refused job .*\(the job waits for another worker\)/.test(n)));
      const good = startWorker(redis.url, { args: ['--queue-name', q] });
      const r = await run;
      assert.equal(r.score, sleepScore('SLEEP:1', 5));
      good.proc.kill('SIGTERM');
      assert.equal(await exited(good.proc), 0);
    });

    test('a worker with another dataset refuses, naming both content hashes; the right dataset runs it', async () => {
      const q = 'dataset';
      const data = join(dir, 'dataset');
      const { mkdirSync } = await import('node:fs');
      mkdirSync(join(data, 'images'), { recursive: true });
      writeFileSync(join(data, 'annotations.json'), '{"images": []}');
      writeFileSync(join(data, 'images', 'a.png'), 'pixels');
      const theirs = await hashDataset(data);
      const { t } = await open(redis.url, q);
      transports.push(t);
      const task: StageTask = {
        stage: 'proxy',
        mode: 'cls',
        loss: 'SLEEP:1',
        seed: 3,
        config: { kind: 'detector', dataDir: data } as never,
      };
      const run = t.run(task, { timeoutSeconds: 10 });
      await waitFor('the job to be queued', () => t.stats.submitted === 1);
      writeFileSync(join(data, 'images', 'a.png'), 'other pixels');
      const mine = await hashDataset(data);
      assert.notEqual(mine, theirs);
      const wrong = startWorker(redis.url, { args: ['--queue-name', q] });
      assert.equal(await closed(wrong.proc), 3);
      assert.ok(
        wrong.output().includes(`needs dataset ${data} with content hash ${theirs}, but this worker's ${data} has content hash ${mine}`),
        wrong.output(),
      );
      writeFileSync(join(data, 'images', 'a.png'), 'pixels'); // the same content again (a new mtime: the hash is of the content)
      const right = startWorker(redis.url, { args: ['--queue-name', q] });
      const r = await run;
      assert.equal(r.status, 'ok');
      assert.equal(r.score, sleepScore('SLEEP:1', 3));
      right.proc.kill('SIGTERM');
      await exited(right.proc);
    });
  },
);

describe('Redis lost during a run', { skip: haveRedis() ? false : 'redis-server is not installed' }, () => {
  let redis: RedisServer;
  let dir: string;
  const transports: QueueTransport[] = [];
  before(async () => {
    redis = await RedisServer.start();
    dir = tempDir('restart');
  });
  after(async () => {
    await Promise.all(transports.map((t) => t.close()));
    await killAll();
  });

  test('Redis restarted (its contents lost) during a run: every job still ends with its result', async () => {
    const log = join(dir, 'restart.log');
    const workers = [
      startWorker(redis.url, { env: { CSE_TEST_EXEC_LOG: log } }),
      startWorker(redis.url, { env: { CSE_TEST_EXEC_LOG: log } }),
    ];
    await Promise.all(workers.map(workerReady));
    const { t, notices } = await open(redis.url, 'stages');
    transports.push(t);
    const tasks = Array.from({ length: 10 }, (_, i) => sleepTask(200, i));
    const runs = tasks.map((task) => t.run(task, { timeoutSeconds: 30 }));
    await waitFor('two results', () => execLog(log).filter((l) => l.what === 'end').length >= 2);
    await redis.restart();
    const records = await Promise.all(runs);
    assert.deepEqual(
      records.map((r) => [r.status, r.score]),
      tasks.map((task) => ['ok', sleepScore(task.loss, task.seed)]),
    );
    assert.ok(t.stats.resubmitted > 0, 'the lost jobs were added again');
    assert.ok(notices.some((n) => /lost by Redis .* added again/.test(n)));
    for (const w of workers) assert.equal(w.proc.exitCode, null, 'workers ride out the restart');
    assert.match(workers[0]!.output() + workers[1]!.output(), /reconnected to Redis/);
  });

  test('Redis gone for longer than the transport waits: pending runs reject with a resumable error', async () => {
    const { t, notices } = await open(redis.url, 'gone', { unavailableSeconds: 1 });
    transports.push(t);
    const run = t.run(sleepTask(1, 1), { timeoutSeconds: 30 }); // no worker on this queue: it stays pending
    await waitFor('the job to be queued', () => t.stats.submitted === 1);
    await redis.stop();
    await assert.rejects(run, (e: Error) => {
      assert.ok(e instanceof QueueUnavailableError);
      assert.match(e.message, /unreachable for 1 s.*run again with --resume/s);
      return true;
    });
    assert.ok(notices.some((n) => /lost the connection to Redis .* reconnecting with backoff/.test(n)));
    await assert.rejects(t.run(sleepTask(1, 2), { timeoutSeconds: 5 }), QueueUnavailableError);
    const t0 = Date.now();
    await t.close();
    assert.ok(Date.now() - t0 < 10_000, 'closing does not wait for Redis');
  });
});
