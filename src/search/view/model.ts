/**
 * What the dashboard and the static report show, as plain JSON built from an open journal
 * (read-only): a run's summary (runs list), a run (fitness, funnel, stage times, tau, hall of
 * fame, Pareto front, final evaluation), a candidate (formula, graph, ancestry, stage records,
 * curves) and the comparison of runs. Every string here comes from the journal and is escaped
 * by whoever renders it (the client sets text, never HTML, except for the KaTeX and graph markup
 * made here from a parsed tree).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseExpr, printInfix, printLatex, printSvg, resolveLoss, simplify, type Mode } from '../../loss/index.js';
import type { SearchConfig } from '../config.js';
import { proxyFidelityText } from '../fidelity.js';
import { comparisonText, verdictText, type GenerationStats } from '../evolution.js';
import { JOURNAL_FILE, type Journal } from '../journal.js';
import type { ReportData } from '../report.js';
import { lossCurves, type Curves } from './curves.js';
import { renderLatex } from './katex.js';
import { machineIdOf, machineKey, machineKeyText, type Provenance } from '../../util/provenance.js';

/** ' (AuthenticAMD 25/1/1 ucode … blas Zen, machine 3fa2…)': the CPU identification and its key as final runs record it; '' in older records. */
function machineText(env: Provenance['env']): string {
  const id = machineIdOf(env);
  return id ? ` (${id}; machine ${machineKeyText(machineKey(id))})` : '';
}

export interface RunSummary {
  run: number;
  dir: string;
  status: string;
  mode: Mode | null;
  strategy: string | null;
  /** Finished generations, and the configured number. */
  generation: number;
  generations: number | null;
  population: number | null;
  bestFitness: number | null;
  bestLoss: string | null;
  defaultFitness: number | null;
  elapsedMs: number;
  /** Mean time per finished generation × generations left (null: none finished, or done). */
  etaMs: number | null;
  proxyEvaluations: number;
  /** Last change of the journal files (ms since the epoch). */
  updatedAt: number | null;
  /** Candidates of the generation in progress (written, not finished). */
  inProgress: { gen: number; candidates: number; results: number } | null;
}

export interface FunnelRow {
  gen: number;
  /** Trees drawn (random or offspring) before CPV; the population when the journal does not say. */
  drawn: number;
  population: number;
  cpvFail: number;
  cpvFailBy: Record<string, number>;
  cpvPass: number;
  duplicates: number;
  unique: number;
  mosEvaluated: number;
  mosPass: number;
  mos2Evaluated: number;
  mos2Pass: number;
  /** Passed every filter but not among the top-K new ones (or already proxied, see proxyReused). */
  notTopK: number;
  proxyNew: number;
  proxyReused: number;
  /** Proxy outcomes of the generation's proxied candidates (new and known) by status. */
  proxy: { ok: number; diverged: number; stoppedEarly: number; failed: number };
}

export interface GenView {
  /** 1-based generation number (the axis label). */
  gen: number;
  best: number | null;
  median: number | null;
  bestEver: number | null;
  bestLoss: string | null;
  tau: number | null;
  stageSeconds: Record<string, number>;
  elapsedMs: number;
  proxyTotal: number;
  funnel: FunnelRow;
}

export interface FameView {
  rank: number;
  id: string;
  loss: string;
  infix: string;
  latexHtml: string;
  fitness: number;
  mosScore: number | null;
  size: number;
  gen: number;
}

/** A founder of the hall of fame (src/search/lineage.ts), its loss rendered as the hall of fame's are. */
export interface FounderView {
  /** 'gen:idx' (0-based gen), as candidate links are written. */
  id: string;
  /** 1-based generation. */
  gen: number;
  loss: string;
  infix: string;
  latexHtml: string;
  origin: string;
  fitness: number | null;
  isDefault: boolean;
  /** How many of the hall of fame descend from it. */
  fame: number;
  /** The journal holds it (a parent id it lacks counts as a founder of its own): it has a candidate page. */
  known: boolean;
}

export interface LineageView {
  founders: FounderView[];
  /** Per generation (1-based): its new proxy evaluations and the distinct founders they descend from. */
  generations: { gen: number; proxied: number; founders: number }[];
}

export interface RunView {
  summary: RunSummary;
  proxyTask: string;
  /** The measured fidelity of the proxy, as one line (src/search/fidelity.ts). */
  proxyFidelityText: string;
  mosThreshold: number | null;
  default: { loss: string; name: string; fitness: number; mos1: number | null; latexHtml: string } | null;
  generations: GenView[];
  hallOfFame: FameView[];
  /** The founders behind the hall of fame and behind each generation's proxy evaluations. */
  lineage: LineageView;
  pareto: ReportData['pareto'];
  final: ReportData['final'];
  verdict: ReportData['verdict'];
  /** The verdict and each final row's comparison with the default, as text (src/search/stats.ts compareMeans). */
  verdictText: string | null;
  vsDefaultText: (string | null)[];
  /** Warnings (a simulated task), and where the results come from. */
  warnings: string[];
  provenanceText: string | null;
  reachedDefault: ReportData['reachedDefault'];
  /** Files of the run folder the server offers (report.html, report.json). */
  files: string[];
}

export interface AncestorNode {
  id: string;
  loss: string;
  origin: string;
  op: string | null;
  fitness: number | null;
  fate: string | null;
  /** Parents, up to the depth limit (truncated: more exist). */
  parents: AncestorNode[];
  truncated: boolean;
}

export interface StageRecordView {
  stage: string;
  status: string;
  pass: boolean | null;
  score: number | null;
  metrics: Record<string, number>;
  reason: string | null;
  seconds: number;
}

export interface CandidateView {
  run: number;
  runDir: string;
  id: string;
  gen: number;
  mode: Mode;
  loss: string;
  infix: string;
  simplified: string;
  latex: string;
  latexHtml: string;
  graphSvg: string;
  fingerprint: string;
  origin: string;
  op: string | null;
  size: number;
  depth: number;
  fate: string | null;
  /** Why the candidate stopped where it did, in words. */
  fateReason: string | null;
  mosScore: number | null;
  fitness: number | null;
  hofRank: number | null;
  exportCommand: string;
  ancestry: AncestorNode;
  records: StageRecordView[];
  curves: Curves | null;
  defaultLoss: string | null;
}

export interface CompareView {
  runs: {
    run: number;
    dir: string;
    strategy: string | null;
    mode: string | null;
    defaultFitness: number | null;
    points: { gen: number; proxyEvaluations: number; elapsedMs: number; bestEver: number | null }[];
  }[];
}

interface CandRow {
  gen: number;
  idx: number;
  loss: string;
  fingerprint: string;
  parents: string;
  origin: string;
  op: string | null;
  size: number;
  depth: number;
  fate: string | null;
  mos_score: number | null;
  fitness: number | null;
}

const hasTable = (j: Journal, name: string) => !!j.db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?").get(name);

function configOf(j: Journal): SearchConfig | null {
  const c = j.getMeta('config');
  return c ? (JSON.parse(c) as SearchConfig) : null;
}

function mtimeOf(runDir: string): number | null {
  let t: number | null = null;
  for (const f of [JOURNAL_FILE, `${JOURNAL_FILE}-wal`]) {
    const p = join(runDir, f);
    if (existsSync(p)) t = Math.max(t ?? 0, statSync(p).mtimeMs);
  }
  return t;
}

export function runSummary(j: Journal, runDir: string, run: number): RunSummary {
  const cfg = configOf(j);
  const gens = j.generations();
  const last = gens[gens.length - 1];
  const s = last?.stats as unknown as GenerationStats | undefined;
  const def = JSON.parse(j.getMeta('default') ?? 'null') as { fitness: number } | null;
  const status = j.getMeta('status') ?? 'unknown';
  const total = cfg?.evolution.generations ?? null;
  const elapsedMs = Number(j.getMeta('elapsed_ms') ?? 0);
  let etaMs: number | null = null;
  if (status !== 'finished' && total !== null && gens.length > 0)
    etaMs = (last!.elapsedMs / gens.length) * Math.max(0, total - gens.length);
  const nextGen = gens.length;
  const cands = (j.db.prepare('SELECT COUNT(*) AS n FROM candidates WHERE gen = ?').get(nextGen) as { n: number }).n;
  let inProgress: RunSummary['inProgress'] = null;
  if (cands > 0 && status !== 'finished') {
    const results = (
      j.db
        .prepare('SELECT COUNT(*) AS n FROM results WHERE fingerprint IN (SELECT fingerprint FROM candidates WHERE gen = ?)')
        .get(nextGen) as {
        n: number;
      }
    ).n;
    inProgress = { gen: nextGen + 1, candidates: cands, results };
  }
  return {
    run,
    dir: runDir,
    status,
    mode: cfg?.mode ?? null,
    strategy: cfg?.strategy ?? null,
    generation: gens.length,
    generations: total,
    population: cfg?.population.size ?? null,
    bestFitness: s?.bestEverFitness ?? null,
    bestLoss: s?.bestEverLoss ?? null,
    defaultFitness: def?.fitness ?? null,
    elapsedMs: gens.length ? Math.max(elapsedMs, last!.elapsedMs) : elapsedMs,
    etaMs,
    proxyEvaluations: s?.proxyTotal ?? 0,
    updatedAt: mtimeOf(runDir),
    inProgress,
  };
}

/** A summary for a run folder whose journal does not exist yet (a search about to start). */
export function pendingSummary(runDir: string, run: number): RunSummary {
  return {
    run,
    dir: runDir,
    status: 'starting',
    mode: null,
    strategy: null,
    generation: 0,
    generations: null,
    population: null,
    bestFitness: null,
    bestLoss: null,
    defaultFitness: null,
    elapsedMs: 0,
    etaMs: null,
    proxyEvaluations: 0,
    updatedAt: null,
    inProgress: null,
  };
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

function funnelOf(s: GenerationStats, proxy: FunnelRow['proxy'], strategy: string): FunnelRow {
  const raw = s as unknown as Record<string, unknown>;
  const population = num(s.population);
  // `drawn` is optional: journals written before it was counted fall back to the population.
  const drawn = typeof raw.drawn === 'number' ? raw.drawn : population;
  const cse = strategy === 'cse';
  const cpvPass = num(s.cpvPass);
  const unique = cpvPass - num(s.duplicates);
  const afterMos = !cse ? unique : s.mos2Evaluated ? num(s.mos2Pass) : s.mosEvaluated ? num(s.mosPass) : unique;
  return {
    gen: s.gen + 1,
    drawn,
    population,
    cpvFail: num(s.cpvFail),
    cpvFailBy: s.cpvFailBy ?? {},
    cpvPass,
    duplicates: num(s.duplicates),
    unique,
    mosEvaluated: num(s.mosEvaluated),
    mosPass: num(s.mosPass),
    mos2Evaluated: num(s.mos2Evaluated),
    mos2Pass: num(s.mos2Pass),
    notTopK: Math.max(0, afterMos - num(s.proxyNew) - num(s.proxyReused)),
    proxyNew: num(s.proxyNew),
    proxyReused: num(s.proxyReused),
    proxy,
  };
}

/** Proxy outcomes per generation (0-based gen → counts), from the candidates' proxy records. */
function proxyOutcomes(j: Journal): Map<number, FunnelRow['proxy']> {
  const rows = j.db
    .prepare(
      `SELECT c.gen AS gen, r.status AS status, r.metrics AS metrics FROM candidates c
       JOIN results r ON r.fingerprint = c.fingerprint AND r.stage = 'proxy'
       WHERE c.fate IN ('proxied', 'proxy-failed')`,
    )
    .all() as { gen: number; status: string; metrics: string }[];
  const out = new Map<number, FunnelRow['proxy']>();
  for (const r of rows) {
    const o = out.get(r.gen) ?? { ok: 0, diverged: 0, stoppedEarly: 0, failed: 0 };
    let stopped = r.status === 'timeout';
    if (!stopped && r.status === 'ok') {
      try {
        const m = JSON.parse(r.metrics) as Record<string, unknown>;
        stopped = !!m.stoppedEarly;
      } catch {
        /* not JSON: counted by status */
      }
    }
    if (stopped) o.stoppedEarly++;
    else if (r.status === 'ok') o.ok++;
    else if (r.status === 'diverged') o.diverged++;
    else o.failed++;
    out.set(r.gen, o);
  }
  return out;
}

/** The run page's data; `r` is the report's data of the same journal (src/search/report.ts). */
export function runView(j: Journal, r: ReportData, run: number, files: string[] = []): RunView {
  const runDir = r.runDir;
  const summary = runSummary(j, runDir, run);
  const outcomes = proxyOutcomes(j);
  const rows = j.generations();
  const generations: GenView[] = r.generations.map((s, i) => ({
    gen: s.gen + 1,
    best: s.bestFitness,
    median: s.medianFitness,
    bestEver: s.bestEverFitness,
    bestLoss: s.bestLoss,
    tau: s.kendallTau,
    stageSeconds: s.stageSeconds ?? {},
    elapsedMs: rows[i]?.elapsedMs ?? 0,
    proxyTotal: s.proxyTotal,
    funnel: funnelOf(s, outcomes.get(s.gen) ?? { ok: 0, diverged: 0, stoppedEarly: 0, failed: 0 }, r.strategy),
  }));
  const pt = r.config.proxy.task;
  return {
    summary,
    proxyTask:
      pt.kind === 'simulated'
        ? 'simulated (a stand-in, not a detector: its AP is not COCO AP)'
        : `${pt.detector} on ${pt.dataDir}, ${pt.iters} iterations`,
    proxyFidelityText: proxyFidelityText(r.proxyFidelity ?? null),
    mosThreshold:
      r.strategy === 'cse' && r.config.mos.level1.enabled && r.default?.mos1 != null
        ? r.config.mos.level1.threshold * r.default.mos1
        : null,
    default: r.default ? { ...r.default, latexHtml: latexOf(r.mode, r.default.loss) } : null,
    generations,
    hallOfFame: r.hallOfFame.map((h) => ({
      rank: h.rank,
      id: h.id,
      loss: h.loss,
      infix: h.infix,
      latexHtml: renderLatex(h.latex),
      fitness: h.fitness,
      mosScore: h.mosScore,
      size: h.size,
      gen: h.gen + 1,
    })),
    lineage: lineageView(j, r),
    pareto: r.pareto,
    final: r.final,
    verdict: r.verdict,
    verdictText: r.verdict && 'alpha' in r.verdict ? verdictText(r.verdict) : null,
    vsDefaultText: (r.final ?? []).map((f) => (f.vsDefault ? comparisonText(f.vsDefault) : null)),
    warnings: r.warnings,
    provenanceText: r.provenance
      ? `code ${r.provenance.commit ?? 'no git'}${r.provenance.dirty ? ' + uncommitted src/ changes' : ''}; ${r.provenance.env.cpu}${machineText(r.provenance.env)}, ${r.provenance.env.cores} cores; libtorch ${r.provenance.env.libtorch.version ?? '?'}, BLAS ${r.provenance.env.blas.version ?? '?'}; command: ${r.provenance.command}`
      : null,
    reachedDefault: r.reachedDefault ? { ...r.reachedDefault, gen: r.reachedDefault.gen + 1 } : null,
    files,
  };
}

function lineageView(j: Journal, r: ReportData): LineageView {
  return {
    founders: r.lineage.founders.map((f) => {
      const c = candRow(j, f.id);
      let infix = f.loss;
      let latexHtml = '';
      if (c)
        try {
          const e = parseExpr(r.mode, f.loss);
          infix = printInfix(e);
          latexHtml = renderLatex(printLatex(e));
        } catch {
          /* shown as its string */
        }
      return { ...f, gen: Number(f.id.split(':')[0]) + 1, infix, latexHtml, known: c !== null };
    }),
    generations: r.lineage.generations.map((g) => ({ ...g, gen: g.gen + 1 })),
  };
}

function latexOf(mode: Mode, loss: string): string {
  try {
    const e = resolveLoss(mode, loss).expr ?? parseExpr(mode, loss);
    return renderLatex(printLatex(e));
  } catch {
    return '';
  }
}

function candRow(j: Journal, id: string): CandRow | null {
  const m = /^(\d+):(\d+)$/.exec(id);
  if (!m) return null;
  return (
    (j.db.prepare('SELECT * FROM candidates WHERE gen = ? AND idx = ?').get(Number(m[1]), Number(m[2])) as CandRow | undefined) ?? null
  );
}

const MAX_ANCESTORS = 40;

function ancestry(j: Journal, id: string, depth: number, budget: { left: number }): AncestorNode {
  const c = candRow(j, id);
  if (!c) return { id, loss: '?', origin: '?', op: null, fitness: null, fate: null, parents: [], truncated: false };
  budget.left--;
  const parentIds = JSON.parse(c.parents) as string[];
  const parents: AncestorNode[] = [];
  let truncated = false;
  for (const p of parentIds) {
    if (depth <= 0 || budget.left <= 0) {
      truncated = true;
      continue;
    }
    parents.push(ancestry(j, p, depth - 1, budget));
  }
  return { id, loss: c.loss, origin: c.origin, op: c.op, fitness: c.fitness, fate: c.fate, parents, truncated };
}

const shellQuote = (s: string) => (/^[\w./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

function fateReason(j: Journal, c: CandRow, records: StageRecordView[], mosThreshold: number | null, topK: number): string | null {
  switch (c.fate) {
    case 'cpv-fail': {
      const r = records.find((x) => x.stage === 'cpv');
      return `failed convergence property verification: ${r?.reason ?? r?.status ?? '?'}`;
    }
    case 'duplicate': {
      const first = j.db
        .prepare('SELECT idx FROM candidates WHERE gen = ? AND fingerprint = ? AND idx < ? ORDER BY idx LIMIT 1')
        .get(c.gen, c.fingerprint, c.idx) as { idx: number } | undefined;
      return `same function (fingerprint) as ${first ? `${c.gen}:${first.idx}` : 'an earlier candidate'} in its generation`;
    }
    case 'mos-fail': {
      const r = records.filter((x) => x.stage === 'mos1' || x.stage === 'mos2').pop();
      if (r && r.status !== 'ok') return `model optimisation simulation ${r.status}${r.reason ? `: ${r.reason}` : ''}`;
      return `MOS score ${r?.score?.toFixed(4) ?? '?'} below the threshold${mosThreshold !== null && r?.stage === 'mos1' ? ` ${mosThreshold.toFixed(4)}` : ''}`;
    }
    case 'not-top-k':
      return `passed the filters but was not among the top-${topK} new candidates by MOS score`;
    case 'proxy-failed': {
      const r = records.find((x) => x.stage === 'proxy');
      return `proxy training ${r?.status ?? 'failed'}${r?.reason ? `: ${r.reason}` : ''}`;
    }
    case 'proxied':
      return null;
    default:
      return c.fate === null ? 'its generation is still running' : c.fate;
  }
}

export function candidateView(j: Journal, r: ReportData, run: number, id: string): CandidateView | null {
  const runDir = r.runDir;
  const c = candRow(j, id);
  const cfg = configOf(j);
  if (!c || !cfg) return null;
  const mode = cfg.mode;
  const e = parseExpr(mode, c.loss);
  const latex = printLatex(e);
  const records: StageRecordView[] = (
    j.db
      .prepare('SELECT stage, status, pass, score, metrics, reason, seconds FROM results WHERE fingerprint = ? ORDER BY seq')
      .all(c.fingerprint) as {
      stage: string;
      status: string;
      pass: number | null;
      score: number | null;
      metrics: string;
      reason: string | null;
      seconds: number;
    }[]
  ).map((r) => ({
    stage: r.stage,
    status: r.status,
    pass: r.pass === null ? null : r.pass === 1,
    score: r.score,
    metrics: JSON.parse(r.metrics) as Record<string, number>,
    reason: r.reason,
    seconds: r.seconds,
  }));
  const def = JSON.parse(j.getMeta('default') ?? 'null') as { loss: string; mos1: number | null } | null;
  const mosThreshold = def?.mos1 != null ? cfg.mos.level1.threshold * def.mos1 : null;
  const hof = r.hallOfFame.find((h) => h.fingerprint === c.fingerprint);
  const exportCommand = `cse-autoloss export --run ${shellQuote(runDir)} ${hof ? `--rank ${hof.rank}` : `--id ${id}`} --to pytorch`;
  let curves: Curves | null = null;
  try {
    curves = lossCurves(mode, c.loss, def?.loss ?? null);
  } catch {
    curves = null;
  }
  return {
    run,
    runDir,
    id,
    gen: c.gen + 1,
    mode,
    loss: c.loss,
    infix: printInfix(e),
    simplified: printInfix(simplify(mode, e)),
    latex,
    latexHtml: renderLatex(latex),
    graphSvg: printSvg(e).replace(/^<\?xml[^>]*\?>\s*/, ''),
    fingerprint: c.fingerprint,
    origin: c.origin,
    op: c.op,
    size: c.size,
    depth: c.depth,
    fate: c.fate,
    fateReason: fateReason(j, c, records, mosThreshold, cfg.proxy.topK),
    mosScore: c.mos_score,
    fitness: c.fitness,
    hofRank: hof?.rank ?? null,
    exportCommand,
    ancestry: ancestry(j, id, 4, { left: MAX_ANCESTORS }),
    records,
    curves,
    defaultLoss: def?.loss ?? null,
  };
}

/** Candidates of one generation (the run page's table of a generation). */
export function generationCandidates(
  j: Journal,
  gen1: number,
): { id: string; loss: string; fate: string | null; mosScore: number | null; fitness: number | null; origin: string }[] {
  if (!hasTable(j, 'candidates')) return [];
  return (
    j.db
      .prepare('SELECT gen, idx, loss, fate, mos_score, fitness, origin FROM candidates WHERE gen = ? ORDER BY idx')
      .all(gen1 - 1) as CandRow[]
  ).map((c) => ({
    id: `${c.gen}:${c.idx}`,
    loss: c.loss,
    fate: c.fate,
    mosScore: c.mos_score,
    fitness: c.fitness,
    origin: c.origin,
  }));
}

export function compareEntry(j: Journal, runDir: string, run: number): CompareView['runs'][number] {
  const cfg = configOf(j);
  const def = JSON.parse(j.getMeta('default') ?? 'null') as { fitness: number } | null;
  return {
    run,
    dir: runDir,
    strategy: cfg?.strategy ?? null,
    mode: cfg?.mode ?? null,
    defaultFitness: def?.fitness ?? null,
    points: j.generations().map((g) => {
      const s = g.stats as unknown as GenerationStats;
      return { gen: g.gen + 1, proxyEvaluations: s.proxyTotal, elapsedMs: g.elapsedMs, bestEver: s.bestEverFitness };
    }),
  };
}
