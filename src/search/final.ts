/**
 * The final evaluation: the default, the published half of the mode and the best of the hall of
 * fame retrained on the full task with several seeds, and the verdict of the winner against the default.
 */
import { printOfficial, resolveLoss, type Expr, type Mode } from '../loss/index.js';
import { SearchError } from './errors.js';
import type { SearchConfig } from './config.js';
import { candidateFingerprint } from './fingerprint.js';
import type { HallOfFameEntry } from './hall_of_fame.js';
import { compareMeans, mean, std, type MeanComparison } from './stats.js';
import type { StageRecord, StageTask } from './types.js';
import { machineKeyText } from '../util/provenance.js';
import type { Journal, StoredResult } from './journal.js';

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
  /**
   * Per seed, the machine its run trained on (machineKeyText of the record's metrics.machine,
   * src/util/provenance.ts); null where not recorded (older journals, not a detector). Absent in older reports.
   */
  machines?: (string | null)[];
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
  /**
   * The machines the final's runs trained on (recorded ones, as machineKeyText). Training is
   * bit-identical on one machine only, so with more than one the final does not decide: `beats`
   * is false, whatever the difference (a change of machine must not pass for a gain). Absent in older reports.
   */
  machines?: string[];
}

const fmtP = (p: number | null) => (p === null ? 'n/a' : p < 0.001 ? p.toExponential(1) : p.toFixed(3));

/** One comparison as text: "+0.0123 (s.e. 0.0040, Welch t 3.07, df 3.5, p 0.041)"; no test with fewer than 2 ok seeds a side. */
export function comparisonText(c: MeanComparison): string {
  const d = `${c.diff >= 0 ? '+' : '−'}${Math.abs(c.diff).toFixed(4)}`;
  if (c.se === null) return `${d} (no test: fewer than 2 finished seeds on a side)`;
  if (c.t === null) return `${d} (s.e. 0: no test)`;
  return `${d} (s.e. ${c.se.toFixed(4)}, Welch t ${c.t.toFixed(2)}, df ${c.df!.toFixed(1)}, p ${fmtP(c.p)})`;
}

/**
 * The `cse-autoloss train` arguments that retrain one run of the final evaluation: the final task's
 * detector, data and schedule, the loss in the searched half (the other half at the detector's
 * default, as in the search), the seed and the thread count (training is bit-identical only for
 * one thread count). docs/DISCOVERY.md prints it; test/search/detector_proxy.test.ts runs it and
 * compares the AP. Null when the final task is not a detector.
 */
export function retrainArgs(cfg: SearchConfig, loss: string, seed: number, threads: number, out: string): string[] | null {
  const t = cfg.final.task;
  if (t.kind !== 'detector') return null;
  const args = ['train', '--detector', t.detector, '--data', t.dataDir, '--preset', t.preset];
  args.push('--iters', String(t.iters), '--batch', String(t.batch), '--lr', String(t.lr));
  if (t.inputSize) args.push('--input-size', String(t.inputSize));
  if (t.warmupIters !== undefined) args.push('--warmup-iters', String(t.warmupIters));
  if (t.trainSubset > 0) args.push('--train-subset', String(t.trainSubset));
  args.push('--seed', String(seed), cfg.mode === 'reg' ? '--reg-loss' : '--cls-loss', loss, '--threads', String(threads), '--out', out);
  return args;
}

/** Arguments as one POSIX shell line (single quotes where needed). */
export function shellLine(args: string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** What setAsideFinal did: how many final runs it set aside, by the machine they trained on ('unrecorded': none recorded), and how many it kept. */
export interface FinalSetAside {
  /** This machine's key (machineKeyText). */
  here: string;
  moved: number;
  kept: number;
  /** Set-aside runs per machine key, 'unrecorded' for runs that recorded none. */
  from: Record<string, number>;
}

/**
 * `search --resume --retrain-final`: the final evaluation's runs that did not train on this
 * machine (another machine's key in metrics.machine, or none recorded) leave the journal's
 * results for its meta `set_aside` (kept there), so that the resumed run trains them again here
 * and every run its verdict compares comes from one machine. `here`: this machine's key.
 */
export function setAsideFinal(journal: Journal, here: number): FinalSetAside {
  const finals = journal.allResults().filter((r) => r.stage === 'final');
  const elsewhere = (r: StoredResult) => r.stage === 'final' && r.metrics.machine !== here;
  const moved = journal.setAsideResults(elsewhere, `--retrain-final on machine ${machineKeyText(here)}`);
  const from: Record<string, number> = {};
  for (const r of moved) {
    const m = typeof r.metrics.machine === 'number' ? machineKeyText(r.metrics.machine) : 'unrecorded';
    from[m] = (from[m] ?? 0) + 1;
  }
  return { here: machineKeyText(here), moved: moved.length, kept: finals.length - moved.length, from };
}

/** The verdict as one sentence. */
export function verdictText(v: Verdict): string {
  const mixed = (v.machines?.length ?? 0) > 1;
  const head = mixed
    ? `is not decided: the final's runs trained on ${v.machines!.length} machines (${v.machines!.join(', ')}), and training differs across machines; retrain them on one (cse-autoloss search --resume --retrain-final, on the machine to keep)`
    : v.beats
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

/** A loss the search names in its config (defaultLoss, a published preset) as its expression. */
export function parseDefault(mode: Mode, spec: string): Expr {
  let r;
  try {
    r = resolveLoss(mode, spec);
  } catch (e) {
    throw new SearchError(`defaultLoss '${spec}': ${(e as Error).message}`);
  }
  if (!r.expr)
    throw new SearchError(
      `defaultLoss '${spec}' is a fixed baseline outside the expression language; choose an expression or preset of mode ${mode}`,
    );
  return r.expr;
}

export interface FinalInput {
  cfg: SearchConfig;
  mode: Mode;
  /** The default loss as printed, its name in the config and its fingerprint. */
  defText: string;
  defaultLoss: string;
  defFp: string;
  hof: HallOfFameEntry[];
  evaluate: (fp: string, task: StageTask, timeoutSeconds: number) => Promise<{ record: StageRecord }>;
  onProgress: (done: number, total: number) => void;
}

/** One loss the final evaluation trains: its expression as printed, its preset name (default, published), fingerprint, label and role. */
export interface FinalEntry {
  loss: string;
  /** The name the config gives it (the default's defaultLoss, the published preset); null for a searched loss. */
  name: string | null;
  fp: string;
  /** 'default (focal)', 'published (cse-b-cls)', '#2'; ' = #k' added when the search found it again at rank k. */
  label: string;
  role: FinalRole;
  rank: number | null;
}

/**
 * The losses the final evaluation trains, in order: the default, the published half of the mode
 * (when cfg.final.published and not the default itself), then the top cfg.final.top of the hall of
 * fame; a fingerprint once (a loss the search found again is labelled with its rank, not trained twice).
 * The final evaluation and the docs' view of a stopped one (scripts/results-discovery.ts) both use it.
 */
export function finalEntries(
  cfg: SearchConfig,
  mode: Mode,
  def: { text: string; name: string; fp: string },
  hof: readonly Pick<HallOfFameEntry, 'loss' | 'fingerprint'>[],
): FinalEntry[] {
  const entries: FinalEntry[] = [
    { loss: def.text, name: def.name, fp: def.fp, label: `default (${def.name})`, role: 'default', rank: null },
  ];
  if (cfg.final.published) {
    const name = publishedPresetOf(mode, cfg.final.task.detector);
    const e = parseDefault(mode, name);
    const fp = candidateFingerprint(cfg, mode, e);
    if (fp !== def.fp) entries.push({ loss: printOfficial(e), name, fp, label: `published (${name})`, role: 'published', rank: null });
  }
  for (const [i, h] of hof.slice(0, cfg.final.top).entries()) {
    const same = entries.find((en) => en.fp === h.fingerprint);
    if (same) {
      // found again by the search: evaluated once
      same.label += ` = #${i + 1}`;
      same.rank = i + 1;
    } else entries.push({ loss: h.loss, name: null, fp: h.fingerprint, label: `#${i + 1}`, role: 'candidate', rank: i + 1 });
  }
  return entries;
}

/** Runs the final evaluation (cfg.final) and draws the verdict. */
export async function finalEvaluation(inp: FinalInput): Promise<{ final: FinalRow[]; verdict: Verdict | null }> {
  const { cfg, mode, defText, defaultLoss, defFp, hof } = inp;
  let verdict: Verdict | null = null;
  const entries = finalEntries(cfg, mode, { text: defText, name: defaultLoss, fp: defFp }, hof);
  const total = entries.length * cfg.final.seeds.length;
  let done = 0;
  const ft = cfg.final.task;
  const rows = await Promise.all(
    entries.map(async (en) => {
      const recs = await Promise.all(
        cfg.final.seeds.map(async (s) => {
          const r = await inp.evaluate(en.fp, { stage: 'final', mode, loss: en.loss, seed: s, config: ft }, ft.timeoutSeconds);
          inp.onProgress(++done, total);
          return r.record;
        }),
      );
      const aps = recs.map((r) => (r.status === 'ok' ? (r.score ?? 0) : null));
      const machines = recs.map((r) => (typeof r.metrics.machine === 'number' ? machineKeyText(r.metrics.machine) : null));
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
        machines,
        vsDefault: null,
      };
      return row;
    }),
  );
  const okAps = (r: FinalRow) => r.aps.filter((a): a is number => a !== null);
  const def = rows[0]!;
  for (const r of rows.slice(1)) r.vsDefault = compareMeans(okAps(r), okAps(def));
  // the winner: the best searched loss by mean AP (the default itself, if found again, is no winner)
  const found = rows
    .filter((r) => r.rank !== null && r.role !== 'default' && r.mean !== null)
    .sort((a, b) => b.mean! - a.mean! || a.rank! - b.rank!);
  // the machines of the runs that count (finished ok)
  const machines = [...new Set(rows.flatMap((r) => r.machines!.filter((m, i): m is string => m !== null && r.aps[i] !== null)))].sort();
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
      beats: c.diff > 0 && c.p !== null && c.p < VERDICT_ALPHA && machines.length <= 1,
      alpha: VERDICT_ALPHA,
      vsPublished: pub && pub !== w && pub.okSeeds ? compareMeans(okAps(w), okAps(pub)) : null,
      machines,
    };
  }
  return { final: rows, verdict };
}
