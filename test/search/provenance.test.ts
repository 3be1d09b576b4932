/**
 * The search records its provenance (journal meta, report.json) and refuses to resume on other
 * src/ code, naming both commits, unless --allow-code-change is given (then the journal says so).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { runSearch, SearchError, type RunSession } from '../../src/search/evolution.js';
import { Journal } from '../../src/search/journal.js';
import { writeReport } from '../../src/search/report.js';
import { runStage } from '../../src/search/stages/index.js';
import { InProcessTransport } from '../../src/search/transport/index.js';
import { provenance, type Provenance } from '../../src/util/provenance.js';
import { SMALL, smallConfig, snapshot, tmpDir } from './helpers.js';

const inproc = () => new InProcessTransport(runStage);
const base = tmpDir('cse-prov-');
const BIN = fileURLToPath(new URL('../../bin/cse-autoloss.js', import.meta.url));
const cfg = smallConfig({
  population: { size: 40, maxSize: 25, minDepth: 2, maxDepth: 5 },
  evolution: { generations: 2 },
  final: { enabled: false },
});

function meta(dir: string) {
  const j = Journal.open(dir, { readonly: true });
  try {
    return { provenance: JSON.parse(j.getMeta('provenance')!) as Provenance, sessions: JSON.parse(j.getMeta('sessions')!) as RunSession[] };
  } finally {
    j.close();
  }
}

/** Pretends the journal was written by other code (another commit, another src/ hash). */
function rewriteCode(dir: string, commit: string, srcHash: string) {
  const j = Journal.open(dir);
  try {
    const m = JSON.parse(j.getMeta('sessions')!) as RunSession[];
    for (const s of m) s.provenance = { ...s.provenance, commit, srcHash };
    j.setMeta('sessions', JSON.stringify(m));
    j.setMeta('provenance', JSON.stringify({ ...(JSON.parse(j.getMeta('provenance')!) as Provenance), commit, srcHash }));
  } finally {
    j.close();
  }
}

test('the journal and report.json record the provenance; a resume on the same code is recorded as a session', async () => {
  const dir = join(base, 'same');
  const ac = new AbortController();
  await assert.rejects(
    runSearch({
      config: cfg,
      runDir: dir,
      transport: inproc(),
      signal: ac.signal,
      onEvent: (e) => e.type === 'generation-end' && ac.abort(),
    }),
    /interrupted/,
  );
  const p = provenance();
  const m = meta(dir);
  assert.deepEqual(m.provenance, p);
  assert.equal(m.sessions.length, 1);
  assert.deepEqual([m.sessions[0]!.resumed, m.sessions[0]!.allowCodeChange], [false, false]);
  await runSearch({ config: cfg, runDir: dir, transport: inproc(), resume: true });
  const m2 = meta(dir);
  assert.equal(m2.sessions.length, 2);
  assert.deepEqual([m2.sessions[1]!.resumed, m2.sessions[1]!.allowCodeChange, m2.sessions[1]!.codeChangedFrom], [true, false, undefined]);
  const r = writeReport(dir);
  const json = JSON.parse(readFileSync(r.json, 'utf8')) as { provenance: Provenance; sessions: RunSession[] };
  assert.deepEqual(json.provenance, p);
  assert.equal(json.sessions.length, 2);
  assert.match(readFileSync(r.html, 'utf8'), new RegExp(`"provenanceText":"code ${p.commit ?? 'no git'}`));
});

test('resume on other src/ code: refused naming both commits, journal untouched; --allow-code-change continues and is recorded', async () => {
  const dir = join(base, 'other');
  const ac = new AbortController();
  await assert.rejects(
    runSearch({
      config: cfg,
      runDir: dir,
      transport: inproc(),
      signal: ac.signal,
      onEvent: (e) => e.type === 'generation-end' && ac.abort(),
    }),
    /interrupted/,
  );
  const oldCommit = '0123456789abcdef0123456789abcdef01234567';
  rewriteCode(dir, oldCommit, 'ffffffffffffffff');
  const before = snapshot(dir);
  const now = provenance();
  await assert.rejects(runSearch({ config: cfg, runDir: dir, transport: inproc(), resume: true }), (e: Error) => {
    assert.ok(e instanceof SearchError);
    assert.ok(e.message.includes(`commit ${oldCommit}`), e.message);
    assert.ok(e.message.includes(`commit ${now.commit ?? '(not a git checkout)'}`), e.message);
    assert.match(e.message, /src\/ hash ffffffffffffffff.*--allow-code-change/s);
    return true;
  });
  assert.deepEqual(snapshot(dir), before);
  assert.equal(meta(dir).sessions.length, 1);
  // the CLI says the same and exits 2
  const cli = spawnSync(process.execPath, [BIN, 'search', '--out', dir, '--resume'], { encoding: 'utf8' });
  assert.equal(cli.status, 2);
  assert.ok(cli.stderr.includes(oldCommit), cli.stderr);
  // allowed: the run goes on, the session records the flag and the code it changed from
  const s = await runSearch({ config: cfg, runDir: dir, transport: inproc(), resume: true, allowCodeChange: true });
  assert.equal(s.generations.length, 2);
  const m = meta(dir);
  assert.equal(m.sessions.length, 2);
  assert.equal(m.sessions[1]!.allowCodeChange, true);
  assert.deepEqual(m.sessions[1]!.codeChangedFrom, {
    commit: oldCommit,
    srcHash: 'ffffffffffffffff',
    dirty: m.sessions[0]!.provenance.dirty,
  });
  assert.equal(m.sessions[1]!.provenance.srcHash, now.srcHash);
  // a later resume compares with the latest session's code: the same code now, no flag needed
  await runSearch({ config: cfg, runDir: dir, transport: inproc(), resume: true });
  assert.equal(meta(dir).sessions.length, 3);
});

test('CLI: --allow-code-change is accepted with --resume and recorded', () => {
  const dir = join(base, 'cli');
  const file = join(base, 'cli.yaml');
  writeFileSync(
    file,
    YAML.stringify({
      ...SMALL,
      population: { ...SMALL.population, size: 30 },
      evolution: { ...SMALL.evolution, generations: 1 },
      final: { enabled: false },
    }),
  );
  const first = spawnSync(process.execPath, [BIN, 'search', '--config', file, '--out', dir, '--no-report'], { encoding: 'utf8' });
  assert.equal(first.status, 0, first.stderr);
  rewriteCode(dir, 'abcdefabcdefabcdefabcdefabcdefabcdefabcd', 'eeeeeeeeeeeeeeee');
  const r = spawnSync(process.execPath, [BIN, 'search', '--out', dir, '--resume', '--allow-code-change', '--no-report'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const m = meta(dir);
  assert.equal(m.sessions.at(-1)!.allowCodeChange, true);
  assert.equal(m.sessions.at(-1)!.codeChangedFrom!.commit, 'abcdefabcdefabcdefabcdefabcdefabcdefabcd');
  assert.match(m.sessions.at(-1)!.provenance.command, /search --out .* --resume --allow-code-change/);
});
