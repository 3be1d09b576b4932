/**
 * Valid populations under `cse` (issue 15, item 1): generation 0 and the offspring are filled with
 * candidates that pass CPV and are distinct, within the caps; the draws are reported; a run whose
 * filters leave nothing says so and fails; the filled populations are a function of the seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { convergenceChecks, parseExpr, fingerprint, type Mode } from '../../src/loss/index.js';
import { configHash, hashOf, parseConfig } from '../../src/search/config.js';
import { FINGERPRINT_VERSION } from '../../src/search/fingerprint.js';
import { runSearch, SearchEmptyError, type GenerationStats, type SearchEvent } from '../../src/search/evolution.js';
import { Journal } from '../../src/search/journal.js';
import { runStage } from '../../src/search/stages/index.js';
import { InProcessTransport } from '../../src/search/transport/index.js';
import { smallConfig, snapshot, tmpDir } from './helpers.js';

const inproc = () => new InProcessTransport(runStage);
const base = tmpDir('cse-pop-');
let n = 0;
const fresh = () => join(base, `run${n++}`);
const BIN = fileURLToPath(new URL('../../bin/cse-autoloss.js', import.meta.url));

function readRun(dir: string) {
  const j = Journal.open(dir, { readonly: true });
  try {
    return { cands: j.candidates(), gens: j.generations().map((g) => g.stats as unknown as GenerationStats) };
  } finally {
    j.close();
  }
}

for (const mode of ['cls', 'bcls'] as Mode[]) {
  test(`${mode}, default population settings: generation 0 is full, every member passes CPV, distinct; offspring pass CPV too`, async () => {
    // The population fields at their defaults (size 200, maxDraws, maxOffspringTries); two generations, no final evaluation.
    const cfg = parseConfig({
      mode,
      evolution: { generations: 2 },
      mos: { level1: { samples: 16, steps: 20 } },
      proxy: { topK: 4, task: { iters: 40 } },
      final: { enabled: false },
      pool: { workers: 0 },
    });
    assert.equal(cfg.population.size, 200);
    const events: SearchEvent[] = [];
    const dir = fresh();
    await runSearch({ config: cfg, runDir: dir, transport: inproc(), onEvent: (e) => events.push(e) });
    const { cands, gens } = readRun(dir);
    for (const g of [0, 1]) {
      const pop = cands.filter((c) => c.gen === g);
      assert.equal(pop.length, 200, `generation ${g} is full`);
      const fps = new Set<string>();
      for (const c of pop) {
        // an independent call of the CPV checker on the stored string
        const e = parseExpr(mode, c.loss);
        assert.ok(convergenceChecks(mode, e).pass, `${c.loss} passes CPV`);
        fps.add(fingerprint(mode, e));
        assert.notEqual(c.fate, 'cpv-fail');
      }
      assert.equal(fps.size, 200, `generation ${g}: 200 distinct fingerprints`);
      const s = gens[g]!;
      assert.equal(s.cpvPass, 200);
      assert.equal(s.duplicates, 0);
      const d = s.draws!;
      assert.equal(d.capped, null);
      assert.equal(s.drawn, d.drawn);
      assert.equal(d.drawn, d.random.drawn + d.offspring.drawn);
      assert.equal(d.passed - d.duplicates, 200, 'every admitted draw is a member');
      assert.equal(s.cpvPassRate, d.passed / d.drawn);
      if (g === 0) {
        assert.equal(d.offspring.drawn, 0);
        assert.equal(pop.filter((c) => c.origin === 'random').length, 200);
        // random trees pass CPV rarely (~0.1% cls, ~0.03% bcls): many more draws than members
        assert.ok(d.drawn > 20 * 200, `${d.drawn} draws`);
      } else {
        assert.equal(d.random.passed - pop.filter((c) => c.origin === 'random').length <= d.duplicates, true);
        assert.ok(d.offspring.drawn >= 180 && d.offspring.drawn < cfg.population.maxOffspringTries);
        assert.ok(pop.some((c) => c.origin === 'mutation') && pop.some((c) => c.origin.startsWith('crossover')));
      }
    }
    // the draw is reported live too
    const draws = events.filter((e) => e.type === 'draw');
    assert.ok(draws.length > 0);
    const last0 = draws.filter((e) => e.gen === 0).at(-1)!;
    assert.deepEqual([last0.drawn, last0.admitted], [gens[0]!.drawn, 200]);
  });
}

test('cls: the filled populations are a function of the seed (same seed, same journal; resume replays them)', async () => {
  const cfg = smallConfig({
    mode: 'cls',
    population: { size: 12, maxSize: 25, minDepth: 2, maxDepth: 5 },
    evolution: { generations: 2, parents: 3, elites: 1 },
    final: { enabled: false },
  });
  const a = fresh();
  const b = fresh();
  await runSearch({ config: cfg, runDir: a, transport: inproc() });
  await runSearch({ config: cfg, runDir: b, transport: inproc() });
  assert.deepEqual(snapshot(a), snapshot(b));
  const { cands, gens } = readRun(a);
  assert.equal(cands.filter((c) => c.gen === 0).length, 12);
  assert.ok(gens[0]!.drawn! > 12);
  // an interrupted run resumed from its journal ends with the same journal
  const c = fresh();
  const ac = new AbortController();
  await assert.rejects(
    runSearch({
      config: cfg,
      runDir: c,
      transport: inproc(),
      signal: ac.signal,
      onEvent: (e) => e.type === 'generation-end' && e.gen === 0 && ac.abort(),
    }),
    /interrupted/,
  );
  await runSearch({ config: cfg, runDir: c, transport: inproc(), resume: true });
  assert.deepEqual(snapshot(c), snapshot(a));
  // another seed, other members
  const d = fresh();
  await runSearch({
    config: smallConfig({
      mode: 'cls',
      seed: 5,
      population: { size: 12, maxSize: 25, minDepth: 2, maxDepth: 5 },
      evolution: { generations: 1 },
      final: { enabled: false },
    }),
    runDir: d,
    transport: inproc(),
  });
  assert.notDeepEqual(
    readRun(d).cands.map((x) => x.loss),
    cands.filter((x) => x.gen === 0).map((x) => x.loss),
  );
});

test('a cap too small: nothing passes, the run says so with the rates and fails (API and CLI, non-zero exit)', async () => {
  const cfg = smallConfig({ mode: 'bcls', population: { size: 10, maxDraws: 50 } });
  await assert.rejects(runSearch({ config: cfg, runDir: fresh(), transport: inproc() }), (e: Error) => {
    assert.ok(e instanceof SearchEmptyError);
    assert.match(e.message, /generation 1: no candidate to search\. 0 of 50 drawn trees passed CPV \(0\.000%\)/);
    assert.match(e.message, /population\.maxDraws \(50\) was hit/);
    return true;
  });
  const dir = fresh();
  const file = join(base, 'tiny-cap.yaml');
  writeFileSync(
    file,
    YAML.stringify({ mode: 'bcls', population: { size: 10, maxDraws: 50 }, evolution: { generations: 1 }, pool: { workers: 0 } }),
  );
  const r = spawnSync(process.execPath, [BIN, 'search', '--config', file, '--out', dir], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /0 of 50 drawn trees passed CPV \(0\.000%\)/);
});

test('an offspring cap too small leaves a short generation, reported; filters that leave nothing for the proxy fail the run', async () => {
  const cfg = smallConfig({
    population: { size: 40, maxSize: 25, minDepth: 2, maxDepth: 5, maxOffspringTries: 5 },
    evolution: { generations: 2, parents: 3, elites: 1, randomFraction: 0 },
    final: { enabled: false },
  });
  const dir = fresh();
  await runSearch({ config: cfg, runDir: dir, transport: inproc() });
  const { cands, gens } = readRun(dir);
  const g1 = cands.filter((c) => c.gen === 1);
  assert.ok(g1.length <= 5 && g1.length < 40);
  assert.equal(gens[1]!.draws!.capped, 'maxOffspringTries');
  assert.equal(gens[1]!.draws!.offspring.drawn, 5);
  assert.equal(gens[1]!.population, g1.length);
  // no candidate can reach the default's MOS score × 100: nothing reaches the proxy
  const strict = smallConfig({
    population: { size: 20, maxSize: 25, minDepth: 2, maxDepth: 5 },
    evolution: { generations: 1 },
    mos: { level1: { samples: 32, steps: 60, threshold: 100 } },
  });
  await assert.rejects(runSearch({ config: strict, runDir: fresh(), transport: inproc() }), (e: Error) => {
    assert.ok(e instanceof SearchEmptyError);
    assert.match(e.message, /no candidate reached the proxy.*passed CPV \(\d+\.\d{3}%\).*MOS pass 0 of 20 \(0\.000%\)/s);
    return true;
  });
});

test('vanilla draws unfiltered trees exactly as before the cse filter (journal of commit 74fc0d2)', async () => {
  const ref = JSON.parse(readFileSync(new URL('./fixtures/vanilla-74fc0d2.json', import.meta.url), 'utf8')) as {
    cands: unknown[];
    gens: unknown[];
    results: string[];
    default: string;
  };
  const dir = fresh();
  await runSearch({
    config: smallConfig({ strategy: 'vanilla', population: { size: 60, maxSize: 25, minDepth: 2, maxDepth: 5 } }),
    runDir: dir,
    transport: inproc(),
  });
  const now = snapshot(dir) as typeof ref;
  assert.deepEqual(now.cands, ref.cands);
  assert.deepEqual(now.gens, ref.gens);
  assert.equal(now.default, ref.default);
  // every stage result of that run but the final evaluation's (it now also trains the published half)
  const finalNow = now.results.filter((r) => r.includes('|final|'));
  assert.deepEqual(
    now.results.filter((r) => !r.includes('|final|')),
    ref.results,
  );
  assert.equal(finalNow.length, 2 * 4, 'default, published half and the top 2, two seeds each');
  assert.ok(!now.gens.some((g) => 'drawn' in (g as object)), 'no draw counters for vanilla');
});

test('Ctrl-C during a long draw stops it at once (resumable)', async () => {
  const ac = new AbortController();
  const events: SearchEvent[] = [];
  const t0 = performance.now();
  await assert.rejects(
    runSearch({
      config: smallConfig({ mode: 'bcls', population: { size: 200 } }),
      runDir: fresh(),
      transport: inproc(),
      signal: ac.signal,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'draw') ac.abort();
      },
    }),
    /interrupted/,
  );
  const draws = events.filter((e) => e.type === 'draw');
  assert.equal(draws.length, 1, 'stopped at the next progress tick');
  assert.ok(draws[0]!.drawn <= 5000 && performance.now() - t0 < 30_000);
});

test('bcls with cpv.saturating: every member also passes the saturating property; without it some do not; the key stays as it was', async () => {
  const make = (saturating: boolean | undefined) =>
    smallConfig({
      mode: 'bcls',
      population: { size: 40 },
      evolution: { generations: 1 },
      final: { enabled: false },
      ...(saturating === undefined ? {} : { cpv: { saturating } }),
    });
  assert.equal('saturating' in make(undefined).cpv, false, 'absent by default: the resolved config of existing runs is unchanged');
  const runs: Record<string, ReturnType<typeof readRun>['cands']> = {};
  for (const [name, sat] of [
    ['off', undefined],
    ['on', true],
  ] as const) {
    const dir = fresh();
    await runSearch({ config: make(sat), runDir: dir, transport: inproc() });
    runs[name] = readRun(dir).cands;
    const j = Journal.open(dir, { readonly: true });
    try {
      // the result key hashes the task: the option enters it only when on, so a run without it keeps its keys
      const keys = new Set(
        j
          .allResults()
          .filter((r) => r.stage === 'cpv')
          .map((r) => r.key),
      );
      const task = { stage: 'cpv', mode: 'bcls', seed: 0, ...(sat ? { saturating: true } : {}), fp: FINGERPRINT_VERSION };
      assert.deepEqual([...keys], [hashOf(task)]);
    } finally {
      j.close();
    }
  }
  const failsSat = (loss: string) => !convergenceChecks('bcls', parseExpr('bcls', loss), { saturating: true }).pass;
  assert.equal(runs.on!.length, 40);
  for (const c of runs.on!) {
    assert.ok(convergenceChecks('bcls', parseExpr('bcls', c.loss)).pass);
    assert.equal(failsSat(c.loss), false, `${c.loss} passes saturating`);
  }
  // about a quarter of the random CPV survivors run away (measured: 782,913 → 1,046,191 draws for 300)
  assert.ok(runs.off!.filter((c) => failsSat(c.loss)).length >= 1);
});

test('population.identity gradient: a tree that differs from another only by terms without a logit is the same candidate; absent, they are two', async () => {
  const twin = 'Add(Salf(Exp(Abs(PY))),Add(Sub(Relu(PY),Mul(X,PY)),Add(Sin(Q),Softplus(X))))'; // BCE in disguise
  const make = (identity: 'gradient' | undefined) =>
    smallConfig({
      mode: 'bcls',
      population: { size: 12, seedWith: ['bce', twin], ...(identity ? { identity } : {}) },
      evolution: { generations: 1 },
      final: { enabled: false },
    });
  assert.equal('identity' in make(undefined).population, false, 'absent by default: existing configs keep their hash');
  assert.equal(configHash(parseConfig({ mode: 'bcls', population: { identity: 'function' } })), configHash(parseConfig({ mode: 'bcls' })));
  const fates: Record<string, string[]> = {};
  for (const [name, id] of [
    ['function', undefined],
    ['gradient', 'gradient'],
  ] as const) {
    const dir = fresh();
    await runSearch({ config: make(id), runDir: dir, transport: inproc() });
    const seeds = readRun(dir).cands.filter((c) => c.origin === 'seed');
    fates[name] = seeds.map((c) => c.fate ?? '');
    if (id) for (const c of seeds) assert.match(c.fingerprint, /^gradient:bcls:/);
  }
  assert.equal(fates.function!.length, 2);
  assert.notEqual(fates.function![1], 'duplicate');
  assert.equal(fates.gradient![1], 'duplicate');
});
