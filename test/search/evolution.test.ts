import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseExpr } from '../../src/loss/index.js';
import { runSearch, SearchError, SearchInterrupted, type SearchEvent } from '../../src/search/evolution.js';
import { fingerprint } from '../../src/search/fingerprint.js';
import { Journal, JournalFullError } from '../../src/search/journal.js';
import { buildReport } from '../../src/search/report.js';
import { runStage } from '../../src/search/stages/index.js';
import { InProcessTransport } from '../../src/search/transport/index.js';
import { ProcessPool } from '../../src/search/transport/pool.js';
import { smallConfig, snapshot, tmpDir } from './helpers.js';

const inproc = () => new InProcessTransport(runStage);
const base = tmpDir();
let n = 0;
const fresh = () => join(base, `run${n++}`);

// One uninterrupted reference run shared by the tests below.
const cfg = smallConfig();
const refDir = fresh();
const ref = runSearch({ config: cfg, runDir: refDir, transport: inproc() });

test('a run is deterministic for its seed; another seed gives another run', async () => {
  const s1 = await ref;
  assert.equal(s1.generations.length, 3);
  assert.ok(s1.proxyEvaluations > 0, 'some candidates reached the proxy');
  const dir2 = fresh();
  await runSearch({ config: cfg, runDir: dir2, transport: inproc() });
  assert.deepEqual(snapshot(dir2), snapshot(refDir));
  const dir3 = fresh();
  await runSearch({
    config: smallConfig({ seed: 2, evolution: { generations: 1 }, final: { enabled: false } }),
    runDir: dir3,
    transport: inproc(),
  });
  const a = (snapshot(refDir) as { cands: unknown[][] }).cands.filter((c) => c[0] === 0).map((c) => c[2]);
  const b = (snapshot(dir3) as { cands: unknown[][] }).cands.map((c) => c[2]);
  assert.notDeepEqual(a, b);
});

test('the stages filter as specified: CPV, dedupe, MOS threshold relative to the default, top-K new to the proxy', async () => {
  await ref;
  const j = Journal.open(refDir, { readonly: true });
  try {
    const def = JSON.parse(j.getMeta('default')!) as { mos1: number; fitness: number; loss: string };
    assert.equal(def.loss, 'Add(Sub(1,Div(I,U)),Div(Sub(E,U),E))'); // giou, the reg default
    const results = j.allResults();
    const cpv = new Map(results.filter((r) => r.stage === 'cpv').map((r) => [r.fingerprint, r]));
    const mos = new Map(results.filter((r) => r.stage === 'mos1').map((r) => [r.fingerprint, r]));
    const seenProxied = new Set<string>();
    for (const g of j.generations()) {
      const cands = j.candidates(g.gen);
      const firstOf = new Map<string, number>();
      let newProxied = 0;
      for (const c of cands) {
        // Fingerprints are the semantic fingerprint of the stored string.
        assert.equal(c.fingerprint, fingerprint('reg', parseExpr('reg', c.loss)));
        const passCpv = cpv.get(c.fingerprint)!.pass === true;
        if (c.fate === 'cpv-fail') {
          assert.equal(passCpv, false);
          continue;
        }
        assert.ok(passCpv, `${c.loss} passed CPV`);
        if (c.fate === 'duplicate') {
          assert.ok(firstOf.has(c.fingerprint) && firstOf.get(c.fingerprint)! < c.idx);
          continue;
        }
        firstOf.set(c.fingerprint, c.idx);
        const score = mos.get(c.fingerprint)!.score!;
        if (c.fate === 'mos-fail') assert.ok(score < 0.9 * def.mos1 || mos.get(c.fingerprint)!.status !== 'ok');
        else assert.ok(score >= 0.9 * def.mos1, `${c.loss}: MOS ${score} passes`);
        if (c.fate === 'proxied' || c.fate === 'proxy-failed') {
          assert.notEqual(c.fitness, null);
          if (!seenProxied.has(c.fingerprint)) newProxied++;
        }
      }
      for (const c of cands) if (c.fate === 'proxied') seenProxied.add(c.fingerprint);
      assert.ok(newProxied <= 4, `generation ${g.gen}: ${newProxied} new proxy evaluations ≤ top-K`);
      assert.equal((g.stats as { proxyNew: number }).proxyNew, newProxied);
    }
  } finally {
    j.close();
  }
});

test('interrupted mid-generation (Ctrl-C) and resumed: the same results as the uninterrupted run', async () => {
  await ref;
  const dir = fresh();
  const ac = new AbortController();
  let mosEvents = 0;
  const onEvent = (e: SearchEvent) => {
    if (e.type === 'stage' && e.gen === 1 && e.stage === 'mos1' && ++mosEvents === 3) ac.abort();
  };
  await assert.rejects(runSearch({ config: cfg, runDir: dir, transport: inproc(), onEvent, signal: ac.signal }), SearchInterrupted);
  const j = Journal.open(dir, { readonly: true });
  assert.equal(j.generations().length, 1);
  assert.equal(j.getMeta('status'), 'running');
  j.close();
  let reused = -1;
  await runSearch({
    config: cfg,
    runDir: dir,
    resume: true,
    transport: inproc(),
    onEvent: (e) => e.type === 'start' && (reused = e.reusedResults),
  });
  assert.ok(reused > 0);
  assert.deepEqual(snapshot(dir), snapshot(refDir));
});

test('disk full while writing: the run stops with a clear error and resumes to the same results', async () => {
  await ref;
  const dir = fresh();
  await assert.rejects(
    runSearch({ config: cfg, runDir: dir, transport: inproc(), maxJournalPages: 40 }),
    (e: unknown) => e instanceof JournalFullError && /--resume/.test((e as Error).message),
  );
  await runSearch({ config: cfg, runDir: dir, resume: true, transport: inproc() });
  assert.deepEqual(snapshot(dir), snapshot(refDir));
});

test('resume refuses another config (showing the difference), a missing run; a new run refuses an existing folder', async () => {
  await ref;
  await assert.rejects(
    runSearch({ config: smallConfig({ seed: 5, proxy: { topK: 3 } }), runDir: refDir, resume: true, transport: inproc() }),
    (e: unknown) =>
      e instanceof SearchError &&
      /another config/.test((e as Error).message) &&
      /seed: 1 → 5/.test((e as Error).message) &&
      /proxy\.topK: 4 → 3/.test((e as Error).message),
  );
  await assert.rejects(runSearch({ config: cfg, runDir: refDir, transport: inproc() }), /already holds a run/);
  await assert.rejects(runSearch({ config: cfg, runDir: fresh(), resume: true, transport: inproc() }), /no journal to resume/);
  // The pool layout is not part of the run's identity.
  await runSearch({
    config: smallConfig({ pool: { workers: 0, threadsPerWorker: 2 } }),
    runDir: refDir,
    resume: true,
    transport: inproc(),
  });
});

test('vanilla EA: no CPV or MOS, at most top-K new proxy evaluations per generation', async () => {
  const dir = fresh();
  const s = await runSearch({ config: smallConfig({ strategy: 'vanilla', final: { enabled: false } }), runDir: dir, transport: inproc() });
  const j = Journal.open(dir, { readonly: true });
  try {
    const stages = new Set(j.allResults().map((r) => r.stage));
    assert.deepEqual([...stages].sort(), ['proxy']);
    for (const g of s.generations) {
      assert.ok(g.proxyNew <= 4);
      assert.equal(g.mosEvaluated, 0);
      assert.equal(g.cpvFail, 0);
    }
    assert.equal(
      s.proxyEvaluations,
      s.generations.reduce((a, g) => a + g.proxyNew, 0),
    );
    // Vanilla sends whatever it draws: some candidates diverge or fail in the proxy and the search goes on.
    assert.ok(j.candidates().some((c) => c.fate === 'proxy-failed' || (c.fate === 'proxied' && c.fitness === 0)));
  } finally {
    j.close();
  }
});

test('the local pool gives the in-process results; a worker crash in the proxy is a failed candidate, the search goes on', async () => {
  await ref;
  const dir = fresh();
  const pool = new ProcessPool({ workers: 2, threadsPerWorker: 1 });
  try {
    await runSearch({ config: cfg, runDir: dir, transport: pool });
  } finally {
    await pool.close();
  }
  assert.deepEqual(snapshot(dir), snapshot(refDir));

  const dir2 = fresh();
  process.env.CSE_TEST_CRASH_PROXY = 'Sub';
  const faulty = new ProcessPool({
    workers: 2,
    threadsPerWorker: 1,
    stageModule: new URL('./fixtures/fault-stage.ts', import.meta.url).href,
  });
  try {
    const s = await runSearch({
      config: smallConfig({ defaultLoss: 'log-iou', final: { enabled: false } }),
      runDir: dir2,
      transport: faulty,
    });
    assert.equal(s.generations.length, 3);
  } finally {
    delete process.env.CSE_TEST_CRASH_PROXY;
    await faulty.close();
  }
  const j = Journal.open(dir2, { readonly: true });
  try {
    const crashed = j.allResults().filter((r) => r.status === 'crashed');
    assert.ok(crashed.length > 0, 'some proxy evaluations crashed their worker');
    for (const r of crashed) assert.ok(r.loss.includes('Sub'));
    const failed = j.candidates().filter((c) => c.fate === 'proxy-failed');
    assert.ok(failed.length > 0 && failed.every((c) => c.fitness === 0));
  } finally {
    j.close();
  }
});

test('MOS level 2: a short proxy-like task filters after level 1, its threshold relative to the default', async () => {
  const dir = fresh();
  const s = await runSearch({
    config: smallConfig({
      evolution: { generations: 2 },
      mos: { level1: { samples: 32, steps: 60 }, level2: { enabled: true, task: { iters: 20 }, threshold: 0.9 } },
      final: { enabled: false },
    }),
    runDir: dir,
    transport: inproc(),
  });
  const j = Journal.open(dir, { readonly: true });
  try {
    const def = JSON.parse(j.getMeta('default')!) as { mos2: number };
    assert.ok(def.mos2 > 0);
    const mos2 = new Map(
      j
        .allResults()
        .filter((r) => r.stage === 'mos2')
        .map((r) => [r.fingerprint, r.score!]),
    );
    assert.ok(mos2.size > 1);
    for (const c of j.candidates()) {
      if (c.fate === 'proxied') assert.ok(mos2.get(c.fingerprint)! >= 0.9 * def.mos2);
    }
    assert.ok(s.generations.every((g) => g.mos2Evaluated === g.mosPass && g.mos2Pass <= g.mos2Evaluated));
  } finally {
    j.close();
  }
});

test("a run's first generations do not depend on how many follow (results-discovery reuses a search's prefix)", async () => {
  await ref; // 3 generations
  const dir = fresh();
  // final disabled too: the efficiency runs and the multi-fidelity twin change both
  await runSearch({ config: smallConfig({ evolution: { generations: 2 }, final: { enabled: false } }), runDir: dir, transport: inproc() });
  const a = snapshot(refDir) as { cands: unknown[][]; gens: unknown[] };
  const b = snapshot(dir) as { cands: unknown[][]; gens: unknown[] };
  assert.deepEqual(b.gens, a.gens.slice(0, 2));
  assert.deepEqual(
    b.cands,
    a.cands.filter((c) => (c[0] as number) < 2),
  );
  assert.ok(b.cands.length > 0);
});

test('evolution.stopAtDefault ends the run after the generation that first reaches the default; the generations before are unchanged', async () => {
  // bcls, seed 2, 40 candidates: one first reaches the default's (simulated) proxy fitness in generation 2 of 3
  const over = { mode: 'bcls', seed: 2, population: { size: 40 }, final: { enabled: false } };
  const fullDir = fresh(); // its first 2 generations (a run's first generations do not depend on how many follow)
  await runSearch({ config: smallConfig({ ...over, evolution: { generations: 2 } }), runDir: fullDir, transport: inproc() });
  const full = buildReport(fullDir);
  const reached = full.reachedDefault;
  assert.ok(reached, "the full run reaches the default's fitness (else this test shows nothing)");
  assert.ok(reached.gen < 2, `reached in generation ${reached.gen}, before the stopped run's last one`);
  assert.equal(reached.stoppedThere, undefined);
  const stopped = smallConfig({ ...over, evolution: { generations: 3, stopAtDefault: true } });
  const dir = fresh();
  const events: SearchEvent[] = [];
  const s = await runSearch({ config: stopped, runDir: dir, transport: inproc(), onEvent: (e) => events.push(e) });
  assert.equal(s.generations.length, reached.gen + 1);
  assert.equal(s.stoppedAtDefault?.gen, reached.gen);
  assert.equal(s.stoppedAtDefault?.loss, reached.loss);
  assert.ok(s.stoppedAtDefault!.fitness >= full.default!.fitness);
  const stop = events.find((e) => e.type === 'stopped-at-default');
  assert.ok(stop && stop.type === 'stopped-at-default' && stop.gen === reached.gen);
  const a = snapshot(fullDir) as { cands: unknown[][]; gens: unknown[] };
  const b = snapshot(dir) as { cands: unknown[][]; gens: unknown[] };
  assert.deepEqual(b.gens, a.gens.slice(0, reached.gen + 1));
  assert.deepEqual(
    b.cands,
    a.cands.filter((c) => (c[0] as number) <= reached.gen),
  );
  const r = buildReport(dir);
  assert.equal(r.status, 'finished');
  assert.deepEqual(r.reachedDefault, { ...reached, elapsedMs: r.reachedDefault!.elapsedMs, stoppedThere: true });
  // resuming the finished, stopped run replays it and goes no further
  const before = snapshot(dir);
  const again = await runSearch({ config: stopped, runDir: dir, transport: inproc(), resume: true });
  assert.equal(again.generations.length, reached.gen + 1);
  assert.deepEqual(snapshot(dir), before);
});
