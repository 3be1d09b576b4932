/**
 * Runs that never lose or fake work (issue 16): environment failures stop the run without being
 * journalled and resume to the uninterrupted results, one ordering of candidates everywhere, a
 * run folder owned by one process, bad values refused before anything is written, and short,
 * path-naming journal errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../src/search/config.js';
import { runSearch, StageEnvironmentError } from '../../src/search/evolution.js';
import { Journal, JournalError, JOURNAL_FILE, shortReport } from '../../src/search/journal.js';
import { acquireRunLock, LOCK_FILE, RunLockedError } from '../../src/util/runlock.js';
import { compareCandidates } from '../../src/search/rank.js';
import { buildReport } from '../../src/search/report.js';
import { runStage } from '../../src/search/stages/index.js';
import { InProcessTransport } from '../../src/search/transport/index.js';
import { ProcessPool } from '../../src/search/transport/pool.js';
import type { StageTask } from '../../src/search/types.js';
import { smallConfig, snapshot, tmpDir } from './helpers.js';

const base = tmpDir('cse-rel-');
let n = 0;
const fresh = () => join(base, `run${n++}`);
const cfg = smallConfig({ final: { enabled: false } });
const refDir = fresh();
const ref = runSearch({ config: cfg, runDir: refDir, transport: new InProcessTransport(runStage) });

test('a bug in stage code (in-process) stops the run, is not journalled, and --resume gives the uninterrupted results', async () => {
  await ref;
  const dir = fresh();
  let calls = 0;
  // The 3rd proxy evaluation hits a TypeError, as a bug in detector code would.
  const buggy = new InProcessTransport(async (task: StageTask) => {
    if (task.stage === 'proxy' && ++calls === 3) {
      const o = undefined as unknown as { x: number };
      return { status: 'ok', pass: null, score: o.x, metrics: {}, reason: null, seconds: 0 };
    }
    return runStage(task);
  });
  await assert.rejects(runSearch({ config: cfg, runDir: dir, transport: buggy }), (e: unknown) => {
    assert.ok(e instanceof StageEnvironmentError, String(e));
    assert.match((e as Error).message, /proxy evaluation of .* could not run: TypeError: Cannot read properties of undefined/);
    assert.match((e as Error).message, /--resume/);
    return true;
  });
  const j = Journal.open(dir, { readonly: true });
  try {
    assert.equal(
      j.allResults().filter((r) => r.stage === 'proxy').length,
      2,
      'the two proxy results before the failure, not the failed one',
    );
    assert.ok(j.allResults().every((r) => r.status !== 'error'));
    assert.equal(j.getMeta('status'), 'running');
  } finally {
    j.close();
  }
  assert.equal(existsSync(join(dir, LOCK_FILE)), false, 'the run folder is released');
  await runSearch({ config: cfg, runDir: dir, resume: true, transport: new InProcessTransport(runStage) });
  assert.deepEqual(snapshot(dir), snapshot(refDir));
});

test('a bug in stage code in a pool worker travels back as an environment error, not a fate; resume completes', async () => {
  await ref;
  const dir = fresh();
  process.env.CSE_TEST_THROW_PROXY = '1';
  const pool = new ProcessPool({
    workers: 1,
    threadsPerWorker: 1,
    stageModule: new URL('./fixtures/fault-stage.ts', import.meta.url).href,
  });
  try {
    await assert.rejects(
      runSearch({ config: cfg, runDir: dir, transport: pool }),
      (e: unknown) => e instanceof StageEnvironmentError && /TypeError/.test((e as Error).message),
    );
  } finally {
    delete process.env.CSE_TEST_THROW_PROXY;
    await pool.close();
  }
  const j = Journal.open(dir, { readonly: true });
  try {
    assert.equal(j.allResults().filter((r) => r.stage === 'proxy').length, 0);
    assert.equal(j.generations().length, 0);
  } finally {
    j.close();
  }
  // A worker that cannot start (its stage module does not load) is an environment error too.
  const broken = new ProcessPool({ workers: 1, threadsPerWorker: 1, stageModule: 'file:///nonexistent/stage-module.js' });
  try {
    const r = await broken.run({ stage: 'cpv', mode: 'cls', loss: 'X', seed: 0 }, { timeoutSeconds: 30 });
    assert.equal(r.status, 'error');
    assert.match(r.reason!, /could not start/);
  } finally {
    await broken.close();
  }
  await runSearch({ config: cfg, runDir: dir, resume: true, transport: new InProcessTransport(runStage) });
  assert.deepEqual(snapshot(dir), snapshot(refDir));
});

test('one ordering: on fitness ties the evolution, the report (export --rank) and the verdict agree, in numeric id order', async () => {
  assert.ok(compareCandidates({ fitness: 0.5, gen: 0, idx: 2 }, { fitness: 0.5, gen: 0, idx: 10 }) < 0, '0:2 before 0:10');
  assert.ok(compareCandidates({ fitness: 0.6, gen: 1, idx: 0 }, { fitness: 0.5, gen: 0, idx: 0 }) < 0, 'fitness first');
  assert.ok(compareCandidates({ fitness: 0.5, gen: 0, idx: 99 }, { fitness: 0.5, gen: 1, idx: 0 }) < 0, 'then generation');
  // Every proxy and final evaluation scores the same: everything ties.
  const flat = new InProcessTransport(async (task: StageTask) => {
    const r = await runStage(task);
    return task.stage === 'proxy' || task.stage === 'final' ? { ...r, status: 'ok', score: 0.5, metrics: { ap: 0.5, ap50: 0.5 } } : r;
  });
  const dir = fresh();
  const c = smallConfig({
    strategy: 'vanilla',
    proxy: { topK: 14, task: { iters: 10 } },
    evolution: { generations: 1, parents: 3, elites: 2, hallOfFame: 14 },
    final: { top: 3, seeds: [0, 1], task: { iters: 10 } },
  });
  const s = await runSearch({ config: c, runDir: dir, transport: flat });
  const ids = s.hallOfFame.map((h) => Number(h.id.split(':')[1]));
  assert.ok(ids.some((i) => i >= 10) && ids.some((i) => i < 10), `ids on both sides of 10: ${ids.join(',')}`);
  assert.deepEqual(
    ids,
    [...ids].sort((a, b) => a - b),
    'the evolution orders ties by numeric index',
  );
  const report = buildReport(dir);
  assert.deepEqual(
    report.hallOfFame.map((h) => h.id),
    s.hallOfFame.slice(0, report.hallOfFame.length).map((h) => h.id),
  );
  assert.equal(s.verdict!.winner, report.hallOfFame[0]!.loss, 'the verdict on a tie names rank 1');
  assert.equal(report.verdict!.winner, report.hallOfFame[0]!.loss);
});

test('bad loss values are refused by the config, naming the field, before a run folder is written', async () => {
  assert.throws(
    () => smallConfig({ population: { seedWith: ['ce', 'bogus', 'Add(('] } }),
    (e: unknown) =>
      e instanceof ConfigError &&
      /population\.seedWith\.1: 'bogus'/.test((e as Error).message) &&
      /population\.seedWith\.2: 'Add\(\('/.test((e as Error).message),
  );
  assert.throws(() => smallConfig({ defaultLoss: 'Frob(X)' }), /defaultLoss: 'Frob\(X\)' is not a reg loss: unknown primitive 'Frob'/);
  assert.throws(() => smallConfig({ mode: 'cls', defaultLoss: 'giou' }), /defaultLoss: 'giou' is not a cls loss/);
  const huge = `Add(X,${'7'.repeat(120_000)}e9999)`;
  assert.throws(
    () => smallConfig({ mode: 'cls', defaultLoss: huge }),
    (e: unknown) =>
      (e as Error).message.length < 500 &&
      /'Add\(X,7{54}… \(120012 characters\)'/.test((e as Error).message) &&
      /constant '7{60}… \(120005 characters\)'/.test((e as Error).message),
  );
});

test('a run folder is owned by one process: a second writer is refused; report tells a stopped run from a running one', async () => {
  await ref;
  // A killed run: its journal says 'running' and nobody owns the folder.
  const dir = fresh();
  mkdirSync(dir);
  const j = Journal.open(dir, { create: true });
  j.setMeta('config', JSON.stringify(cfg));
  j.setMeta('status', 'running');
  j.close();
  assert.equal(buildReport(dir).status, 'interrupted');
  // A stale lock (a pid that does not exist) counts as no owner and is taken over.
  writeFileSync(
    join(dir, LOCK_FILE),
    JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import('node:os')).hostname(), startedAt: 'then' }),
  );
  assert.equal(buildReport(dir).status, 'interrupted');
  const release = acquireRunLock(dir);
  try {
    assert.equal(buildReport(dir).status, 'running');
    await assert.rejects(
      runSearch({ config: cfg, runDir: dir, resume: true, transport: new InProcessTransport(runStage) }),
      (e: unknown) => e instanceof RunLockedError && new RegExp(`pid ${process.pid}`).test((e as Error).message),
    );
  } finally {
    release();
  }
  assert.equal(existsSync(join(dir, LOCK_FILE)), false);
});

test('journal errors: a read-only journal names its path; a corrupted one shows the first lines and a count', () => {
  const dir = fresh();
  const j = Journal.open(dir, { create: true });
  j.close();
  const ro = Journal.open(dir, { readonly: true });
  try {
    assert.throws(
      () => ro.setMeta('status', 'x'),
      (e: unknown) =>
        e instanceof JournalError && (e as Error).message.includes(join(dir, JOURNAL_FILE)) && /SQLITE_READONLY/.test((e as Error).message),
    );
  } finally {
    ro.close();
  }
  const report = Array.from({ length: 100 }, (_, i) => `Tree 4 page ${i} cell 3: Offset out of range`).join('\n');
  const short = shortReport(report);
  assert.equal(short.split('\n').length, 1);
  assert.match(short, /^Tree 4 page 0 .*Tree 4 page 2 .*; … 97 more problem line\(s\)$/);
  // A real corrupted journal with many damaged pages.
  const dir2 = fresh();
  const k = Journal.open(dir2, { create: true });
  k.putCandidates(
    Array.from({ length: 3000 }, (_, i) => ({
      gen: 0,
      idx: i,
      loss: `Add(X,Y)${i}`.repeat(5),
      fingerprint: `fp${i}`,
      parents: [],
      origin: 'random' as const,
      op: null,
      size: 3,
      depth: 2,
    })),
  );
  k.db.pragma('wal_checkpoint(TRUNCATE)');
  k.close();
  const path = join(dir2, JOURNAL_FILE);
  const b = readFileSync(path);
  for (let p = 5; p * 4096 < b.length; p += 3) for (let i = 0; i < 64; i++) b[p * 4096 + 8 + i]! ^= 0x5a;
  writeFileSync(path, b);
  assert.throws(
    () => Journal.open(dir2),
    (e: unknown) =>
      e instanceof JournalError &&
      (e as Error).message.split('\n').length === 1 &&
      /more problem line\(s\)/.test((e as Error).message) &&
      (e as Error).message.length < 600,
  );
});
