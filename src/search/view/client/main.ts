/// <reference lib="dom" />
/**
 * The dashboard's browser entry (bundled with uPlot by esbuild into one script). Hash routes:
 * #/ (runs), #/run/R, #/run/R/cand/G:I, #/compare/R1,R2. Data comes from the server's JSON API
 * (live: a server-sent event per journal change re-renders the page in place) or, in a
 * report.html opened from disk, from the JSON embedded in the page.
 */
import type { CandidateView, CompareView, RunSummary, RunView } from '../model.js';
import { h } from './dom.js';
import { candidatePage, comparePage, runPage, runsPage, type GenCandidate, type Source } from './pages.js';

interface StaticData {
  runs: RunSummary[];
  run: RunView;
  candidates: Record<string, CandidateView>;
}

async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url, { headers: { accept: 'application/json' } });
  if (r.status === 404) return null as T;
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

function httpSource(): Source {
  return {
    live: true,
    runs: () => getJson<RunSummary[]>('api/runs'),
    run: (run) => getJson<RunView>(`api/runs/${run}`),
    candidate: (run, id) => getJson<CandidateView | null>(`api/runs/${run}/candidates/${encodeURIComponent(id)}`),
    generation: (run, gen) => getJson<GenCandidate[] | null>(`api/runs/${run}/generations/${gen}`),
    compare: (runs) => getJson<CompareView>(`api/compare?runs=${runs.join(',')}`),
  };
}

function staticSource(d: StaticData): Source {
  return {
    live: false,
    runs: async () => d.runs,
    run: async () => d.run,
    candidate: async (_run, id) => d.candidates[id] ?? null,
    generation: async () => null,
    compare: async () => ({ runs: [] }),
  };
}

function route(): { page: 'runs' | 'run' | 'cand' | 'compare'; run: number; id: string; runs: number[] } {
  const hash = decodeURIComponent(location.hash.replace(/^#\/?/, ''));
  let m: RegExpExecArray | null;
  if ((m = /^run\/(\d+)\/cand\/(\d+:\d+)$/.exec(hash))) return { page: 'cand', run: Number(m[1]), id: m[2]!, runs: [] };
  if ((m = /^run\/(\d+)$/.exec(hash))) return { page: 'run', run: Number(m[1]), id: '', runs: [] };
  if ((m = /^compare\/([\d,]*)$/.exec(hash)))
    return { page: 'compare', run: -1, id: '', runs: m[1]!.split(',').filter(Boolean).map(Number) };
  return { page: 'runs', run: -1, id: '', runs: [] };
}

function start(): void {
  const embedded = document.getElementById('cse-data');
  const data = embedded ? (JSON.parse(embedded.textContent ?? 'null') as StaticData) : null;
  const src = data ? staticSource(data) : httpSource();
  const main = document.querySelector('main')!;
  const live = document.getElementById('live')!;
  const available = (id: string) => !data || id in data.candidates;
  let rendering = false;
  let again = false;

  async function render(keepScroll: boolean): Promise<void> {
    if (rendering) {
      again = true;
      return;
    }
    rendering = true;
    const y = window.scrollY;
    try {
      const r = route();
      let page: HTMLElement;
      if (data && r.page === 'runs') r.page = 'run';
      if (r.page === 'run') page = await runPage(src, data ? 0 : r.run, available);
      else if (r.page === 'cand') page = await candidatePage(src, data ? 0 : r.run, r.id, available);
      else if (r.page === 'compare') page = await comparePage(src, r.runs);
      else page = await runsPage(src);
      main.replaceChildren(page);
      document.body.dataset.page = r.page;
      document.body.dataset.rendered = String(Number(document.body.dataset.rendered ?? 0) + 1);
      if (keepScroll) window.scrollTo(0, y);
      else window.scrollTo(0, 0);
    } catch (e) {
      main.replaceChildren(h('p', { class: 'error' }, `Could not load this page: ${(e as Error).message}`));
    } finally {
      rendering = false;
      if (again) {
        again = false;
        void render(true);
      }
    }
  }

  window.addEventListener('hashchange', () => void render(false));
  void render(false);
  if (data) {
    live.textContent = 'offline report';
    return;
  }
  // Live updates: the server sends `change` with the run's number when its journal changed.
  const es = new EventSource('events');
  es.addEventListener('open', () => {
    live.textContent = '● live';
    live.className = 'on';
  });
  es.addEventListener('error', () => {
    live.textContent = '○ reconnecting';
    live.className = 'off';
  });
  es.addEventListener('change', (ev) => {
    const run = Number((ev as MessageEvent<string>).data);
    const r = route();
    if (r.page === 'runs' || r.run === run || r.runs.includes(run)) void render(true);
  });
}

start();
