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
 */
import { mkdirSync } from 'node:fs';
import { convergenceChecks, printOfficial, resolveLoss, treeDepth, treeSize, type Expr, type Mode } from '../loss/index.js';
import { provenance, type Provenance } from '../util/provenance.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { configDiff, configHash, defaultLossOf, hashOf, parseConfig, simulatedWarning, type SearchConfig } from './config.js';
import { fingerprint as fingerprintOf, FINGERPRINT_VERSION } from './fingerprint.js';
import { Journal, JournalError } from './journal.js';
import { acquireRunLock } from '../util/runlock.js';
import { runStage } from './stages/index.js';
import { compareCandidates, parseCandidateId } from './rank.js';
import { compareMeans, kendallTau, mean, median, mixSeed, std, type MeanComparison } from './stats.js';
import type { StageTransport } from './transport/index.js';
import type { Candidate, Fate, StageName, StageRecord, StageTask } from './types.js';
import { DrawFilter, initialPopulation, offspring, type DrawStats, type Newborn, type Parent } from './variation.js';

export class SearchError extends UserError {
  override name = 'SearchError';
}
/** The filters left nothing to search (no candidate passed CPV within the caps, or none reached the proxy). */
export class SearchEmptyError extends SearchError {
  override name = 'SearchEmptyError';
}
export class SearchInterrupted extends Error {
  override name = 'SearchInterrupted';
}
/**
 * An evaluation could not run because of the environment (missing dataset or addon, I/O error, a
 * bug in stage code), not because of the loss: the run stops, nothing is recorded for it, and
 * `--resume` runs it again.
 */
export class StageEnvironmentError extends Error {
  override name = 'StageEnvironmentError';
}

/** Lets the event loop run (signal handlers, I/O) between evaluations; results do not depend on it. */
const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

export type SearchEvent =
  | { type: 'start'; runDir: string; resumed: boolean; reusedResults: number; config: SearchConfig }
  | { type: 'warning'; message: string }
  | { type: 'baseline'; loss: string; mos1: number | null; mos2: number | null; fitness: number }
  | { type: 'draw'; gen: number; drawn: number; passed: number; admitted: number; target: number }
  | { type: 'generation-start'; gen: number; population: number }
  | { type: 'stage'; gen: number; stage: StageName; done: number; total: number; passed: number; reused: number }
  | { type: 'generation-end'; gen: number; stats: GenerationStats; elapsedMs: number }
  | { type: 'final-progress'; done: number; total: number }
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

export interface HallOfFameEntry {
  loss: string;
  fingerprint: string;
  fitness: number;
  ap50: number | null;
  mosScore: number | null;
  size: number;
  gen: number;
  id: string;
}

/** What a loss is in the final evaluation: the search's best, the mode's default, the published half of the mode, another of the best. */
export type FinalRole = 'winner' | 'default' | 'published' | 'candidate';

export interface FinalRow {
  loss: string;
  label: string;
  role: FinalRole;
  /** Rank in the hall of fame when the search found this loss (the published half may be found too); null otherwise. */
  rank: number | null;
  isDefault: boolean;
  /** AP per seed (in final.seeds order); null where that seed's run did not finish ok (statuses says how): never counted as 0. */
  aps: (number | null)[];
  /** Mean and sample s.d. over the seeds that finished ok (null: none, or one for the s.d.). */
  mean: number | null;
  std: number | null;
  okSeeds: number;
  statuses: string[];
  /** compareMeans(this row's ok APs, the default's); null for the default itself. */
  vsDefault: MeanComparison | null;
}

/** The final verdict's significance level (two-sided Welch test). */
export const VERDICT_ALPHA = 0.05;

export interface Verdict {
  winner: string;
  /** Winner mean − default mean (AP), over the seeds that finished ok. */
  diff: number;
  se: number | null;
  t: number | null;
  df: number | null;
  p: number | null;
  beats: boolean;
  alpha: number;
  vsPublished: MeanComparison | null;
}

const fmtP = (p: number | null) => (p === null ? 'n/a' : p < 0.001 ? p.toExponential(1) : p.toFixed(3));

/** One comparison as text: "+0.0123 (s.e. 0.0040, Welch t 3.07, df 3.5, p 0.041)"; no test with fewer than 2 ok seeds a side. */
export function comparisonText(c: MeanComparison): string {
  const d = `${c.diff >= 0 ? '+' : '−'}${Math.abs(c.diff).toFixed(4)}`;
  if (c.se === null) return `${d} (no test: fewer than 2 finished seeds on a side)`;
  if (c.t === null) return `${d} (s.e. 0: no test)`;
  return `${d} (s.e. ${c.se.toFixed(4)}, Welch t ${c.t.toFixed(2)}, df ${c.df!.toFixed(1)}, p ${fmtP(c.p)})`;
}

/** The verdict as one sentence. */
export function verdictText(v: Verdict): string {
  const head = v.beats
    ? `beats the default (p < ${v.alpha})`
    : v.p === null
      ? 'cannot be compared with the default (too few finished seeds, or no spread)'
      : `does not beat the default (${v.diff > 0 ? `p ≥ ${v.alpha}` : 'not higher'})`;
  const vsPub = v.vsPublished ? `; against the published half ${comparisonText(v.vsPublished)}` : '';
  return `the winner ${head}: AP difference ${comparisonText({ diff: v.diff, se: v.se, t: v.t, df: v.df, p: v.p } as MeanComparison)}${vsPub}`;
}

/** The published CSE-Autoloss half of a mode (src/loss/presets.ts): A on Faster R-CNN, B on FCOS. */
export function publishedPresetOf(mode: Mode, detector: 'fcos' | 'faster-rcnn'): string {
  if (mode === 'cls') return 'cse-a-cls';
  if (mode === 'bcls') return 'cse-b-cls';
  return detector === 'faster-rcnn' ? 'cse-a-reg' : 'cse-b-reg';
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
}

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
}

/** One session of a run (its start, or a resume) as the journal's meta `sessions` records it. */
export interface RunSession {
  startedAt: string;
  resumed: boolean;
  /** --allow-code-change was given. */
  allowCodeChange: boolean;
  /** When this session's src/ differs from the previous session's: that session's commit and src/ hash. */
  codeChangedFrom?: { commit: string | null; srcHash: string; dirty: boolean | null };
  provenance: Provenance;
}

const codeText = (p: { commit: string | null; srcHash: string; dirty: boolean | null }) =>
  `commit ${p.commit ?? '(not a git checkout)'}${p.dirty ? ' with uncommitted changes in src/' : ''} (src/ hash ${p.srcHash})`;

interface Evaluated {
  record: StageRecord;
  reused: boolean;
}

/** The stage config part of a task (what the result key hashes). */
function taskKey(task: StageTask): string {
  const { loss: _loss, ...rest } = task;
  void _loss;
  return hashOf({ ...rest, fp: FINGERPRINT_VERSION });
}

export async function runSearch(opts: SearchOptions): Promise<SearchSummary> {
  const cfg = opts.config;
  const mode = cfg.mode;
  const emit = opts.onEvent ?? (() => {});
  validateRun(cfg);
  const { journal, release } = openJournal(opts);
  try {
    return await new SearchRun(cfg, mode, journal, opts.transport, emit, opts.signal).run(opts.runDir, !!opts.resume);
  } finally {
    journal.close();
    release();
  }
}

/** Checks what the config leaves to the loss language (defaultLoss), before anything is written. */
function validateRun(cfg: SearchConfig): void {
  parseDefault(cfg.mode, defaultLossOf(cfg));
}

/** Opens the run's journal, owned by this process (RUN_DIR/owner.lock) until `release`. */
function openJournal(opts: SearchOptions): { journal: Journal; release: () => void } {
  const exists = Journal.exists(opts.runDir);
  if (opts.resume && !exists) throw new SearchError(`--resume: ${opts.runDir} has no journal to resume`);
  if (!opts.resume && exists) throw new SearchError(`${opts.runDir} already holds a run (journal.sqlite); use --resume to continue it, or another --out`);
  mkdirSync(opts.runDir, { recursive: true });
  const release = acquireRunLock(opts.runDir);
  try {
    return { journal: openOwnedJournal(opts, exists), release };
  } catch (e) {
    release();
    throw e;
  }
}

function openOwnedJournal(opts: SearchOptions, exists: boolean): Journal {
  const prov = opts.provenance ?? provenance();
  if (opts.resume) {
    const j = Journal.open(opts.runDir);
    const stored = j.getMeta('config');
    if (!stored) {
      j.close();
      throw new JournalError(`journal in ${opts.runDir} has no config; it was not modified`);
    }
    // A config stored by an older version lacks newer fields: compare with their defaults filled in.
    let old = JSON.parse(stored) as SearchConfig;
    try {
      old = parseConfig(old);
    } catch {
      // not valid for this version: compared as stored (and refused below if it differs)
    }
    if (configHash(old) !== configHash(opts.config)) {
      const diff = configDiff(old, opts.config);
      j.close();
      throw new SearchError(`${opts.runDir} holds a run of another config; refusing to resume. Differences (journal → now):\n  ${diff.join('\n  ')}`);
    }
    // The code must be the one that wrote the journal (a replay on other code can give other results).
    const sessions = JSON.parse(j.getMeta('sessions') ?? '[]') as RunSession[];
    const last = sessions.at(-1)?.provenance ?? (JSON.parse(j.getMeta('provenance') ?? 'null') as Provenance | null);
    const changed = last !== null && last.srcHash !== prov.srcHash;
    if (changed && !opts.allowCodeChange) {
      j.close();
      throw new SearchError(
        `${opts.runDir} was written by ${codeText(last)}; this is ${codeText(prov)}. Refusing to resume on different src/ code ` +
          '(the replay could differ). Resume with --allow-code-change to continue anyway (recorded in the journal).',
      );
    }
    const session: RunSession = { startedAt: new Date().toISOString(), resumed: true, allowCodeChange: !!opts.allowCodeChange, provenance: prov };
    if (changed) session.codeChangedFrom = { commit: last.commit, srcHash: last.srcHash, dirty: last.dirty };
    j.setMeta('sessions', JSON.stringify([...sessions, session]));
    if (opts.maxJournalPages) j.setMaxPages(opts.maxJournalPages);
    return j;
  }
  // Another process may have created it between the check and the lock.
  if (exists || Journal.exists(opts.runDir)) throw new SearchError(`${opts.runDir} already holds a run (journal.sqlite); use --resume to continue it, or another --out`);
  const j = Journal.open(opts.runDir, { create: true });
  j.setMeta('config', JSON.stringify(opts.config));
  j.setMeta('config_hash', configHash(opts.config));
  j.setMeta('created_at', new Date().toISOString());
  j.setMeta('elapsed_ms', '0');
  j.setMeta('status', 'running');
  j.setMeta('provenance', JSON.stringify(prov));
  j.setMeta('sessions', JSON.stringify([{ startedAt: new Date().toISOString(), resumed: false, allowCodeChange: !!opts.allowCodeChange, provenance: prov } satisfies RunSession]));
  if (opts.maxJournalPages) j.setMaxPages(opts.maxJournalPages);
  return j;
}

class SearchRun {
  private cache = new Map<string, StageRecord>();
  private evaluatedKeys = new Set<string>();
  /** Evaluations taken from the journal instead of computed (resume). */
  fromJournal = 0;
  /** Fingerprints that went through the proxy in an earlier generation (or are the default). */
  private proxiedFps = new Set<string>();
  private sessionStart = performance.now();
  private elapsedBase: number;
  private proxyTotal = 0;
  /** Best proxied candidate per fingerprint (first seen). */
  private fame = new Map<string, HallOfFameEntry>();
  private readonly mos1Task: Omit<Extract<StageTask, { stage: 'mos1' }>, 'loss'>;
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
    const l1 = cfg.mos.level1;
    this.mos1Task = { stage: 'mos1', mode, seed: mixSeed(cfg.seed, 'mos1'), config: { samples: l1.samples, classes: l1.classes, steps: l1.steps, lr: l1.lr } };
    this.proxySeed = mixSeed(cfg.seed, 'proxy');
  }

  private elapsed(): number {
    return this.elapsedBase + (performance.now() - this.sessionStart);
  }

  private checkAbort(): void {
    if (this.signal?.aborted) throw new SearchInterrupted('search interrupted; resume with --resume');
  }

  /** The default loss's AP at the early-stopping check (null: not measured, or no early stopping). */
  private earlyStopReference: number | null = null;

  /** The proxy stage's task: proxy.task, with the early-stopping check when proxy.earlyStop is set. */
  private proxyConfig(reference: number | null): SearchConfig['proxy']['task'] {
    const es = this.cfg.proxy.earlyStop;
    const task = this.cfg.proxy.task;
    if (!es || task.kind !== 'detector') return task;
    return { ...task, earlyStop: { fraction: es.fraction, minRatio: es.minRatio, reference } };
  }

  private async evaluate(fp: string, task: StageTask, timeoutSeconds: number): Promise<Evaluated> {
    const key = `${fp}|${task.stage}|${taskKey(task)}`;
    // "reused" is relative to the run's own progress (an earlier generation evaluated it), so that a
    // replayed run reports what an uninterrupted one does; the journal cache only saves the work.
    const reused = this.evaluatedKeys.has(key);
    this.evaluatedKeys.add(key);
    const hit = this.cache.get(key);
    if (hit) {
      if (!reused) this.fromJournal++;
      return { record: hit, reused };
    }
    await yieldToEventLoop();
    this.checkAbort();
    const record = task.stage === 'cpv' ? await runStage(task) : await this.transport.run(task, { timeoutSeconds });
    this.checkAbort();
    if (record.status === 'error') {
      throw new StageEnvironmentError(
        `${task.stage} evaluation of ${abbreviate(task.loss)} could not run: ${record.reason ?? 'unknown error'}\n` +
          'This is a fault of the environment (data, installation, disk or code), not of the loss: nothing was recorded for it. Fix it and continue with --resume.',
      );
    }
    this.journal.putResult({ fingerprint: fp, stage: task.stage, key: taskKey(task), loss: task.loss, ...record });
    this.cache.set(key, record);
    return { record, reused };
  }

  async run(runDir: string, resumed: boolean): Promise<SearchSummary> {
    const cfg = this.cfg;
    for (const r of this.journal.allResults()) this.cache.set(`${r.fingerprint}|${r.stage}|${r.key}`, r);
    this.emit({ type: 'start', runDir, resumed, reusedResults: this.cache.size, config: cfg });
    const simulated = simulatedWarning(cfg);
    if (simulated) this.emit({ type: 'warning', message: simulated });

    // ---- baseline: the default loss sets the thresholds and the fitness to beat
    const defaultLoss = defaultLossOf(cfg);
    const defExpr = parseDefault(this.mode, defaultLoss);
    const defText = printOfficial(defExpr);
    const defFp = fingerprintOf(this.mode, defExpr);
    let defMos1: number | null = null;
    let defMos2: number | null = null;
    if (cfg.strategy === 'cse' && cfg.mos.level1.enabled) {
      const r = await this.evaluate(defFp, { ...this.mos1Task, loss: defText }, cfg.pool.mosTimeoutSeconds);
      if (r.record.status !== 'ok') throw new SearchError(`the default loss ${defaultLoss} failed MOS level 1 (${r.record.status}: ${r.record.reason ?? ''})`);
      defMos1 = r.record.score;
    }
    if (cfg.strategy === 'cse' && cfg.mos.level2.enabled) {
      const t = cfg.mos.level2.task;
      const r = await this.evaluate(defFp, { stage: 'mos2', mode: this.mode, loss: defText, seed: this.proxySeed, config: t }, t.timeoutSeconds);
      if (r.record.status !== 'ok') throw new SearchError(`the default loss ${defaultLoss} failed MOS level 2 (${r.record.status}: ${r.record.reason ?? ''})`);
      defMos2 = r.record.score;
    }
    const pt = this.proxyConfig(null);
    const defProxy = await this.evaluate(defFp, { stage: 'proxy', mode: this.mode, loss: defText, seed: this.proxySeed, config: pt }, pt.timeoutSeconds);
    if (defProxy.record.status !== 'ok') {
      throw new SearchError(`the default loss ${defaultLoss} failed the proxy task (${defProxy.record.status}: ${defProxy.record.reason ?? ''})`);
    }
    const defaultFitness = defProxy.record.score ?? 0;
    // the default's AP at the early-stopping check: what a candidate must keep up with
    this.earlyStopReference = defProxy.record.metrics.checkAp ?? null;
    this.proxiedFps.add(defFp);
    this.journal.setMeta(
      'default',
      JSON.stringify({ loss: defText, name: defaultLoss, fingerprint: defFp, mos1: defMos1, mos2: defMos2, fitness: defaultFitness, ...(cfg.proxy.earlyStop ? { checkAp: this.earlyStopReference } : {}) }),
    );
    this.emit({ type: 'baseline', loss: defText, mos1: defMos1, mos2: defMos2, fitness: defaultFitness });

    // ---- generations
    const gens: GenerationStats[] = [];
    let parents: Parent[] = [];
    for (let g = 0; g < cfg.evolution.generations; g++) {
      this.checkAbort();
      const rng = new Rng(mixSeed(cfg.seed, 'generation', g));
      const filter = this.drawFilter(g);
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
      const stats = await this.generation(g, born, { defMos1, defMos2 }, filter && { ...filter.stats, seconds: (performance.now() - t0) / 1000 });
      gens.push(stats.stats);
      parents = stats.parents;
    }

    const hof = this.hallOfFame();
    if (cfg.strategy === 'cse' && hof.length === 0) throw new SearchEmptyError(emptyMessage(gens));

    // ---- final evaluation
    let final: FinalRow[] | null = null;
    let verdict: SearchSummary['verdict'] = null;
    if (cfg.final.enabled) {
      // the default, the published half of the mode, then the best of the hall of fame (a fingerprint once)
      const entries: { loss: string; fp: string; label: string; role: FinalRole; rank: number | null }[] = [
        { loss: defText, fp: defFp, label: `default (${defaultLoss})`, role: 'default', rank: null },
      ];
      if (cfg.final.published) {
        const name = publishedPresetOf(this.mode, cfg.final.task.detector);
        const e = parseDefault(this.mode, name);
        const fp = fingerprintOf(this.mode, e);
        if (fp !== defFp) entries.push({ loss: printOfficial(e), fp, label: `published (${name})`, role: 'published', rank: null });
      }
      for (const [i, h] of hof.slice(0, cfg.final.top).entries()) {
        const same = entries.find((en) => en.fp === h.fingerprint);
        if (same) {
          // found again by the search: evaluated once
          same.label += ` = #${i + 1}`;
          same.rank = i + 1;
        } else entries.push({ loss: h.loss, fp: h.fingerprint, label: `#${i + 1}`, role: 'candidate', rank: i + 1 });
      }
      const total = entries.length * cfg.final.seeds.length;
      let done = 0;
      const ft = cfg.final.task;
      const rows = await Promise.all(
        entries.map(async (en) => {
          const recs = await Promise.all(
            cfg.final.seeds.map(async (s) => {
              const r = await this.evaluate(en.fp, { stage: 'final', mode: this.mode, loss: en.loss, seed: s, config: ft }, ft.timeoutSeconds);
              this.emit({ type: 'final-progress', done: ++done, total });
              return r.record;
            }),
          );
          const aps = recs.map((r) => (r.status === 'ok' ? (r.score ?? 0) : null));
          const ok = aps.filter((a): a is number => a !== null);
          const row: FinalRow = {
            loss: en.loss,
            label: en.label,
            role: en.role,
            rank: en.rank,
            isDefault: en.role === 'default',
            aps,
            mean: ok.length ? mean(ok) : null,
            std: ok.length > 1 ? std(ok) : null,
            okSeeds: ok.length,
            statuses: recs.map((r) => r.status),
            vsDefault: null,
          };
          return row;
        }),
      );
      const okAps = (r: FinalRow) => r.aps.filter((a): a is number => a !== null);
      const def = rows[0]!;
      for (const r of rows.slice(1)) r.vsDefault = compareMeans(okAps(r), okAps(def));
      // the winner: the best searched loss by mean AP (the default itself, if found again, is no winner)
      const found = rows.filter((r) => r.rank !== null && r.role !== 'default' && r.mean !== null).sort((a, b) => b.mean! - a.mean! || a.rank! - b.rank!);
      if (found.length && def.mean !== null) {
        const w = found[0]!;
        const pub = rows.find((r) => r.role === 'published');
        w.role = 'winner';
        const c = w.vsDefault!;
        verdict = {
          winner: w.loss,
          diff: c.diff,
          se: c.se,
          t: c.t,
          df: c.df,
          p: c.p,
          beats: c.diff > 0 && c.p !== null && c.p < VERDICT_ALPHA,
          alpha: VERDICT_ALPHA,
          vsPublished: pub && pub !== w && pub.okSeeds ? compareMeans(okAps(w), okAps(pub)) : null,
        };
      }
      final = rows;
    }
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
    };
    this.journal.setMeta('elapsed_ms', String(summary.elapsedMs));
    this.journal.setMeta('summary', JSON.stringify(summary));
    this.journal.setMeta('status', 'finished');
    this.emit({ type: 'finished', summary });
    return summary;
  }

  /** cse with CPV: the filter of generation g's draws (CPV pass, new fingerprint), with progress and Ctrl-C. */
  private drawFilter(g: number): DrawFilter | undefined {
    const cfg = this.cfg;
    if (cfg.strategy !== 'cse' || !cfg.cpv.enabled) return undefined;
    const mode = this.mode;
    const target = cfg.population.size;
    const seeds = g === 0 ? cfg.population.seedWith.length : 0;
    return new DrawFilter(
      (e) => convergenceChecks(mode, e).pass,
      (e) => fingerprintOf(mode, e),
      cfg.population.maxDraws,
      cfg.population.maxOffspringTries,
      (d) => {
        this.checkAbort();
        this.emit({ type: 'draw', gen: g, drawn: d.drawn, passed: d.passed, admitted: seeds + d.passed - d.duplicates, target });
      },
    );
  }

  private hallOfFame(): HallOfFameEntry[] {
    const key = (h: HallOfFameEntry) => ({ fitness: h.fitness, ...parseCandidateId(h.id) });
    return [...this.fame.values()].sort((a, b) => compareCandidates(key(a), key(b))).slice(0, Math.max(this.cfg.evolution.hallOfFame, this.cfg.final.top, this.cfg.evolution.elites));
  }

  private async generation(
    g: number,
    born: Newborn[],
    base: { defMos1: number | null; defMos2: number | null },
    draws?: DrawStats & { seconds: number },
  ): Promise<{ stats: GenerationStats; parents: Parent[] }> {
    const cfg = this.cfg;
    const mode = this.mode;
    const cands: (Candidate & { expr: Expr })[] = born.map((b, idx) => ({
      gen: g,
      idx,
      loss: b.loss,
      fingerprint: fingerprintOf(mode, b.expr),
      parents: b.parents,
      origin: b.origin,
      op: b.op,
      size: treeSize(b.expr),
      depth: treeDepth(b.expr),
      expr: b.expr,
    }));
    this.journal.putCandidates(cands);
    this.emit({ type: 'generation-start', gen: g, population: cands.length });
    const fates = new Map<number, { fate: Fate; mosScore: number | null; fitness: number | null }>();
    const setFate = (idx: number, fate: Fate, mosScore: number | null = null, fitness: number | null = null) => fates.set(idx, { fate, mosScore, fitness });
    const stageSeconds: Record<string, number> = { cpv: 0, mos1: 0, mos2: 0, proxy: 0 };
    const reused: Record<string, number> = { cpv: 0, mos1: 0, mos2: 0, proxy: 0 };
    const note = (stage: string, r: Evaluated) => {
      if (r.reused) reused[stage]!++;
      else stageSeconds[stage]! += r.record.seconds;
    };

    // CPV (cse only): in the coordinator, it is cheap.
    let alive = cands;
    const cpvFailBy: Record<string, number> = {};
    let cpvFail = 0;
    if (cfg.strategy === 'cse' && cfg.cpv.enabled) {
      const pass: typeof cands = [];
      let done = 0;
      for (const c of cands) {
        const r = await this.evaluate(c.fingerprint, { stage: 'cpv', mode, loss: c.loss, seed: 0 }, 60);
        note('cpv', r);
        if (r.record.status === 'ok' && r.record.pass) pass.push(c);
        else {
          cpvFail++;
          const prop = (r.record.reason ?? r.record.status).split(':')[0]!;
          cpvFailBy[prop] = (cpvFailBy[prop] ?? 0) + 1;
          setFate(c.idx, 'cpv-fail');
        }
        if (++done % 200 === 0 || done === cands.length) this.emit({ type: 'stage', gen: g, stage: 'cpv', done, total: cands.length, passed: pass.length, reused: reused.cpv! });
      }
      alive = pass;
    }

    // Dedupe within the generation by fingerprint (first occurrence kept).
    const seen = new Set<string>();
    let duplicates = 0;
    alive = alive.filter((c) => {
      if (seen.has(c.fingerprint)) {
        duplicates++;
        setFate(c.idx, 'duplicate');
        return false;
      }
      seen.add(c.fingerprint);
      return true;
    });

    // MOS level 1 and 2 (cse only).
    const mosScore = new Map<number, number>();
    let mosEvaluated = 0;
    let mosPass = 0;
    let mos2Evaluated = 0;
    let mos2Pass = 0;
    if (cfg.strategy === 'cse' && cfg.mos.level1.enabled) {
      const l1 = cfg.mos.level1;
      const thr = l1.threshold * (base.defMos1 ?? 0);
      let done = 0;
      const results = await Promise.all(
        alive.map(async (c) => {
          const r = await this.evaluate(c.fingerprint, { ...this.mos1Task, loss: c.loss }, cfg.pool.mosTimeoutSeconds);
          note('mos1', r);
          const ok = r.record.status === 'ok' && (r.record.score ?? 0) >= thr;
          if (ok) mosPass++;
          this.emit({ type: 'stage', gen: g, stage: 'mos1', done: ++done, total: alive.length, passed: mosPass, reused: reused.mos1! });
          return { c, r, ok };
        }),
      );
      mosEvaluated = alive.length;
      alive = [];
      for (const { c, r, ok } of results) {
        mosScore.set(c.idx, r.record.score ?? 0);
        if (ok) alive.push(c);
        else setFate(c.idx, 'mos-fail', r.record.score ?? null);
      }
    }
    if (cfg.strategy === 'cse' && cfg.mos.level2.enabled) {
      const l2 = cfg.mos.level2;
      const thr = l2.threshold * (base.defMos2 ?? 0);
      let done = 0;
      let passed = 0;
      const results = await Promise.all(
        alive.map(async (c) => {
          const r = await this.evaluate(c.fingerprint, { stage: 'mos2', mode, loss: c.loss, seed: this.proxySeed, config: l2.task }, l2.task.timeoutSeconds);
          note('mos2', r);
          const ok = r.record.status === 'ok' && (r.record.score ?? 0) >= thr;
          if (ok) passed++;
          this.emit({ type: 'stage', gen: g, stage: 'mos2', done: ++done, total: alive.length, passed, reused: reused.mos2! });
          return { c, r, ok };
        }),
      );
      mos2Evaluated = alive.length;
      alive = [];
      for (const { c, r, ok } of results) {
        mosScore.set(c.idx, r.record.score ?? 0); // level 2 refines the ranking
        if (ok) {
          alive.push(c);
          mos2Pass++;
        } else setFate(c.idx, 'mos-fail', r.record.score ?? null);
      }
    }

    // Proxy: candidates already proxied keep their fitness; the top-K new ones by MOS score are trained.
    const pt = this.proxyConfig(this.earlyStopReference);
    const ranked = cfg.strategy === 'cse' ? [...alive].sort((a, b) => (mosScore.get(b.idx) ?? 0) - (mosScore.get(a.idx) ?? 0) || a.idx - b.idx) : alive;
    const old = ranked.filter((c) => this.proxiedFps.has(c.fingerprint));
    const fresh = ranked.filter((c) => !this.proxiedFps.has(c.fingerprint));
    const chosen = fresh.slice(0, cfg.proxy.topK);
    for (const c of fresh.slice(cfg.proxy.topK)) setFate(c.idx, 'not-top-k', mosScore.get(c.idx) ?? null);
    const toProxy = [...old, ...chosen];
    let done = 0;
    let proxyFailed = 0;
    let proxyStopped = 0;
    const proxied = await Promise.all(
      toProxy.map(async (c) => {
        const r = await this.evaluate(c.fingerprint, { stage: 'proxy', mode, loss: c.loss, seed: this.proxySeed, config: pt }, pt.timeoutSeconds);
        note('proxy', r);
        this.emit({ type: 'stage', gen: g, stage: 'proxy', done: ++done, total: toProxy.length, passed: done, reused: reused.proxy! });
        return { c, r };
      }),
    );
    this.proxyTotal += chosen.length;
    for (const c of chosen) this.proxiedFps.add(c.fingerprint);
    const scored: { c: Candidate; fitness: number; ap50: number | null }[] = [];
    for (const { c, r } of proxied) {
      const ok = r.record.status === 'ok';
      const stopped = r.record.status === 'stopped';
      const fitness = ok ? (r.record.score ?? 0) : 0;
      if (stopped) proxyStopped++;
      else if (!ok) proxyFailed++;
      setFate(c.idx, ok ? 'proxied' : stopped ? 'stopped-early' : 'proxy-failed', mosScore.get(c.idx) ?? null, fitness);
      scored.push({ c, fitness, ap50: r.record.metrics.ap50 ?? null });
      const id = `${c.gen}:${c.idx}`;
      if (ok && !this.fame.has(c.fingerprint)) {
        this.fame.set(c.fingerprint, { loss: c.loss, fingerprint: c.fingerprint, fitness, ap50: r.record.metrics.ap50 ?? null, mosScore: mosScore.get(c.idx) ?? null, size: c.size, gen: c.gen, id });
      }
    }
    for (const c of cands) if (!fates.has(c.idx)) setFate(c.idx, 'not-top-k', mosScore.get(c.idx) ?? null);

    // Selection: top-P of this generation + elites from the hall of fame.
    scored.sort((a, b) => compareCandidates({ fitness: a.fitness, gen: a.c.gen, idx: a.c.idx }, { fitness: b.fitness, gen: b.c.gen, idx: b.c.idx }));
    const parents: Parent[] = scored
      .filter((s) => fates.get(s.c.idx)!.fate === 'proxied')
      .slice(0, cfg.evolution.parents)
      .map((s) => ({ id: `${s.c.gen}:${s.c.idx}`, loss: s.c.loss }));
    const parentFps = new Set(scored.slice(0, cfg.evolution.parents).map((s) => s.c.fingerprint));
    for (const h of this.hallOfFame().slice(0, cfg.evolution.elites)) {
      if (!parentFps.has(h.fingerprint)) parents.push({ id: h.id, loss: h.loss });
    }

    const fitnesses = scored.map((s) => s.fitness);
    const best = scored[0];
    const hofBest = this.hallOfFame()[0];
    const tauPairs = scored.filter((s) => mosScore.has(s.c.idx));
    const stats: GenerationStats = {
      gen: g,
      population: cands.length,
      cpvPass: cands.length - cpvFail,
      cpvFail,
      cpvFailBy,
      duplicates,
      mosEvaluated,
      mosPass,
      mos2Evaluated,
      mos2Pass,
      proxyNew: chosen.length,
      proxyReused: old.length,
      proxyFailed,
      ...(cfg.proxy.earlyStop ? { proxyStopped } : {}),
      proxyTotal: this.proxyTotal,
      proxyOrder: chosen.map((c) => c.idx),
      bestFitness: best ? best.fitness : null,
      medianFitness: fitnesses.length ? median(fitnesses) : null,
      bestLoss: best ? best.c.loss : null,
      bestEverFitness: hofBest?.fitness ?? null,
      bestEverLoss: hofBest?.loss ?? null,
      kendallTau: cfg.strategy === 'cse' ? kendallTau(tauPairs.map((s) => mosScore.get(s.c.idx)!), tauPairs.map((s) => s.fitness)) : null,
      stageSeconds,
      reused,
      ...(draws ? { drawn: draws.drawn, cpvPassRate: draws.drawn ? draws.passed / draws.drawn : null, draws: drawCounts(draws) } : {}),
    };
    if (draws) stageSeconds.draw = draws.seconds; // the time of the draws (random trees, CPV, fingerprints)
    const prev = this.journal.generation(g);
    if (prev) {
      // A replayed generation: the journal's record stands (its timings are the original ones).
      this.emit({ type: 'generation-end', gen: g, stats: prev.stats as unknown as GenerationStats, elapsedMs: prev.elapsedMs });
      return { stats: prev.stats as unknown as GenerationStats, parents };
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
    return { stats, parents };
  }
}

/** The draw counters without the time (timings stay in stageSeconds). */
function drawCounts(d: DrawStats & { seconds: number }): DrawStats {
  return { drawn: d.drawn, passed: d.passed, duplicates: d.duplicates, random: { ...d.random }, offspring: { ...d.offspring }, capped: d.capped };
}

const ratePct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(3)}%` : '-');

/** Why a cse run has nothing in its hall of fame, with each filter's rate over the run. */
function emptyMessage(gens: GenerationStats[]): string {
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

function parseDefault(mode: Mode, spec: string): Expr {
  let r;
  try {
    r = resolveLoss(mode, spec);
  } catch (e) {
    throw new SearchError(`defaultLoss '${spec}': ${(e as Error).message}`);
  }
  if (!r.expr) throw new SearchError(`defaultLoss '${spec}' is a fixed baseline outside the expression language; choose an expression or preset of mode ${mode}`);
  return r.expr;
}

/** A loss for a message: long ones (a 100 kB constant) shortened to their start and length. */
export function abbreviate(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}
