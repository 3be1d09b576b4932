/**
 * The parts of src/queue that need no Redis: queue URLs, payload validation, job ids, the record
 * codec, version stamps, dataset hashes and the worker's plan.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  PayloadError,
  QueueUrlError,
  datasetDirOf,
  decodeRecord,
  encodeRecord,
  hashDataset,
  jobIdOf,
  parseQueueUrl,
  validatePayload,
  versionMismatch,
  type JobPayload,
} from '../../src/queue/index.js';
import { backoffMs } from '../../src/queue/connection.js';
import { planProcesses } from '../../src/util/plan.js';
import { ROOT, tempDir } from './helpers.js';

test('queue URLs: host, port and database; every malformed part named', () => {
  assert.deepEqual(parseQueueUrl('redis://10.0.0.5:6380/2'), {
    host: '10.0.0.5',
    port: 6380,
    db: 2,
    tls: false,
    username: undefined,
    password: undefined,
    display: 'redis://10.0.0.5:6380/2',
  });
  assert.equal(parseQueueUrl('redis://queue.lab:6379').db, 0);
  assert.equal(parseQueueUrl('redis://[::1]:6379/1').host, '::1');
  const auth = parseQueueUrl('rediss://user:s%40cret@h:6379/0');
  assert.deepEqual([auth.username, auth.password, auth.tls, auth.display], ['user', 's@cret', true, 'rediss://user:***@h:6379/0']);
  const cases: [string, RegExp][] = [
    ['', /it is empty/],
    ['127.0.0.1:6379', /does not start with 'redis:\/\/'/],
    ['http://h:6379', /the scheme 'http' is not 'redis'/],
    ['redis://:6379', /the host is missing/],
    ['redis://h', /the port is missing \(write h:6379/],
    ['redis://h:', /the port '' is not a number from 1 to 65535/],
    ['redis://h:0', /the port '0' is not a number/],
    ['redis://h:70000', /the port '70000' is not a number/],
    ['redis://h:63x9', /the port '63x9'/],
    ['redis://h:6379/db1', /the database '\/db1' is not a database number/],
    ['redis://h:6379/0/extra', /the database '\/0\/extra'/],
    ['redis://h:6379/0?timeout=1', /the query string '\?timeout=1'/],
    ['redis://h:6379#x', /the fragment '#x'/],
    ['redis://h st:6379', /the host 'h st' has characters/],
  ];
  for (const [url, msg] of cases) {
    assert.throws(
      () => parseQueueUrl(url),
      (e: Error) => e instanceof QueueUrlError && msg.test(e.message) && /expected redis:\/\/HOST:PORT\[\/DB\]/.test(e.message),
      url,
    );
  }
  // A password never appears in an error message.
  assert.throws(
    () => parseQueueUrl('redis://u:hunter2@h:99999'),
    (e: Error) => !e.message.includes('hunter2') && e.message.includes('u:***@'),
  );
});

const payload = (over: Partial<JobPayload> = {}): JobPayload => ({
  protocol: 1,
  code: 'abc',
  config: 'def',
  dataset: null,
  task: { stage: 'mos1', mode: 'cls', loss: 'Neg(Log(Y))', seed: 3, config: { samples: 4, classes: 2, steps: 2, lr: 0.1 } },
  timeoutSeconds: 60,
  run: 'r1',
  ...over,
});

test('payload validation names each bad field', () => {
  assert.deepEqual(validatePayload(payload()), payload());
  const bad = (raw: unknown, msg: RegExp) =>
    assert.throws(
      () => validatePayload(raw),
      (e: Error) => e instanceof PayloadError && msg.test(e.message),
      msg.source,
    );
  bad(null, /\(payload\): Expected object/);
  bad({ ...payload(), protocol: '1' }, /protocol: Expected number, received string/);
  bad({ ...payload(), code: '' }, /code: String must contain at least 1/);
  bad({ ...payload(), extra: 1 }, /unknown field\(s\) 'extra'/);
  bad({ ...payload(), timeoutSeconds: -1 }, /timeoutSeconds: Number must be greater than 0/);
  bad({ ...payload(), task: { ...payload().task, stage: 'train' } }, /task\.stage: Invalid enum value/);
  bad({ ...payload(), task: { ...payload().task, seed: 1.5 } }, /task\.seed: Expected integer/);
  bad({ ...payload(), task: { stage: 'proxy', mode: 'cls', loss: 'x', seed: 0 } }, /task\.config: required for stage 'proxy'/);
  bad({ ...payload(), dataset: { dir: 'd' } }, /dataset\.hash: Required/);
  // Two problems at once: both named.
  bad({ ...payload(), code: 1, run: 2 }, /code: Expected string.*run: Expected string/);
  // The stage config itself is the stage's business: passed through untouched.
  const future = payload({ task: { ...payload().task, config: { samples: 4, classes: 2, steps: 2, lr: 0.1, newField: true } } as never });
  assert.deepEqual(validatePayload(future), future);
  const added = payload({ task: { ...payload().task, split: 'val' } as never });
  assert.deepEqual(validatePayload(added), added);
  assert.notEqual(jobIdOf(added), jobIdOf(payload()));
});

test('job ids: the same evaluation gives the same id; anything that changes its result changes it', () => {
  const id = jobIdOf(payload());
  assert.match(id, /^mos1-[0-9a-f]{32}$/);
  assert.ok(!id.includes(':'), 'BullMQ ids cannot contain ":"');
  // Key order, timeout and run tag do not change the evaluation.
  const t = payload().task as Record<string, unknown>;
  const reordered = { config: t.config, seed: t.seed, loss: t.loss, mode: t.mode, stage: t.stage } as never;
  assert.equal(jobIdOf(payload({ task: reordered, timeoutSeconds: 5, run: 'other' })), id);
  const differs = [
    payload({ task: { ...payload().task, seed: 4 } }),
    payload({ task: { ...payload().task, loss: 'Neg(Y)' } }),
    payload({ task: { ...payload().task, config: { samples: 5, classes: 2, steps: 2, lr: 0.1 } } as never }),
    payload({ code: 'abd' }),
    payload({ config: 'deg' }),
    payload({ protocol: 2 }),
    payload({ dataset: { dir: 'data', hash: '1111' } }),
  ];
  const ids = new Set([id, ...differs.map(jobIdOf)]);
  assert.equal(ids.size, differs.length + 1);
  // The dataset enters by content hash, not by path.
  assert.equal(jobIdOf(payload({ dataset: { dir: 'a', hash: 'h' } })), jobIdOf(payload({ dataset: { dir: 'b', hash: 'h' } })));
});

test('records survive the queue: non-finite numbers included, malformed results refused', () => {
  const r = {
    status: 'diverged' as const,
    pass: null,
    score: -Infinity,
    metrics: { a: NaN, b: Infinity, c: 2 },
    reason: 'nan',
    seconds: 0.5,
  };
  const wire = JSON.parse(JSON.stringify(encodeRecord(r)));
  assert.deepEqual(decodeRecord(wire), r);
  const ok = { status: 'ok' as const, pass: true, score: 0.25, metrics: {}, reason: null, seconds: 1 };
  assert.deepEqual(decodeRecord(JSON.parse(JSON.stringify(encodeRecord(ok)))), ok);
  assert.equal(decodeRecord(null), null);
  assert.equal(decodeRecord({ record: { ...ok, status: 'great' }, nonFinite: {} }), null);
  assert.equal(decodeRecord({ record: { ...ok, score: '1' }, nonFinite: {} }), null);
  assert.equal(decodeRecord(ok), null, 'a bare record is not the wire format');
});

test('versions: a mismatch names both sides and what differs', () => {
  const mine = { protocol: 1, code: 'c1', config: 'f1' };
  assert.equal(versionMismatch(mine, { ...mine }), null);
  assert.match(versionMismatch({ ...mine, protocol: 2 }, mine)!, /queue protocol 2, this worker speaks 1/);
  assert.match(
    versionMismatch({ ...mine, code: 'c2' }, mine)!,
    /made by code version c2, this worker runs code version c1 \(the config format is the same\)/,
  );
  assert.match(versionMismatch({ ...mine, code: 'c2', config: 'f2' }, mine)!, /config format f2 there, f1 here/);
});

test('the code version is a content hash of the sources, the same in every process of one checkout', () => {
  const script = "import { localVersion } from './src/queue/version.ts'; console.log(JSON.stringify(localVersion()));";
  const run = (env: Record<string, string | undefined>) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { protocol: number; code: string; config: string };
  };
  const a = run({ CSE_CODE_VERSION: undefined });
  assert.match(a.code, /^[0-9a-f]{16}$/);
  assert.match(a.config, /^[0-9a-f]{16}$/);
  assert.equal(a.protocol, 1);
  assert.deepEqual(run({ CSE_CODE_VERSION: '' }), a);
  assert.deepEqual(run({ CSE_CODE_VERSION: 'pinned' }), { protocol: 1, code: 'pinned', config: 'pinned' });
});

test('dataset hash: of the content (paths and bytes), not of where the folder is or its file times', async () => {
  const base = tempDir('ds');
  const make = (dir: string, files: Record<string, string>) => {
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(join(dir, p, '..'), { recursive: true });
      writeFileSync(join(dir, p), text);
    }
  };
  make(join(base, 'a'), { 'ann.json': '{}', 'img/1.png': 'x', 'img/2.png': 'y' });
  make(join(base, 'b'), { 'img/2.png': 'y', 'img/1.png': 'x', 'ann.json': '{}' });
  const ha = await hashDataset(join(base, 'a'));
  assert.match(ha, /^[0-9a-f]{16}$/);
  assert.equal(await hashDataset(join(base, 'b')), ha);
  utimesSync(join(base, 'b', 'ann.json'), new Date(2001, 1, 1), new Date(2001, 1, 1));
  assert.equal(await hashDataset(join(base, 'b')), ha, 'a new mtime, the same content');
  writeFileSync(join(base, 'b', 'img', '1.png'), 'z');
  assert.notEqual(await hashDataset(join(base, 'b')), ha, 'a changed byte');
  make(join(base, 'c'), { 'ann.json': '{}', 'img/1.png': 'x', 'img/3.png': 'y' });
  assert.notEqual(await hashDataset(join(base, 'c')), ha, 'a renamed file');
  await assert.rejects(hashDataset(join(base, 'missing')), /dataset folder .*missing.* does not exist/);
  assert.equal(datasetDirOf({ stage: 'proxy', config: { kind: 'detector', dataDir: 'data/coco' } }), 'data/coco');
  assert.equal(datasetDirOf({ stage: 'proxy', config: { kind: 'simulated', dataDir: 'data/coco' } }), null);
  assert.equal(datasetDirOf({ stage: 'cpv' }), null);
});

test('worker plan: jobs and threads from the flags and the cores; reconnection backoff', () => {
  assert.deepEqual(planProcesses(undefined, undefined, 8), { processes: 8, threads: 1 });
  assert.deepEqual(planProcesses(2, undefined, 8), { processes: 2, threads: 4 });
  assert.deepEqual(planProcesses(undefined, 4, 8), { processes: 2, threads: 4 });
  assert.deepEqual(planProcesses(3, 5, 8), { processes: 3, threads: 5 });
  assert.deepEqual(planProcesses(16, undefined, 8), { processes: 16, threads: 1 });
  assert.deepEqual([1, 2, 3, 4, 5, 6, 10].map(backoffMs), [250, 500, 1000, 2000, 4000, 5000, 5000]);
});
