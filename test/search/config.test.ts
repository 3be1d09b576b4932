import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, configDiff, configHash, demoConfigFile, loadConfig, parseConfig, planPool } from '../../src/search/config.js';

test('defaults: an empty config is complete and documented values hold', () => {
  const c = parseConfig({});
  assert.equal(c.mode, 'cls');
  assert.equal(c.strategy, 'cse');
  assert.equal(c.population.size, 200);
  assert.equal(c.evolution.generations, 10);
  assert.equal(c.mos.level1.steps, 200);
  assert.equal(c.mos.level1.threshold, 0.9);
  assert.equal(c.mos.level2.enabled, false);
  assert.equal(c.mos.level2.task.iters, 50);
  assert.equal(c.proxy.task.kind, 'simulated');
  assert.equal(c.final.task.iters, 1000);
  assert.deepEqual(c.final.seeds, [0, 1, 2]);
  assert.deepEqual(c.population.seedWith, []);
});

test('every bad field is named with its path', () => {
  try {
    parseConfig({
      mode: 'box',
      population: { size: -3, maxDepth: 2, minDepth: 4 },
      proxy: { task: { iters: 1.5, colour: 'red' } },
      evolution: { crossoverProb: 2 },
    });
    assert.fail('should throw');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    const text = e.problems.join('\n');
    for (const path of ['mode:', 'population.size:', 'proxy.task.iters:', 'proxy.task:', 'evolution.crossoverProb:'])
      assert.ok(text.includes(path), `${path} in\n${text}`);
    assert.match(text, /unknown field\(s\) 'colour'/);
  }
  // Cross-field rule, reported at its path.
  assert.throws(() => parseConfig({ population: { minDepth: 5, maxDepth: 3 } }), /population\.minDepth: must be ≤ population\.maxDepth/);
});

test('YAML file, then CLI overrides by path; the demo preset', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cse-cfg-'));
  const f = join(dir, 's.yaml');
  writeFileSync(f, 'mode: reg\npopulation:\n  size: 50\nproxy:\n  topK: 4\n');
  const c = loadConfig({ file: f, overrides: { 'population.size': 70, seed: 9, 'proxy.task.iters': undefined } });
  assert.equal(c.mode, 'reg');
  assert.equal(c.population.size, 70);
  assert.equal(c.proxy.topK, 4);
  assert.equal(c.seed, 9);
  writeFileSync(f, 'mode: [unclosed\n');
  assert.throws(() => loadConfig({ file: f }), /not valid YAML/);
  assert.throws(() => loadConfig({ file: join(dir, 'missing.yaml') }), /cannot read config/);
  const d = loadConfig({ demo: true });
  assert.equal(d.proxy.task.kind, 'detector');
  assert.equal(d.proxy.task.detector, 'fcos');
});

test('config hash ignores the pool layout and timeouts; the diff names changed paths', () => {
  const a = parseConfig({});
  const b = parseConfig({ pool: { workers: 7 }, proxy: { task: { timeoutSeconds: 5 } } });
  assert.equal(configHash(a), configHash(b));
  const c = parseConfig({ seed: 3, proxy: { topK: 2 } });
  assert.notEqual(configHash(a), configHash(c));
  assert.deepEqual(configDiff(a, c), ['proxy.topK: 10 → 2', 'seed: 0 → 3']);
});

test('pool plan from cores', () => {
  assert.deepEqual(planPool(parseConfig({}), 8), { workers: 8, threads: 1 });
  assert.deepEqual(planPool(parseConfig({ pool: { workers: 2 } }), 8), { workers: 2, threads: 4 });
  assert.deepEqual(planPool(parseConfig({ pool: { workers: 0 } }), 8), { workers: 0, threads: 8 });
  // the same plan as `worker --threads`: processes fitted to the cores (src/util/plan.ts)
  assert.deepEqual(planPool(parseConfig({ pool: { threadsPerWorker: 4 } }), 8), { workers: 2, threads: 4 });
});

test('configs/search.yaml is a real discovery search (detector proxy, dataset made on first use, cpu-small final with 3 seeds); the demo and vanilla files are valid', () => {
  const root = new URL('../../configs/', import.meta.url);
  const file = (n: string) => new URL(n, root).pathname;
  const main = loadConfig({ file: file('search.yaml') });
  assert.equal(main.proxy.task.kind, 'detector');
  assert.equal(main.final.task.kind, 'detector');
  assert.equal(main.final.task.preset, 'cpu-small');
  assert.equal(main.final.task.iters, 4000); // the cpu-small schedule of FCOS
  assert.deepEqual(main.final.seeds, [0, 1, 2]);
  assert.equal(main.dataset?.kind, 'shapes');
  // no early stopping: from random trees it would stop nearly every early candidate (the config says why)
  assert.equal(main.proxy.earlyStop, undefined);
  // the proxy docs/PROXY.md's S1 study chose: 800 iterations at 128 px
  assert.deepEqual([main.proxy.task.iters, main.proxy.task.inputSize], [800, 128]);
  assert.equal(main.cpv.saturating, true);
  assert.equal(main.mos.level1.problem, 'detection'); // docs/SEARCH.md: 'balanced' saturates in bcls
  assert.ok(main.evolution.generations * main.proxy.topK >= 48, 'at least 48 proxy evaluations');
  // --demo reads the one copy of the preset, configs/search-demo.yaml
  assert.equal(demoConfigFile(), file('search-demo.yaml'));
  const demoFile = loadConfig({ file: file('search-demo.yaml') });
  const demo = loadConfig({ demo: true });
  assert.equal(demo.mode, 'reg');
  assert.equal(demo.proxy.task.kind, 'detector');
  // The file's dataDir is the default one; --demo points it into the run folder.
  for (const c of [demoFile, demo]) for (const t of [c.proxy.task, c.final.task, c.mos.level2.task]) t.dataDir = 'x';
  assert.equal(configHash(demoFile), configHash(demo));
  assert.equal(loadConfig({ file: file('search-vanilla.yaml') }).strategy, 'vanilla');
});

test('a searched classification loss must fit the detector head', () => {
  assert.throws(
    () => parseConfig({ mode: 'cls', proxy: { task: { kind: 'detector', detector: 'fcos' } } }),
    /proxy\.task\.detector: fcos .* mode cls needs faster-rcnn/,
  );
  assert.throws(
    () => parseConfig({ mode: 'bcls', proxy: { task: { kind: 'detector', detector: 'faster-rcnn' } } }),
    /mode bcls needs fcos/,
  );
  assert.equal(parseConfig({ mode: 'cls', proxy: { task: { kind: 'detector', detector: 'faster-rcnn' } } }).mode, 'cls');
});

test('cpv.saturating: absent unless set; refused in reg mode with its path', () => {
  assert.equal('saturating' in parseConfig({ mode: 'bcls' }).cpv, false);
  // false is the default: the same hash as leaving it out
  assert.equal(configHash(parseConfig({ mode: 'bcls', cpv: { saturating: false } })), configHash(parseConfig({ mode: 'bcls' })));
  assert.equal(parseConfig({ mode: 'cls', cpv: { saturating: true } }).cpv.saturating, true);
  assert.throws(
    () => parseConfig({ mode: 'reg', cpv: { saturating: true } }),
    /cpv\.saturating: 'saturating' is a property of the cls and bcls modes/,
  );
  // the shipped S1 and S2 configs use it
  for (const f of ['search.yaml', 'discovery-s2.yaml']) assert.equal(loadConfig({ file: join('configs', f) }).cpv.saturating, true, f);
});
