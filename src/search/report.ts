/**
 * The run report, from the journal alone (so it works for a finished run, a running one and a
 * stopped one): RUN_DIR/report.json and RUN_DIR/report.html, a self-contained page with inline
 * SVG plots: fitness per generation (best, median), filter rates and time per stage, the
 * Pareto front of size versus fitness, the hall of fame with each loss as official string,
 * infix, LaTeX and computation graph, the MOS–proxy Kendall tau, and the final evaluation table.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseExpr, printInfix, printLatex, printSvg, simplify, type Mode } from '../loss/index.js';
import { simulatedWarning, type SearchConfig } from './config.js';
import { comparisonText, verdictText, type FinalRow, type GenerationStats, type RunSession, type SearchSummary } from './evolution.js';
import type { Provenance } from '../util/provenance.js';
import { Journal } from './journal.js';
import { paretoFront } from './stats.js';
import { esc, plotSvg } from './svg.js';

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
  pareto: { all: { size: number; fitness: number; loss: string }[]; front: { size: number; fitness: number; loss: string }[] };
  final: FinalRow[] | null;
  verdict: SearchSummary['verdict'];
  proxyEvaluations: number;
  /** Proxy evaluations and wall time until a candidate first reached the default's fitness (null: never). */
  reachedDefault: { proxyEvaluations: number; elapsedMs: number; gen: number; loss: string } | null;
  /** Shown at the top of the report (e.g. a `simulated` task). */
  warnings: string[];
  /** The code, command and environment of the run's start, and of each session (start and resumes); null in older journals. */
  provenance: Provenance | null;
  sessions: RunSession[];
}

/** Reads the report's data from a run folder's journal (read-only). */
export function buildReport(runDir: string): ReportData {
  const j = Journal.open(runDir, { readonly: true });
  try {
    const config = JSON.parse(j.getMeta('config') ?? 'null') as SearchConfig;
    const def = JSON.parse(j.getMeta('default') ?? 'null') as ReportData['default'];
    const summary = JSON.parse(j.getMeta('summary') ?? 'null') as SearchSummary | null;
    const gens = j.generations();
    const stats = gens.map((g) => g.stats as unknown as GenerationStats);
    const cands = j.candidates().filter((c) => gens.some((g) => g.gen === c.gen));
    // Hall of fame: first appearance of each proxied fingerprint, by fitness.
    const seen = new Map<string, (typeof cands)[number]>();
    for (const c of cands) if (c.fate === 'proxied' && c.fitness !== null && !seen.has(c.fingerprint)) seen.set(c.fingerprint, c);
    const fame = [...seen.values()].sort((a, b) => b.fitness! - a.fitness! || a.gen - b.gen || a.idx - b.idx);
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
    const all = fame.map((c) => ({ size: c.size, fitness: c.fitness!, loss: c.loss }));
    // First time a newly proxied candidate reached the default's fitness, in proxy order.
    let reachedDefault: ReportData['reachedDefault'] = null;
    if (def) {
      const byKey = new Map(cands.map((c) => [`${c.gen}:${c.idx}`, c]));
      outer: for (const g of gens) {
        const s = g.stats as unknown as GenerationStats;
        let count = s.proxyTotal - s.proxyOrder.length;
        for (const idx of s.proxyOrder) {
          count++;
          const c = byKey.get(`${g.gen}:${idx}`);
          if (c && c.fate === 'proxied' && c.fitness !== null && c.fitness >= def.fitness) {
            reachedDefault = { proxyEvaluations: count, elapsedMs: g.elapsedMs, gen: g.gen, loss: c.loss };
            break outer;
          }
        }
      }
    }
    return {
      runDir,
      status: j.getMeta('status') ?? 'unknown',
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
      warnings: [simulatedWarning(config)].filter((w): w is string => w !== null),
      provenance: JSON.parse(j.getMeta('provenance') ?? 'null') as Provenance | null,
      sessions: JSON.parse(j.getMeta('sessions') ?? '[]') as RunSession[],
    };
  } finally {
    j.close();
  }
}

const f4 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(4));

export function renderHtml(r: ReportData): string {
  const gens = r.generations;
  const gx = (g: GenerationStats) => g.gen + 1;
  const plots: string[] = [];
  plots.push(
    plotSvg({
      title: 'Fitness (proxy AP) per generation',
      xLabel: 'generation',
      yLabel: 'AP',
      series: [
        { label: 'best of generation', points: gens.filter((g) => g.bestFitness !== null).map((g) => [gx(g), g.bestFitness!]) },
        { label: 'median of generation', points: gens.filter((g) => g.medianFitness !== null).map((g) => [gx(g), g.medianFitness!]) },
        { label: 'best so far', points: gens.filter((g) => g.bestEverFitness !== null).map((g) => [gx(g), g.bestEverFitness!]) },
        ...(r.default ? [{ label: 'default loss', points: gens.map((g) => [gx(g), r.default!.fitness] as [number, number]), dashed: true }] : []),
      ],
    }),
  );
  plots.push(
    plotSvg({
      title: 'Filter pass rates per generation',
      xLabel: 'generation',
      yLabel: 'fraction passing',
      yRange: [0, 1],
      series: [
        // cse with CPV fills the population with passing draws: its rate is the draws' (GenerationStats.cpvPassRate)
        { label: 'CPV', points: gens.map((g) => [gx(g), g.cpvPassRate ?? (g.population ? g.cpvPass / g.population : 0)]) },
        { label: 'not duplicate', points: gens.map((g) => [gx(g), g.cpvPass ? (g.cpvPass - g.duplicates) / g.cpvPass : 0]) },
        { label: 'MOS', points: gens.filter((g) => g.mosEvaluated).map((g) => [gx(g), g.mosPass / g.mosEvaluated]) },
      ],
    }),
  );
  plots.push(
    plotSvg({
      title: 'Time per stage (sum over new evaluations)',
      xLabel: 'generation',
      yLabel: 'seconds',
      series: ['draw', 'cpv', 'mos1', 'mos2', 'proxy']
        .filter((k) => gens.some((g) => (g.stageSeconds[k] ?? 0) > 0))
        .map((k) => ({ label: k, points: gens.map((g) => [gx(g), g.stageSeconds[k] ?? 0] as [number, number]) })),
    }),
  );
  plots.push(
    plotSvg({
      title: 'Size versus fitness (Pareto front: smaller and better)',
      xLabel: 'tree size (nodes)',
      yLabel: 'AP',
      series: [
        { label: 'proxied candidates', points: r.pareto.all.map((p) => [p.size, p.fitness]), style: 'points' },
        { label: 'Pareto front', points: r.pareto.front.map((p) => [p.size, p.fitness]) },
      ],
    }),
  );
  if (r.strategy === 'cse') {
    plots.push(
      plotSvg({
        title: 'MOS score vs proxy fitness: Kendall tau per generation',
        xLabel: 'generation',
        yLabel: 'tau',
        yRange: [-1, 1],
        series: [{ label: 'Kendall tau-b', points: gens.filter((g) => g.kendallTau !== null).map((g) => [gx(g), g.kendallTau!]) }],
      }),
    );
  }
  const genRows = gens
    .map(
      (g) =>
        `<tr><td>${gx(g)}</td><td>${g.drawn ?? '–'}${g.draws?.capped ? ` (cap ${esc(g.draws.capped)} hit)` : ''}</td>` +
        `<td>${g.cpvPassRate === undefined || g.cpvPassRate === null ? '–' : `${(100 * g.cpvPassRate).toFixed(3)}%`}</td><td>${g.population}</td><td>${g.cpvPass}</td><td>${g.duplicates}</td><td>${g.mosPass}/${g.mosEvaluated}</td>` +
        `<td>${g.proxyNew}+${g.proxyReused}</td><td>${g.proxyFailed}</td><td>${f4(g.bestFitness)}</td><td>${f4(g.medianFitness)}</td>` +
        `<td>${g.kendallTau === null ? '–' : g.kendallTau.toFixed(2)}</td><td>${Object.entries(g.cpvFailBy)
          .map(([k, v]) => `${esc(k)} ${v}`)
          .join(', ')}</td></tr>`,
    )
    .join('\n');
  const fame = r.hallOfFame
    .map(
      (h) =>
        `<div class="loss"><h3>#${h.rank}: AP ${f4(h.fitness)} <small>(generation ${h.gen + 1}, size ${h.size}, MOS ${f4(h.mosScore)})</small></h3>` +
        `<p><b>official</b> <code>${esc(h.loss)}</code></p><p><b>infix</b> <code>${esc(h.infix)}</code></p>` +
        `<p><b>simplified</b> <code>${esc(h.simplified)}</code></p>` +
        `<p><b>LaTeX</b> <code>${esc(h.latex)}</code></p>${h.rank <= 5 ? `<details><summary>computation graph</summary>${stripXmlDecl(printSvg(parseExpr(r.mode, h.loss)))}</details>` : ''}</div>`,
    )
    .join('\n');
  const apCell = (f: FinalRow) => f.aps.map((a, i) => (a === null ? `<b>failed</b> (${esc(f.statuses[i] ?? '?')})` : a.toFixed(4))).join(', ');
  const finalTable = r.final
    ? `<table><tr><th>role</th><th>loss</th><th></th><th>AP per seed</th><th>mean</th><th>s.d.</th><th>difference from the default</th></tr>${r.final
        .map(
          (f) =>
            `<tr><td>${esc(f.role ?? (f.isDefault ? 'default' : 'candidate'))}</td><td>${esc(f.label)}</td><td><code>${esc(f.loss)}</code></td><td>${apCell(f)}</td>` +
            `<td>${f4(f.mean)}</td><td>${f4(f.std)}</td><td>${f.vsDefault ? esc(comparisonText(f.vsDefault)) : '–'}</td></tr>`,
        )
        .join('')}</table>` +
      '<p>Means over the seeds that finished ok; a failed seed is shown as failed and left out, never counted as AP 0. ' +
      "Differences: mean − the default's mean, its standard error, Welch's t and two-sided p (compareMeans, src/search/stats.ts).</p>" +
      (r.verdict
        ? 'alpha' in r.verdict
          ? `<p>Winner <code>${esc(r.verdict.winner)}</code>: ${esc(verdictText(r.verdict))}.</p>`
          : `<p>Winner <code>${esc((r.verdict as { winner: string }).winner)}</code> (a run of an older version: no Welch test recorded).</p>`
        : '')
    : '<p>No final evaluation (run not finished, or disabled).</p>';
  const reach = r.reachedDefault
    ? `first reached the default's fitness after ${r.reachedDefault.proxyEvaluations} proxy evaluations (generation ${r.reachedDefault.gen + 1}, ${(r.reachedDefault.elapsedMs / 1000).toFixed(1)} s)`
    : 'never reached the default loss fitness';
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>cse-autoloss report: ${esc(r.runDir)}</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:1em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td code{text-align:left}
code{font-size:12px;word-break:break-all}.plots svg{margin:4px;border:1px solid #ddd}.loss{border-top:1px solid #ddd;margin-top:8px}</style></head>
<body>
<h1>Loss search report</h1>
${r.warnings.map((w) => `<p style="border:2px solid #c00;background:#fee;padding:6px"><b>Warning:</b> ${esc(w)}</p>`).join('\n')}
<p>Run <code>${esc(r.runDir)}</code>: mode <b>${r.mode}</b>, strategy <b>${r.strategy}</b>, status <b>${esc(r.status)}</b>, ${gens.length} generation(s), ${r.proxyEvaluations} proxy evaluations, ${(r.elapsedMs / 1000).toFixed(1)} s. Proxy task: ${esc(r.config.proxy.task.kind)}${r.config.proxy.task.kind === 'simulated' ? ' (a stand-in, not a detector: its AP is not COCO AP)' : ` (${esc(r.config.proxy.task.detector)}, ${esc(r.config.proxy.task.dataDir)})`}.</p>
<p>Default loss <code>${esc(r.default?.loss ?? '?')}</code>: proxy AP ${f4(r.default?.fitness)}, MOS ${f4(r.default?.mos1)}. The search ${reach}.</p>
${provenanceHtml(r)}
<h2>Plots</h2><div class="plots">${plots.join('\n')}</div>
<h2>Final evaluation</h2>${finalTable}
<h2>Hall of fame</h2>${fame || '<p>No candidate reached the proxy task.</p>'}
<h2>Generations</h2>
<table><tr><th>gen</th><th>drawn</th><th>CPV rate of draws</th><th>population</th><th>CPV pass</th><th>duplicates</th><th>MOS pass</th><th>proxy new+known</th><th>proxy failed</th><th>best</th><th>median</th><th>tau</th><th>CPV failures</th></tr>
${genRows}</table>
</body></html>
`;
}

/** Writes report.json and report.html into the run folder; returns their paths. */
export function writeReport(runDir: string): { json: string; html: string; data: ReportData } {
  const data = buildReport(runDir);
  const json = join(runDir, 'report.json');
  const html = join(runDir, 'report.html');
  writeFileSync(json, JSON.stringify(data, null, 1) + '\n');
  writeFileSync(html, renderHtml(data));
  return { json, html, data };
}

function provenanceHtml(r: ReportData): string {
  const p = r.provenance;
  if (!p) return '<p>Provenance: not recorded (a journal of an older version).</p>';
  const lib = (l: { version: string | null; from: string }) => `${l.version ?? 'unknown'} (${l.from})`;
  const code = (x: Provenance) => `${x.commit ?? 'no git'}${x.dirty ? ' + uncommitted src/ changes' : ''}, src/ hash ${x.srcHash}`;
  const changes = r.sessions
    .filter((s) => s.codeChangedFrom)
    .map((s) => `<li><b>resumed on other code</b> (--allow-code-change) at ${esc(s.startedAt)}: ${esc(code(s.provenance))}, was ${esc(s.codeChangedFrom!.commit ?? 'no git')} (src/ hash ${esc(s.codeChangedFrom!.srcHash)})</li>`);
  return (
    `<p>Provenance: code ${esc(code(p))}; command <code>${esc(p.command)}</code>; ${esc(p.env.cpu)}, ${p.env.cores} cores, ` +
    `libtorch ${esc(lib(p.env.libtorch))}, BLAS ${esc(lib(p.env.blas))}, Node ${esc(p.env.node)} ${esc(p.env.platform)}; ${r.sessions.length} session(s).</p>` +
    (changes.length ? `<ul>${changes.join('')}</ul>` : '')
  );
}

/** An SVG document's text without its XML declaration, for inlining in HTML. */
function stripXmlDecl(svg: string): string {
  return svg.replace(/^<\?xml[^>]*\?>\s*/, '');
}
