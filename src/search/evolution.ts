/**
 * The CSE-Autoloss evolution loop (the paper's Algorithm 1), resumable by replay:
 *
 *   baseline: the default loss through MOS and the proxy (its scores set the thresholds)
 *   for each generation g:
 *     population (g = 0: random trees and seeds; else offspring of the parents)
 *     cse:     CPV → dedupe by fingerprint → MOS level 1 (→ level 2) → top-K new by MOS score → proxy
 *     vanilla: dedupe → the first K new candidates → proxy
 *     fitness = proxy AP (a fingerprint proxied before keeps its stored fitness)
 *     parents = top-P of the generation by fitness + E elites from the hall of fame
 *   final evaluation: the best losses and the default on the full task, several seeds
 *
 * Every stage result is a pure function of (fingerprint, stage config, seed) and is stored in
 * the journal as it arrives; the random stream of generation g is derived from (seed, g). So a
 * resumed run simply replays the algorithm from generation 0: stored results are reused, only
 * missing ones are computed, and it ends with exactly the results of an uninterrupted run.
 *
 * Where the parts live: the stage filters in filters.ts, evaluations through the journal in
 * evaluator.ts, the hall of fame in hall_of_fame.ts, the
 * final evaluation and verdict in final.ts, starting and resuming a run in resume.ts, the events
 * and statistics in summary.ts.
 */
import { printOfficial, treeDepth, treeSize, type Expr, type Mode } from '../loss/index.js';
import { machineId, machineKey, type Provenance } from '../util/provenance.js';
import { Rng } from '../util/rng.js';
import { defaultLossOf, simulatedWarning, type ProxyTaskConfig, type SearchConfig } from './config.js';
import { SearchEmptyError, SearchError, SearchInterrupted } from './errors.js';
import { finalEvaluation, parseDefault, setAsideFinal, type FinalRow } from './final.js';
import { candidateFingerprint } from './fingerprint.js';
import {
  cpvDrawFilter,
  cpvFilter,
  dedupeFilter,
  mosFilter,
  mosLevel,
  proxySelection,
  proxyStage,
  selectParents,
  type Evaluated,
  type FateEntry,
  type FateRecord,
  type GenerationContext,
  type MosLevel,
} from './filters.js';
import { HallOfFame } from './hall_of_fame.js';
import { JournalEvaluator } from './evaluator.js';
import type { Journal } from './journal.js';
import { openRunJournal } from './resume.js';
import { kendallTau, median, mixSeed } from './stats.js';
import { drawCounts, emptyMessage, ratePct, type GenerationStats, type SearchEvent, type SearchSummary } from './summary.js';
import type { StageTransport } from './transport/index.js';
import type { Candidate, StageTask } from './types.js';
import { initialPopulation, offspring, type DrawStats, type Newborn, type Parent } from './variation.js';

// The search's public names, wherever they live.
export { abbreviate, SearchEmptyError, SearchError, SearchInterrupted, StageEnvironmentError } from './errors.js';
export { comparisonText, publishedPresetOf, VERDICT_ALPHA, verdictText, type FinalRole, type FinalRow, type Verdict } from './final.js';
export type { HallOfFameEntry } from './hall_of_fame.js';
export type { RunSession } from './resume.js';
export type { GenerationStats, SearchEvent, SearchSummary } from './summary.js';

export interface SearchOptions {
  config: SearchConfig;
  runDir: string;
  resume?: boolean;
  transport: StageTransport;
  onEvent?: (ev: SearchEvent) => void;
  signal?: AbortSignal;
  /** Test hook: the journal's size limit in pages (simulates a full disk). */
  maxJournalPages?: number;
  /** Resume even when src/ differs from the code that wrote the journal (recorded in the journal). */
  allowCodeChange?: boolean;
  /** This process's provenance (default: provenance() of src/util/provenance.ts; tests inject one). */
  provenance?: Provenance;
  /**
   * With resume: the final evaluation's runs that did not train on this machine are set aside
   * (setAsideFinal) and trained again here. The machine's key (default: machineKey(machineId()); tests inject one).
   */
  retrainFinal?: boolean | { machine: number };
}

/** This machine's key for --retrain-final; a machine that cannot be identified cannot keep the final runs apart. */
function thisMachineKey(): number {
  const id = machineId();
  if (id === null)
    throw new SearchError(
      '--retrain-final: this machine cannot be identified (no /proc/cpuinfo CPU identification), so the final runs cannot be told apart by machine',
    );
  return machineKey(id);
}

export async function runSearch(opts: SearchOptions): Promise<SearchSummary> {
  const cfg = opts.config;
  const emit = opts.onEvent ?? (() => {});
  // what the config leaves to the loss language (defaultLoss), checked before anything is written
  parseDefault(cfg.mode, defaultLossOf(cfg));
  if (opts.retrainFinal && !opts.resume)
    throw new SearchError('--retrain-final goes with --resume (it retrains the final runs of an existing run)');
  const here = opts.retrainFinal ? (typeof opts.retrainFinal === 'object' ? opts.retrainFinal.machine : thisMachineKey()) : null;
  const { journal, release } = openRunJournal(opts);
  try {
    if (here !== null) emit({ type: 'final-set-aside', ...setAsideFinal(journal, here) });
    return await new SearchRun(cfg, cfg.mode, journal, opts.transport, emit, opts.signal).run(opts.runDir, !!opts.resume);
  } finally {
    journal.close();
    release();
  }
}

class SearchRun {
  private readonly evaluator: JournalEvaluator;
  /** Fingerprints that went through the proxy in an earlier generation (or are the default). */
  private proxiedFps = new Set<string>();
  private sessionStart = performance.now();
  private elapsedBase: number;
  private proxyTotal = 0;
  private readonly fame: HallOfFame;
  private readonly mos1: MosLevel;
  private readonly mos2: MosLevel;
  private readonly proxySeed: number;

  constructor(
    private readonly cfg: SearchConfig,
    private readonly mode: Mode,
    private readonly journal: Journal,
    private readonly transport: StageTransport,
    private readonly emit: (ev: SearchEvent) => void,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.elapsedBase = Number(journal.getMeta('elapsed_ms') ?? '0');
    this.evaluator = new JournalEvaluator(journal, transport, () => this.checkAbort());
    this.proxySeed = mixSeed(cfg.seed, 'proxy');
    const seeds = { mos1: mixSeed(cfg.seed, 'mos1'), proxy: this.proxySeed };
    this.mos1 = mosLevel(cfg, mode, 1, seeds);
    this.mos2 = mosLevel(cfg, mode, 2, seeds);
    this.fame = new HallOfFame(Math.max(cfg.evolution.hallOfFame, cfg.final.top, cfg.evolution.elites));
  }

  private elapsed(): number {
    return this.elapsedBase + (performance.now() - this.sessionStart);
  }

  private checkAbort(): void {
    if (this.signal?.aborted) throw new SearchInterrupted('search interrupted; resume with --resume');
  }

  /** The default loss's AP at the early-stopping check (null: not measured, or no early stopping). */
  private earlyStopReference: number | null = null;
  /** The default loss's fingerprint (set by the baseline). */
  private defaultFp: string | null = null;

  /** The proxy stage's task: proxy.task, with the early-stopping check when proxy.earlyStop is set. */
  private proxyTask(reference: number | null): (loss: string) => StageTask & { stage: 'proxy'; config: ProxyTaskConfig } {
    const es = this.cfg.proxy.earlyStop;
    const task = this.cfg.proxy.task;
    const config =
      !es || task.kind !== 'detector' ? task : { ...task, earlyStop: { fraction: es.fraction, minRatio: es.minRatio, reference } };
    return (loss) => ({ stage: 'proxy', mode: this.mode, loss, seed: this.proxySeed, config });
  }

  private evaluate(fp: string, task: StageTask, timeoutSeconds: number): Promise<Evaluated> {
    return this.evaluator.evaluate(fp, task, timeoutSeconds);
  }

  async run(runDir: string, resumed: boolean): Promise<SearchSummary> {
    const cfg = this.cfg;
    this.emit({ type: 'start', runDir, resumed, reusedResults: this.evaluator.stored, config: cfg });
    const simulated = simulatedWarning(cfg);
    if (simulated) this.emit({ type: 'warning', message: simulated });

    // ---- baseline: the default loss sets the thresholds and the fitness to beat
    const defaultLoss = defaultLossOf(cfg);
    const defExpr = parseDefault(this.mode, defaultLoss);
    const defText = printOfficial(defExpr);
    const defFp = candidateFingerprint(cfg, this.mode, defExpr);
    let defMos1: number | null = null;
    let defMos2: number | null = null;
    const defMos = async (lv: MosLevel) => {
      const r = await this.evaluate(defFp, lv.task(defText), lv.timeoutSeconds);
      if (r.record.status !== 'ok')
        throw new SearchError(
          `the default loss ${defaultLoss} failed MOS level ${lv.level} (${r.record.status}: ${r.record.reason ?? ''})`,
        );
      return r.record.score;
    };
    if (cfg.strategy === 'cse' && cfg.mos.level1.enabled) defMos1 = await defMos(this.mos1);
    if (cfg.strategy === 'cse' && cfg.mos.level2.enabled) defMos2 = await defMos(this.mos2);
    const defTask = this.proxyTask(null)(defText);
    const defProxy = await this.evaluate(defFp, defTask, defTask.config.timeoutSeconds);
    if (defProxy.record.status !== 'ok') {
      throw new SearchError(
        `the default loss ${defaultLoss} failed the proxy task (${defProxy.record.status}: ${defProxy.record.reason ?? ''})`,
      );
    }
    const defaultFitness = defProxy.record.score ?? 0;
    // the default's AP at the early-stopping check: what a candidate must keep up with
    this.earlyStopReference = defProxy.record.metrics.checkAp ?? null;
    this.proxiedFps.add(defFp);
    this.defaultFp = defFp;
    this.journal.setMeta(
      'default',
      JSON.stringify({
        loss: defText,
        name: defaultLoss,
        fingerprint: defFp,
        mos1: defMos1,
        mos2: defMos2,
        fitness: defaultFitness,
        ...(cfg.proxy.earlyStop ? { checkAp: this.earlyStopReference } : {}),
      }),
    );
    this.emit({ type: 'baseline', loss: defText, mos1: defMos1, mos2: defMos2, fitness: defaultFitness });

    // ---- generations
    const gens: GenerationStats[] = [];
    let parents: Parent[] = [];
    let stoppedAtDefault: SearchSummary['stoppedAtDefault'];
    for (let g = 0; g < cfg.evolution.generations; g++) {
      this.checkAbort();
      const rng = new Rng(mixSeed(cfg.seed, 'generation', g));
      const filter = cpvDrawFilter(cfg, this.mode, g, () => this.checkAbort(), this.emit);
      const t0 = performance.now();
      const born = g === 0 ? await initialPopulation(this.mode, rng, cfg, filter) : await offspring(this.mode, parents, rng, cfg, filter);
      if (filter && born.length === 0) {
        const d = filter.stats;
        throw new SearchEmptyError(
          `generation ${g + 1}: no candidate to search. ${d.passed} of ${d.drawn} drawn trees passed CPV (${ratePct(d.passed, d.drawn)}), ${d.duplicates} of them duplicates` +
            `${d.capped ? `; the cap population.${d.capped} (${d.capped === 'maxDraws' ? cfg.population.maxDraws : cfg.population.maxOffspringTries}) was hit` : ''}. ` +
            'Raise population.maxDraws, or widen the trees (population.maxDepth, maxSize).',
        );
      }
      const stats = await this.generation(
        g,
        born,
        { defMos1, defMos2 },
        filter && { ...filter.stats, seconds: (performance.now() - t0) / 1000 },
      );
      gens.push(stats.stats);
      parents = stats.parents;
      const reached = cfg.evolution.stopAtDefault ? stats.newlyProxied.find((p) => p.fitness >= defaultFitness) : undefined;
      if (reached) {
        stoppedAtDefault = { gen: g, loss: reached.loss, fitness: reached.fitness };
        this.journal.setMeta('stopped_at_default', JSON.stringify(stoppedAtDefault));
        this.emit({ type: 'stopped-at-default', gen: g, loss: reached.loss, fitness: reached.fitness, defaultFitness });
        break;
      }
    }

    const hof = this.fame.ranked();
    if (cfg.strategy === 'cse' && hof.length === 0) throw new SearchEmptyError(emptyMessage(gens));

    // ---- final evaluation
    const { final, verdict }: Pick<SearchSummary, 'final' | 'verdict'> = cfg.final.enabled
      ? await finalEvaluation({
          cfg,
          mode: this.mode,
          defText,
          defaultLoss,
          defFp,
          hof,
          evaluate: (fp, task, timeoutSeconds) => this.evaluate(fp, task, timeoutSeconds),
          onProgress: (done, total) => this.emit({ type: 'final-progress', done, total }),
        })
      : { final: null as FinalRow[] | null, verdict: null };
    const summary: SearchSummary = {
      mode: this.mode,
      strategy: cfg.strategy,
      defaultLoss: defText,
      defaultFitness,
      defaultMos1: defMos1,
      generations: gens,
      hallOfFame: hof,
      final,
      verdict,
      elapsedMs: this.elapsed(),
      proxyEvaluations: this.proxyTotal,
      ...(stoppedAtDefault ? { stoppedAtDefault } : {}),
    };
    this.journal.setMeta('elapsed_ms', String(summary.elapsedMs));
    this.journal.setMeta('summary', JSON.stringify(summary));
    this.journal.setMeta('status', 'finished');
    this.emit({ type: 'finished', summary });
    return summary;
  }

  private async generation(
    g: number,
    born: Newborn[],
    base: { defMos1: number | null; defMos2: number | null },
    draws?: DrawStats & { seconds: number },
  ): Promise<{ stats: GenerationStats; parents: Parent[]; newlyProxied: { loss: string; fitness: number }[] }> {
    const cfg = this.cfg;
    const mode = this.mode;
    const cands: (Candidate & { expr: Expr })[] = born.map((b, idx) => ({
      gen: g,
      idx,
      loss: b.loss,
      fingerprint: candidateFingerprint(cfg, mode, b.expr),
      parents: b.parents,
      origin: b.origin,
      op: b.op,
      size: treeSize(b.expr),
      depth: treeDepth(b.expr),
      expr: b.expr,
    }));
    this.journal.putCandidates(cands);
    this.emit({ type: 'generation-start', gen: g, population: cands.length });
    const fates = new Map<number, FateRecord>();
    const record = (entries: FateEntry[]) => {
      for (const [idx, f] of entries) fates.set(idx, f);
    };
    const stageSeconds: Record<string, number> = { cpv: 0, mos1: 0, mos2: 0, proxy: 0 };
    const reused: Record<string, number> = { cpv: 0, mos1: 0, mos2: 0, proxy: 0 };
    const ctx: GenerationContext = {
      g,
      cfg,
      mode,
      evaluate: (fp, task, t) => this.evaluate(fp, task, t),
      stageSeconds,
      reused,
      emit: this.emit,
    };
    const cse = cfg.strategy === 'cse';

    let alive = cands;
    let cpvFail = 0;
    let cpvFailBy: Record<string, number> = {};
    if (cse && cfg.cpv.enabled) {
      const r = await cpvFilter(ctx, alive);
      record(r.fates);
      ({ survivors: alive, fail: cpvFail, failBy: cpvFailBy } = r);
    }
    const dd = dedupeFilter(alive);
    record(dd.fates);
    alive = dd.survivors;
    const duplicates = dd.fates.length;

    const mosScore = new Map<number, number>();
    const mos = { 1: { evaluated: 0, passed: 0 }, 2: { evaluated: 0, passed: 0 } };
    for (const lv of [this.mos1, this.mos2]) {
      if (!cse || !cfg.mos[lv.level === 1 ? 'level1' : 'level2'].enabled) continue;
      const r = await mosFilter(ctx, lv, lv.level === 1 ? base.defMos1 : base.defMos2, alive);
      for (const [idx, score] of r.scores) mosScore.set(idx, score); // level 2 refines the ranking
      record(r.fates);
      alive = r.survivors;
      mos[lv.level] = { evaluated: r.evaluated, passed: r.passed };
    }

    // Proxy: candidates already proxied keep their fitness; the top-K new ones by MOS score are trained.
    const sel = proxySelection(alive, { ranked: cse, mosScore, proxied: this.proxiedFps, topK: cfg.proxy.topK });
    record(sel.fates);
    const { old, chosen } = sel;
    // a candidate equivalent to the default (its fingerprint) is the default: it takes the default's own
    // proxy run, whose task differs from the candidates' only by early stopping's reference
    const candidateTask = this.proxyTask(this.earlyStopReference);
    const defaultTask = this.proxyTask(null);
    const px = await proxyStage(
      ctx,
      [...old, ...chosen],
      (loss, fp) => (fp === this.defaultFp ? defaultTask(loss) : candidateTask(loss)),
      mosScore,
    );
    this.proxyTotal += chosen.length;
    for (const c of chosen) this.proxiedFps.add(c.fingerprint);
    record(px.fates);
    const { scored } = px;
    for (const { c, fitness, ap50, ok } of scored) {
      if (ok)
        this.fame.add({
          loss: c.loss,
          fingerprint: c.fingerprint,
          fitness,
          ap50,
          mosScore: mosScore.get(c.idx) ?? null,
          size: c.size,
          gen: c.gen,
          id: `${c.gen}:${c.idx}`,
        });
    }
    for (const c of cands)
      if (!fates.has(c.idx)) fates.set(c.idx, { fate: 'not-top-k', mosScore: mosScore.get(c.idx) ?? null, fitness: null });

    // Selection: top-P of this generation + elites from the hall of fame.
    const parents = selectParents(scored, this.fame.ranked().slice(0, cfg.evolution.elites), cfg.evolution.parents);

    // this generation's new proxy evaluations that finished, in proxy order
    const okByIdx = new Map(scored.filter((s) => s.ok).map((s) => [s.c.idx, s.fitness]));
    const newlyProxied = chosen.filter((c) => okByIdx.has(c.idx)).map((c) => ({ loss: c.loss, fitness: okByIdx.get(c.idx)! }));
    const fitnesses = scored.map((s) => s.fitness);
    const best = scored[0];
    const hofBest = this.fame.ranked()[0];
    const tauPairs = scored.filter((s) => mosScore.has(s.c.idx));
    const stats: GenerationStats = {
      gen: g,
      population: cands.length,
      cpvPass: cands.length - cpvFail,
      cpvFail,
      cpvFailBy,
      duplicates,
      mosEvaluated: mos[1].evaluated,
      mosPass: mos[1].passed,
      mos2Evaluated: mos[2].evaluated,
      mos2Pass: mos[2].passed,
      proxyNew: chosen.length,
      proxyReused: old.length,
      proxyFailed: px.failed,
      ...(cfg.proxy.earlyStop ? { proxyStopped: px.stopped } : {}),
      proxyTotal: this.proxyTotal,
      proxyOrder: chosen.map((c) => c.idx),
      bestFitness: best ? best.fitness : null,
      medianFitness: fitnesses.length ? median(fitnesses) : null,
      bestLoss: best ? best.c.loss : null,
      bestEverFitness: hofBest?.fitness ?? null,
      bestEverLoss: hofBest?.loss ?? null,
      kendallTau: cse
        ? kendallTau(
            tauPairs.map((s) => mosScore.get(s.c.idx)!),
            tauPairs.map((s) => s.fitness),
          )
        : null,
      stageSeconds,
      reused,
      ...(draws ? { drawn: draws.drawn, cpvPassRate: draws.drawn ? draws.passed / draws.drawn : null, draws: drawCounts(draws) } : {}),
    };
    if (draws) stageSeconds.draw = draws.seconds; // the time of the draws (random trees, CPV, fingerprints)
    const prev = this.journal.generation(g);
    if (prev) {
      // A replayed generation: the journal's record stands (its timings are the original ones).
      this.emit({ type: 'generation-end', gen: g, stats: prev.stats as unknown as GenerationStats, elapsedMs: prev.elapsedMs });
      return { stats: prev.stats as unknown as GenerationStats, parents, newlyProxied };
    }
    const elapsedMs = this.elapsed();
    this.journal.finishGeneration(
      g,
      [...fates.entries()].map(([idx, f]) => ({ idx, ...f })),
      stats as unknown as Record<string, unknown>,
      elapsedMs,
    );
    this.journal.setMeta('elapsed_ms', String(elapsedMs));
    this.emit({ type: 'generation-end', gen: g, stats, elapsedMs });
    return { stats, parents, newlyProxied };
  }
}
