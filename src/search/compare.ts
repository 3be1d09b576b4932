/**
 * Two runs side by side (typically CSE against vanilla EA on the same proxy): proxy evaluations
 * and wall time each needed to first reach its default loss's proxy fitness, and the ratios.
 * Wall time is the run's elapsed time at the end of the generation in which it happened.
 */
import { buildReport, type ReportData } from './report.js';
import { configDiff } from './config.js';

export interface RunSide {
  runDir: string;
  strategy: string;
  mode: string;
  generations: number;
  proxyEvaluations: number;
  elapsedMs: number;
  defaultFitness: number | null;
  bestFitness: number | null;
  bestLoss: string | null;
  reachedDefault: ReportData['reachedDefault'];
}

export interface Comparison {
  a: RunSide;
  b: RunSide;
  /** B's proxy evaluations to reach the default divided by A's (null when either never reached it). */
  evaluationRatio: number | null;
  timeRatio: number | null;
  /** Result-determining config fields that differ (besides strategy). */
  configDifferences: string[];
  warnings: string[];
}

function side(r: ReportData): RunSide {
  const best = r.hallOfFame[0];
  return {
    runDir: r.runDir,
    strategy: r.strategy,
    mode: r.mode,
    generations: r.generations.length,
    proxyEvaluations: r.proxyEvaluations,
    elapsedMs: r.elapsedMs,
    defaultFitness: r.default?.fitness ?? null,
    bestFitness: best?.fitness ?? null,
    bestLoss: best?.loss ?? null,
    reachedDefault: r.reachedDefault,
  };
}

export function compareRuns(runA: string, runB: string): Comparison {
  const ra = buildReport(runA);
  const rb = buildReport(runB);
  const a = side(ra);
  const b = side(rb);
  const warnings: string[] = [];
  if (a.mode !== b.mode) warnings.push(`the runs search different modes (${a.mode} vs ${b.mode})`);
  const diffs = configDiff(ra.config, rb.config).filter((d) => !d.startsWith('strategy:'));
  if (diffs.some((d) => d.startsWith('proxy.task'))) warnings.push('the proxy tasks differ: fitness values are not comparable');
  if (a.defaultFitness !== null && b.defaultFitness !== null && a.defaultFitness !== b.defaultFitness) {
    warnings.push(`the default loss's fitness differs (${a.defaultFitness} vs ${b.defaultFitness})`);
  }
  const ea = a.reachedDefault?.proxyEvaluations;
  const eb = b.reachedDefault?.proxyEvaluations;
  const ta = a.reachedDefault?.elapsedMs;
  const tb = b.reachedDefault?.elapsedMs;
  return {
    a,
    b,
    evaluationRatio: ea && eb ? eb / ea : null,
    timeRatio: ta && tb ? tb / ta : null,
    configDifferences: diffs,
    warnings,
  };
}

export function formatComparison(c: Comparison): string {
  const row = (s: RunSide) => {
    const r = s.reachedDefault;
    return (
      `${s.runDir}: ${s.strategy}, ${s.generations} generations, ${s.proxyEvaluations} proxy evaluations, ${(s.elapsedMs / 1000).toFixed(1)} s; ` +
      `default fitness ${s.defaultFitness?.toFixed(4) ?? '-'}, best ${s.bestFitness?.toFixed(4) ?? '-'}; ` +
      (r
        ? `reached the default after ${r.proxyEvaluations} proxy evaluations, ${(r.elapsedMs / 1000).toFixed(1)} s (generation ${r.gen + 1})`
        : 'never reached the default')
    );
  };
  const lines = [`A ${row(c.a)}`, `B ${row(c.b)}`];
  lines.push(
    c.evaluationRatio === null
      ? 'ratio: undefined (a run never reached the default fitness)'
      : `ratio B/A: ${c.evaluationRatio.toFixed(2)}x proxy evaluations, ${c.timeRatio === null ? '-' : `${c.timeRatio.toFixed(2)}x`} wall time`,
  );
  for (const w of c.warnings) lines.push(`warning: ${w}`);
  if (c.configDifferences.length) lines.push(`config differences: ${c.configDifferences.join('; ')}`);
  return lines.join('\n');
}
