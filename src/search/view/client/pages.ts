/// <reference lib="dom" />
/** The dashboard's pages (runs, run, candidate, compare), rendered from the view models' JSON. */
import type { AncestorNode, CandidateView, CompareView, FunnelRow, LineageView, RunSummary, RunView } from '../model.js';
import { COLORS, lineChart, scatterChart } from './charts.js';
import { copyButton, f4, fmtTime, h, trusted } from './dom.js';

export interface GenCandidate {
  id: string;
  loss: string;
  fate: string | null;
  mosScore: number | null;
  fitness: number | null;
  origin: string;
}

/** Where pages get their data: the server's JSON API, or the report's embedded JSON. */
export interface Source {
  live: boolean;
  runs(): Promise<RunSummary[]>;
  run(run: number): Promise<RunView>;
  candidate(run: number, id: string): Promise<CandidateView | null>;
  generation(run: number, gen: number): Promise<GenCandidate[] | null>;
  compare(runs: number[]): Promise<CompareView>;
}

/** Page state kept across live refreshes (selected generation, runs ticked for comparison). */
export const state = { funnelGen: new Map<number, number>(), compare: new Set<number>(), openDetails: new Set<string>() };

/** A <details> that stays open (or closed) across live re-renders. */
function details(key: string, summary: string, ...body: (Node | string)[]): HTMLElement {
  const d = h('details', { open: state.openDetails.has(key) }, h('summary', {}, summary), ...body);
  d.addEventListener('toggle', () => ((d as HTMLDetailsElement).open ? state.openDetails.add(key) : state.openDetails.delete(key)));
  return d;
}

const link = (href: string, ...text: (string | Node)[]) => h('a', { href }, ...text);
export const runHref = (run: number) => `#/run/${run}`;
export const candHref = (run: number, id: string) => `#/run/${run}/cand/${id}`;

function statusBadge(s: string): HTMLElement {
  return h('span', { class: `status status-${/^[a-z-]+$/.test(s) ? s : 'other'}` }, s);
}

function short(s: string | null, n = 60): string {
  if (s === null) return '–';
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

// ---------------------------------------------------------------- runs list

export async function runsPage(src: Source): Promise<HTMLElement> {
  const runs = await src.runs();
  const rows = runs.map((r) =>
    h(
      'tr',
      { 'data-run': r.run },
      h(
        'td',
        {},
        src.live
          ? h('input', {
              type: 'checkbox',
              'aria-label': `compare run ${r.run}`,
              checked: state.compare.has(r.run),
              onchange: (ev: Event) => toggleCompare(r.run, (ev.target as HTMLInputElement).checked),
            })
          : '',
      ),
      h('td', { class: 'left' }, link(runHref(r.run), r.dir)),
      h('td', {}, statusBadge(r.status), staleNote(r)),
      h('td', {}, r.mode ?? '–'),
      h('td', {}, r.strategy ?? '–'),
      h(
        'td',
        { class: 'gen' },
        `${r.generation}${r.generations !== null ? ` / ${r.generations}` : ''}`,
        r.inProgress ? h('small', {}, ` (gen ${r.inProgress.gen} running)`) : '',
      ),
      h('td', {}, f4(r.bestFitness)),
      h('td', {}, f4(r.defaultFitness)),
      h('td', {}, String(r.proxyEvaluations)),
      h('td', {}, fmtTime(r.elapsedMs)),
      h('td', {}, r.etaMs === null ? '–' : fmtTime(r.etaMs)),
      h('td', { class: 'left' }, h('code', {}, short(r.bestLoss, 50))),
    ),
  );
  const cmp = h(
    'button',
    {
      type: 'button',
      id: 'compare-btn',
      onclick: () => (location.hash = `#/compare/${[...state.compare].sort((a, b) => a - b).join(',')}`),
    },
    'Compare selected',
  );
  return h(
    'section',
    {},
    h('h1', {}, 'Runs'),
    h(
      'table',
      { class: 'runs' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...[
            '',
            'run folder',
            'status',
            'mode',
            'strategy',
            'generation',
            'best fitness',
            'default',
            'proxy evals',
            'elapsed',
            'ETA',
            'best loss',
          ].map((t) => h('th', {}, t)),
        ),
      ),
      h('tbody', {}, ...rows),
    ),
    src.live && runs.length > 1 ? h('p', {}, cmp, ' best fitness against proxy evaluations and wall time (tick two or more runs)') : '',
  );
}

/** A run marked running whose journal has not changed for 10 minutes: its search may have died. */
function staleNote(r: RunSummary): HTMLElement | string {
  if (r.status !== 'running' || r.updatedAt === null) return '';
  const idle = Date.now() - r.updatedAt;
  return idle > 600_000
    ? h(
        'small',
        { class: 'warn', title: 'the journal has not changed for a while: the search may have stopped (resume with --resume)' },
        ` no write for ${fmtTime(idle)}`,
      )
    : '';
}

function toggleCompare(run: number, on: boolean): void {
  if (on) state.compare.add(run);
  else state.compare.delete(run);
}

// ---------------------------------------------------------------- a run

function funnelView(f: FunnelRow, strategy: string | null): HTMLElement {
  const top = Math.max(f.drawn, 1);
  const bar = (label: string, n: number, cls: string, note?: Node | string) =>
    h(
      'div',
      { class: 'frow' },
      h('span', { class: 'flabel' }, label),
      h('span', { class: 'fbarwrap' }, h('span', { class: `fbar ${cls}`, style: `width:${((100 * n) / top).toFixed(1)}%` })),
      h('span', { class: 'fnum' }, String(n)),
      h('span', { class: 'fnote' }, note ?? ''),
    );
  const rows: HTMLElement[] = [bar('drawn', f.drawn, 'b0', f.drawn !== f.population ? `${f.population} admitted` : '')];
  if (strategy === 'cse') {
    const by = Object.entries(f.cpvFailBy).sort((a, b) => b[1] - a[1]);
    rows.push(
      bar(
        'CPV pass',
        f.cpvPass,
        'b1',
        by.length ? `failed ${f.cpvFail}: ${by.map(([k, v]) => `${k} ${v}`).join(', ')}` : `failed ${f.cpvFail}`,
      ),
    );
  }
  rows.push(bar('unique', f.unique, 'b2', `${f.duplicates} duplicates`));
  if (strategy === 'cse') {
    rows.push(bar('MOS pass', f.mosPass, 'b3', `of ${f.mosEvaluated} evaluated`));
    if (f.mos2Evaluated) rows.push(bar('MOS level 2 pass', f.mos2Pass, 'b3', `of ${f.mos2Evaluated}`));
  }
  rows.push(bar('to proxy', f.proxyNew + f.proxyReused, 'b4', `${f.proxyNew} new + ${f.proxyReused} known; ${f.notTopK} not in the top-K`));
  const p = f.proxy;
  rows.push(bar('proxy ok', p.ok, 'b5', `diverged ${p.diverged} · stopped early ${p.stoppedEarly} · failed ${p.failed}`));
  return h('div', { class: 'funnel', 'data-testid': 'funnel' }, ...rows);
}

/** The founders behind the hall of fame (src/search/lineage.ts) and behind each generation's new proxy evaluations. */
function lineageView(run: number, l: LineageView, fame: number, available: (id: string) => boolean): HTMLElement {
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const table = h(
    'table',
    { class: 'lineage' },
    h(
      'tr',
      {},
      ...(['candidate', 'gen', 'origin', 'own AP', 'in hall of fame', 'formula'] as const).map((t) =>
        h('th', { class: t === 'gen' || t === 'own AP' || t === 'in hall of fame' ? undefined : 'left' }, t),
      ),
    ),
    ...l.founders.map((f) =>
      h(
        'tr',
        {},
        h('td', { class: 'left' }, f.known && available(f.id) ? link(candHref(run, f.id), f.id) : f.id),
        h('td', {}, f.gen),
        h('td', { class: 'left' }, f.origin, f.isDefault ? h('div', { class: 'tag' }, 'trains as the default') : ''),
        h('td', {}, f4(f.fitness)),
        h('td', {}, f.fame),
        h('td', { class: 'left formula' }, f.latexHtml ? trusted('div', 'tex', f.latexHtml) : '', h('code', {}, f.loss)),
      ),
    ),
  );
  return h(
    'div',
    {},
    h(
      'p',
      {},
      `The hall of fame's ${plural(fame, 'loss descends', 'losses descend')} from ${plural(l.founders.length, 'founder', 'founders')}.`,
      h(
        'span',
        { class: 'muted' },
        ` A founder is a tree without parents (random, or seeded); a loss made by crossover descends from more than one, so the counts can sum to more than ${fame}.`,
      ),
    ),
    table,
    h(
      'p',
      { 'data-testid': 'lineage-gens' },
      "Founders behind each generation's new proxy evaluations (founders / evaluations): ",
      l.generations.length
        ? l.generations.flatMap((g, i) => [i ? ' · ' : '', h('span', { class: 'nowrap' }, `gen ${g.gen}: ${g.founders}/${g.proxied}`)])
        : '–',
    ),
  );
}

export async function runPage(src: Source, run: number, available: (id: string) => boolean = () => true): Promise<HTMLElement> {
  const v = await src.run(run);
  if (!v)
    return h(
      'section',
      {},
      h('h1', {}, `Run ${run}`),
      h('p', { class: 'muted' }, "Waiting for the run's journal (the search is starting)…"),
    );
  const s = v.summary;
  const gens = v.generations;
  const x = gens.map((g) => g.gen);
  const charts: HTMLElement[] = [];
  charts.push(
    lineChart({
      title: 'Fitness (proxy AP) per generation',
      xLabel: 'generation',
      yLabel: 'AP',
      x,
      integerX: true,
      series: [
        { label: 'best of generation', values: gens.map((g) => g.best) },
        { label: 'median of generation', values: gens.map((g) => g.median) },
        { label: 'best so far', values: gens.map((g) => g.bestEver) },
        ...(v.default
          ? [{ label: 'default loss', values: gens.map(() => v.default!.fitness), dash: true, color: '#555', points: false }]
          : []),
      ],
    }),
  );
  const stages = ['cpv', 'mos1', 'mos2', 'proxy'].filter((k) => gens.some((g) => (g.stageSeconds[k] ?? 0) > 0));
  charts.push(
    lineChart({
      title: 'Time per stage (seconds, sum over new evaluations)',
      xLabel: 'generation',
      yLabel: 'seconds',
      x,
      integerX: true,
      series: stages.map((k) => ({ label: k, values: gens.map((g) => g.stageSeconds[k] ?? 0) })),
    }),
  );
  if (s.strategy === 'cse') {
    charts.push(
      lineChart({
        title: 'MOS score vs proxy fitness: Kendall τ per generation',
        xLabel: 'generation',
        yLabel: 'τ',
        x,
        integerX: true,
        yRange: [-1, 1],
        series: [{ label: 'Kendall τ-b', values: gens.map((g) => g.tau) }],
      }),
    );
  }
  charts.push(
    scatterChart({
      title: 'Size versus fitness (Pareto front: smaller and better)',
      xLabel: 'tree size (nodes)',
      yLabel: 'AP',
      integerX: true,
      series: [
        { label: 'proxied candidates', x: v.pareto.all.map((p) => p.size), y: v.pareto.all.map((p) => p.fitness), color: '#1f77b4' },
        {
          label: 'Pareto front',
          x: v.pareto.front.map((p) => p.size),
          y: v.pareto.front.map((p) => p.fitness),
          color: '#d62728',
          line: true,
        },
      ],
      onPoint: (si, idx) => {
        const p = (si === 0 ? v.pareto.all : v.pareto.front)[idx];
        if (p) location.hash = candHref(run, p.id);
      },
    }),
  );

  // Funnel: the chosen generation (default: the latest) and the table of all.
  const chosen = state.funnelGen.get(run) ?? gens.length;
  const sel = h(
    'select',
    {
      'aria-label': 'generation',
      onchange: (ev: Event) => {
        // A generation the user picks stays chosen across live updates; otherwise the latest.
        const gen = Number((ev.target as HTMLSelectElement).value);
        state.funnelGen.set(run, gen);
        void pickGen(gen);
      },
    },
    ...gens.map((g) => h('option', { value: g.gen, selected: g.gen === chosen }, `generation ${g.gen}`)),
  );
  const funnelBox = h('div', {});
  const genTable = h('div', { class: 'gencands' });
  async function pickGen(gen: number): Promise<void> {
    const g = gens.find((x) => x.gen === gen);
    funnelBox.replaceChildren(g ? funnelView(g.funnel, s.strategy) : h('p', {}, 'No finished generation yet.'));
    const list = g ? await src.generation(run, gen) : null;
    genTable.replaceChildren(
      list
        ? candidatesTable(run, list)
        : h('p', { class: 'muted' }, g ? 'The candidates of each generation are listed by the live dashboard (cse-autoloss serve).' : ''),
    );
  }
  void pickGen(chosen);

  const funnelTable = h(
    'table',
    { class: 'funneltable' },
    h(
      'tr',
      {},
      ...[
        'gen',
        'drawn',
        'CPV pass',
        'CPV failures',
        'duplicates',
        'MOS pass',
        'to proxy (new+known)',
        'proxy ok',
        'diverged',
        'stopped early',
        'failed',
        'best',
        'median',
        'τ',
      ].map((t) => h('th', {}, t)),
    ),
    ...gens.map((g) => {
      const f = g.funnel;
      return h(
        'tr',
        {},
        h('td', {}, g.gen),
        h('td', {}, f.drawn),
        h('td', {}, f.cpvPass),
        h(
          'td',
          { class: 'left' },
          Object.entries(f.cpvFailBy)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ') || '–',
        ),
        h('td', {}, f.duplicates),
        h('td', {}, `${f.mosPass}/${f.mosEvaluated}`),
        h('td', {}, `${f.proxyNew}+${f.proxyReused}`),
        h('td', {}, f.proxy.ok),
        h('td', {}, f.proxy.diverged),
        h('td', {}, f.proxy.stoppedEarly),
        h('td', {}, f.proxy.failed),
        h('td', {}, f4(g.best)),
        h('td', {}, f4(g.median)),
        h('td', {}, g.tau === null ? '–' : g.tau.toFixed(2)),
      );
    }),
  );

  const fame = h(
    'table',
    { class: 'fame' },
    h('tr', {}, ...['#', 'AP', 'MOS', 'size', 'gen', 'formula', ''].map((t) => h('th', {}, t))),
    ...v.hallOfFame.map((f) =>
      h(
        'tr',
        {},
        h('td', {}, f.rank),
        h('td', {}, f4(f.fitness)),
        h('td', {}, f4(f.mosScore)),
        h('td', {}, f.size),
        h('td', {}, f.gen),
        h('td', { class: 'left formula' }, trusted('div', 'tex', f.latexHtml), h('code', {}, f.loss)),
        h('td', {}, link(candHref(run, f.id), 'open')),
      ),
    ),
  );

  const final = v.final
    ? h(
        'div',
        {},
        h(
          'table',
          {},
          h('tr', {}, ...['role', 'loss', '', 'AP per seed', 'mean', 's.d.', 'vs the default'].map((t) => h('th', {}, t))),
          ...v.final.map((f, row) =>
            h(
              'tr',
              {},
              h('td', {}, f.role ?? (f.isDefault ? 'default' : 'candidate')),
              h('td', {}, f.label),
              h('td', { class: 'left' }, h('code', {}, f.loss)),
              h('td', {}, f.aps.map((a, i) => (a === null ? `failed (${f.statuses[i] ?? '?'})` : a.toFixed(4))).join(', ')),
              h('td', {}, f4(f.mean)),
              h('td', {}, f4(f.std)),
              h('td', {}, v.vsDefaultText[row] ?? '–'),
            ),
          ),
        ),
        h(
          'p',
          { class: 'muted' },
          "Means over the seeds that finished ok (a failed seed is shown as failed, never counted as AP 0); differences with Welch's t.",
        ),
        v.verdict ? h('p', { class: 'verdict' }, 'Winner ', h('code', {}, v.verdict.winner), `: ${v.verdictText ?? ''}`) : '',
      )
    : h(
        'p',
        { class: 'muted' },
        s.status === 'finished'
          ? 'The final evaluation is disabled for this run.'
          : 'No final evaluation yet (it runs after the last generation).',
      );

  return h(
    'section',
    {},
    h('h1', {}, 'Run ', h('code', {}, s.dir)),
    h(
      'p',
      { class: 'summary' },
      statusBadge(s.status),
      ` mode ${s.mode ?? '–'}, strategy ${s.strategy ?? '–'}, `,
      h('span', { 'data-testid': 'generations' }, String(s.generation)),
      `${s.generations !== null ? ` of ${s.generations}` : ''} generations, ${s.proxyEvaluations} proxy evaluations, elapsed ${fmtTime(s.elapsedMs)}, ETA ${s.etaMs === null ? '–' : fmtTime(s.etaMs)}.`,
      s.inProgress
        ? ` Generation ${s.inProgress.gen} running: ${s.inProgress.candidates} candidates, ${s.inProgress.results} stage results so far.`
        : '',
    ),
    ...v.warnings.map((w) => h('p', { class: 'warning' }, h('b', {}, 'Warning: '), w)),
    h('p', {}, `Proxy task: ${v.proxyTask}.`),
    h('p', { 'data-testid': 'proxy-fidelity' }, `${v.proxyFidelityText}.`),
    v.provenanceText ? h('p', { class: 'muted' }, `Provenance: ${v.provenanceText}`) : '',
    v.default
      ? h(
          'div',
          { class: 'default' },
          'Default loss ',
          h('code', {}, v.default.name),
          `: proxy AP ${f4(v.default.fitness)}, MOS ${f4(v.default.mos1)}`,
          v.mosThreshold !== null ? ` (MOS threshold ${f4(v.mosThreshold)})` : '',
          trusted('div', 'tex', v.default.latexHtml),
        )
      : '',
    v.reachedDefault
      ? h(
          'p',
          {},
          `First reached the default's fitness after ${v.reachedDefault.proxyEvaluations} proxy evaluations (generation ${v.reachedDefault.gen}, ${fmtTime(v.reachedDefault.elapsedMs)})${v.reachedDefault.stoppedThere ? '; the search stopped there (evolution.stopAtDefault)' : ''}.`,
        )
      : gens.length
        ? h('p', {}, "No candidate has reached the default's fitness yet.")
        : '',
    v.files.length
      ? h(
          'p',
          {},
          'Files: ',
          ...v.files.flatMap((f, i) => [i ? ', ' : '', h('a', { href: `runs/${run}/files/${encodeURIComponent(f)}` }, f)]),
        )
      : '',
    h('h2', {}, 'Fitness, time and ranking'),
    h('div', { class: 'charts' }, ...charts),
    h('h2', {}, 'Rejection funnel'),
    gens.length ? h('p', {}, sel) : '',
    funnelBox,
    details(`funnel-${run}`, 'every generation', funnelTable),
    genTable,
    h('h2', {}, 'Hall of fame'),
    v.hallOfFame.length ? fame : h('p', { class: 'muted' }, 'No candidate has reached the proxy task yet.'),
    h(
      'div',
      { 'data-testid': 'lineage' },
      h('h2', {}, 'Lineage'),
      v.hallOfFame.length
        ? lineageView(run, v.lineage, v.hallOfFame.length, available)
        : h('p', { class: 'muted' }, 'No hall of fame yet.'),
    ),
    h('h2', {}, 'Final evaluation'),
    final,
  );
}

function candidatesTable(run: number, list: GenCandidate[]): HTMLElement {
  const counts = new Map<string, number>();
  for (const c of list) counts.set(c.fate ?? 'running', (counts.get(c.fate ?? 'running') ?? 0) + 1);
  const shown = list.filter((c) => c.fate !== 'cpv-fail' && c.fate !== 'duplicate').slice(0, 200);
  return details(
    `cands-${run}`,
    `candidates of this generation: ${[...counts].map(([k, n]) => `${k} ${n}`).join(', ')}`,
    h(
      'table',
      {},
      h('tr', {}, ...['id', 'origin', 'fate', 'MOS', 'AP', 'loss'].map((t) => h('th', {}, t))),
      ...shown.map((c) =>
        h(
          'tr',
          {},
          h('td', {}, link(candHref(run, c.id), c.id)),
          h('td', {}, c.origin),
          h('td', {}, c.fate ?? '…'),
          h('td', {}, f4(c.mosScore)),
          h('td', {}, f4(c.fitness)),
          h('td', { class: 'left' }, h('code', {}, short(c.loss, 90))),
        ),
      ),
    ),
    shown.length < list.length
      ? h(
          'p',
          { class: 'muted' },
          `(CPV failures and duplicates not listed${list.length - shown.length > 0 ? `; ${list.length - shown.length} hidden` : ''})`,
        )
      : '',
  );
}

// ---------------------------------------------------------------- a candidate

function ancestryTree(run: number, a: AncestorNode, available: (id: string) => boolean): HTMLElement {
  const how =
    a.origin === 'random' || a.origin === 'seed'
      ? a.origin + (a.op && a.origin === 'seed' ? ` (${a.op})` : '')
      : `${a.origin}${a.op ? ` (${a.op})` : ''}`;
  const label = available(a.id) ? link(candHref(run, a.id), a.id) : h('span', {}, a.id);
  return h(
    'li',
    {},
    label,
    ` ${how} · AP ${f4(a.fitness)} · ${a.fate ?? '…'} `,
    h('code', {}, short(a.loss, 80)),
    a.parents.length ? h('ul', {}, ...a.parents.map((p) => ancestryTree(run, p, available))) : '',
    a.truncated ? h('ul', {}, h('li', { class: 'muted' }, '…')) : '',
  );
}

export async function candidatePage(src: Source, run: number, id: string, available: (id: string) => boolean): Promise<HTMLElement> {
  const c = await src.candidate(run, id);
  if (!c)
    return h(
      'section',
      {},
      h('h1', {}, `Candidate ${id}`),
      h(
        'p',
        {},
        src.live
          ? 'No such candidate in this run.'
          : 'This candidate is not in the offline report (it holds the hall of fame and its ancestry); open the run with cse-autoloss serve.',
      ),
    );
  const plots: HTMLElement[] = [];
  if (c.curves) {
    const cv = c.curves;
    // one chart: this loss's values against the default's (dashed)
    const chart = (title: string, xLabel: string, yLabel: string, mine: (number | null)[], def: (number | null)[] | null) =>
      lineChart({
        title,
        xLabel,
        yLabel,
        x: cv.x,
        series: [
          { label: 'this loss', values: mine, points: false },
          ...(def ? [{ label: 'default', values: def, dash: true, color: '#555', points: false }] : []),
        ],
      });
    plots.push(
      chart('Loss', cv.xLabel, 'loss', cv.loss, cv.defaultLoss),
      chart('Gradient', cv.xLabel, cv.gradLabel, cv.grad, cv.defaultGrad),
    );
    const ng = cv.negative;
    if (ng)
      plots.push(
        chart('Loss, negative sample', ng.xLabel, 'loss', ng.loss, ng.defaultLoss),
        chart('Gradient, negative sample', ng.xLabel, cv.gradLabel.replace('target ', ''), ng.grad, ng.defaultGrad),
      );
  }
  const rec = h(
    'table',
    { class: 'records' },
    h('tr', {}, ...['stage', 'status', 'pass', 'score', 'reason', 'metrics', 'seconds'].map((t) => h('th', {}, t))),
    ...c.records.map((r) =>
      h(
        'tr',
        {},
        h('td', {}, r.stage),
        h('td', {}, r.status),
        h('td', {}, r.pass === null ? '–' : r.pass ? 'yes' : 'no'),
        h('td', {}, f4(r.score)),
        h('td', { class: 'left' }, r.reason ?? ''),
        h(
          'td',
          { class: 'left' },
          Object.entries(r.metrics)
            .map(([k, v]) => `${k} ${typeof v === 'number' ? +v.toFixed(4) : String(v)}`)
            .join(', '),
        ),
        h('td', {}, r.seconds.toFixed(3)),
      ),
    ),
  );
  return h(
    'section',
    {},
    h('p', {}, link(runHref(run), `← run ${c.runDir}`)),
    h('h1', {}, `Candidate ${c.id}`, c.hofRank ? h('small', {}, ` hall of fame #${c.hofRank}`) : ''),
    h(
      'p',
      {},
      `generation ${c.gen}, ${c.origin}${c.op ? ` (${c.op})` : ''}, size ${c.size}, depth ${c.depth}; fate `,
      h('b', {}, c.fate ?? 'running'),
      c.fateReason ? ` — ${c.fateReason}` : '',
      `; MOS ${f4(c.mosScore)}, AP ${f4(c.fitness)}`,
    ),
    trusted('div', 'tex big', c.latexHtml),
    h(
      'table',
      { class: 'strings' },
      h(
        'tr',
        {},
        h('th', {}, 'official'),
        h('td', { class: 'left' }, h('code', { 'data-testid': 'official' }, c.loss), ' ', copyButton('copy', c.loss)),
      ),
      h('tr', {}, h('th', {}, 'infix'), h('td', { class: 'left' }, h('code', {}, c.infix))),
      h('tr', {}, h('th', {}, 'simplified'), h('td', { class: 'left' }, h('code', {}, c.simplified))),
      h('tr', {}, h('th', {}, 'LaTeX'), h('td', { class: 'left' }, h('code', {}, c.latex))),
      h(
        'tr',
        {},
        h('th', {}, 'export'),
        h('td', { class: 'left' }, h('code', {}, c.exportCommand), ' ', copyButton('copy command', c.exportCommand)),
      ),
      h('tr', {}, h('th', {}, 'fingerprint'), h('td', { class: 'left' }, h('code', {}, c.fingerprint))),
    ),
    h(
      'h2',
      {},
      c.mode === 'reg'
        ? 'Loss and gradient over the IoU, against the default'
        : 'Loss and gradient over the predicted probability, against the default',
    ),
    c.curves
      ? h(
          'p',
          { class: 'muted' },
          c.curves.note,
          c.curves.negative ? ` Below, the negative sample: ${c.curves.negative.note}` : '',
          ' The raw expression summed over a sample; the wrapper weights are left out.',
        )
      : h('p', { class: 'muted' }, 'No curves: the expression could not be evaluated.'),
    h('div', { class: 'charts', 'data-testid': 'curves' }, ...plots),
    h('h2', {}, 'Stage records'),
    c.records.length ? rec : h('p', { class: 'muted' }, 'No stage record yet.'),
    h('h2', {}, 'Ancestry'),
    h('ul', { class: 'ancestry' }, ancestryTree(run, c.ancestry, available)),
    h('h2', {}, 'Computation graph'),
    trusted('div', 'graph', c.graphSvg),
  );
}

// ---------------------------------------------------------------- compare

export async function comparePage(src: Source, runs: number[]): Promise<HTMLElement> {
  const v = await src.compare(runs);
  if (v.runs.length < 2) return h('section', {}, h('h1', {}, 'Compare'), h('p', {}, 'Choose two or more runs on the runs page.'));
  const label = (r: CompareView['runs'][number]) => `${r.dir} (${r.strategy ?? '?'})`;
  const pts = (r: CompareView['runs'][number]) => r.points.filter((p) => p.bestEver !== null);
  const byEvals = scatterChart({
    title: 'Best fitness so far against proxy evaluations',
    xLabel: 'proxy evaluations',
    yLabel: 'AP',
    integerX: true,
    series: v.runs.map((r, i) => ({
      label: label(r),
      x: pts(r).map((p) => p.proxyEvaluations),
      y: pts(r).map((p) => p.bestEver!),
      color: COLORS[i % COLORS.length],
      line: true,
    })),
  });
  const byTime = scatterChart({
    title: 'Best fitness so far against wall time',
    xLabel: 'seconds',
    yLabel: 'AP',
    series: v.runs.map((r, i) => ({
      label: label(r),
      x: pts(r).map((p) => p.elapsedMs / 1000),
      y: pts(r).map((p) => p.bestEver!),
      color: COLORS[i % COLORS.length],
      line: true,
    })),
  });
  const modes = new Set(v.runs.map((r) => r.mode));
  return h(
    'section',
    {},
    h('h1', {}, 'Compare runs'),
    modes.size > 1 ? h('p', { class: 'warn' }, 'The runs search different modes: their fitnesses are not comparable.') : '',
    h(
      'ul',
      {},
      ...v.runs.map((r) =>
        h('li', {}, link(runHref(r.run), r.dir), ` ${r.strategy ?? '?'} ${r.mode ?? '?'}, default fitness ${f4(r.defaultFitness)}`),
      ),
    ),
    h('div', { class: 'charts' }, byEvals, byTime),
  );
}
