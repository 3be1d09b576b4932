/** What a search reports: its events, the statistics of a generation and the summary of a run. */
import type { Mode } from '../loss/index.js';
import type { SearchConfig } from './config.js';
import type { FinalRow, Verdict } from './final.js';
import type { HallOfFameEntry } from './hall_of_fame.js';
import type { StageName } from './types.js';
import type { DrawStats } from './variation.js';

export type SearchEvent =
  | { type: 'start'; runDir: string; resumed: boolean; reusedResults: number; config: SearchConfig }
  | { type: 'warning'; message: string }
  | { type: 'baseline'; loss: string; mos1: number | null; mos2: number | null; fitness: number }
  | { type: 'draw'; gen: number; drawn: number; passed: number; admitted: number; target: number }
  | { type: 'generation-start'; gen: number; population: number }
  | { type: 'stage'; gen: number; stage: StageName; done: number; total: number; passed: number; reused: number }
  | { type: 'generation-end'; gen: number; stats: GenerationStats; elapsedMs: number }
  | { type: 'final-progress'; done: number; total: number }
  /** --retrain-final: the final runs set aside (trained elsewhere) to train again here (FinalSetAside). */
  | { type: 'final-set-aside'; here: string; moved: number; kept: number; from: Record<string, number> }
  | { type: 'stopped-at-default'; gen: number; loss: string; fitness: number; defaultFitness: number }
  | { type: 'finished'; summary: SearchSummary };

export interface GenerationStats {
  gen: number;
  population: number;
  cpvPass: number;
  cpvFail: number;
  /** CPV failures per property. */
  cpvFailBy: Record<string, number>;
  duplicates: number;
  mosEvaluated: number;
  mosPass: number;
  mos2Evaluated: number;
  mos2Pass: number;
  proxyNew: number;
  proxyReused: number;
  proxyFailed: number;
  /** New proxy evaluations stopped early by the multi-fidelity check (with proxy.earlyStop). */
  proxyStopped?: number;
  /** Proxy evaluations so far, this generation's included. */
  proxyTotal: number;
  /** Indices of this generation's new proxy evaluations, in proxy order (top MOS first). */
  proxyOrder: number[];
  bestFitness: number | null;
  medianFitness: number | null;
  bestLoss: string | null;
  bestEverFitness: number | null;
  bestEverLoss: string | null;
  /** Kendall tau-b between MOS score and proxy fitness over this generation's proxied candidates. */
  kendallTau: number | null;
  /** Seconds spent per stage on new evaluations (sum over evaluations, not wall time). */
  stageSeconds: Record<string, number>;
  /** Evaluations per stage that came from the journal (earlier generation or an earlier session). */
  reused: Record<string, number>;
  /**
   * cse with CPV only (absent for vanilla and in older journals): trees drawn and children made to
   * fill the generation, rejected ones included, and the fraction of them that passed CPV.
   */
  drawn?: number;
  cpvPassRate?: number | null;
  /** The draw counters behind `drawn` (random trees and offspring separately, duplicates, cap hit). */
  draws?: DrawStats;
}

export interface SearchSummary {
  mode: Mode;
  strategy: 'cse' | 'vanilla';
  defaultLoss: string;
  defaultFitness: number;
  defaultMos1: number | null;
  generations: GenerationStats[];
  hallOfFame: HallOfFameEntry[];
  final: FinalRow[] | null;
  /**
   * The winner of the final evaluation (the best of the searched losses by mean AP) against the
   * default, by compareMeans (src/search/stats.ts): 'beats' when its mean is higher and Welch's
   * two-sided p < VERDICT_ALPHA. `vsPublished`: the same comparison against the published half.
   */
  verdict: Verdict | null;
  elapsedMs: number;
  proxyEvaluations: number;
  /**
   * With evolution.stopAtDefault, when the search ended early: the generation (0-based) in which a
   * newly proxied candidate first reached the default's proxy fitness, and that candidate.
   */
  stoppedAtDefault?: { gen: number; loss: string; fitness: number };
}

/** The draw counters without the time (timings stay in stageSeconds). */
export function drawCounts(d: DrawStats & { seconds: number }): DrawStats {
  return {
    drawn: d.drawn,
    passed: d.passed,
    duplicates: d.duplicates,
    random: { ...d.random },
    offspring: { ...d.offspring },
    capped: d.capped,
  };
}

export const ratePct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(3)}%` : '-');

/** Why a cse run has nothing in its hall of fame, with each filter's rate over the run. */
export function emptyMessage(gens: GenerationStats[]): string {
  const sum = (f: (g: GenerationStats) => number) => gens.reduce((a, g) => a + f(g), 0);
  const drawn = sum((g) => g.drawn ?? 0);
  const drawnPass = sum((g) => g.draws?.passed ?? 0);
  const pop = sum((g) => g.population);
  const cpv = sum((g) => g.cpvPass);
  const dup = sum((g) => g.duplicates);
  const mosE = sum((g) => g.mosEvaluated);
  const mosP = sum((g) => g.mosPass);
  const proxied = sum((g) => g.proxyNew + g.proxyReused);
  const failed = sum((g) => g.proxyFailed);
  return (
    `no candidate reached the proxy with a result in ${gens.length} generation(s): ` +
    (drawn ? `${drawnPass} of ${drawn} drawn trees passed CPV (${ratePct(drawnPass, drawn)}); ` : '') +
    `population ${pop}, CPV pass ${cpv} (${ratePct(cpv, pop)}), duplicates ${dup}, MOS pass ${mosP} of ${mosE} (${ratePct(mosP, mosE)}), ` +
    `proxy evaluations ${proxied}, failed ${failed}. Nothing to report as found; loosen the filters (mos.level1.threshold, population.maxDraws) or check the proxy task.`
  );
}
