/**
 * The proxy study's measurement of a search's proxy (results/proxy/summary.json, written by
 * scripts/results-proxy.ts) as results-discovery reports it: its τ-b, interval and panel, and
 * whether it is the study's choice for the setting. Kept apart from the driver so that it is tested
 * directly (test/scripts/discovery_proxy.test.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { SearchConfig } from '../src/search/config.js';

/** The proxy study chooses among proxies measured on at least this many panel losses (docs/PROXY.md). */
export const MIN_CHOICE_PANEL = 8;

export interface ProxyInfo {
  name: string;
  kendallTau: number | null;
  ci95: [number, number] | null;
  panel: number;
  /** The proxy study's choice for the setting (docs/PROXY.md: the cheapest with τ ≥ 0.6, else the best), and whether it reached 0.6. */
  studyChoice: string | null;
  meetsTarget: boolean;
}
/**
 * A proxy of a setting as the proxy study measured it (results/proxy/summary.json; named as
 * docs/PROXY.md names them, p<iters>-<input size>): by default the one the search uses (a detector
 * proxy), with `choice` the study's choice; null when the study has no such proxy for the setting.
 */
export function proxyInfoOf(
  f: string,
  setting: string,
  cfg: Pick<SearchConfig, 'proxy'>,
  which: 'used' | 'choice' = 'used',
): ProxyInfo | null {
  const r = studyRecordOf(f, setting, cfg, which);
  if (!r) return null;
  const { s, p } = r;
  return { name: p.name, kendallTau: p.tau, ci95: p.ci95, panel: p.n, studyChoice: s.chosen, meetsTarget: s.meetsTarget === true };
}

/** A proxy's record in the study's summary.json, as written by scripts/results-proxy.ts. */
interface StudyProxy {
  name: string;
  n: number;
  tau: number | null;
  ci95: [number, number] | null;
  seedSd?: number | null;
  gap?: number | null;
}

/** The setting's entry in summary.json and the proxy looked up (see proxyInfoOf); null when either is missing. */
function studyRecordOf(
  f: string,
  setting: string,
  cfg: Pick<SearchConfig, 'proxy'>,
  which: 'used' | 'choice',
): { s: { chosen: string | null; meetsTarget?: boolean }; p: StudyProxy } | null {
  if (!existsSync(f)) return null;
  const all = JSON.parse(readFileSync(f, 'utf8')) as Record<
    string,
    { chosen: string | null; meetsTarget?: boolean; proxies: StudyProxy[] }
  >;
  const s = all[setting];
  if (!s) return null;
  const t = cfg.proxy.task;
  const name = which === 'choice' ? s.chosen : t.kind === 'detector' ? `p${t.iters}-${t.inputSize ?? 128}` : null;
  const p = s.proxies.find((x) => x.name === name);
  return p ? { s, p } : null;
}

/** A proxy's fidelity in a sentence: its τ-b, interval and panel, and whether it is the study's choice. */
export function proxyText(p: ProxyInfo): string {
  if (p.kendallTau === null)
    return `${p.name}, not measured yet (the proxy study has ${p.panel} panel loss${p.panel === 1 ? '' : 'es'} at both fidelities; τ needs two; [PROXY.md](PROXY.md))`;
  const tau = `Kendall τ-b ${p.kendallTau === null ? '—' : p.kendallTau.toFixed(2)} against the full-schedule AP${p.ci95 ? ` (bootstrap 95% [${p.ci95[0].toFixed(2)}, ${p.ci95[1].toFixed(2)}])` : ''} over ${p.panel} panel loss${p.panel === 1 ? '' : 'es'}`;
  if (!p.meetsTarget && p.panel < MIN_CHOICE_PANEL)
    return `${p.name}, ${tau} so far: too few to choose a proxy yet (the study chooses from ${MIN_CHOICE_PANEL} losses on) ([PROXY.md](PROXY.md))`;
  const choice =
    p.studyChoice === p.name
      ? p.meetsTarget
        ? "the study's choice (the cheapest with τ ≥ 0.6)"
        : "the study's best so far (none reaches τ ≥ 0.6)"
      : `not the study's ${p.meetsTarget ? 'choice' : 'best so far'}, ${p.studyChoice ?? '—'}`;
  return `${p.name}, ${tau}; ${choice} ([PROXY.md](PROXY.md))`;
}

/**
 * How noisy the search's own proxy is, as the proxy study measured it: the seed s.d. of its AP
 * and the published half's gap over the default under it (results/proxy/summary.json; null when
 * the study has not measured this proxy for the setting, or not these numbers).
 */
export function proxyNoiseOf(
  f: string,
  setting: string,
  cfg: Pick<SearchConfig, 'proxy'>,
): { name: string; seedSd: number; gap: number | null } | null {
  const p = studyRecordOf(f, setting, cfg, 'used')?.p;
  const sd = p?.seedSd;
  return typeof sd === 'number' && Number.isFinite(sd) && sd > 0
    ? { name: p!.name, seedSd: sd, gap: typeof p!.gap === 'number' ? p!.gap : null }
    : null;
}
