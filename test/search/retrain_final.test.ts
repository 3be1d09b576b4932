/**
 * `search --resume --retrain-final`: a final evaluation whose runs trained on several machines is
 * not decided (src/search/final.ts), and this is its remedy: the final runs that did not train on
 * this machine leave the journal's results for meta `set_aside` (kept) and train again here.
 * Checked on a small simulated search whose final records are given machine keys by hand: which
 * runs move (another machine's key, or none recorded), that the kept ones stay as they were, that
 * the moved ones are kept whole in meta set_aside, and that the retrained verdict equals the
 * original (the simulated task is deterministic); then the CLI's wiring and refusals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import YAML from 'yaml';
import { runSearch, SearchError, type SearchEvent } from '../../src/search/evolution.js';
import { Journal, type StoredResult } from '../../src/search/journal.js';
import { buildReport } from '../../src/search/report.js';
import { runStage } from '../../src/search/stages/index.js';
import { InProcessTransport } from '../../src/search/transport/index.js';
import { machineKeyText } from '../../src/util/provenance.js';
import { CLI, SMALL, smallConfig, tmpDir } from './helpers.js';

const inproc = () => new InProcessTransport(runStage);
const base = tmpDir('cse-retrain-final-');
const cfg = smallConfig({ population: { size: 40, maxSize: 25, minDepth: 2, maxDepth: 5 }, evolution: { generations: 2 } });
const HERE = 0x0000_1234_5678;
const OTHER = 0x00ab_cdef_0123;

const finals = (dir: string): StoredResult[] => {
  const j = Journal.open(dir, { readonly: true });
  try {
    return j.allResults().filter((r) => r.stage === 'final');
  } finally {
    j.close();
  }
};
const summaryOf = (dir: string) => {
  const j = Journal.open(dir, { readonly: true });
  try {
    return JSON.parse(j.getMeta('summary')!) as { final: { loss: string; aps: (number | null)[] }[]; verdict: unknown };
  } finally {
    j.close();
  }
};

test('--retrain-final: the final runs of other machines (and unrecorded ones) are set aside, kept, and trained again here', async () => {
  const dir = join(base, 'api');
  await runSearch({ config: cfg, runDir: dir, transport: inproc() });
  const before = finals(dir);
  assert.ok(before.length >= 6, `final runs: ${before.length}`);
  const original = summaryOf(dir);
  // as if a resumed final had trained on two machines: the first half here, then one on another machine; the rest record none
  const half = Math.floor(before.length / 2);
  const db = new Database(join(dir, 'journal.sqlite'));
  const setMachine = db.prepare("UPDATE results SET metrics = ? WHERE stage = 'final' AND fingerprint = ? AND key = ?");
  before.forEach((r, i) => {
    const machine = i < half ? HERE : i === half ? OTHER : null;
    if (machine !== null) setMachine.run(JSON.stringify({ ...r.metrics, machine }), r.fingerprint, r.key);
  });
  db.close();
  const marked = finals(dir);
  const kept = marked.slice(0, half);
  const elsewhere = marked.slice(half);

  const events: SearchEvent[] = [];
  const s = await runSearch({
    config: cfg,
    runDir: dir,
    transport: inproc(),
    resume: true,
    retrainFinal: { machine: HERE },
    onEvent: (e) => events.push(e),
  });
  const ev = events.find((e) => e.type === 'final-set-aside');
  assert.deepEqual(ev, {
    type: 'final-set-aside',
    here: machineKeyText(HERE),
    moved: elsewhere.length,
    kept: half,
    from: { [machineKeyText(OTHER)]: 1, unrecorded: elsewhere.length - 1 },
  });
  assert.equal(events.indexOf(ev!), 0, 'set aside before the run starts (and its evaluator loads the stored results)');
  // the set-aside runs, whole, in meta set_aside
  const j = Journal.open(dir, { readonly: true });
  const aside = JSON.parse(j.getMeta('set_aside')!) as (StoredResult & { setAsideAt: string; why: string })[];
  j.close();
  const strip = (r: StoredResult) => [
    r.fingerprint,
    r.stage,
    r.key,
    r.loss,
    r.status,
    r.score,
    JSON.stringify(r.metrics),
    r.seconds,
    r.finishedAt,
  ];
  assert.deepEqual(aside.map(strip), elsewhere.map(strip));
  for (const a of aside) assert.equal(a.why, `--retrain-final on machine ${machineKeyText(HERE)}`);
  // the kept runs untouched; the others trained again (new records, the same values: the simulated task is deterministic)
  const after = finals(dir);
  assert.equal(after.length, before.length);
  const byKey = new Map(after.map((r) => [`${r.fingerprint}|${r.key}`, r]));
  for (const r of kept) assert.deepEqual(byKey.get(`${r.fingerprint}|${r.key}`), r);
  for (const r of elsewhere) {
    const again = byKey.get(`${r.fingerprint}|${r.key}`)!;
    assert.ok(again, `${r.loss} seed key ${r.key} trained again`);
    assert.equal(again.score, r.score);
    assert.equal(again.metrics.machine, undefined, 'a simulated task records no machine');
    assert.ok(again.finishedAt >= r.finishedAt);
  }
  assert.deepEqual(
    s.final!.map((f) => [f.loss, f.aps]),
    original.final.map((f) => [f.loss, f.aps]),
  );
  // the same verdict, now over runs of one machine: the kept runs' (the retrained simulated ones record none)
  assert.deepEqual(summaryOf(dir).verdict, { ...(original.verdict as object), machines: [machineKeyText(HERE)] });

  // the report says so at the top
  assert.deepEqual(buildReport(dir).warnings.slice(-1), [
    `${elsewhere.length} earlier final run(s) set aside and trained again (--retrain-final on machine ${machineKeyText(HERE)}): the journal keeps them in meta set_aside; the results shown are the new ones`,
  ]);

  // again with every run here: nothing moves; a second set-aside keeps the first in the list
  const db2 = new Database(join(dir, 'journal.sqlite'));
  db2.prepare("UPDATE results SET metrics = json_set(metrics, '$.machine', ?) WHERE stage = 'final'").run(HERE);
  db2.close();
  const ev2: SearchEvent[] = [];
  await runSearch({
    config: cfg,
    runDir: dir,
    transport: inproc(),
    resume: true,
    retrainFinal: { machine: HERE },
    onEvent: (e) => ev2.push(e),
  });
  assert.deepEqual(ev2[0], { type: 'final-set-aside', here: machineKeyText(HERE), moved: 0, kept: before.length, from: {} });
  const j2 = Journal.open(dir, { readonly: true });
  assert.equal((JSON.parse(j2.getMeta('set_aside')!) as unknown[]).length, elsewhere.length);
  j2.close();
});

test('--retrain-final without --resume is refused before anything is written', async () => {
  const dir = join(base, 'fresh');
  await assert.rejects(
    runSearch({ config: cfg, runDir: dir, transport: inproc(), retrainFinal: { machine: HERE } }),
    (e: Error) => e instanceof SearchError && /--retrain-final goes with --resume/.test(e.message),
  );
  assert.ok(!Journal.exists(dir));
});

test('CLI: search --resume --retrain-final says what it set aside; without --resume or with --queue it exits 2', () => {
  const dir = join(base, 'cli');
  const file = join(base, 'cli.yaml');
  writeFileSync(
    file,
    YAML.stringify({ ...SMALL, population: { ...SMALL.population, size: 30 }, evolution: { ...SMALL.evolution, generations: 1 } }),
  );
  const run = (args: string[]) => spawnSync(process.execPath, [CLI, 'search', '--out', dir, '--no-report', ...args], { encoding: 'utf8' });
  const first = run(['--config', file]);
  assert.equal(first.status, 0, first.stderr);
  const n = finals(dir).length;
  const r = run(['--resume', '--retrain-final']);
  assert.equal(r.status, 0, r.stderr);
  // the simulated final task records no machine: every run is set aside and trained again
  assert.match(
    r.stderr,
    new RegExp(
      `--retrain-final: ${n} final run\\(s\\) set aside \\(${n} with no machine recorded; kept in the journal, meta set_aside\\), to train again on this machine \\([0-9a-f]{12}\\); 0 trained here kept`,
    ),
  );
  assert.equal(finals(dir).length, n);
  const noResume = run(['--config', file, '--retrain-final']);
  assert.equal(noResume.status, 2);
  assert.match(noResume.stderr, /--retrain-final goes with --resume/);
  const queue = run(['--resume', '--retrain-final', '--queue', 'redis://127.0.0.1:1/0']);
  assert.equal(queue.status, 2);
  assert.match(queue.stderr, /--retrain-final trains the final runs on this machine: leave out --queue/);
});
