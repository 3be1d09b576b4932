/**
 * Issue 15, item 5: a search with early stopping (proxy.earlyStop) against the same search, same
 * seed, without it, over their first N generations. `compareEarlyStop` is a pure function of the
 * two runs as read from their journals (`readRun`), so that it is tested on hand-made runs
 * (test/scripts/multi_fidelity.test.ts); scripts/results-discovery.ts --early-stop runs the
 * searches and writes its result into summary.json and docs/DISCOVERY.md.
 *
 * Per generation and side: the new proxy evaluations (trainings started), how many of them the
 * check stopped, the proxy time (the sum of the stored proxy records' seconds of those
 * evaluations: training time, more than the wall time when several workers train at once; taken
 * from the records so that a generation finished in a resumed session still counts the
 * evaluations done before the interruption), the run's wall time in the generation (the
 * journal's elapsed time at its end minus the previous one; generation 0 includes the default's
 * baseline), and the hall of fame's top so far (the best proxied candidate, one per fingerprint,
 * in src/search/rank.ts's order). Overall: totals over the generations both runs have, the ratio
 * of proxy time with / without, whether the best candidates differ (by fingerprint), the overlap
 * of the two halls of fame's top k, the first generation whose populations differ (the runs can
 * part after a stop: a stopped candidate has fitness 0 and is no parent), and the false stops:
 * candidates stopped early in the run with early stopping that the run without it also trained
 * (same fingerprint) and scored at or above its default's proxy fitness.
 */
import { Journal } from '../src/search/journal.js';
import { compareCandidates } from '../src/search/rank.js';
import { median } from '../src/search/stats.js';
import type { GenerationStats } from '../src/search/summary.js';
import { machineKeyText } from '../src/util/provenance.js';
import { machineKeyOfRecord, type MachineLine } from './environment.js';

export interface MfCandidate {
  gen: number;
  idx: number;
  loss: string;
  fingerprint: string;
  fate: string | null;
  fitness: number | null;
}

export interface MfGeneration {
  gen: number;
  /** The run's elapsed time (ms, summed over sessions) at the end of the generation. */
  elapsedMs: number;
  /** Indices of the generation's new proxy evaluations. */
  proxyOrder: number[];
}

/** One run as the comparison needs it (readRun reads it from a journal). */
export interface MfRun {
  runDir: string;
  status: string;
  defaultFitness: number | null;
  /** Seconds of the default's proxy training (the baseline). */
  defaultSeconds: number | null;
  generations: MfGeneration[];
  candidates: MfCandidate[];
  /** Seconds of each fingerprint's proxy record (the training time). */
  proxySeconds: Record<string, number>;
  /** The default's fingerprint (its proxy record is the baseline); absent in hand-made runs. */
  defaultFingerprint?: string | null;
  /**
   * The machine key of each fingerprint's proxy record (readRun: metrics.machine, which detector
   * trainings of code from 5b848dd on carry, else machines.jsonl's; null: not recorded); absent in
   * hand-made runs.
   */
  proxyMachine?: Record<string, number | null>;
}

export interface MfGenerationSide {
  gen: number;
  proxyEvaluations: number;
  stoppedEarly: number;
  proxySeconds: number;
  wallSeconds: number;
  /** The hall of fame's top after this generation (null: nothing proxied yet). */
  bestFitness: number | null;
  hofTop: string | null;
}

export interface MfSide {
  runDir: string;
  status: string;
  /** Generations the run has (at most the N asked for). */
  generations: number;
  defaultFitness: number | null;
  defaultSeconds: number | null;
  /** Totals over the generations both runs have (`measuredGenerations`). */
  proxyEvaluations: number;
  stoppedEarly: number;
  proxySeconds: number;
  best: { loss: string; fingerprint: string; fitness: number; gen: number } | null;
  /** The top k of the hall of fame after the measured generations (official strings). */
  top: string[];
  perGeneration: MfGenerationSide[];
}

export interface FalseStop {
  loss: string;
  fingerprint: string;
  /** Where it stopped (run with early stopping). */
  gen: number;
  /** Its proxy fitness in the run without early stopping, and that run's default's. */
  fitnessWithout: number;
  defaultFitnessWithout: number;
}

/** Proxy times (s) of candidates that both runs trained (same fingerprint): medians with and without early stopping. */
export interface PairCost {
  n: number;
  medianWith: number | null;
  medianWithout: number | null;
}

export interface MultiFidelity {
  setting: string;
  /** The N asked for. */
  generations: number;
  /** Generations both runs have, at most N: the totals and the overall comparison are over these. */
  measuredGenerations: number;
  with: MfSide;
  without: MfSide;
  /** Proxy time with / without early stopping over the measured generations (null: none without). */
  proxyTimeRatio: number | null;
  /** The first generation whose populations (the ordered official strings) differ; null: none within the measured ones. */
  firstDivergentGeneration: number | null;
  /** The hall of fame's top differs (by fingerprint); null when a side has nothing proxied. */
  bestDiffers: boolean | null;
  topOverlap: { k: number; common: number };
  /** Candidates stopped early in the run with early stopping that the run without trained too. */
  stoppedMatched: number;
  falseStops: FalseStop[];
  /**
   * Where the time goes: the candidates of the measured generations that both runs trained, each
   * once (its first evaluation), split by what the check did in the run with early stopping:
   * stopped it, or let it train to the end.
   */
  pairCost: { stopped: PairCost; completed: PairCost };
  notes: string[];
}

/**
 * Reads one run from its journal (read-only). A proxy record's machine is the key it carries, else
 * the one `machines` (results/discovery/machines.jsonl) recorded at the last start before it finished.
 */
export function readRun(runDir: string, machines: readonly MachineLine[] = []): MfRun {
  const j = Journal.open(runDir, { readonly: true });
  try {
    const def = JSON.parse(j.getMeta('default') ?? 'null') as { fingerprint: string; fitness: number } | null;
    const results = j.allResults().filter((r) => r.stage === 'proxy');
    const secs: Record<string, number> = {};
    const machine: Record<string, number | null> = {};
    for (const r of results) {
      secs[r.fingerprint] = r.seconds;
      machine[r.fingerprint] = machineKeyOfRecord(r, machines);
    }
    // the baseline is the default's own record: a candidate of the default's fingerprint may have
    // another (a run of code before 2026-12-02 trained it again under the early-stopping check)
    const base = def ? results.find((r) => r.fingerprint === def.fingerprint && r.status === 'ok' && r.score === def.fitness) : undefined;
    return {
      runDir,
      status: j.getMeta('status') ?? 'unknown',
      defaultFitness: def?.fitness ?? null,
      defaultSeconds: base?.seconds ?? (def ? (secs[def.fingerprint] ?? null) : null),
      generations: j.generations().map((g) => ({
        gen: g.gen,
        elapsedMs: g.elapsedMs,
        proxyOrder: (g.stats as unknown as GenerationStats).proxyOrder,
      })),
      candidates: j
        .candidates()
        .map((c) => ({ gen: c.gen, idx: c.idx, loss: c.loss, fingerprint: c.fingerprint, fate: c.fate, fitness: c.fitness })),
      proxySeconds: secs,
      defaultFingerprint: def?.fingerprint ?? null,
      proxyMachine: machine,
    };
  } finally {
    j.close();
  }
}

/**
 * The machines of a run's proxy trainings in its first n generations (the default's baseline and
 * every candidate of those generations with a proxy record): the distinct keys, and how many
 * records carry none.
 */
export function armMachines(run: MfRun, n: number): { keys: number[]; unrecorded: number } {
  const fps = new Set(run.candidates.filter((c) => c.gen < n).map((c) => c.fingerprint));
  if (run.defaultFingerprint) fps.add(run.defaultFingerprint);
  const keys = new Set<number>();
  let unrecorded = 0;
  for (const fp of fps) {
    if (!(fp in run.proxySeconds)) continue; // no proxy record: not trained
    const k = run.proxyMachine?.[fp] ?? null;
    if (k === null) unrecorded++;
    else keys.add(k);
  }
  return { keys: [...keys].sort((a, b) => a - b), unrecorded };
}

/** The hall of fame over the candidates given: the first proxied candidate per fingerprint, best first. */
function hallOfFame(cands: MfCandidate[]): MfCandidate[] {
  const seen = new Map<string, MfCandidate>();
  for (const c of [...cands].sort((a, b) => a.gen - b.gen || a.idx - b.idx))
    if (c.fate === 'proxied' && c.fitness !== null && !seen.has(c.fingerprint)) seen.set(c.fingerprint, c);
  return [...seen.values()].sort((a, b) =>
    compareCandidates({ fitness: a.fitness!, gen: a.gen, idx: a.idx }, { fitness: b.fitness!, gen: b.gen, idx: b.idx }),
  );
}

function side(run: MfRun, n: number, measured: number, k: number): MfSide {
  const gens = run.generations.filter((g) => g.gen < n).sort((a, b) => a.gen - b.gen);
  const perGeneration: MfGenerationSide[] = gens.map((g, i) => {
    const inGen = run.candidates.filter((c) => c.gen === g.gen);
    const fresh = g.proxyOrder.map((idx) => inGen.find((c) => c.idx === idx)).filter((c): c is MfCandidate => c !== undefined);
    const top = hallOfFame(run.candidates.filter((c) => c.gen <= g.gen))[0];
    const prevMs = i === 0 ? 0 : gens[i - 1]!.elapsedMs;
    return {
      gen: g.gen,
      proxyEvaluations: g.proxyOrder.length,
      stoppedEarly: fresh.filter((c) => c.fate === 'stopped-early').length,
      proxySeconds: fresh.reduce((s, c) => s + (run.proxySeconds[c.fingerprint] ?? 0), 0),
      wallSeconds: (g.elapsedMs - prevMs) / 1000,
      bestFitness: top?.fitness ?? null,
      hofTop: top?.loss ?? null,
    };
  });
  const m = perGeneration.filter((g) => g.gen < measured);
  const fame = hallOfFame(run.candidates.filter((c) => c.gen < measured));
  const b = fame[0];
  return {
    runDir: run.runDir,
    status: run.status,
    generations: gens.length,
    defaultFitness: run.defaultFitness,
    defaultSeconds: run.defaultSeconds,
    proxyEvaluations: m.reduce((s, g) => s + g.proxyEvaluations, 0),
    stoppedEarly: m.reduce((s, g) => s + g.stoppedEarly, 0),
    proxySeconds: m.reduce((s, g) => s + g.proxySeconds, 0),
    best: b ? { loss: b.loss, fingerprint: b.fingerprint, fitness: b.fitness!, gen: b.gen } : null,
    top: fame.slice(0, k).map((c) => c.loss),
    perGeneration,
  };
}

function machinesText(m: { keys: number[]; unrecorded: number }): string {
  const parts = m.keys.map((k) => `machine ${machineKeyText(k)}`);
  if (m.unrecorded) parts.push(`${m.unrecorded} record(s) without a machine`);
  return parts.join(', ') || 'no proxy training';
}

/**
 * Compares a run with early stopping (`withRun`) and one without (`withoutRun`), same seed and
 * config otherwise, over their first `n` generations; `k`: how many of each hall of fame's top
 * are compared.
 */
export function compareEarlyStop(setting: string, withRun: MfRun, withoutRun: MfRun, n: number, k = 3): MultiFidelity {
  const has = (r: MfRun) => r.generations.filter((g) => g.gen < n).length;
  const measured = Math.min(n, has(withRun), has(withoutRun));
  const w = side(withRun, n, measured, k);
  const wo = side(withoutRun, n, measured, k);
  const notes: string[] = [];
  if (has(withRun) < n)
    notes.push(`the run with early stopping has ${has(withRun)} of ${n} generations; the comparison measures the first ${measured}`);
  if (has(withoutRun) < n)
    notes.push(`the run without early stopping has ${has(withoutRun)} of ${n} generations; the comparison measures the first ${measured}`);
  // training is bit-identical on one machine only: say when the two runs' trainings were not provably on one
  const ma = armMachines(withRun, measured);
  const mb = armMachines(withoutRun, measured);
  const keys = [...new Set([...ma.keys, ...mb.keys])];
  if (keys.length > 1 || (keys.length && ma.unrecorded + mb.unrecorded))
    notes.push(
      `the two runs' proxy trainings are not all from one machine (with early stopping: ${machinesText(ma)}; without: ${machinesText(mb)}), so their times and fitnesses compare across machines too`,
    );
  if (w.defaultFitness !== null && wo.defaultFitness !== null && w.defaultFitness !== wo.defaultFitness)
    notes.push(`the default's proxy fitness differs between the runs (${w.defaultFitness} with, ${wo.defaultFitness} without)`);

  let firstDivergentGeneration: number | null = null;
  for (let g = 0; g < measured && firstDivergentGeneration === null; g++) {
    const pop = (r: MfRun) =>
      r.candidates
        .filter((c) => c.gen === g)
        .sort((a, b) => a.idx - b.idx)
        .map((c) => c.loss);
    const a = pop(withRun);
    const b = pop(withoutRun);
    if (a.length !== b.length || a.some((x, i) => x !== b[i])) firstDivergentGeneration = g;
  }

  // false stops: stopped with early stopping, trained without it (first evaluation of the fingerprint there)
  const firstWithout = new Map<string, MfCandidate>();
  for (const c of [...withoutRun.candidates].sort((a, b) => a.gen - b.gen || a.idx - b.idx))
    if (c.gen < measured && c.fitness !== null && (c.fate === 'proxied' || c.fate === 'proxy-failed') && !firstWithout.has(c.fingerprint))
      firstWithout.set(c.fingerprint, c);
  const stoppedFps = new Set<string>();
  const falseStops: FalseStop[] = [];
  let stoppedMatched = 0;
  for (const c of [...withRun.candidates].sort((a, b) => a.gen - b.gen || a.idx - b.idx)) {
    if (c.gen >= measured || c.fate !== 'stopped-early' || stoppedFps.has(c.fingerprint)) continue;
    stoppedFps.add(c.fingerprint);
    const o = firstWithout.get(c.fingerprint);
    if (!o) continue;
    stoppedMatched++;
    if (wo.defaultFitness !== null && o.fitness! >= wo.defaultFitness)
      falseStops.push({
        loss: c.loss,
        fingerprint: c.fingerprint,
        gen: c.gen,
        fitnessWithout: o.fitness!,
        defaultFitnessWithout: wo.defaultFitness,
      });
  }

  // time per candidate that both runs trained: stopped by the check, or through it to the end
  const firstWith = new Map<string, MfCandidate>();
  for (const c of [...withRun.candidates].sort((a, b) => a.gen - b.gen || a.idx - b.idx))
    if (c.gen < measured && (c.fate === 'proxied' || c.fate === 'stopped-early') && !firstWith.has(c.fingerprint))
      firstWith.set(c.fingerprint, c);
  const pairs: Record<'stopped' | 'completed', [number, number][]> = { stopped: [], completed: [] };
  for (const [fp, c] of firstWith) {
    const o = firstWithout.get(fp);
    const a = withRun.proxySeconds[fp];
    const b = withoutRun.proxySeconds[fp];
    if (!o || o.fate !== 'proxied' || a === undefined || b === undefined || fp === withRun.defaultFingerprint) continue;
    pairs[c.fate === 'stopped-early' ? 'stopped' : 'completed'].push([a, b]);
  }
  const cost = (p: [number, number][]): PairCost => ({
    n: p.length,
    medianWith: p.length ? median(p.map((x) => x[0])) : null,
    medianWithout: p.length ? median(p.map((x) => x[1])) : null,
  });

  const topFps = (r: MfRun) =>
    new Set(
      hallOfFame(r.candidates.filter((c) => c.gen < measured))
        .slice(0, k)
        .map((c) => c.fingerprint),
    );
  const ta = topFps(withRun);
  const tb = topFps(withoutRun);
  return {
    setting,
    generations: n,
    measuredGenerations: measured,
    with: w,
    without: wo,
    proxyTimeRatio: wo.proxySeconds > 0 ? w.proxySeconds / wo.proxySeconds : null,
    firstDivergentGeneration,
    bestDiffers: w.best && wo.best ? w.best.fingerprint !== wo.best.fingerprint : null,
    topOverlap: { k, common: [...ta].filter((f) => tb.has(f)).length },
    stoppedMatched,
    falseStops,
    pairCost: { stopped: cost(pairs.stopped), completed: cost(pairs.completed) },
    notes,
  };
}
