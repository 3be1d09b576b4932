/**
 * Proxy fidelity of a run: the Kendall τ-b that `npm run results:proxy` measured (docs/PROXY.md,
 * results/proxy/summary.json) for the proxy the run uses, so that the report can say how far the
 * proxy's ranking of losses is known to agree with the full `cpu-small` training.
 *
 * A run matches a measured proxy when their identities are equal: the detector, the mode, the
 * generated dataset's spec (`dataset`) and the proxy task's fields that define the training
 * (inputSize, iters, warmupIters, trainSubset, valSubset, preset, batch, lr; inputSize and
 * warmupIters resolved from the preset as the training resolves them). The dataDir, the time limit
 * and early stopping are not part of it. No dataset spec (the dataDir is a folder of the user's)
 * or a simulated proxy: no identity, no match.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DETECTORS } from '../detect/kinds.js';
import type { SearchConfig } from './config.js';

export interface DatasetSpec {
  kind: 'mnist-det' | 'shapes';
  images: number;
  size: number;
  seed: number;
  valFraction: number;
}

/** What defines a proxy training, as results/proxy/summary.json records it per setting and proxy. */
export interface ProxyIdentity {
  detector: string;
  mode: string;
  dataset: DatasetSpec;
  task: {
    inputSize: number;
    iters: number;
    warmupIters: number;
    trainSubset: number;
    valSubset: number;
    preset: string;
    batch: number;
    lr: number;
  };
}

/** The measured fidelity of a run's proxy (report.json's `proxyFidelity`). */
export interface ProxyFidelity {
  setting: string;
  proxy: string;
  /** Kendall τ-b of the proxy's AP against the full-schedule AP over the panel (null: too few finished losses). */
  tau: number | null;
  ci95: [number, number] | null;
  n: number;
  nWorking: number;
  tauWorking: number | null;
}

/** The identity of a run's proxy task, or null (a simulated task, or no dataset spec). */
export function proxyIdentityOf(c: SearchConfig): ProxyIdentity | null {
  const t = c.proxy.task;
  if (t.kind !== 'detector' || !c.dataset) return null;
  const sched = DETECTORS[t.detector].schedules[t.preset];
  const d = c.dataset;
  return {
    detector: t.detector,
    mode: c.mode,
    dataset: { kind: d.kind, images: d.images, size: d.size, seed: d.seed, valFraction: d.valFraction },
    task: {
      inputSize: t.inputSize ?? sched.inputSize,
      iters: t.iters,
      warmupIters: Math.min(t.warmupIters ?? sched.warmupIters, t.iters),
      trainSubset: t.trainSubset,
      valSubset: t.valSubset,
      preset: t.preset,
      batch: t.batch,
      lr: t.lr,
    },
  };
}

/** The package's results/proxy/summary.json (src/search/ or dist/src/search/: the first folder above with a package.json). */
export function defaultSummaryFile(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'results', 'proxy', 'summary.json');
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** Equal identities: the same fields with the same values (numbers to 1e-9, so that 1/6 written out matches). */
export function sameIdentity(a: ProxyIdentity, b: unknown): boolean {
  if (!b || typeof b !== 'object') return false;
  const eq = (x: unknown, y: unknown): boolean => {
    if (typeof x === 'number' && typeof y === 'number') return Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x));
    if (x && y && typeof x === 'object' && typeof y === 'object') {
      const kx = Object.keys(x);
      return (
        kx.length === Object.keys(y).length &&
        kx.every((k) => k in y && eq((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k]))
      );
    }
    return x === y;
  };
  return eq(a, b);
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * The measured fidelity of the run's proxy: the first setting and proxy of the summary whose
 * identity equals the run's, or null (no identity, no summary file, an unreadable one, or no
 * match). Never throws.
 */
export function proxyFidelityOf(c: SearchConfig, summaryFile: string | null = defaultSummaryFile()): ProxyFidelity | null {
  const id = proxyIdentityOf(c);
  if (!id || !summaryFile || !existsSync(summaryFile)) return null;
  let summary: unknown;
  try {
    summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
  } catch {
    return null;
  }
  if (!summary || typeof summary !== 'object') return null;
  for (const [setting, s] of Object.entries(summary as Record<string, unknown>)) {
    const proxies = (s as { proxies?: unknown } | null)?.proxies;
    if (!Array.isArray(proxies)) continue;
    for (const p of proxies as Record<string, unknown>[]) {
      if (!p || typeof p !== 'object' || !sameIdentity(id, p.identity)) continue;
      const ci = Array.isArray(p.ci95) && p.ci95.length === 2 && p.ci95.every((v) => num(v) !== null) ? (p.ci95 as [number, number]) : null;
      return {
        setting,
        proxy: String(p.name),
        tau: num(p.tau),
        ci95: ci,
        n: num(p.n) ?? 0,
        nWorking: num(p.nWorking) ?? 0,
        tauWorking: num(p.tauWorking),
      };
    }
  }
  return null;
}

/** The report's line (src/search/view). */
export function proxyFidelityText(f: ProxyFidelity | null): string {
  if (!f) return 'Proxy fidelity: not measured for this proxy (docs/PROXY.md lists the measured ones)';
  const where = `docs/PROXY.md, setting ${f.setting}, proxy ${f.proxy}`;
  if (f.tau === null) return `Proxy fidelity: not measured yet (${where}: too few losses finished at both fidelities)`;
  const ci = f.ci95 ? ` [${f.ci95[0].toFixed(2)}, ${f.ci95[1].toFixed(2)}]` : '';
  return `Proxy fidelity: Kendall τ-b ${f.tau.toFixed(2)}${ci} over ${f.n} losses vs the full cpu-small training (${where})`;
}
