/** scripts/discovery-proxy.ts: a search's proxy as the proxy study measured it, and its sentence in DISCOVERY.md. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { proxyInfoOf, proxyNoiseOf, proxyText } from '../../scripts/discovery-proxy.js';
import type { SearchConfig } from '../../src/search/config.js';

const cfgOf = (task: Record<string, unknown>) => ({ proxy: { task } }) as unknown as Pick<SearchConfig, 'proxy'>;
const detector = (iters: number, inputSize?: number) =>
  cfgOf({ kind: 'detector', detector: 'faster-rcnn', iters, ...(inputSize ? { inputSize } : {}) });

test("proxyInfoOf: the search's own proxy by name, the study's choice on request; none for a simulated proxy or a missing study", () => {
  const dir = mkdtempSync(join(tmpdir(), 'cse-dproxy-'));
  try {
    const f = join(dir, 'summary.json');
    assert.equal(proxyInfoOf(f, 'S2', detector(800)), null, 'no study yet');
    writeFileSync(
      f,
      JSON.stringify({
        S1: {
          chosen: 'p800-128',
          meetsTarget: true,
          proxies: [
            { name: 'p400-128', n: 15, tau: 0.59, ci95: [0.18, 0.89] },
            { name: 'p800-128', n: 15, tau: 0.63, ci95: [0.25, 0.88] },
          ],
        },
        S2: { chosen: 'p400-128', meetsTarget: false, proxies: [{ name: 'p800-128', n: 0, tau: null, ci95: null }] },
      }),
    );
    // the name is p<iters>-<input size>, 128 when the task leaves it to the preset
    assert.deepEqual(proxyInfoOf(f, 'S1', detector(800)), {
      name: 'p800-128',
      kendallTau: 0.63,
      ci95: [0.25, 0.88],
      panel: 15,
      studyChoice: 'p800-128',
      meetsTarget: true,
    });
    assert.equal(proxyInfoOf(f, 'S1', detector(400, 128))!.kendallTau, 0.59);
    assert.equal(proxyInfoOf(f, 'S1', detector(800, 96)), null, 'p800-96 is not in this study');
    assert.equal(proxyInfoOf(f, 'S3', detector(800)), null, 'no such setting');
    // a simulated proxy is not any of the study's detector proxies, even with matching iterations
    assert.equal(proxyInfoOf(f, 'S1', cfgOf({ kind: 'simulated', iters: 800 })), null);
    assert.equal(proxyInfoOf(f, 'S1', cfgOf({ kind: 'simulated', iters: 30 }), 'choice')!.name, 'p800-128');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("proxyNoiseOf: the seed s.d. and the default → published gap of the search's own proxy, when the study measured them", () => {
  const dir = mkdtempSync(join(tmpdir(), 'cse-dproxy-'));
  try {
    const f = join(dir, 'summary.json');
    assert.equal(proxyNoiseOf(f, 'S2', detector(400)), null, 'no study yet');
    const p = (name: string, extra: Record<string, unknown>) => ({ name, n: 13, tau: 0.8, ci95: [0.5, 0.9], ...extra });
    writeFileSync(
      f,
      JSON.stringify({
        S2: {
          chosen: 'p400-128',
          meetsTarget: true,
          proxies: [
            p('p400-128', { seedSd: 0.008, gap: 0.021 }),
            p('p800-96', { seedSd: 0.021, gap: null }),
            p('p800-128', {}), // an older summary: no seed s.d. recorded
            p('p1000-128', { seedSd: null, gap: 0.05 }), // too few seeds for an s.d.
          ],
        },
      }),
    );
    assert.deepEqual(proxyNoiseOf(f, 'S2', detector(400)), { name: 'p400-128', seedSd: 0.008, gap: 0.021 });
    assert.deepEqual(proxyNoiseOf(f, 'S2', detector(800, 96)), { name: 'p800-96', seedSd: 0.021, gap: null });
    assert.equal(proxyNoiseOf(f, 'S2', detector(800)), null, 'no seed s.d.: no noise to quote');
    assert.equal(proxyNoiseOf(f, 'S2', detector(1000)), null, 'a null seed s.d.');
    assert.equal(proxyNoiseOf(f, 'S1', detector(400)), null, 'another setting');
    assert.equal(proxyNoiseOf(f, 'S2', cfgOf({ kind: 'simulated', iters: 400 })), null, 'a simulated proxy');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("proxyText: τ with its interval and panel, and whether the search used the study's choice", () => {
  const base = { name: 'p800-128', kendallTau: 0.63, ci95: [0.25, 0.88] as [number, number], panel: 15 };
  assert.equal(
    proxyText({ ...base, studyChoice: 'p800-128', meetsTarget: true }),
    "p800-128, Kendall τ-b 0.63 against the full-schedule AP (bootstrap 95% [0.25, 0.88]) over 15 panel losses; the study's choice (the cheapest with τ ≥ 0.6) ([PROXY.md](PROXY.md))",
  );
  assert.match(proxyText({ ...base, studyChoice: 'p400-128', meetsTarget: true }), /; not the study's choice, p400-128 \(/);
  assert.match(
    proxyText({ ...base, kendallTau: 0.41, studyChoice: 'p800-128', meetsTarget: false }),
    /τ-b 0\.41 .*; the study's best so far \(none reaches τ ≥ 0\.6\)/,
  );
  assert.match(proxyText({ ...base, studyChoice: 'p400-128', meetsTarget: false }), /; not the study's best so far, p400-128 \(/);
  // a study under way with fewer losses than a choice needs: its τ so far, and no choice named
  assert.equal(
    proxyText({ ...base, kendallTau: 1, ci95: null, panel: 2, studyChoice: 'p400-128', meetsTarget: false }),
    'p800-128, Kendall τ-b 1.00 against the full-schedule AP over 2 panel losses so far: too few to choose a proxy yet (the study chooses from 8 losses on) ([PROXY.md](PROXY.md))',
  );
  assert.match(proxyText({ ...base, panel: 7, studyChoice: 'p400-128', meetsTarget: false }), /over 7 panel losses so far: too few/);
  assert.match(proxyText({ ...base, panel: 8, studyChoice: 'p400-128', meetsTarget: false }), /; not the study's best so far, p400-128 \(/);
  // no τ yet, said so instead of '—' and a choice among nothing
  assert.equal(
    proxyText({ ...base, kendallTau: null, ci95: null, panel: 1, studyChoice: 'p400-128', meetsTarget: false }),
    'p800-128, not measured yet (the proxy study has 1 panel loss at both fidelities; τ needs two; [PROXY.md](PROXY.md))',
  );
});
