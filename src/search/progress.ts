/**
 * Live output of a search: a human display on stderr (a status line rewritten in place on a
 * terminal, one summary line per generation) or, with --json-log, one JSON object per event on
 * stdout (machine-readable; fields as in SearchEvent plus `t`, seconds since the start).
 */
import { verdictText, type SearchEvent } from './evolution.js';

export interface ProgressOptions {
  json: boolean;
  /** Where the human display goes (default stderr). */
  out?: NodeJS.WritableStream & { isTTY?: boolean };
  jsonOut?: NodeJS.WritableStream;
  generations: number;
}

function fmtTime(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)}%` : '-');
const pct3 = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(3)}%` : '-');
const short = (s: string | null, n = 70) => (s === null ? '-' : s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** Stages whose every evaluation is a training (minutes): shown line by line when the output is not a terminal. */
const SLOW_STAGES = new Set(['mos2', 'proxy']);

export class Progress {
  private readonly t0 = performance.now();
  private live = false;
  private strategy: 'cse' | 'vanilla' = 'cse';
  private readonly out: NodeJS.WritableStream & { isTTY?: boolean };

  constructor(private readonly opts: ProgressOptions) {
    this.out = opts.out ?? process.stderr;
  }

  private line(text: string): void {
    if (this.live) this.out.write('\r\x1b[2K');
    this.live = false;
    this.out.write(text + '\n');
  }

  private status(text: string): void {
    if (!this.out.isTTY) return;
    this.out.write('\r\x1b[2K' + text.slice(0, 160));
    this.live = true;
  }

  readonly onEvent = (ev: SearchEvent): void => {
    if (this.opts.json) {
      const rec: Record<string, unknown> = { t: +((performance.now() - this.t0) / 1000).toFixed(3), ...ev };
      (this.opts.jsonOut ?? process.stdout).write(JSON.stringify(rec) + '\n');
      return;
    }
    switch (ev.type) {
      case 'start':
        this.strategy = ev.config.strategy;
        this.line(
          `search ${ev.config.mode} (${ev.config.strategy}) → ${ev.runDir}${ev.resumed ? `, resumed: ${ev.reusedResults} stored results` : ''}; ` +
            `${ev.config.evolution.generations} generations of ${ev.config.population.size}, top-${ev.config.proxy.topK} to the proxy (${ev.config.proxy.task.kind})`,
        );
        break;
      case 'warning':
        this.line(`WARNING: ${ev.message}`);
        break;
      case 'baseline':
        this.line(`default ${ev.loss}: MOS ${ev.mos1 === null ? '-' : ev.mos1.toFixed(3)}, proxy AP ${ev.fitness.toFixed(4)}`);
        break;
      case 'generation-start':
        this.status(`gen ${ev.gen + 1}/${this.opts.generations}: ${ev.population} candidates`);
        break;
      case 'draw':
        this.status(
          `gen ${ev.gen + 1}/${this.opts.generations} drawing: ${ev.admitted}/${ev.target} candidates, ${ev.passed} of ${ev.drawn} draws passed CPV (${pct3(ev.passed, ev.drawn)})`,
        );
        break;
      case 'stage': {
        const text = `gen ${ev.gen + 1}/${this.opts.generations} ${ev.stage} ${ev.done}/${ev.total} (passed ${ev.passed}, reused ${ev.reused})`;
        // not a terminal (a log file, a pipe): no status line to rewrite, so the slow stages (a
        // training each) print a line per evaluation, so that a log shows the run is alive
        if (!this.out.isTTY && SLOW_STAGES.has(ev.stage)) this.line(`${text}  elapsed ${fmtTime(performance.now() - this.t0)}`);
        else this.status(text);
        break;
      }
      case 'generation-end': {
        const s = ev.stats;
        // the run's own time per generation (the journal's elapsed time, across sessions), as the
        // dashboard's: a resumed run replays its finished generations in no time, which would
        // otherwise pull this session's average towards zero
        const eta = (ev.elapsedMs / (ev.gen + 1)) * (this.opts.generations - ev.gen - 1);
        // cse with CPV: the generation was filled with CPV-passing draws; show the draw-level rate.
        // (its members' own CPV and dedupe stages then only show what the draws did not filter: seeds).
        const members = `CPV ${s.cpvPass}/${s.population} (${pct(s.cpvPass, s.population)})  dup ${s.duplicates}`;
        const drawn = s.draws
          ? `drawn ${s.draws.drawn}, CPV ${s.draws.passed} (${pct3(s.draws.passed, s.draws.drawn)}), ${s.draws.duplicates} dup` +
            `${s.draws.capped ? ` [cap ${s.draws.capped} hit]` : ''} → population ${s.population}${s.cpvFail || s.duplicates ? `  ${members}` : ''}`
          : members;
        const filters =
          this.strategy === 'cse'
            ? `${drawn}  MOS ${s.mosPass}/${s.mosEvaluated} (${pct(s.mosPass, s.mosEvaluated)})`
            : `${s.population} candidates, dup ${s.duplicates}`;
        this.line(
          `gen ${ev.gen + 1}/${this.opts.generations}  ${filters}  proxy ${s.proxyNew} new + ${s.proxyReused} known` +
            `${s.proxyFailed ? `, ${s.proxyFailed} failed` : ''}${s.proxyStopped ? `, ${s.proxyStopped} stopped early` : ''}  tau ${s.kendallTau === null ? '-' : s.kendallTau.toFixed(2)}  ` +
            `best ${s.bestEverFitness === null ? '-' : s.bestEverFitness.toFixed(4)} ${short(s.bestEverLoss)}  ` +
            `elapsed ${fmtTime(ev.elapsedMs)}  ETA ${fmtTime(eta)}`,
        );
        break;
      }
      case 'final-set-aside': {
        const from = Object.entries(ev.from)
          .map(([m, n]) => `${n} ${m === 'unrecorded' ? 'with no machine recorded' : `on ${m}`}`)
          .join(', ');
        this.line(
          ev.moved
            ? `--retrain-final: ${ev.moved} final run(s) set aside (${from}; kept in the journal, meta set_aside), to train again on this machine (${ev.here}); ${ev.kept} trained here kept`
            : `--retrain-final: all ${ev.kept} final run(s) so far trained on this machine (${ev.here}); nothing to retrain`,
        );
        break;
      }
      case 'final-progress':
        if (!this.out.isTTY) this.line(`final evaluation ${ev.done}/${ev.total}  elapsed ${fmtTime(performance.now() - this.t0)}`);
        else this.status(`final evaluation ${ev.done}/${ev.total}`);
        break;
      case 'stopped-at-default':
        this.line(
          `gen ${ev.gen + 1}: ${short(ev.loss)} reached the default's proxy fitness (${ev.fitness.toFixed(4)} >= ${ev.defaultFitness.toFixed(4)}); ` +
            'stopping here (evolution.stopAtDefault)',
        );
        break;
      case 'finished': {
        const v = ev.summary.verdict;
        this.line(
          `done in ${fmtTime(ev.summary.elapsedMs)}: ${ev.summary.proxyEvaluations} proxy evaluations; best ${short(ev.summary.hallOfFame[0]?.loss ?? null)} ` +
            `(${ev.summary.hallOfFame[0]?.fitness.toFixed(4) ?? '-'} vs default ${ev.summary.defaultFitness.toFixed(4)})` +
            (v ? `; final: ${verdictText(v)}` : ''),
        );
        break;
      }
    }
  };
}
