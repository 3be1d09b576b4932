/**
 * The proxy-fidelity lookup (src/search/fidelity.ts): a run's proxy is found in the proxy study's
 * summary by its identity (detector, mode, dataset spec, proxy task fields), and the report's run
 * page shows the measured τ-b, or says that the proxy was not measured.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type SearchConfig } from '../../src/search/config.js';
import { runSearch } from '../../src/search/evolution.js';
import { defaultSummaryFile, proxyFidelityOf, proxyFidelityText } from '../../src/search/fidelity.js';
import { Journal } from '../../src/search/journal.js';
import { reportFromJournal, writeReport } from '../../src/search/report.js';
import { runStage } from '../../src/search/stages/index.js';
import { InProcessTransport } from '../../src/search/transport/index.js';
import { runView } from '../../src/search/view/model.js';
import { smallConfig, tmpDir } from './helpers.js';

// The demo's proxy as configs/search-demo.yaml states it, written out by hand (FCOS, reg; mnist-det
// 1200 images, 128 px, seed 0, val fraction 0.2; 96 px, 1000 iterations, 100 warm-up, 800 train and
// 150 scored images, cpu-small, batch 8, lr 0.02).
const DEMO_IDENTITY = {
  detector: 'fcos',
  mode: 'reg',
  dataset: { kind: 'mnist-det', images: 1200, size: 128, seed: 0, valFraction: 0.2 },
  task: { inputSize: 96, iters: 1000, warmupIters: 100, trainSubset: 800, valSubset: 150, preset: 'cpu-small', batch: 8, lr: 0.02 },
};
// S1's p400-128 on the shapes dataset of docs/RESULTS.md (val fraction 1/6; warm-up: cpu-small's 300).
const S1_IDENTITY = {
  detector: 'fcos',
  mode: 'bcls',
  dataset: { kind: 'shapes', images: 3000, size: 128, seed: 7, valFraction: 1 / 6 },
  task: { inputSize: 128, iters: 400, warmupIters: 300, trainSubset: 0, valSubset: 0, preset: 'cpu-small', batch: 8, lr: 0.02 },
};

function summaryFile(): string {
  const dir = tmpDir('cse-fidelity-');
  const f = join(dir, 'summary.json');
  writeFileSync(
    f,
    JSON.stringify({
      S1: {
        chosen: 'p400-128',
        proxies: [
          // an entry of an older study (no identity) never matches
          { name: 'old', n: 3, tau: 1, ci95: [1, 1] },
          { name: 'p400-128', n: 6, tau: 0.7142857142857143, ci95: [-0.0909, 1], nWorking: 4, tauWorking: 0.3333, identity: S1_IDENTITY },
        ],
      },
      demo: {
        chosen: 'p1000-96-n800',
        proxies: [{ name: 'p1000-96-n800', n: 12, tau: 0.5, ci95: [0.1, 0.8], nWorking: 7, tauWorking: 0.4, identity: DEMO_IDENTITY }],
      },
    }),
  );
  return f;
}

const demo = (over: Record<string, unknown> = {}): SearchConfig => loadConfig({ demo: true, overrides: over });

test('the demo config finds the demo setting; the text quotes its tau, interval and panel', () => {
  const f = summaryFile();
  const r = proxyFidelityOf(demo(), f);
  assert.deepEqual(r, { setting: 'demo', proxy: 'p1000-96-n800', tau: 0.5, ci95: [0.1, 0.8], n: 12, nWorking: 7, tauWorking: 0.4 });
  assert.equal(
    proxyFidelityText(r),
    'Proxy fidelity: Kendall τ-b 0.50 [0.10, 0.80] over 12 losses vs the full cpu-small training (docs/PROXY.md, setting demo, proxy p1000-96-n800)',
  );
  // the dataDir, the time limit and early stopping are not part of the identity
  assert.equal(
    proxyFidelityOf(demo({ 'proxy.task.dataDir': '/elsewhere', 'proxy.task.timeoutSeconds': 5, 'proxy.earlyStop.minRatio': 0.5 }), f)
      ?.setting,
    'demo',
  );
});

test("a field left at the preset's default matches the value it resolves to (S1: 128 px, 300 warm-up; val fraction 1/6)", () => {
  const f = summaryFile();
  const s1 = (iters: number) =>
    loadConfig({
      overrides: {
        mode: 'bcls',
        dataset: { kind: 'shapes', images: 3000, size: 128, seed: 7, valFraction: 0.16666666666666666 },
        'proxy.task': { kind: 'detector', detector: 'fcos', preset: 'cpu-small', iters },
      },
    });
  const r = proxyFidelityOf(s1(400), f);
  assert.equal(r?.setting, 'S1');
  assert.equal(r?.proxy, 'p400-128');
  assert.equal(
    proxyFidelityText(r),
    'Proxy fidelity: Kendall τ-b 0.71 [-0.09, 1.00] over 6 losses vs the full cpu-small training (docs/PROXY.md, setting S1, proxy p400-128)',
  );
  // 200 iterations: the warm-up resolves to 200 (at most iters), and the iterations differ anyway
  assert.equal(proxyFidelityOf(s1(200), f), null);
});

test('a difference in any one identity field is no match', () => {
  const f = summaryFile();
  const changes: Record<string, unknown>[] = [
    { 'proxy.task.detector': 'faster-rcnn' },
    { mode: 'bcls' },
    { 'dataset.kind': 'shapes' },
    { 'dataset.images': 1201 },
    { 'dataset.size': 96 },
    { 'dataset.seed': 1 },
    { 'dataset.valFraction': 0.25 },
    { 'proxy.task.inputSize': 128 },
    { 'proxy.task.iters': 999 },
    { 'proxy.task.warmupIters': 0 },
    { 'proxy.task.trainSubset': 700 },
    { 'proxy.task.valSubset': 0 },
    { 'proxy.task.preset': 'tiny' },
    { 'proxy.task.batch': 4 },
    { 'proxy.task.lr': 0.01 },
  ];
  for (const c of changes) assert.equal(proxyFidelityOf(demo(c), f), null, JSON.stringify(c));
  // no dataset spec (a folder of the user's) or a simulated proxy: no identity
  assert.equal(proxyFidelityOf(loadConfig({ overrides: { ...demo(), dataset: undefined } }), f), null);
  assert.equal(proxyFidelityOf(demo({ 'proxy.task.kind': 'simulated' }), f), null);
  assert.equal(proxyFidelityText(null), 'Proxy fidelity: not measured for this proxy (docs/PROXY.md lists the measured ones)');
});

test('a missing, unreadable or foreign summary file is no match, never an error', () => {
  const dir = tmpDir('cse-fidelity-');
  assert.equal(proxyFidelityOf(demo(), join(dir, 'absent.json')), null);
  assert.equal(proxyFidelityOf(demo(), null), null);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"demo": {"proxies": [');
  assert.equal(proxyFidelityOf(demo(), bad), null);
  for (const text of ['null', '[1,2]', '{"demo": null}', '{"demo": {"proxies": [null, 3, {"identity": null}]}}']) {
    writeFileSync(bad, text);
    assert.equal(proxyFidelityOf(demo(), bad), null, text);
  }
  // a measured proxy whose tau is not known yet (no finished pair) says so
  writeFileSync(bad, JSON.stringify({ demo: { proxies: [{ name: 'p', n: 0, tau: null, ci95: null, identity: DEMO_IDENTITY }] } }));
  const r = proxyFidelityOf(demo(), bad);
  assert.deepEqual(r, { setting: 'demo', proxy: 'p', tau: null, ci95: null, n: 0, nWorking: 0, tauWorking: null });
  assert.match(proxyFidelityText(r), /^Proxy fidelity: not measured yet \(docs\/PROXY\.md, setting demo, proxy p: /);
  // the default file is the package's results/proxy/summary.json
  const root = fileURLToPath(new URL('../../', import.meta.url));
  assert.equal(defaultSummaryFile(), join(root, 'results', 'proxy', 'summary.json'));
});

test("the report's run page shows the line, in report.json, the view and report.html", async () => {
  const dir = tmpDir('cse-fidelity-run-');
  mkdirSync(dir, { recursive: true });
  const cfg = smallConfig({ evolution: { generations: 1, parents: 3, elites: 1 }, final: { enabled: false } });
  await runSearch({ config: cfg, runDir: dir, transport: new InProcessTransport(runStage) });
  const { data } = writeReport(dir);
  assert.equal(data.proxyFidelity, null); // a simulated proxy: not measured
  const json = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as { proxyFidelity: unknown };
  assert.equal(json.proxyFidelity, null);
  const html = readFileSync(join(dir, 'report.html'), 'utf8');
  assert.ok(
    html.includes('"proxyFidelityText":"Proxy fidelity: not measured for this proxy (docs/PROXY.md lists the measured ones)"'),
    'report.html carries the line',
  );
  // a measured proxy: the run view quotes it
  const j = Journal.open(dir, { readonly: true });
  try {
    const r = reportFromJournal(j, dir);
    const f = { setting: 'S1', proxy: 'p800-128', tau: 0.8123, ci95: [0.5, 0.95] as [number, number], n: 12, nWorking: 8, tauWorking: 0.6 };
    assert.equal(
      runView(j, { ...r, proxyFidelity: f }, 0).proxyFidelityText,
      'Proxy fidelity: Kendall τ-b 0.81 [0.50, 0.95] over 12 losses vs the full cpu-small training (docs/PROXY.md, setting S1, proxy p800-128)',
    );
  } finally {
    j.close();
  }
});
