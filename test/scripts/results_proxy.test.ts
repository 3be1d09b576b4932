/**
 * scripts/results-proxy.ts (issue 15, items 2 and 6): the job lists of S1 and S2 are frozen (a long
 * run resumes on them: the fixture is the plan that the script printed before the `demo` setting
 * was added, into an empty results root), and the `demo` setting runs end to end on the demo's own
 * dataset and proxy task, read from configs/search-demo.yaml, with every training cut to 2
 * iterations (--smoke-iters, for tests): its dataset is made on first use, its records are written,
 * and summary.json gives it an identity that the search's lookup (src/search/fidelity.ts) matches
 * for the demo's config.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/search/config.js';
import { proxyFidelityOf, proxyIdentityOf } from '../../src/search/fidelity.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));

function script(...args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/results-proxy.ts', ...args], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, CSE_THREADS: '1' },
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

test('the plans of S1 and S2 are the ones the long run resumes on', () => {
  const root = mkdtempSync(join(tmpdir(), 'cse-proxy-plan-'));
  const r = script('--plan', '--settings', 'S1,S2', '--root', root);
  assert.equal(r.code, 0, r.out);
  assert.equal(r.out, readFileSync(join(repo, 'test', 'scripts', 'fixtures', 'proxy-plan-S1-S2.txt'), 'utf8'));
});

test('usage errors exit 2', () => {
  assert.equal(script('--plan', '--settings', 'S1,S9').code, 2);
  const noRoot = script('--settings', 'demo', '--smoke-iters', '2');
  assert.equal(noRoot.code, 2);
  assert.match(noRoot.out, /--smoke-iters: .*--root/);
});

test('the demo setting end to end: its dataset, a proxy run and a full run, summary.json with its identity', { timeout: 300_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'cse-proxy-demo-'));
  const out = join(root, 'PROXY.md');
  const r = script('--settings', 'demo', '--root', root, '--out', out, '--smoke-iters', '2', '--max-jobs', '2');
  assert.equal(r.code, 0, r.out);
  const cfg = loadConfig({ demo: true });
  const d = cfg.dataset!;
  // the dataset is the demo's, made under the results root
  const ann = (split: string) =>
    (JSON.parse(readFileSync(join(root, 'data', 'mnist-det-demo', split, 'annotations.json'), 'utf8')) as { images: unknown[] }).images
      .length;
  assert.equal(ann('train') + ann('val'), d.images);
  assert.equal(ann('val'), Math.round(d.images * d.valFraction));
  // the first loss of the panel (the first preset of reg mode with an expression): its proxy run, then its full run
  const t = cfg.proxy.task;
  const name = `p${t.iters}-${t.inputSize}-n${t.trainSubset}`;
  const proxyRec = JSON.parse(readFileSync(join(root, 'proxy', 'demo', name, 'iou-seed0.json'), 'utf8')) as Record<string, unknown>;
  const fullRec = JSON.parse(readFileSync(join(root, 'proxy', 'demo', 'full', 'iou-seed0.json'), 'utf8')) as Record<string, unknown>;
  for (const rec of [proxyRec, fullRec]) {
    assert.equal(rec.status, 'ok');
    assert.equal(rec.smoke, true);
    assert.equal(rec.detector, t.detector);
    assert.equal(rec.mode, cfg.mode);
    assert.equal(rec.loss, 'Sub(1,Div(I,U))');
  }
  assert.deepEqual(proxyRec.proxy, {
    name,
    inputSize: t.inputSize,
    iters: t.iters,
    trainSubset: t.trainSubset,
    preset: t.preset,
    valSubset: t.valSubset,
    warmupIters: t.warmupIters,
    batch: t.batch,
    lr: t.lr,
  });
  assert.match(r.out, /0 of 34 runs done; 34 to go \(2 in this call: --max-jobs\)/);
  assert.ok(existsSync(out));
  assert.match(readFileSync(out, 'utf8'), /### demo: fcos, reg mode \(default giou, published cse-b-reg\)/);
  // summary.json: the demo's proxy with its identity, which the search's lookup finds for the demo config
  const summaryFile = join(root, 'proxy', 'summary.json');
  const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as Record<string, { proxies: { name: string; identity: unknown }[] }>;
  // every setting is reported, whatever --settings trains; S1 and S2 have no runs in this root
  assert.deepEqual(Object.keys(summary), ['S1', 'S2', 'demo']);
  assert.ok(summary.S1!.proxies.every((p) => (p as unknown as { n: number }).n === 0));
  assert.deepEqual(summary.demo!.proxies[0]!.identity, proxyIdentityOf(cfg));
  assert.deepEqual(proxyFidelityOf(cfg, summaryFile), {
    setting: 'demo',
    proxy: name,
    tau: null, // one loss at both fidelities: no τ yet
    ci95: null,
    n: 1,
    nWorking: 0,
    tauWorking: null,
  });
});
