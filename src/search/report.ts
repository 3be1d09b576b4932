/**
 * The run report, from the journal alone (so it works for a finished run, a running one and a
 * stopped one): RUN_DIR/report.json (the data) and RUN_DIR/report.html, the dashboard's views
 * offline (src/search/view/): fitness per generation on integer axes, the rejection funnel, time
 * per stage, the MOS–proxy Kendall tau, the Pareto front of size versus fitness, the hall of
 * fame with KaTeX-rendered formulas, the final evaluation, and a page per hall-of-fame loss and
 * its ancestors (strings, graph, stage records, curves). One self-contained file.
 */
import { writeFileAtomicSync } from '../util/atomic.js';
import { join } from 'node:path';
import { parseExpr, printInfix, printLatex, simplify, type Mode } from '../loss/index.js';
import { simulatedWarning, type SearchConfig } from './config.js';
import { proxyFidelityOf, type ProxyFidelity } from './fidelity.js';
import type { FinalRow, GenerationStats, RunSession, SearchSummary } from './evolution.js';
import type { Provenance } from '../util/provenance.js';
import { Journal } from './journal.js';
import { lineageOf, type Lineage } from './lineage.js';
import { runOwner } from '../util/runlock.js';
import { compareCandidates } from './rank.js';
import { paretoFront } from './stats.js';
import { reportPage } from './view/assets.js';
import { candidateView, runView, type AncestorNode, type CandidateView } from './view/model.js';

export interface ReportLoss {
  rank: number;
  loss: string;
  infix: string;
  /** Infix of src/loss's simplification of the tree (same values). */
  simplified: string;
  latex: string;
  fitness: number;
  mosScore: number | null;
  size: number;
  gen: number;
  id: string;
  fingerprint: string;
}

export interface ReportData {
  runDir: string;
  status: string;
  mode: Mode;
  strategy: 'cse' | 'vanilla';
  config: SearchConfig;
  default: { loss: string; name: string; fitness: number; mos1: number | null } | null;
  elapsedMs: number;
  generations: GenerationStats[];
  hallOfFame: ReportLoss[];
  pareto: {
    all: { size: number; fitness: number; loss: string; id: string }[];
    front: { size: number; fitness: number; loss: string; id: string }[];
  };
  final: FinalRow[] | null;
  verdict: SearchSummary['verdict'];
  proxyEvaluations: number;
  /** Proxy evaluations and wall time until a candidate first reached the default's fitness (null: never). */
  reachedDefault: { proxyEvaluations: number; elapsedMs: number; gen: number; loss: string; stoppedThere?: true } | null;
  /** Shown at the top of the report (e.g. a `simulated` task). */
  warnings: string[];
  /** The Kendall τ-b measured for the run's proxy (docs/PROXY.md, src/search/fidelity.ts); null: not measured. */
  proxyFidelity: ProxyFidelity | null;
  /** The code, command and environment of the run's start, and of each session (start and resumes); null in older journals. */
  provenance: Provenance | null;
  sessions: RunSession[];
  /** The founders of the hall of fame, and per generation how many founders its new proxy evaluations descend from. */
  lineage: Lineage;
}

/** Reads the report's data from a run folder's journal (read-only). */
export function buildReport(runDir: string): ReportData {
  const j = Journal.open(runDir, { readonly: true });
  try {
    return reportFromJournal(j, runDir);
  } finally {
    j.close();
  }
}

/** The report's data from an open journal (the dashboard keeps one open per run). */
export function reportFromJournal(j: Journal, runDir: string): ReportData {
  {
    const config = JSON.parse(j.getMeta('config') ?? 'null') as SearchConfig;
    const def = JSON.parse(j.getMeta('default') ?? 'null') as (ReportData['default'] & { fingerprint?: string }) | null;
    const summary = JSON.parse(j.getMeta('summary') ?? 'null') as SearchSummary | null;
    const gens = j.generations();
    const stats = gens.map((g) => g.stats as unknown as GenerationStats);
    const cands = j.candidates().filter((c) => gens.some((g) => g.gen === c.gen));
    // Hall of fame: first appearance of each proxied fingerprint, by fitness.
    const seen = new Map<string, (typeof cands)[number]>();
    for (const c of cands) if (c.fate === 'proxied' && c.fitness !== null && !seen.has(c.fingerprint)) seen.set(c.fingerprint, c);
    const fame = [...seen.values()].sort((a, b) =>
      compareCandidates({ fitness: a.fitness!, gen: a.gen, idx: a.idx }, { fitness: b.fitness!, gen: b.gen, idx: b.idx }),
    );
    const hallOfFame: ReportLoss[] = fame.slice(0, config.evolution.hallOfFame).map((c, i) => {
      const e = parseExpr(config.mode, c.loss);
      return {
        rank: i + 1,
        loss: c.loss,
        infix: printInfix(e),
        simplified: printInfix(simplify(config.mode, e)),
        latex: printLatex(e),
        fitness: c.fitness!,
        mosScore: c.mosScore,
        size: c.size,
        gen: c.gen,
        id: `${c.gen}:${c.idx}`,
        fingerprint: c.fingerprint,
      };
    });
    const all = fame.map((c) => ({ size: c.size, fitness: c.fitness!, loss: c.loss, id: `${c.gen}:${c.idx}` }));
    // First time a newly proxied candidate reached the default's fitness, in proxy order.
    let reachedDefault: ReportData['reachedDefault'] = null;
    // evolution.stopAtDefault ended the run in this generation
    const stopGen = (JSON.parse(j.getMeta('stopped_at_default') ?? 'null') as { gen: number } | null)?.gen ?? null;
    if (def) {
      const byKey = new Map(cands.map((c) => [`${c.gen}:${c.idx}`, c]));
      outer: for (const g of gens) {
        const s = g.stats as unknown as GenerationStats;
        let count = s.proxyTotal - s.proxyOrder.length;
        for (const idx of s.proxyOrder) {
          count++;
          const c = byKey.get(`${g.gen}:${idx}`);
          if (c && c.fate === 'proxied' && c.fitness !== null && c.fitness >= def.fitness) {
            reachedDefault = {
              proxyEvaluations: count,
              elapsedMs: g.elapsedMs,
              gen: g.gen,
              loss: c.loss,
              ...(stopGen === g.gen ? { stoppedThere: true as const } : {}),
            };
            break outer;
          }
        }
      }
    }
    return {
      runDir,
      status: statusOf(j.getMeta('status'), runDir),
      mode: config.mode,
      strategy: config.strategy,
      config,
      default: def,
      elapsedMs: Number(j.getMeta('elapsed_ms') ?? 0),
      generations: stats,
      hallOfFame,
      pareto: { all, front: paretoFront(all) },
      final: summary?.final ?? null,
      verdict: summary?.verdict ?? null,
      proxyEvaluations: stats.length ? stats[stats.length - 1]!.proxyTotal : 0,
      reachedDefault,
      warnings: [simulatedWarning(config), setAsideNote(j.getMeta('set_aside'))].filter((w): w is string => w !== null),
      proxyFidelity: proxyFidelityOf(config),
      provenance: JSON.parse(j.getMeta('provenance') ?? 'null') as Provenance | null,
      sessions: JSON.parse(j.getMeta('sessions') ?? '[]') as RunSession[],
      lineage: lineageOf(
        cands,
        stats,
        hallOfFame.map((h) => h.id),
        def?.fingerprint ?? null,
      ),
    };
  }
}

/** What `--retrain-final` set aside (journal meta set_aside), for the top of the report; null: nothing. */
function setAsideNote(stored: string | null): string | null {
  const aside = JSON.parse(stored ?? '[]') as { stage: string; why: string }[];
  if (!aside.length) return null;
  const whys = [...new Set(aside.map((a) => a.why))];
  return `${aside.length} earlier ${aside.every((a) => a.stage === 'final') ? 'final run(s)' : 'result(s)'} set aside and trained again (${whys.join('; ')}): the journal keeps them in meta set_aside; the results shown are the new ones`;
}

/** The journal says 'running' until the end; without a live owner process the run was stopped. */
function statusOf(stored: string | null, runDir: string): string {
  if (stored === 'running' && !runOwner(runDir)) return 'interrupted';
  return stored ?? 'unknown';
}

/**
 * The report page: the dashboard's run page and the candidate pages of the hall of fame and
 * their ancestry, from JSON embedded in one self-contained HTML file (script, styles, KaTeX
 * fonts inline; nothing fetched), so it opens from disk.
 */
export function renderHtml(j: Journal, r: ReportData): string {
  const run = runView(j, r, 0);
  const candidates: Record<string, CandidateView> = {};
  const queue = r.hallOfFame.map((h) => h.id);
  while (queue.length && Object.keys(candidates).length < REPORT_CANDIDATES) {
    const id = queue.shift()!;
    if (candidates[id]) continue;
    const c = candidateView(j, r, 0, id);
    if (!c) continue;
    candidates[id] = c;
    const walk = (a: AncestorNode) => a.parents.forEach((p) => (queue.push(p.id), walk(p)));
    walk(c.ancestry);
  }
  return reportPage(`cse-autoloss report: ${r.runDir}`, { runs: [run.summary], run, candidates });
}

/** Candidate pages in a report: the hall of fame first, then ancestors breadth-first. */
const REPORT_CANDIDATES = 40;

/** Writes report.json and report.html into the run folder; returns their paths. */
export function writeReport(runDir: string): { json: string; html: string; data: ReportData } {
  const j = Journal.open(runDir, { readonly: true });
  let data: ReportData;
  let page: string;
  try {
    data = reportFromJournal(j, runDir);
    page = renderHtml(j, data);
  } finally {
    j.close();
  }
  const json = join(runDir, 'report.json');
  const html = join(runDir, 'report.html');
  writeFileAtomicSync(json, JSON.stringify(data, null, 1) + '\n');
  writeFileAtomicSync(html, page);
  return { json, html, data };
}
