import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal, JournalError, JournalFullError, JOURNAL_FILE } from '../../src/search/journal.js';
import type { Candidate } from '../../src/search/types.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'cse-journal-'));
const cand = (gen: number, idx: number, loss: string): Candidate => ({
  gen,
  idx,
  loss,
  fingerprint: `fp-${loss}`,
  parents: [],
  origin: 'random',
  op: null,
  size: 3,
  depth: 1,
});

test('journal: WAL database; results, candidates and generations survive reopening', () => {
  const dir = tmp();
  const j = Journal.open(dir, { create: true });
  assert.equal(j.db.pragma('journal_mode', { simple: true }), 'wal');
  j.setMeta('config', '{"a":1}');
  j.putCandidates([cand(0, 0, 'X'), cand(0, 1, 'Neg(X)')]);
  j.putResult({
    fingerprint: 'fp-X',
    stage: 'mos1',
    key: 'k',
    loss: 'X',
    status: 'ok',
    pass: null,
    score: 0.5,
    metrics: { initial: 0.1 },
    reason: null,
    seconds: 0.01,
  });
  j.finishGeneration(0, [{ idx: 0, fate: 'proxied', mosScore: 0.5, fitness: 0.3 }], { gen: 0 }, 123);
  j.close();
  const k = Journal.open(dir);
  assert.equal(k.getMeta('config'), '{"a":1}');
  const rs = k.allResults();
  assert.equal(rs.length, 1);
  assert.deepEqual(rs[0]!.metrics, { initial: 0.1 });
  const cs = k.candidates(0);
  assert.equal(cs[0]!.fitness, 0.3);
  assert.equal(cs[1]!.fate, null);
  assert.equal(k.generation(0)!.elapsedMs, 123);
  // Replaying the same candidates is fine; different ones mean another code/config version.
  k.putCandidates([cand(0, 0, 'X')]);
  assert.throws(() => k.putCandidates([cand(0, 1, 'Abs(X)')]), /regenerated Abs\(X\)/);
  k.close();
});

test('journal: a corrupted file is refused with a clear error and left byte for byte as it was', () => {
  const dir = tmp();
  const j = Journal.open(dir, { create: true });
  j.putCandidates([cand(0, 0, 'X')]);
  j.db.pragma('wal_checkpoint(TRUNCATE)');
  j.close();
  const path = join(dir, JOURNAL_FILE);
  const bytes = readFileSync(path);
  const damaged = Buffer.from(bytes);
  for (let i = 100; i < damaged.length; i += 7) damaged[i] = (damaged[i]! ^ 0x5a) & 0xff;
  writeFileSync(path, damaged);
  assert.throws(
    () => Journal.open(dir),
    (e: unknown) => e instanceof JournalError && /corrupted|not a database|malformed/i.test((e as Error).message),
  );
  assert.deepEqual(readFileSync(path), damaged);
  // Garbage that is not SQLite at all.
  const dir2 = tmp();
  writeFileSync(join(dir2, JOURNAL_FILE), 'hello, this is not a database'.repeat(100));
  assert.throws(() => Journal.open(dir2), JournalError);
  assert.equal(readFileSync(join(dir2, JOURNAL_FILE), 'utf8'), 'hello, this is not a database'.repeat(100));
  // A healthy SQLite file of something else.
  const dir3 = tmp();
  mkdirSync(dir3, { recursive: true });
  const other = new Database(join(dir3, JOURNAL_FILE));
  other.exec('CREATE TABLE t (x)');
  other.close();
  assert.throws(() => Journal.open(dir3), /not a cse-autoloss journal/);
});

test('journal: a full disk stops writing with JournalFullError; what was written stays readable', () => {
  const dir = tmp();
  const j = Journal.open(dir, { create: true });
  const pages = j.db.pragma('page_count', { simple: true }) as number;
  j.setMaxPages(pages + 2);
  const big = 'x'.repeat(3000);
  let wrote = 0;
  assert.throws(() => {
    for (let i = 0; i < 100; i++) {
      j.putResult({
        fingerprint: `f${i}`,
        stage: 'proxy',
        key: 'k',
        loss: big,
        status: 'ok',
        pass: null,
        score: i,
        metrics: {},
        reason: null,
        seconds: 0,
      });
      wrote++;
    }
  }, JournalFullError);
  j.close();
  const k = Journal.open(dir);
  assert.equal(k.allResults().length, wrote);
  k.close();
});
