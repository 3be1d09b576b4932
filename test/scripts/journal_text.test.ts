/**
 * scripts/journal-text.ts: a run journal as text and back. Values of every kind SQLite stores here
 * come back with the same type and the same bits; a search interrupted mid-generation, dumped,
 * restored into a new run folder (as on a fresh clone) and resumed there gives the journal of an
 * uninterrupted run; bad input is refused with exit code 2 and nothing written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import YAML from 'yaml';
import { dumpDatabase, dumpJournal, restoreJournal } from '../../scripts/journal-text.js';
import { runSearch } from '../../src/search/evolution.js';
import { parseConfig } from '../../src/search/config.js';
import { runStage } from '../../src/search/stages/index.js';
import { InProcessTransport } from '../../src/search/transport/index.js';
import { SMALL, interruptedSearch, snapshot, tmpDir } from '../search/helpers.js';

const BIN = fileURLToPath(new URL('../../bin/cse-autoloss.js', import.meta.url));
const SCRIPT = fileURLToPath(new URL('../../scripts/journal-text.ts', import.meta.url));
const dir = tmpDir('cse-jtext-');

test('every value comes back with its type and bits', async () => {
  const src = join(dir, 'values');
  const db = new Database(join(src + '.sqlite'));
  db.exec('CREATE TABLE t (a REAL, b INTEGER, c TEXT, d)');
  db.exec('CREATE INDEX t_b ON t (b)');
  const rows: unknown[][] = [
    [0.1 + 0.2, 9007199254740991n, 'line\nbreak "quoted" \u00e9\u4e2d', null],
    [3, -7n, '', 2.5],
    [-2, 0n, '3', 4n],
    [1e-300, 1n, null, 'x'],
    [Infinity, -9007199254740991n, '{"f":"1"}', -Infinity],
    [5e-324, 42n, '0.30000000000000004', 1.7976931348623157e308],
  ];
  const ins = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?)');
  for (const r of rows) ins.run(...r);
  db.close();
  const text = dumpDatabase(src + '.sqlite');
  // the forms the header comment promises
  assert.match(text, /^\{"format":"cse-journal-text","version":1\}\n/);
  assert.ok(text.includes('[0.30000000000000004,9007199254740991,'), text);
  assert.ok(text.includes('[{"f":"3"},-7,"",2.5]'), text);
  assert.ok(text.includes('[{"f":"-2"},0,"3",4]'), text);
  assert.ok(text.includes('"r":[{"f":"Infinity"},'), text);

  const out = join(dir, 'values-run');
  restoreJournal(text, out);
  const back = new Database(join(out, 'journal.sqlite'), { readonly: true });
  back.defaultSafeIntegers(true);
  const types = back.prepare('SELECT typeof(a), typeof(b), typeof(c), typeof(d) FROM t ORDER BY rowid').raw(true).all() as string[][];
  const orig = new Database(src + '.sqlite', { readonly: true });
  orig.defaultSafeIntegers(true);
  assert.deepEqual(types, orig.prepare('SELECT typeof(a), typeof(b), typeof(c), typeof(d) FROM t ORDER BY rowid').raw(true).all());
  const got = back.prepare('SELECT * FROM t ORDER BY rowid').raw(true).all() as unknown[][];
  const want = orig.prepare('SELECT * FROM t ORDER BY rowid').raw(true).all() as unknown[][];
  assert.equal(got.length, rows.length);
  got.forEach((r, i) =>
    r.forEach((v, k) => assert.ok(Object.is(v, want[i]![k]), `row ${i}, column ${k}: ${String(v)} vs ${String(want[i]![k])}`)),
  );
  assert.equal(types[1]![0], 'real', 'an integral REAL stays REAL');
  assert.deepEqual(back.prepare("SELECT name FROM sqlite_master WHERE type='index'").raw(true).all(), [['t_b']]);
  back.close();
  orig.close();
  // a BLOB is refused rather than mangled
  const blob = new Database(join(dir, 'blob.sqlite'));
  blob.exec('CREATE TABLE b (x)');
  blob.prepare('INSERT INTO b VALUES (?)').run(Buffer.from([1, 2]));
  blob.close();
  assert.throws(() => dumpDatabase(join(dir, 'blob.sqlite')), /table b, column 1: a BLOB/);
});

test('a search interrupted, dumped, restored elsewhere and resumed there ends as an uninterrupted run', async () => {
  const raw = {
    ...SMALL,
    population: { ...SMALL.population, size: 300 },
    evolution: { ...SMALL.evolution, generations: 3 },
    final: { enabled: false },
    pool: { workers: 0 },
  };
  const cfgFile = join(dir, 'search.yaml');
  writeFileSync(cfgFile, YAML.stringify(raw));
  const refDir = join(dir, 'ref');
  await runSearch({ config: parseConfig(raw), runDir: refDir, transport: new InProcessTransport(runStage) });

  const first = join(dir, 'first');
  const stop = await interruptedSearch(cfgFile, first, ['SIGINT']);
  assert.equal(stop.code, 130, stop.stderr);
  const dump = join(dir, 'first.jsonl');
  const d = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, 'dump', first, dump], { encoding: 'utf8' });
  assert.equal(d.status, 0, d.stderr);
  assert.equal(readFileSync(dump, 'utf8'), await dumpJournal(first), 'the CLI writes what dumpJournal returns');

  // restored into a run folder that holds nothing else, as on a fresh clone
  const second = join(dir, 'second');
  const r = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, 'restore', dump, second], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(second), ['journal.sqlite']);
  const again = spawnSync(process.execPath, [BIN, 'search', '--out', second, '--resume'], { encoding: 'utf8' });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /resumed: \d+ stored results/);
  assert.deepEqual(snapshot(second), snapshot(refDir));

  // a second restore onto it is refused (exit 2), and the journal is untouched
  const before = readFileSync(join(second, 'journal.sqlite'));
  const over = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, 'restore', dump, second], { encoding: 'utf8' });
  assert.equal(over.status, 2);
  assert.match(over.stderr, /journal\.sqlite exists: restore writes a new journal only/);
  assert.deepEqual(readFileSync(join(second, 'journal.sqlite')), before);
});

test('bad input: usage, a file that is not a dump, a damaged line (exit 2, nothing written)', () => {
  const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { encoding: 'utf8' });
  const u = run(['dump']);
  assert.equal(u.status, 2);
  assert.match(u.stderr, /usage: journal-text\.ts dump RUN_DIR OUT\.jsonl \| restore IN\.jsonl RUN_DIR/);
  const none = run(['dump', join(dir, 'nothing'), join(dir, 'x.jsonl')]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /no journal in .*nothing/);

  const notDump = join(dir, 'not.jsonl');
  writeFileSync(notDump, '{"hello":1}\n');
  const n = run(['restore', notDump, join(dir, 'r1')]);
  assert.equal(n.status, 2);
  assert.match(n.stderr, /not\.jsonl, line 1: not a cse-journal-text dump of version 1/);
  assert.ok(!existsSync(join(dir, 'r1', 'journal.sqlite')));

  const broken = join(dir, 'broken.jsonl');
  writeFileSync(broken, '{"format":"cse-journal-text","version":1}\n{"sql":"CREATE TABLE t (a)"}\n{"t":"t","r":[1]}\n{"t":"t","r":[2\n');
  const b = run(['restore', broken, join(dir, 'r2')]);
  assert.equal(b.status, 2);
  assert.match(b.stderr, /broken\.jsonl, line 4: not JSON/);
  assert.ok(!existsSync(join(dir, 'r2', 'journal.sqlite')));
});
