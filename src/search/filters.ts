/**
 * The stage filters of one generation, in order: CPV → dedupe → MOS level 1 → MOS level 2 →
 * proxy selection (top-K new by MOS score) → proxy, then the selection of the next parents. Each
 * filter takes the candidates still alive and returns the survivors and the fates of the others
 * (in the order they were decided), plus its counters; the generation loop (evolution.ts) chains
 * them and records the fates.
 */
import { convergenceChecks, type Mode } from '../loss/index.js';
import type { SearchConfig } from './config.js';
import { candidateFingerprint } from './fingerprint.js';
import type { HallOfFameEntry } from './hall_of_fame.js';
import { compareCandidates } from './rank.js';
import type { SearchEvent } from './summary.js';
import type { Candidate, Fate, Mos1Config, StageRecord, StageTask } from './types.js';
import { DrawFilter, type Parent } from './variation.js';

export interface FateRecord {
  fate: Fate;
  mosScore: number | null;
  fitness: number | null;
}
export type FateEntry = [idx: number, fate: FateRecord];

export interface Evaluated {
  record: StageRecord;
  reused: boolean;
}

/** What the filters of generation `g` share: the config, the evaluator (journal cache) and the progress counters. */
export interface GenerationContext {
  g: number;
  cfg: SearchConfig;
  mode: Mode;
  evaluate: (fp: string, task: StageTask, timeoutSeconds: number) => Promise<Evaluated>;
  /** Seconds spent per stage on new evaluations and evaluations reused, per stage. */
  stageSeconds: Record<string, number>;
  reused: Record<string, number>;
  emit: (ev: SearchEvent) => void;
}

export interface FilterResult<C extends Candidate> {
  survivors: C[];
  fates: FateEntry[];
}

const fate = (idx: number, f: Fate, mosScore: number | null = null, fitness: number | null = null): FateEntry => [
  idx,
  { fate: f, mosScore, fitness },
];

function note(ctx: GenerationContext, stage: string, r: Evaluated): void {
  if (r.reused) ctx.reused[stage]!++;
  else ctx.stageSeconds[stage]! += r.record.seconds;
}

/** CPV (cse only; in the coordinator, it is cheap): the candidates whose loss passes every convergence property. */
export async function cpvFilter<C extends Candidate>(
  ctx: GenerationContext,
  cands: C[],
): Promise<FilterResult<C> & { fail: number; failBy: Record<string, number> }> {
  const survivors: C[] = [];
  const fates: FateEntry[] = [];
  const failBy: Record<string, number> = {};
  let fail = 0;
  let done = 0;
  for (const c of cands) {
    // `saturating` enters the task (and so the result key) only when on: existing runs keep their keys.
    const task: StageTask = {
      stage: 'cpv',
      mode: ctx.mode,
      loss: c.loss,
      seed: 0,
      ...(ctx.cfg.cpv.saturating ? { saturating: true as const } : {}),
    };
    const r = await ctx.evaluate(c.fingerprint, task, 60);
    note(ctx, 'cpv', r);
    if (r.record.status === 'ok' && r.record.pass) survivors.push(c);
    else {
      fail++;
      const prop = (r.record.reason ?? r.record.status).split(':')[0]!;
      failBy[prop] = (failBy[prop] ?? 0) + 1;
      fates.push(fate(c.idx, 'cpv-fail'));
    }
    if (++done % 200 === 0 || done === cands.length)
      ctx.emit({ type: 'stage', gen: ctx.g, stage: 'cpv', done, total: cands.length, passed: survivors.length, reused: ctx.reused.cpv! });
  }
  return { survivors, fates, fail, failBy };
}

/**
 * CPV at draw time (cse with CPV): generation g admits a drawn tree only when it passes CPV and
 * its fingerprint is new; `onDraw` runs between draws (Ctrl-C), `emit` reports the progress.
 */
export function cpvDrawFilter(
  cfg: SearchConfig,
  mode: Mode,
  g: number,
  onDraw: () => void,
  emit: (ev: SearchEvent) => void,
): DrawFilter | undefined {
  if (cfg.strategy !== 'cse' || !cfg.cpv.enabled) return undefined;
  const target = cfg.population.size;
  const seeds = g === 0 ? cfg.population.seedWith.length : 0;
  return new DrawFilter(
    (e) => convergenceChecks(mode, e, { saturating: cfg.cpv.saturating }).pass,
    (e) => candidateFingerprint(cfg, mode, e),
    cfg.population.maxDraws,
    cfg.population.maxOffspringTries,
    (d) => {
      onDraw();
      emit({ type: 'draw', gen: g, drawn: d.drawn, passed: d.passed, admitted: seeds + d.passed - d.duplicates, target });
    },
  );
}

/** Dedupe within the generation by fingerprint (the first occurrence kept). */
export function dedupeFilter<C extends Candidate>(cands: C[]): FilterResult<C> {
  const seen = new Set<string>();
  const fates: FateEntry[] = [];
  const survivors = cands.filter((c) => {
    if (seen.has(c.fingerprint)) {
      fates.push(fate(c.idx, 'duplicate'));
      return false;
    }
    seen.add(c.fingerprint);
    return true;
  });
  return { survivors, fates };
}

/** A MOS level's task for a loss, its timeout, and its threshold factor (× the default's score). */
export interface MosLevel {
  level: 1 | 2;
  task: (loss: string) => StageTask;
  timeoutSeconds: number;
  threshold: number;
}

/** The MOS level of the config (mos1Task: level 1's task without the loss; proxySeed: level 2's seed). */
export function mosLevel(cfg: SearchConfig, mode: Mode, level: 1 | 2, seeds: { mos1: number; proxy: number }): MosLevel {
  if (level === 1) {
    const l1 = cfg.mos.level1;
    // problem only when set: a default config's tasks stay as they were.
    const config: Mos1Config = { samples: l1.samples, classes: l1.classes, steps: l1.steps, lr: l1.lr };
    if (l1.problem !== undefined) config.problem = l1.problem;
    return {
      level,
      task: (loss) => ({ stage: 'mos1', mode, seed: seeds.mos1, config, loss }),
      timeoutSeconds: cfg.pool.mosTimeoutSeconds,
      threshold: l1.threshold,
    };
  }
  const l2 = cfg.mos.level2;
  return {
    level,
    task: (loss) => ({ stage: 'mos2', mode, loss, seed: seeds.proxy, config: l2.task }),
    timeoutSeconds: l2.task.timeoutSeconds,
    threshold: l2.threshold,
  };
}

/**
 * MOS at one level: every candidate evaluated (in parallel), those scoring at least
 * threshold × the default's score (`reference`) pass. `scores`: every candidate's score (0 when
 * none), which ranks the proxy selection (level 2 refines level 1's).
 */
export async function mosFilter<C extends Candidate>(
  ctx: GenerationContext,
  lv: MosLevel,
  reference: number | null,
  cands: C[],
): Promise<FilterResult<C> & { evaluated: number; passed: number; scores: [number, number][] }> {
  const stage = lv.level === 1 ? 'mos1' : 'mos2';
  const thr = lv.threshold * (reference ?? 0);
  let done = 0;
  let passed = 0;
  const results = await Promise.all(
    cands.map(async (c) => {
      const r = await ctx.evaluate(c.fingerprint, lv.task(c.loss), lv.timeoutSeconds);
      note(ctx, stage, r);
      const ok = r.record.status === 'ok' && (r.record.score ?? 0) >= thr;
      if (ok) passed++;
      ctx.emit({ type: 'stage', gen: ctx.g, stage, done: ++done, total: cands.length, passed, reused: ctx.reused[stage]! });
      return { c, r, ok };
    }),
  );
  const survivors: C[] = [];
  const fates: FateEntry[] = [];
  const scores: [number, number][] = [];
  for (const { c, r, ok } of results) {
    scores.push([c.idx, r.record.score ?? 0]);
    if (ok) survivors.push(c);
    else fates.push(fate(c.idx, 'mos-fail', r.record.score ?? null));
  }
  return { survivors, fates, evaluated: cands.length, passed, scores };
}

/**
 * Proxy selection: candidates proxied before (`proxied` fingerprints) keep their fitness and are
 * evaluated again from the journal; of the new ones the top-K by MOS score (cse; vanilla: the
 * first K) go to the proxy, the rest are not-top-k.
 */
export function proxySelection<C extends Candidate>(
  cands: C[],
  opts: { ranked: boolean; mosScore: Map<number, number>; proxied: Set<string>; topK: number },
): { old: C[]; chosen: C[]; fates: FateEntry[] } {
  const { mosScore } = opts;
  const ranked = opts.ranked ? [...cands].sort((a, b) => (mosScore.get(b.idx) ?? 0) - (mosScore.get(a.idx) ?? 0) || a.idx - b.idx) : cands;
  const old = ranked.filter((c) => opts.proxied.has(c.fingerprint));
  const fresh = ranked.filter((c) => !opts.proxied.has(c.fingerprint));
  const chosen = fresh.slice(0, opts.topK);
  const fates = fresh.slice(opts.topK).map((c) => fate(c.idx, 'not-top-k', mosScore.get(c.idx) ?? null));
  return { old, chosen, fates };
}

export interface Scored<C extends Candidate> {
  c: C;
  fitness: number;
  ap50: number | null;
  ok: boolean;
}

/** The proxy task on the selected candidates: fitness = its score when ok, else 0 (fate proxy-failed or stopped-early). */
export async function proxyStage<C extends Candidate>(
  ctx: GenerationContext,
  cands: C[],
  task: (loss: string, fingerprint: string) => StageTask & { config: { timeoutSeconds: number } },
  mosScore: Map<number, number>,
): Promise<{ scored: Scored<C>[]; fates: FateEntry[]; failed: number; stopped: number }> {
  let done = 0;
  const proxied = await Promise.all(
    cands.map(async (c) => {
      const t = task(c.loss, c.fingerprint);
      const r = await ctx.evaluate(c.fingerprint, t, t.config.timeoutSeconds);
      note(ctx, 'proxy', r);
      ctx.emit({ type: 'stage', gen: ctx.g, stage: 'proxy', done: ++done, total: cands.length, passed: done, reused: ctx.reused.proxy! });
      return { c, r };
    }),
  );
  const scored: Scored<C>[] = [];
  const fates: FateEntry[] = [];
  let failed = 0;
  let stopped = 0;
  for (const { c, r } of proxied) {
    const ok = r.record.status === 'ok';
    const stop = r.record.status === 'stopped';
    const fitness = ok ? (r.record.score ?? 0) : 0;
    if (stop) {
      if (!r.reused) stopped++; // new evaluations only: a known candidate keeps its earlier fate
    } else if (!ok) failed++;
    fates.push(fate(c.idx, ok ? 'proxied' : stop ? 'stopped-early' : 'proxy-failed', mosScore.get(c.idx) ?? null, fitness));
    scored.push({ c, fitness, ap50: r.record.metrics.ap50 ?? null, ok });
  }
  return { scored, fates, failed, stopped };
}

/**
 * Selection: the top-P proxied candidates of the generation by fitness (rank.ts order), then the
 * elites of the hall of fame not among the generation's top-P. `scored` is sorted in place.
 */
export function selectParents<C extends Candidate>(scored: Scored<C>[], elites: HallOfFameEntry[], parents: number): Parent[] {
  scored.sort((a, b) =>
    compareCandidates({ fitness: a.fitness, gen: a.c.gen, idx: a.c.idx }, { fitness: b.fitness, gen: b.c.gen, idx: b.c.idx }),
  );
  const out: Parent[] = scored
    .filter((s) => s.ok)
    .slice(0, parents)
    .map((s) => ({ id: `${s.c.gen}:${s.c.idx}`, loss: s.c.loss }));
  const parentFps = new Set(scored.slice(0, parents).map((s) => s.c.fingerprint));
  for (const h of elites) if (!parentFps.has(h.fingerprint)) out.push({ id: h.id, loss: h.loss });
  return out;
}
