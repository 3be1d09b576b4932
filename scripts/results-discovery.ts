/**
 * npm run results:discovery — the discovery searches of issue 15 (items 3 and 4) and their
 * results on disk:
 *   - S1 = configs/search.yaml (FCOS, bcls, shapes), S2 = configs/discovery-s2.yaml (Faster R-CNN,
 *     cls, shapes), S2b = configs/discovery-s2b.yaml (S2 again: another seed, a population of 1000;
 *     only with --settings S2b), S3 = configs/discovery-s3.yaml (FCOS, reg, mnist-det; only with --settings S3):
 *     each search runs through the CLI (`cse-autoloss search`, in a child process: run-folder lock,
 *     Ctrl-C handling, report) into results/discovery/<name>/run, resumed with --resume when its
 *     journal exists; a finished search is not run again;
 *   - transfer (configs/discovery.yaml `transfer`): the winner and the default of a finished search
 *     retrained on another dataset (mnist-det) with trainDetector, the other half of the losses at
 *     its default, seed by seed; a finished run (metrics.json ok or diverged) is kept, one stopped
 *     midway goes on from its checkpoint;
 *   - confirm (configs/discovery.yaml `confirm`, optional): the winner and the default of a finished
 *     search trained at more seeds on the final evaluation's own task (before the transfer), only on
 *     the final's machine, libraries and thread count; docs/DISCOVERY.md compares them over all
 *     their seeds beside the target, which stays judged on the final's seeds; `confirm.rivals`
 *     (per setting, presets of its mode) trains those at the final's seeds and the confirm seeds,
 *     and the docs compare the winner with each over them;
 *   - --efficiency NAME: seeds x {cse, vanilla} searches of setting NAME with final disabled and the
 *     same budget of proxy evaluations, each stopping once a candidate reaches the default's proxy
 *     fitness (evolution.stopAtDefault); the proxy evaluations and wall time until a candidate first
 *     reaches it (report's reachedDefault), median, range and ratio. The
 *     run whose strategy and seed are those of NAME's own search is that search's first
 *     generations (mainSearchPrefix), not trained twice, when they trained on this machine
 *     (prefixHere; else it trains on its own here);
 *   - --early-stop NAME [--generations N] (issue 15, item 5; default N = 3): setting NAME's search's
 *     twin, the same config and seed but for early stopping, with evolution.generations = N and final
 *     disabled (through the CLI, resumable), compared with the first N generations of NAME's main
 *     search (results/discovery/<NAME>/run). When NAME's config sets proxy.earlyStop, the twin has it
 *     removed (results/discovery/<NAME>-no-early-stop/run); when it does not (S1, S2), the twin adds
 *     configs/discovery.yaml's `earlyStop` (results/discovery/<NAME>-early-stop/run). When the main
 *     search's proxy trainings are not provably from this machine (mainArmHere), its own kind of twin
 *     trains here as well and the two twins are the arms. The two are
 *     compared by scripts/multi-fidelity.ts: per generation the new
 *     proxy evaluations, how many stopped early, the proxy time (the stored proxy records'
 *     seconds), the best fitness and the hall of fame's top so far; overall the proxy time ratio,
 *     whether the best candidate differs, the first generation whose populations differ, and the
 *     false stops (stopped with early stopping, at or above the default's proxy fitness without).
 *     The main search is not duplicated: when it has fewer than N generations the comparison
 *     measures the generations both runs have and says so (run the main search further, then
 *     --collect-only). The result: summary.json `multiFidelity`.
 * A search that has not finished is shown as it stands: 'running' while its process holds the run
 * folder, 'interrupted' otherwise; its hall of fame under the proxy; once its proxy stage is done, the
 * final evaluation's runs so far (partialFinalOf), without a verdict.
 * Results: results/discovery/<name>/{report.json, report.html, journal.sqlite (under 20 MB),
 * final/*.json, {transfer,confirm}/<role>/seed<k>/metrics.json + provenance.json}, results/discovery/summary.json
 * (issue 15's shape) and docs/DISCOVERY.md generated from them (with docs/img/discovery/*.svg).
 *
 * Options: --settings S1,S2 (default: S1,S2)  --collect-only (write the summary and the docs, run
 *          nothing)  --plan (list the steps and which are done)  --retrain (run only the retrain
 *          check: each finished search's winner at its first final seed with the command the docs
 *          print, --out into <root>/discovery/<name>/retrain/winner-seed<k>; then collect)  --efficiency NAME
 *          --early-stop NAME  --generations N (with --early-stop; default 3)
 *          --root DIR (results root, default results/)  --out FILE (docs/DISCOVERY.md)
 *          --config-dir DIR (hidden, for tests; env CSE_DISCOVERY_CONFIG_DIR: where search.yaml,
 *          discovery-s2.yaml, discovery-s3.yaml and discovery.yaml are read; default configs/)
 *          --help (prints these, USAGE below; an unknown option or a stray argument is an
 *          error, scripts/cli.ts)
 * Exit codes: 0 done, 2 bad usage or config, 130 interrupted (resumable), 1 a step failed (the
 * others still ran; the results so far are written).
 */
import { parseCli } from './cli.js';
import { tenthsProgress } from './progress.js';
import {
  envDiffs,
  fileMachineKey,
  machineKeyOfRecord,
  machineOfRecord,
  machinesSentence,
  parseMachineLines,
  type MachineLine,
} from './environment.js';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import {
  fingerprint,
  gradientFingerprint,
  parseExpr,
  PRESETS,
  printInfix,
  printLatex,
  printOfficial,
  type Mode,
} from '../src/loss/index.js';
import { configDiff, DEFAULT_LOSS, earlyStopSchema, hashOf, loadConfig, stableStringify, type SearchConfig } from '../src/search/config.js';
import { publishedPresetOf, type FinalRow, type RunSession } from '../src/search/evolution.js';
import { finalEntries, parseDefault, retrainArgs, shellLine, VERDICT_ALPHA } from '../src/search/final.js';
import { candidateFingerprint, FINGERPRINT_VERSION } from '../src/search/fingerprint.js';
import { proxySplit } from '../src/search/stages/detector.js';
import type { TrainConfigInput } from '../src/detect/index.js';
import { Journal, type StoredResult } from '../src/search/journal.js';
import { buildReport, writeReport, type ReportData } from '../src/search/report.js';
import type { Founder, Lineage } from '../src/search/lineage.js';
import { compareMeans, mean, median, std } from '../src/search/stats.js';
import { lineChartSvg } from '../src/util/svg.js';
import { curveOf } from '../src/search/view/curves.js';
import { machineId, machineIdOf, machineKey, machineKeyText, provenance, type Provenance } from '../src/util/provenance.js';
import { armMachines, compareEarlyStop, readRun, type MultiFidelity, type PairCost } from './multi-fidelity.js';
import { proxyInfoOf, proxyNoiseOf, proxyText, type ProxyInfo } from './discovery-proxy.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = `usage: npm run results:discovery -- [options]   (or: npx tsx scripts/results-discovery.ts [options])
The discovery searches (through the CLI, resumable; hours each) and their transfer and confirm
runs, then <root>/discovery/summary.json and docs/DISCOVERY.md.

Options:
  --settings S1,S2     the settings to run (default: S1,S2; S2b and S3 only when named)
  --collect-only       write the summary and the docs, run nothing
  --plan               list the steps and which are done, run nothing
  --retrain            run only the retrain check: each finished search's winner, seed as the
                       docs print it (--out into <root>/discovery/NAME/retrain), then collect
  --efficiency NAME    cse against vanilla searches of setting NAME (same proxy budget)
  --early-stop NAME    setting NAME's search against its twin with (or, when NAME's config stops
                       early, without) proxy.earlyStop, over the first N generations
  --generations N      with --early-stop: generations compared (default: 3)
  --root DIR           results root (default: results)
  --out FILE           the generated page (default: docs/DISCOVERY.md)
  --config-dir DIR     test only (env CSE_DISCOVERY_CONFIG_DIR): where search.yaml, discovery-s2.yaml,
                       discovery-s3.yaml and discovery.yaml are read (default: configs/)
  -h, --help           print this and exit
Exit codes: 0 done, 2 bad usage or config, 130 interrupted (resumable), 1 a step failed.`;
const cli = parseCli({
  options: ['settings', 'collect-only', 'plan', 'retrain', 'efficiency', 'early-stop', 'generations', 'root', 'out', 'config-dir'],
  valued: ['settings', 'efficiency', 'early-stop', 'generations', 'root', 'out', 'config-dir'],
  hidden: ['config-dir'],
  usage: USAGE,
});
function arg(name: string, def: string): string {
  return cli.value(name, def);
}
function usage(msg: string): never {
  console.error(`error: ${msg}`);
  process.exit(2);
}

const root = arg('root', 'results');
const discRoot = join(root, 'discovery');
const outFile = arg('out', 'docs/DISCOVERY.md');
const imgDir = join(dirname(outFile), 'img', 'discovery');
const configDir = arg('config-dir', process.env.CSE_DISCOVERY_CONFIG_DIR ?? join(REPO, 'configs'));
const collectOnly = cli.has('collect-only');
const planOnly = cli.has('plan');
const retrainOnly = cli.has('retrain');
if (retrainOnly && (collectOnly || planOnly)) usage('--retrain runs the retrain check; it does not go with --collect-only or --plan');
if (retrainOnly && (cli.has('efficiency') || cli.has('early-stop')))
  usage('--retrain runs only the retrain check; run --efficiency and --early-stop in calls of their own');
const effName = cli.has('efficiency') ? arg('efficiency', '') : null;
const esName = cli.has('early-stop') ? arg('early-stop', '') : null;
if (cli.has('generations') && esName === null) usage('--generations goes with --early-stop NAME');
const esGenerations = Number(arg('generations', '3'));
if (!Number.isInteger(esGenerations) || esGenerations < 1) usage(`--generations: '${arg('generations', '3')}' is not an integer >= 1`);

interface SettingDef {
  name: string;
  file: string;
  /** The proxy study's setting whose measurement of the proxy this one quotes (absent: its own name). */
  study?: string;
}
const SETTINGS: SettingDef[] = [
  { name: 'S1', file: 'search.yaml' },
  { name: 'S2', file: 'discovery-s2.yaml' },
  { name: 'S2b', file: 'discovery-s2b.yaml', study: 'S2' },
  { name: 'S3', file: 'discovery-s3.yaml' },
];
/** The proxy study's setting for a discovery setting (S2b: S2's, the same detector, mode, dataset and proxy). */
const studyOf = (name: string) => SETTINGS.find((s) => s.name === name)?.study ?? name;
const settingNames = arg('settings', 'S1,S2')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
for (const n of settingNames)
  if (!SETTINGS.some((s) => s.name === n)) usage(`--settings: unknown setting '${n}' (known: ${SETTINGS.map((s) => s.name).join(', ')})`);
if (effName !== null && !SETTINGS.some((s) => s.name === effName))
  usage(`--efficiency: unknown setting '${effName}' (known: ${SETTINGS.map((s) => s.name).join(', ')})`);
if (esName !== null && !SETTINGS.some((s) => s.name === esName))
  usage(`--early-stop: unknown setting '${esName}' (known: ${SETTINGS.map((s) => s.name).join(', ')})`);

interface DriverConfig {
  transfer: {
    settings: string[];
    dataset: { kind: 'mnist-det' | 'shapes'; images: number; size: number; seed: number; valFraction: number };
    dataDir: string;
    preset: 'tiny' | 'cpu-small' | 'r50-paper';
    seeds: number[];
    iters?: number;
    warmupIters?: number;
    inputSize?: number;
  };
  efficiency: { seeds: number[]; budget: number };
  /**
   * More seeds of the winner and the default on the final evaluation's own task (absent: none);
   * `rivals`: per setting, presets of its mode trained there at the final's seeds and these, so that
   * the winner meets them on as many seeds as the default.
   */
  confirm?: { settings: string[]; seeds: number[]; rivals?: Record<string, string[]> };
  /**
   * The check that --early-stop NAME adds to the twin of a setting searched without early stopping
   * (proxy.earlyStop's fields; absent: such a setting cannot be measured).
   */
  earlyStop?: { fraction: number; minRatio: number };
}
function loadDriverConfig(): DriverConfig {
  const file = join(configDir, 'discovery.yaml');
  let raw: Partial<DriverConfig>;
  try {
    raw = YAML.parse(readFileSync(file, 'utf8')) as Partial<DriverConfig>;
  } catch (e) {
    usage(`cannot read ${file}: ${(e as Error).message}`);
  }
  const t = raw?.transfer;
  const ef = raw?.efficiency;
  const bad: string[] = [];
  if (
    !t ||
    !Array.isArray(t.settings) ||
    !t.dataset ||
    typeof t.dataDir !== 'string' ||
    typeof t.preset !== 'string' ||
    !Array.isArray(t.seeds)
  )
    bad.push('transfer: needs settings, dataset, dataDir, preset and seeds');
  if (!ef || !Array.isArray(ef.seeds) || !Number.isInteger(ef.budget) || ef.budget! < 1)
    bad.push('efficiency: needs seeds and an integer budget >= 1');
  const cf = raw?.confirm;
  if (
    cf !== undefined &&
    (!cf ||
      !Array.isArray(cf.settings) ||
      !Array.isArray(cf.seeds) ||
      !cf.seeds.every((x) => Number.isInteger(x) && x >= 0) ||
      new Set(cf.seeds).size !== cf.seeds.length)
  )
    bad.push('confirm: needs settings and seeds (distinct integers >= 0)');
  const rv = cf?.rivals;
  if (
    rv !== undefined &&
    (rv === null ||
      typeof rv !== 'object' ||
      Array.isArray(rv) ||
      !Object.values(rv).every((l) => Array.isArray(l) && l.every((x) => typeof x === 'string') && new Set(l).size === l.length))
  )
    bad.push('confirm.rivals: a mapping of setting names to lists of distinct preset names, e.g. { S1: [bce] }');
  // the search config's own schema for proxy.earlyStop
  if (raw?.earlyStop !== undefined) {
    const es = earlyStopSchema.safeParse(raw.earlyStop);
    if (es.success) raw.earlyStop = es.data;
    else
      bad.push(
        `earlyStop: needs fraction (0 < fraction < 1) and minRatio (>= 0), nothing else, e.g. { fraction: 0.5, minRatio: 0.3 } (${es.error.issues.map((i) => `${i.path.join('.') || 'earlyStop'}: ${i.message}`).join('; ')})`,
      );
  }
  if (bad.length) usage(`invalid ${file}:\n  ${bad.join('\n  ')}`);
  return raw as DriverConfig;
}
const driver = loadDriverConfig();

function settingConfig(s: SettingDef): { file: string; cfg: SearchConfig } | null {
  const file = join(configDir, s.file);
  if (!existsSync(file)) return null;
  try {
    return { file, cfg: loadConfig({ file }) };
  } catch (e) {
    usage((e as Error).message);
  }
}

const pct = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : (100 * x).toFixed(1));
const signed = (x: number) => `${x < 0 ? '−' : '+'}${Math.abs(x).toFixed(1)}`;
const pText = (p: number | null) => (p === null ? '—' : p < 0.001 ? '< 0.001' : p.toFixed(3));
const json = (v: unknown) => `${JSON.stringify(v, null, 1)}\n`;
/**
 * Writes a result file, unless the file already holds the same content but for its `provenance`
 * (the process that wrote it): a collect that changes nothing leaves the files, and their record of
 * the command that produced that content, as they are.
 */
const writeJson = (file: string, v: unknown) => {
  mkdirSync(dirname(file), { recursive: true });
  const body = (x: unknown) => {
    const rest = { ...((x ?? {}) as Record<string, unknown>) };
    delete rest.provenance;
    return stableStringify(rest);
  };
  if (existsSync(file)) {
    try {
      if (body(JSON.parse(readFileSync(file, 'utf8'))) === body(JSON.parse(json(v)))) return;
    } catch {
      // unreadable: written anew
    }
  }
  writeFileSync(file, json(v));
};

// ------------------------------------------------------------------ running a search (the CLI)

/** The journal's status ('running', 'finished') or null when there is no journal. */
function journalStatus(runDir: string): string | null {
  if (!Journal.exists(runDir)) return null;
  const j = Journal.open(runDir, { readonly: true });
  try {
    return j.getMeta('status');
  } finally {
    j.close();
  }
}

let interrupted = false;
let failures = 0;
let trained = 0;

/** Runs `cse-autoloss search` in a child process (its output is shown); resolves its exit code. */
function runCli(configFile: string, runDir: string): Promise<number> {
  const args = ['search', '--config', configFile, '--out', runDir];
  if (Journal.exists(runDir)) args.push('--resume');
  console.log(`  $ cse-autoloss ${args.join(' ')}`);
  mkdirSync(runDir, { recursive: true });
  return runChild(args);
}

/** Runs this checkout's `cse-autoloss ARGS` in a child process (its output is shown); resolves its exit code. */
function runChild(cliArgs: string[]): Promise<number> {
  const args = [join(REPO, 'bin', 'cse-autoloss.js'), ...cliArgs];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'], env: process.env });
  // the child stops after its running evaluations on a signal (resumable)
  // (a terminal's Ctrl-C reaches it already); a SIGTERM sent to this process is passed on
  const onSignal = () => {
    interrupted = true;
  };
  const onTerm = () => {
    interrupted = true;
    child.kill('SIGTERM');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onTerm);
  return new Promise((res) => {
    child.on('exit', (code, signal) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onTerm);
      res(code ?? (signal ? 130 : 1));
    });
  });
}

async function runSearchStep(name: string, configFile: string, runDir: string): Promise<boolean> {
  const status = journalStatus(runDir);
  if (status === 'finished') {
    console.log(`${name}: search finished (${runDir})`);
    return true;
  }
  console.log(`${name}: ${status ? 'resuming' : 'starting'} the search in ${runDir}`);
  trained++;
  const code = await runCli(configFile, runDir);
  if (code === 130 || interrupted) {
    interrupted = true;
    console.log(`${name}: interrupted; run the same command again to resume`);
    return false;
  }
  if (code !== 0) {
    failures++;
    console.log(`${name}: the search exited with code ${code} (see its output above); resumable with the same command`);
    return false;
  }
  return journalStatus(runDir) === 'finished';
}

/**
 * A finished search's run folder (its journal in use, checkpoints) stays out of git: only its copy
 * <name>/journal.sqlite is committed. On a fresh clone the run folder is restored from that copy
 * before anything reads it, so the collect shows the finished search (not "not started"), a
 * driver call does not start it again, and the efficiency runs find the setting's own search.
 * A run folder that has a journal is left as it is. Returns the folders restored.
 */
function restoreRunFolders(): string[] {
  if (!existsSync(discRoot)) return [];
  const restored: string[] = [];
  for (const d of readdirSync(discRoot).sort()) {
    const copy = join(discRoot, d, 'journal.sqlite');
    const runDir = join(discRoot, d, 'run');
    if (!existsSync(copy) || Journal.exists(runDir)) continue;
    mkdirSync(runDir, { recursive: true });
    copyFileSync(copy, join(runDir, 'journal.sqlite'));
    restored.push(runDir);
  }
  return restored;
}

// ------------------------------------------------------------------ collecting a finished search

interface FinalRunFile {
  setting: string;
  loss: string;
  label: string;
  role: string;
  rank: number | null;
  seed: number;
  status: string;
  reason: string | null;
  AP: number | null;
  AP50: number | null;
  seconds: number | null;
  /** libtorch threads of the training (its result is bit-identical only for that count); null when not recorded. */
  threads: number | null;
  /** The search run's own provenance (the code, command and environment that trained it). */
  runProvenance: Provenance | null;
  provenance: Provenance;
}

interface SummaryRow {
  loss: string;
  role: string;
  seeds: number[];
  AP: (number | null)[];
  AP50: (number | null)[];
}
interface SearchEntry {
  name: string;
  dataset: string;
  detector: string;
  mode: Mode;
  winner: string | null;
  proxyEvaluations: number;
  generations: number;
  final: SummaryRow[];
  transfer: (SummaryRow & { dataset: string })[];
  /** The winner and the default over the final's seeds and the confirm seeds (configs/discovery.yaml `confirm`); empty without. */
  confirm: SummaryRow[];
  /** The search's proxy as the proxy study measured it (null: not in the study). */
  proxy?: ProxyInfo | null;
}

/** What the docs need besides the summary (statuses of failed seeds, the report). */
interface Collected {
  name: string;
  configFile: string;
  cfg: SearchConfig;
  status: string | null;
  report: ReportData | null;
  entry: SearchEntry;
  finalStatuses: string[][];
  transferStatuses: string[][];
  /** The machine key of each transfer run, parallel to transferStatuses (runMachine; null: not recorded or not run). */
  transferMachines: (number | null)[][];
  confirmStatuses: string[][];
  /**
   * The winner's first final seed, the thread count its training ran with (the retrain line) and
   * its machine's key (machineKeyOfRecord; null: not recorded).
   */
  winnerRun: { seed: number; threads: number | null; machine: number | null } | null;
  /** A search still in its final evaluation: the runs finished so far (null before it, or when finished). */
  partialFinal: PartialFinal | null;
  /** The machine of each finished final run (machineOfRecord; null: not recorded). */
  finalMachines: (string | null)[];
}

/** The final evaluation of a search that has not finished: its rows so far, 'not run' where a seed is pending. */
interface PartialFinal {
  rows: SummaryRow[];
  statuses: string[][];
  done: number;
  total: number;
}

function datasetName(cfg: SearchConfig): string {
  return cfg.dataset?.kind ?? (cfg.final.task.kind === 'simulated' ? 'simulated' : cfg.final.task.dataDir.split('/').pop()!);
}

/** The name a final row's loss goes by: the preset for the default and the published half. */
function rowLossName(cfg: SearchConfig, r: FinalRow): string {
  if (r.role === 'default') return cfg.defaultLoss ?? DEFAULT_LOSS[cfg.mode];
  if (r.label.startsWith('published (')) return publishedPresetOf(cfg.mode, cfg.final.task.detector);
  return r.loss;
}

function fileSlug(r: FinalRow): string {
  return r.role === 'candidate' ? `rank${r.rank}` : r.role;
}

function collectSearch(s: SettingDef): Collected | null {
  const sc = settingConfig(s);
  if (!sc) return null;
  const { cfg, file } = sc;
  const dir = join(discRoot, s.name);
  const runDir = join(dir, 'run');
  const status = journalStatus(runDir);
  const entry: SearchEntry = {
    name: s.name,
    dataset: datasetName(cfg),
    detector: cfg.final.task.detector,
    mode: cfg.mode,
    winner: null,
    proxyEvaluations: 0,
    generations: 0,
    final: [],
    transfer: [],
    confirm: [],
  };
  const out: Collected = {
    name: s.name,
    configFile: file,
    cfg,
    status,
    report: null,
    entry,
    finalStatuses: [],
    transferStatuses: [],
    transferMachines: [],
    confirmStatuses: [],
    winnerRun: null,
    partialFinal: null,
    finalMachines: [],
  };
  if (status === null) return out;
  const report = status === 'finished' ? writeReport(runDir).data : buildReport(runDir);
  out.report = report;
  // 'running' only while a process owns the run folder; otherwise 'interrupted' (resume it)
  out.status = report.status;
  entry.proxyEvaluations = report.proxyEvaluations;
  entry.generations = report.generations.length;
  // each final run's stored record: its AP50, status, time and machine
  const j = Journal.open(runDir, { readonly: true });
  const results = j.allResults().filter((r) => r.stage === 'final');
  j.close();
  if (status !== 'finished') {
    out.partialFinal = partialFinalOf(cfg, results, report);
    if (out.partialFinal) out.finalMachines = finalMachinesOf(results);
    return out;
  }
  out.finalMachines = finalMachinesOf(results);
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(runDir, 'report.json'), join(dir, 'report.json'));
  copyFileSync(join(runDir, 'report.html'), join(dir, 'report.html'));
  const jFile = join(runDir, 'journal.sqlite');
  const wal = `${jFile}-wal`;
  if (statSync(jFile).size < 20 * 1024 * 1024 && !(existsSync(wal) && statSync(wal).size > 0))
    copyFileSync(jFile, join(dir, 'journal.sqlite'));
  entry.winner = report.verdict?.winner ?? null;
  const ft = cfg.final.task;
  for (const r of report.final ?? []) {
    const rec = cfg.final.seeds.map((seed) => {
      const key = hashOf({ stage: 'final', mode: cfg.mode, seed, config: ft, fp: FINGERPRINT_VERSION });
      return results.find((x) => x.key === key && x.loss === r.loss) ?? null;
    });
    const ap50 = rec.map((x, i) => (r.aps[i] === null ? null : (x?.metrics.ap50 ?? null)));
    const threads = rec.map((x) => (typeof x?.metrics.threads === 'number' ? x.metrics.threads : null));
    entry.final.push({ loss: rowLossName(cfg, r), role: r.role, seeds: [...cfg.final.seeds], AP: [...r.aps], AP50: ap50 });
    out.finalStatuses.push([...r.statuses]);
    if (r.role === 'winner')
      out.winnerRun = {
        seed: cfg.final.seeds[0]!,
        threads: threads[0]!,
        machine: rec[0] ? machineKeyOfRecord(rec[0], loadMachineLines()) : null,
      };
    cfg.final.seeds.forEach((seed, i) => {
      const f: FinalRunFile = {
        setting: s.name,
        loss: r.loss,
        label: r.label,
        role: r.role,
        rank: r.rank,
        seed,
        status: r.statuses[i]!,
        reason: rec[i]?.reason ?? null,
        AP: r.aps[i] ?? null,
        AP50: ap50[i] ?? null,
        seconds: rec[i]?.seconds ?? null,
        threads: threads[i]!,
        runProvenance: report.provenance,
        provenance: provenance(),
      };
      writeJson(join(dir, 'final', `${fileSlug(r)}-seed${seed}.json`), f);
    });
  }
  return out;
}

let machineLines: MachineLine[] | null = null;

/**
 * The machine of each of a search's final runs (its journal's final records) that finished ok: the key the record
 * carries, else the machine results/discovery/machines.jsonl recorded at the last start of the
 * long runs before the run finished (scripts/environment.ts machineOfRecord).
 */
function finalMachinesOf(results: readonly StoredResult[]): (string | null)[] {
  const lines = loadMachineLines();
  return results.filter((r) => r.status === 'ok').map((r) => machineOfRecord(r, lines));
}

/** results/discovery/machines.jsonl's lines (read once; unreadable ones left out, and said). */
function loadMachineLines(): MachineLine[] {
  if (machineLines === null) {
    const f = join(discRoot, 'machines.jsonl');
    const parsed = existsSync(f) ? parseMachineLines(readFileSync(f, 'utf8')) : { lines: [], skipped: 0 };
    if (parsed.skipped) console.log(`${f}: ${parsed.skipped} unreadable line(s) left out`);
    machineLines = parsed.lines;
  }
  return machineLines;
}

/**
 * The final evaluation's runs so far, from the journal's stored final records, for a search whose
 * proxy stage is done: the rows the final evaluation trains (src/search/final.ts: the default, the
 * published half, the top of the hall of fame, one row per fingerprint), each seed's AP or 'not run'.
 * Null before the proxy stage ends or when the search has no final evaluation.
 */
function partialFinalOf(cfg: SearchConfig, results: readonly StoredResult[], report: ReportData): PartialFinal | null {
  if (!cfg.final.enabled || report.generations.length < cfg.evolution.generations) return null;
  const mode = cfg.mode;
  const defName = cfg.defaultLoss ?? DEFAULT_LOSS[mode];
  const defExpr = parseDefault(mode, defName);
  // the final evaluation's own list (src/search/final.ts); a preset shown by its name, the role as its label without the name
  const rows = finalEntries(
    cfg,
    mode,
    { text: printOfficial(defExpr), name: defName, fp: candidateFingerprint(cfg, mode, defExpr) },
    report.hallOfFame,
  ).map((e) => ({ fp: e.fp, loss: e.name ?? e.loss, role: e.role === 'candidate' ? e.label : e.label.replace(/^(\w+) \([^)]*\)/, '$1') }));
  const ft = cfg.final.task;
  const keys = cfg.final.seeds.map((seed) => hashOf({ stage: 'final', mode, seed, config: ft, fp: FINGERPRINT_VERSION }));
  let done = 0;
  const out: PartialFinal = { rows: [], statuses: [], done: 0, total: rows.length * keys.length };
  for (const r of rows) {
    const recs = keys.map((k) => results.find((x) => x.key === k && x.fingerprint === r.fp) ?? null);
    done += recs.filter((x) => x !== null).length;
    out.rows.push({
      loss: r.loss,
      role: r.role,
      seeds: [...cfg.final.seeds],
      AP: recs.map((x) => (x?.status === 'ok' ? (x.score ?? null) : null)),
      AP50: recs.map((x) => (x?.status === 'ok' && typeof x.metrics.ap50 === 'number' ? x.metrics.ap50 : null)),
    });
    out.statuses.push(recs.map((x) => x?.status ?? 'not run'));
  }
  out.done = done;
  return out;
}

// ------------------------------------------------------------------ transfer

interface TransferJob {
  setting: string;
  role: 'winner' | 'default';
  loss: string;
  mode: Mode;
  detector: 'fcos' | 'faster-rcnn';
  seed: number;
  out: string;
}

function transferJobs(c: Collected): TransferJob[] {
  if (!driver.transfer.settings.includes(c.name) || c.status !== 'finished' || !c.entry.winner) return [];
  const def = c.cfg.defaultLoss ?? DEFAULT_LOSS[c.cfg.mode];
  const jobs: TransferJob[] = [];
  for (const seed of driver.transfer.seeds)
    for (const [role, loss] of [
      ['winner', c.entry.winner],
      ['default', def],
    ] as const)
      jobs.push({
        setting: c.name,
        role,
        loss,
        mode: c.cfg.mode,
        detector: c.cfg.final.task.detector,
        seed,
        out: join(discRoot, c.name, 'transfer', role, `seed${seed}`),
      });
  return jobs;
}

type RunMetrics = { status: string; metrics: Record<string, number> | null; iters?: number };
function recorded(out: string): RunMetrics | null {
  const f = join(out, 'metrics.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as RunMetrics) : null;
}
const finishedRun = (out: string) => {
  const m = recorded(out);
  return m && (m.status === 'ok' || m.status === 'diverged') ? m : null;
};

/** One detector training of the driver (transfer, confirm): its line in the log, folder and config. */
interface TrainJob {
  label: string;
  out: string;
  config: TrainConfigInput;
}

/**
 * Trainings one at a time in this process (trainDetector): a finished one (metrics.json ok or
 * diverged) is kept, one stopped midway goes on from its checkpoint, Ctrl-C stops after the current
 * iteration (resumable). `prepare` runs first when any is left (make a dataset, check the
 * environment); its error stops the list (the same for every run of it), the results so far kept.
 */
async function runTrainings(kind: string, jobs: TrainJob[], prepare: () => Promise<void>): Promise<void> {
  const todo = jobs.filter((j) => !finishedRun(j.out));
  if (!todo.length) return;
  const [{ useTorchBackend }, { trainDetector }] = await Promise.all([import('../src/backend/index.js'), import('../src/detect/index.js')]);
  await useTorchBackend();
  try {
    await prepare();
  } catch (e) {
    failures++;
    console.log(`[${kind}] error: ${(e as Error).message}`);
    return;
  }
  const ac = new AbortController();
  const onSignal = () => {
    if (ac.signal.aborted) process.exit(130);
    interrupted = true;
    ac.abort();
    console.log('\ninterrupted: stopping after this iteration (a checkpoint is saved; run the same command again to resume)');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    let n = 0;
    for (const j of todo) {
      if (interrupted) break;
      n++;
      console.log(`[${kind} ${n}/${todo.length}] ${j.label}`);
      trained++;
      mkdirSync(j.out, { recursive: true });
      let r: Awaited<ReturnType<typeof trainDetector>>;
      try {
        r = await trainDetector(
          { ...j.config, out: j.out, resume: existsSync(join(j.out, 'config.json')) },
          {
            interrupt: ac.signal,
            onNotice: (m) => console.log(`    ${m}`),
            onProgress: tenthsProgress(),
          },
        );
      } catch (e) {
        // a bad dataset or config: the same for every run of this list; the results so far are kept
        failures++;
        console.log(`  -> error: ${(e as Error).message}`);
        return;
      }
      writeJson(join(j.out, 'provenance.json'), provenance());
      console.log(`  -> ${r.status} AP ${pct(r.metrics?.AP)} AP50 ${pct(r.metrics?.AP50)} (${(r.seconds / 60).toFixed(1)} min)`);
      if (r.status === 'failed') failures++;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** --retrain: the retrain check of a finished search, or why there is none. */
interface RetrainJob {
  setting: string;
  seed: number;
  /** The docs' command, with --out into the results (retrain/winner-seed<k>). */
  args: string[];
  out: string;
}

function retrainJob(c: Collected): RetrainJob | string {
  if (c.status !== 'finished' || !c.entry.winner) return `${c.name}: the search has not finished (no winner yet); nothing to retrain`;
  const run = c.winnerRun;
  if (!run) return `${c.name}: no final run of the winner; nothing to retrain`;
  if (run.threads === null) return `${c.name}: the winner's final run recorded no thread count; its command cannot be repeated`;
  const out = join(discRoot, c.name, 'retrain', `winner-seed${run.seed}`);
  const args = retrainArgs(c.cfg, c.entry.winner, run.seed, run.threads, out);
  if (!args) return `${c.name}: the final task is no detector; nothing to retrain`;
  return { setting: c.name, seed: run.seed, args, out };
}

/** Whether a COCO dataset folder holds both splits' annotations. */
const datasetThere = (dir: string) =>
  existsSync(join(dir, 'train', 'annotations.json')) && existsSync(join(dir, 'val', 'annotations.json'));

/**
 * The `cse-autoloss data make` command that makes a search's final-task dataset (its config's
 * `dataset`, made by the search on first use); null without one or for a task that is no detector.
 */
function datasetArgs(cfg: SearchConfig): string[] | null {
  const d = cfg.dataset;
  const t = cfg.final.task;
  if (!d || t.kind !== 'detector') return null;
  return [
    'data',
    'make',
    '--kind',
    d.kind,
    '--images',
    String(d.images),
    '--size',
    String(d.size),
    '--seed',
    String(d.seed),
    '--val-fraction',
    String(d.valFraction),
    '--out',
    t.dataDir,
  ];
}

/**
 * --retrain: the retrain command docs/DISCOVERY.md prints for each finished search (the winner's
 * first final seed, the final's task and thread count), run for real with this checkout's CLI, its
 * run folder in <root>/discovery/<name>/retrain/winner-seed<k> (git keeps its metrics.json and
 * config.json); the docs then compare its AP with the final's to the last bit (retrainCheck). A
 * finished run is not trained again; one stopped midway goes on from its checkpoint (--resume).
 */
async function runRetrain(c: Collected): Promise<void> {
  const j = retrainJob(c);
  if (typeof j === 'string') {
    console.log(`retrain ${j}`);
    return;
  }
  if (finishedRun(j.out)) {
    console.log(`retrain ${j.setting}: done (${shownPath(join(j.out, 'metrics.json'))})`);
    return;
  }
  // its dataset first, as the search made it on first use (a fresh clone has none)
  const ft = c.cfg.final.task;
  const data = datasetArgs(c.cfg);
  if (ft.kind === 'detector' && data && !datasetThere(ft.dataDir)) {
    console.log(`retrain ${j.setting}: its dataset first, as docs/DISCOVERY.md prints it`);
    console.log(`  $ cse-autoloss ${shellLine(data)}`);
    const code = await runChild(data);
    if (code !== 0) {
      failures++;
      console.log(`retrain ${j.setting}: \`cse-autoloss data make\` exited with code ${code} (see its output above)`);
      return;
    }
  }
  const args = existsSync(join(j.out, 'config.json')) ? [...j.args, '--resume'] : j.args;
  console.log(`retrain ${j.setting}: the winner's seed-${j.seed} run again, as docs/DISCOVERY.md prints it (--out into the results)`);
  console.log(`  $ cse-autoloss ${shellLine(args)}`);
  mkdirSync(j.out, { recursive: true });
  trained++;
  const code = await runChild(args);
  if (code === 130 || interrupted) {
    interrupted = true;
    console.log(`retrain ${j.setting}: interrupted; run the same command again to resume`);
  } else if (code !== 0) {
    failures++;
    console.log(`retrain ${j.setting}: \`cse-autoloss train\` exited with code ${code} (see its output above)`);
  }
}

async function runTransfer(jobs: TransferJob[]): Promise<void> {
  const t = driver.transfer;
  const train: TrainJob[] = jobs.map((j) => ({
    label: `${j.setting} ${j.role} on ${t.dataset.kind} (${j.detector}) seed ${j.seed}: ${j.loss}`,
    out: j.out,
    config: {
      detector: j.detector,
      data: t.dataDir,
      preset: t.preset,
      seed: j.seed,
      ...(j.mode === 'reg' ? { regLoss: j.loss } : { clsLoss: j.loss }),
      ...(t.iters !== undefined ? { iters: t.iters } : {}),
      ...(t.warmupIters !== undefined ? { warmupIters: t.warmupIters } : {}),
      ...(t.inputSize !== undefined ? { inputSize: t.inputSize } : {}),
    },
  }));
  await runTrainings('transfer', train, async () => {
    if (!datasetThere(t.dataDir)) {
      const d = t.dataset;
      console.log(`making the ${d.kind} dataset (${d.images} images, ${d.size} px, seed ${d.seed}) in ${t.dataDir} (transfer)`);
      const { makeDataset } = await import('../src/data/index.js');
      await makeDataset(d.kind, { images: d.images, size: d.size, seed: d.seed, valFraction: d.valFraction, out: t.dataDir });
    }
  });
}

// ------------------------------------------------------------------ confirm: more seeds of the winner and the default

interface ConfirmJob {
  setting: string;
  role: 'winner' | 'default' | 'rival';
  loss: string;
  seed: number;
  out: string;
}

/**
 * configs/discovery.yaml `confirm`: the winner and the default of a finished search trained at more
 * seeds on the final evaluation's own task (detector, data, schedule, val split, the other half at its
 * default), so that their comparison rests on more seeds than the final's. None for a search that has
 * not finished, has no winner or a final task that is not a detector.
 */
function confirmJobs(c: Collected): ConfirmJob[] {
  const cf = driver.confirm;
  if (!cf || !cf.settings.includes(c.name) || c.status !== 'finished' || !c.entry.winner) return [];
  if (c.cfg.final.task.kind !== 'detector') return [];
  const def = c.cfg.defaultLoss ?? DEFAULT_LOSS[c.cfg.mode];
  const jobs: ConfirmJob[] = [];
  for (const seed of cf.seeds)
    for (const [role, loss] of [
      ['winner', c.entry.winner],
      ['default', def],
    ] as const)
      jobs.push({ setting: c.name, role, loss, seed, out: join(discRoot, c.name, 'confirm', role, `seed${seed}`) });
  // the rivals after them: at the final's seeds too (the final evaluation did not train them)
  for (const name of rivalsOf(c.name))
    for (const seed of [...c.cfg.final.seeds, ...cf.seeds])
      jobs.push({
        setting: c.name,
        role: 'rival',
        loss: name,
        seed,
        out: join(discRoot, c.name, 'confirm', `rival-${name}`, `seed${seed}`),
      });
  return jobs;
}

/** A rival that is not a preset (or expression) of the setting's mode: refused before anything runs. */
function checkConfirmRivals(s: SettingDef): void {
  const sc = settingConfig(s);
  const names = rivalsOf(s.name);
  if (!sc || !names.length) return;
  for (const name of names)
    try {
      parseDefault(sc.cfg.mode, name);
    } catch (e) {
      usage(`${join(configDir, 'discovery.yaml')}: confirm.rivals.${s.name}: ${(e as Error).message.replace(/^defaultLoss /, '')}`);
    }
}

/** A confirm seed that is one of the setting's final seeds would count one training twice: refused. */
function checkConfirmSeeds(s: SettingDef): void {
  const cf = driver.confirm;
  const sc = settingConfig(s);
  if (!cf || !sc || !cf.settings.includes(s.name)) return;
  const both = cf.seeds.filter((x) => sc.cfg.final.seeds.includes(x));
  if (both.length)
    usage(
      `${join(configDir, 'discovery.yaml')}: confirm.seeds ${both.join(', ')} ${both.length === 1 ? 'is' : 'are'} among ${s.name}'s final seeds (${sc.cfg.final.seeds.join(', ')}); confirm adds other seeds`,
    );
}

/** The trainings of the confirm jobs, checked first against the final evaluation's environment (CPU, libraries, threads). */
async function runConfirm(c: Collected, jobs: ConfirmJob[]): Promise<void> {
  const t = c.cfg.final.task;
  if (t.kind !== 'detector') return;
  const train: TrainJob[] = jobs.map((j) => ({
    label: `${j.setting} ${j.role === 'rival' ? `rival ${j.loss}` : j.role} on the final task (${t.detector}, ${t.preset}, ${t.iters} iterations) seed ${j.seed}: ${j.loss}`,
    out: j.out,
    config: {
      detector: t.detector,
      data: t.dataDir,
      preset: t.preset,
      iters: t.iters,
      batch: t.batch,
      lr: t.lr,
      ...(t.inputSize ? { inputSize: t.inputSize } : {}),
      ...(t.warmupIters !== undefined ? { warmupIters: t.warmupIters } : {}),
      ...proxySplit(null, t, 'val'),
      seed: j.seed,
      ...(c.cfg.mode === 'reg' ? { regLoss: j.loss } : { clsLoss: j.loss }),
    },
  }));
  await runTrainings('confirm', train, async () => {
    // compared with the final's seeds: the same machine, libraries and thread count, or nothing is trained
    const here = provenance().env;
    const diffs = c.report?.provenance ? envDiffs(here, c.report.provenance.env) : ['the search recorded no environment'];
    const threads = c.winnerRun?.threads ?? null;
    if (threads !== null && threads !== here.threads)
      diffs.push(`${here.threads} threads here, ${threads} in the final evaluation (set CSE_THREADS=${threads})`);
    if (diffs.length)
      throw new Error(`${c.name}: more seeds are comparable with the final evaluation's only in its environment: ${diffs.join('; ')}`);
  });
}

/** The winner's and the default's rows over the final's seeds and the confirm seeds (a seed not trained yet: 'not run'). */
/** A row of runs (their metrics.json under each job's folder; one not trained yet: 'not run') and their statuses. */
function runsRow(loss: string, role: string, jobs: { seed: number; out: string }[]): { row: SummaryRow; statuses: string[] } {
  const ms = jobs.map((j) => recorded(j.out));
  const ap = (m: RunMetrics | null, k: 'AP' | 'AP50') => (m?.status === 'ok' ? (m.metrics?.[k] ?? null) : null);
  return {
    row: { loss, role, seeds: jobs.map((j) => j.seed), AP: ms.map((m) => ap(m, 'AP')), AP50: ms.map((m) => ap(m, 'AP50')) },
    statuses: ms.map((m) => m?.status ?? 'not run'),
  };
}

function collectConfirm(c: Collected): void {
  const jobs = confirmJobs(c);
  if (!jobs.length) return;
  for (const role of ['winner', 'default'] as const) {
    const fin = c.entry.final.find((r) => r.role === role);
    const st = c.finalStatuses[c.entry.final.findIndex((r) => r.role === role)];
    if (!fin || !st) continue;
    // the final's seeds, then the confirm seeds
    const { row, statuses } = runsRow(
      fin.loss,
      role,
      jobs.filter((j) => j.role === role),
    );
    c.entry.confirm.push({
      ...row,
      seeds: [...fin.seeds, ...row.seeds],
      AP: [...fin.AP, ...row.AP],
      AP50: [...fin.AP50, ...row.AP50],
    });
    c.confirmStatuses.push([...st, ...statuses]);
  }
  for (const name of [...new Set(jobs.filter((j) => j.role === 'rival').map((j) => j.loss))]) {
    const { row, statuses } = runsRow(
      name,
      'rival',
      jobs.filter((j) => j.role === 'rival' && j.loss === name),
    );
    c.entry.confirm.push(row);
    c.confirmStatuses.push(statuses);
  }
}

function collectTransfer(c: Collected): void {
  const jobs = transferJobs(c);
  for (const role of ['winner', 'default'] as const) {
    const mine = jobs.filter((j) => j.role === role);
    if (!mine.length) continue;
    const { row, statuses } = runsRow(mine[0]!.loss, role, mine);
    c.entry.transfer.push({ loss: row.loss, role, dataset: driver.transfer.dataset.kind, seeds: row.seeds, AP: row.AP, AP50: row.AP50 });
    c.transferStatuses.push(statuses);
    c.transferMachines.push(mine.map((j) => runMachine(j.out)));
  }
}

/** The machine a driver training (transfer, confirm) ran on, as a key (fileMachineKey of its metrics.json; null: not run or not recorded). */
function runMachine(out: string): number | null {
  const f = join(out, 'metrics.json');
  return existsSync(f) ? fileMachineKey(f, loadMachineLines(), REPO) : null;
}

// ------------------------------------------------------------------ efficiency (item 4)

interface EffRun {
  seed: number;
  status: string;
  proxyEvaluations: number;
  generations: number;
  wallSeconds: number;
  defaultFitness: number | null;
  /** The hall of fame's top proxy fitness at the run's end (its counted generations); null: nothing proxied. */
  bestFitness: number | null;
  /** Proxy evaluations and wall time until a candidate first reached the default's proxy fitness; null: never. */
  reachedDefault: { proxyEvaluations: number; seconds: number; gen: number; loss: string } | null;
  /** The run ended in the generation that reached the default (evolution.stopAtDefault). */
  stoppedAtDefault?: true;
  /** Set when the run is the first generations of the setting's own search (same config and seed): its run folder. */
  from?: string;
  /** With from: the commits that search's sessions ran. */
  fromCommits?: string[];
  /**
   * The machines its proxy trainings ran on (effMachines: keys as 12 hex digits, each record's own
   * or machines.jsonl's at the time it finished) and how many records name none.
   */
  machines?: { keys: string[]; unrecorded: number };
}
interface EffSide {
  runs: number;
  reached: number;
  medianEvaluations: number | null;
  rangeEvaluations: [number, number] | null;
  medianSeconds: number | null;
  rangeSeconds: [number, number] | null;
}
interface Efficiency {
  setting: string;
  budget: number;
  cse: EffRun[];
  vanilla: EffRun[];
  stats: {
    cse: EffSide;
    vanilla: EffSide;
    /** vanilla median / cse median (evaluations, seconds); null when a cse run never reached the default. */
    evaluationRatio: number | null;
    timeRatio: number | null;
    /** The ratio is a lower bound: some vanilla run never reached the default (counted at its whole budget and time). */
    ratioIsLowerBound: boolean;
  };
  provenance: Provenance;
}

const STRATEGIES = ['cse', 'vanilla'] as const;
const effDir = (setting: string, strategy: string, seed: number) => join(discRoot, 'efficiency', setting, `${strategy}-seed${seed}`);

function effConfig(s: SettingDef, strategy: string, seed: number): { file: string; generations: number } {
  const sc = settingConfig(s);
  if (!sc) usage(`--efficiency ${s.name}: ${join(configDir, s.file)} does not exist`);
  const raw = YAML.parse(readFileSync(sc.file, 'utf8')) as Record<string, unknown>;
  const generations = Math.ceil(driver.efficiency.budget / sc.cfg.proxy.topK);
  const cfg = {
    ...raw,
    strategy,
    seed,
    // what is measured ends when a candidate first reaches the default: the run stops there
    evolution: { ...(raw.evolution as object), generations, stopAtDefault: true },
    final: { ...(raw.final as object), enabled: false },
  };
  const dir = effDir(s.name, strategy, seed);
  const file = join(dir, 'config.yaml');
  mkdirSync(dir, { recursive: true });
  const text = `# written by scripts/results-discovery.ts --efficiency ${s.name} from ${sc.file}: strategy ${strategy}, seed ${seed}, final disabled, generations = ceil(budget ${driver.efficiency.budget} / topK ${sc.cfg.proxy.topK}), stopping once the default is reached\n${YAML.stringify(cfg)}`;
  if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeFileSync(file, text);
  return { file, generations };
}

/**
 * An efficiency run from a search's report: the whole run, or (generations = G) its first G
 * generations, as a run of G generations would have gone.
 */
function effRunOf(r: ReportData, seed: number, prefix: { generations: number; elapsedMs: number } | null): EffRun {
  const generations = prefix?.generations ?? null;
  const gens = generations === null ? r.generations : r.generations.slice(0, generations);
  const last = gens[gens.length - 1];
  const reached = r.reachedDefault && (generations === null || r.reachedDefault.gen < generations) ? r.reachedDefault : null;
  return {
    seed,
    status: 'finished',
    proxyEvaluations: generations === null ? r.proxyEvaluations : (last?.proxyTotal ?? 0),
    generations: gens.length,
    wallSeconds: (prefix?.elapsedMs ?? r.elapsedMs) / 1000,
    defaultFitness: r.default?.fitness ?? null,
    bestFitness: last?.bestEverFitness ?? null,
    reachedDefault: reached
      ? { proxyEvaluations: reached.proxyEvaluations, seconds: reached.elapsedMs / 1000, gen: reached.gen, loss: reached.loss }
      : null,
    ...(generations === null && r.reachedDefault?.stoppedThere ? { stoppedAtDefault: true as const } : {}),
  };
}

/**
 * The efficiency run that setting s's own search already is: when its journal was made with this
 * strategy and seed and a config equal to the efficiency run's in every field but
 * evolution.generations and final (pool and time limits included), and with at least G
 * generations configured, its first G generations are that run (a search's first generations do
 * not depend on how many follow, nor on final: test/search/evolution.test.ts), so it is not
 * trained twice. ready: the search has those G generations; have: how many it has; commits: the
 * commits its sessions ran (the efficiency runs may run later code). Null when the setting's
 * search is another run (no journal, another strategy, seed or config, fewer generations).
 */
function mainSearchPrefix(
  s: SettingDef,
  strategy: string,
  seed: number,
): { runDir: string; generations: number; elapsedMs: number; ready: boolean; have: number; commits: string[] } | null {
  const runDir = join(discRoot, s.name, 'run');
  if (!Journal.exists(runDir)) return null;
  const sc = settingConfig(s);
  if (!sc) return null;
  const generations = Math.ceil(driver.efficiency.budget / sc.cfg.proxy.topK);
  const j = Journal.open(runDir, { readonly: true });
  try {
    const c = JSON.parse(j.getMeta('config') ?? 'null') as SearchConfig | null;
    if (!c || c.strategy !== strategy || c.seed !== seed || c.evolution.generations < generations) return null;
    const eff = loadConfig({ file: sc.file, overrides: { strategy, seed, 'evolution.generations': generations, 'final.enabled': false } });
    // every field, the pool and the time limits included (configDiff leaves those out: they do not
    // change a result's key, but they change the wall time and which candidates time out)
    const comparable = (x: SearchConfig) => {
      const o = structuredClone(x) as unknown as { evolution: Record<string, unknown>; final?: unknown };
      delete o.evolution.generations;
      delete o.evolution.stopAtDefault; // a run that stops is the same as the one that goes on, up to its stop
      delete o.final;
      return stableStringify(o);
    };
    if (comparable(c) !== comparable(eff)) return null;
    const sessions = JSON.parse(j.getMeta('sessions') ?? '[]') as RunSession[];
    const start = JSON.parse(j.getMeta('provenance') ?? 'null') as Provenance | null;
    const commits = [...new Set([start?.commit, ...sessions.map((x) => x.provenance?.commit)].filter((x): x is string => !!x))];
    const last = j.generation(generations - 1);
    return { runDir, generations, elapsedMs: last?.elapsedMs ?? 0, ready: last !== null, have: j.generations().length, commits };
  } finally {
    j.close();
  }
}

/**
 * mainSearchPrefix, when that is this machine's run: the search's first generations are an
 * efficiency run only when their proxy trainings (the default's and the candidates') ran on this
 * machine (mainArmHere's rule), because the runs' wall times and bit-identical fitnesses must come
 * from one machine. Otherwise (trained on another machine, or before trainings recorded theirs,
 * with that search's resumes and any load beside it in its wall time) null: the run trains on its
 * own here, as every other efficiency run does (`plan`: the line indented as --plan's).
 */
function prefixHere(s: SettingDef, strategy: string, seed: number, plan: boolean): ReturnType<typeof mainSearchPrefix> {
  const main = mainSearchPrefix(s, strategy, seed);
  if (!main) return null;
  const arm = mainArmHere(s, main.generations);
  if (arm.here) return main;
  console.log(
    `${plan ? '  ' : ''}efficiency ${s.name} ${strategy} seed ${seed}: the first ${main.generations} generations of ${main.runDir} (the setting's own search) are not this machine's run (${arm.why}); it trains on its own here`,
  );
  return null;
}

/**
 * The machines of a run's proxy trainings (the default's baseline and its candidates' in the first
 * `generations`, all when null), as 12 hex digits: each record's key, else the key
 * results/discovery/machines.jsonl recorded at the last start before it finished.
 */
function effMachines(runDir: string, generations: number | null): { keys: string[]; unrecorded: number } {
  const m = armMachines(readRun(runDir, loadMachineLines()), generations ?? Infinity);
  return { keys: m.keys.map(machineKeyText), unrecorded: m.unrecorded };
}

function sideStats(runs: EffRun[]): EffSide {
  const reached = runs.filter((r) => r.reachedDefault);
  // a run that never reached the default counts at its whole budget and time (a lower bound)
  const evals = runs.map((r) => r.reachedDefault?.proxyEvaluations ?? r.proxyEvaluations);
  const secs = runs.map((r) => r.reachedDefault?.seconds ?? r.wallSeconds);
  const range = (a: number[]): [number, number] | null => (a.length ? [Math.min(...a), Math.max(...a)] : null);
  return {
    runs: runs.length,
    reached: reached.length,
    medianEvaluations: evals.length ? median(evals) : null,
    rangeEvaluations: range(evals),
    medianSeconds: secs.length ? median(secs) : null,
    rangeSeconds: range(secs),
  };
}

function collectEfficiency(): Efficiency | null {
  const base = join(discRoot, 'efficiency');
  // --efficiency NAME collects even before its folder exists: a run may be the setting's own search (mainSearchPrefix)
  if (!effName && !existsSync(base)) return null;
  const setting =
    effName ??
    readdirSync(base)
      .filter((d) => SETTINGS.some((s) => s.name === d))
      .sort()[0];
  if (!setting) return null;
  const sides: Record<string, EffRun[]> = { cse: [], vanilla: [] };
  const def = SETTINGS.find((s) => s.name === setting)!;
  for (const strategy of STRATEGIES)
    for (const seed of driver.efficiency.seeds) {
      const runDir = join(effDir(setting, strategy, seed), 'run');
      const status = journalStatus(runDir);
      // its own run folder, when there is one (the driver resumes it), else the setting's search's first generations
      if (status !== null) {
        if (status === 'finished')
          sides[strategy]!.push({ ...effRunOf(buildReport(runDir), seed, null), machines: effMachines(runDir, null) });
        continue;
      }
      const main = mainSearchPrefix(def, strategy, seed);
      if (main?.ready)
        sides[strategy]!.push({
          ...effRunOf(buildReport(main.runDir), seed, main),
          from: main.runDir,
          fromCommits: main.commits,
          machines: effMachines(main.runDir, main.generations),
        });
    }
  const cse = sideStats(sides.cse!);
  const vanilla = sideStats(sides.vanilla!);
  const cseDetermined = cse.runs > 0 && cse.reached === cse.runs;
  const e: Efficiency = {
    setting,
    budget: driver.efficiency.budget,
    cse: sides.cse!,
    vanilla: sides.vanilla!,
    stats: {
      cse,
      vanilla,
      evaluationRatio: cseDetermined && vanilla.runs ? vanilla.medianEvaluations! / cse.medianEvaluations! : null,
      timeRatio: cseDetermined && vanilla.runs && cse.medianSeconds! > 0 ? vanilla.medianSeconds! / cse.medianSeconds! : null,
      ratioIsLowerBound: vanilla.reached < vanilla.runs,
    },
    provenance: provenance(),
  };
  writeJson(join(base, `${setting}.json`), e);
  return e;
}

// ------------------------------------------------------------------ multi-fidelity (item 5)

/**
 * The twin's run folder: `<NAME>-no-early-stop` when the main search stops early (the twin does
 * not), `<NAME>-early-stop` when it does not (the twin does, with configs/discovery.yaml's earlyStop).
 */
const esDir = (setting: string, twinStops: boolean) => join(discRoot, `${setting}-${twinStops ? 'early-stop' : 'no-early-stop'}`);

/** Whether setting s's twin stops early: its own config does not (null: no config). */
function twinStopsOf(s: SettingDef): boolean | null {
  const sc = settingConfig(s);
  return sc ? !sc.cfg.proxy.earlyStop : null;
}

/** Generations a run's journal has finished (0: none or no journal). */
function generationsDone(runDir: string): number {
  if (!Journal.exists(runDir)) return 0;
  const j = Journal.open(runDir, { readonly: true });
  try {
    return j.generations().length;
  } finally {
    j.close();
  }
}

/** The config a run's journal was made with (null: no journal). */
function journalConfig(runDir: string): SearchConfig | null {
  if (!Journal.exists(runDir)) return null;
  const j = Journal.open(runDir, { readonly: true });
  try {
    return JSON.parse(j.getMeta('config') ?? 'null') as SearchConfig | null;
  } finally {
    j.close();
  }
}

/** The generations a run's journal was configured with (null: no journal). */
function journalGenerations(runDir: string): number | null {
  return journalConfig(runDir)?.evolution.generations ?? null;
}

/**
 * A twin of setting s's main search: its config, same seed, evolution.generations = n, final
 * disabled, and proxy.earlyStop set (`stops`: the main search's own, else configs/discovery.yaml's
 * earlyStop) or removed. The default twin is the one the main search is not (it is the other arm of
 * the comparison); the main search's own kind of twin is run too when the main search's proxy
 * trainings were not on this machine (mainArmHere). Refuses a setting with nothing to compare and
 * a run folder made for another n or another check. Returns the twin's config file.
 */
function esConfig(s: SettingDef, n: number, stops?: boolean): string {
  const sc = settingConfig(s);
  if (!sc) usage(`--early-stop ${s.name}: ${join(configDir, s.file)} does not exist`);
  const mainEs = sc.cfg.proxy.earlyStop;
  const check = mainEs ?? driver.earlyStop ?? null;
  if (!check)
    usage(
      `--early-stop ${s.name}: ${sc.file} has no proxy.earlyStop and ${join(configDir, 'discovery.yaml')} no earlyStop to add, so there is nothing to compare`,
    );
  const twinStops = stops ?? !mainEs;
  const added = twinStops && !mainEs ? check : null;
  const dir = esDir(s.name, twinStops);
  const have = journalConfig(join(dir, 'run'));
  if (have && have.evolution.generations !== n)
    usage(
      `--early-stop ${s.name}: ${join(dir, 'run')} was run with ${have.evolution.generations} generations, not ${n}; use --generations ${have.evolution.generations}, or remove that folder to measure ${n}`,
    );
  if (have && added && stableStringify(have.proxy.earlyStop ?? null) !== stableStringify(added))
    usage(
      `--early-stop ${s.name}: ${join(dir, 'run')} was run with proxy.earlyStop ${stableStringify(have.proxy.earlyStop ?? null)}, not ${stableStringify(added)} (configs/discovery.yaml earlyStop); set that back, or remove that folder to measure this one`,
    );
  const raw = YAML.parse(readFileSync(sc.file, 'utf8')) as Record<string, unknown>;
  const proxy = { ...(raw.proxy as Record<string, unknown>) };
  if (added) proxy.earlyStop = { fraction: added.fraction, minRatio: added.minRatio };
  else if (!twinStops) delete proxy.earlyStop;
  const cfg = {
    ...raw,
    proxy,
    evolution: { ...(raw.evolution as object), generations: n },
    final: { ...(raw.final as object), enabled: false },
  };
  const file = join(dir, 'config.yaml');
  mkdirSync(dir, { recursive: true });
  const what = added
    ? `proxy.earlyStop { fraction: ${added.fraction}, minRatio: ${added.minRatio} } added (${join(configDir, 'discovery.yaml')} earlyStop)`
    : twinStops
      ? 'proxy.earlyStop kept'
      : mainEs
        ? 'proxy.earlyStop removed'
        : 'no proxy.earlyStop, as in the main search';
  const text = `# written by scripts/results-discovery.ts --early-stop ${s.name} from ${sc.file}: ${what}, generations ${n}, final disabled\n${YAML.stringify(cfg)}`;
  if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeFileSync(file, text);
  try {
    loadConfig({ file });
  } catch (e) {
    usage(`--early-stop ${s.name}: the twin's config ${file} is not valid: ${(e as Error).message}`);
  }
  return file;
}

/** This machine's key (null: it cannot be identified). */
function hereKey(): number | null {
  const id = machineId();
  return id === null ? null : machineKey(id);
}

/** Whether every proxy training counted in m recorded this machine (`here`). */
const onlyOn = (m: { keys: number[]; unrecorded: number }, here: number | null) =>
  here !== null && !m.unrecorded && m.keys.every((k) => k === here);

/** The machines counted in m, as the messages name them. */
const seenText = (m: { keys: number[]; unrecorded: number }) =>
  [...m.keys.map((k) => machineKeyText(k)), ...(m.unrecorded ? [`${m.unrecorded} without a recorded machine`] : [])].join(', ');

/** Moves a run's folder under <root>/discovery/ to <root>/discovery/set-aside/ (named by its path and the time); returns where. */
function setAside(dir: string): string {
  const to = join(
    discRoot,
    'set-aside',
    `${relative(discRoot, dir).replace(/[/\\]/g, '-')}-${new Date().toISOString().replace(/[:.]/g, '-')}`,
  );
  mkdirSync(dirname(to), { recursive: true });
  renameSync(dir, to);
  return to;
}

/**
 * Whether the main search's first n generations can be one arm of the comparison: no proxy training
 * of theirs recorded another machine's key, and, for a detector proxy (bit-identical on one machine
 * only), every one recorded this machine's. Else the other arm could differ by machine alone, so the
 * main search's own kind of twin trains here as well. `why` says which.
 */
function mainArmHere(s: SettingDef, n: number): { here: boolean; why: string } {
  const mainDir = join(discRoot, s.name, 'run');
  if (!Journal.exists(mainDir)) return { here: true, why: `${mainDir} has no journal yet` };
  const detector = (journalConfig(mainDir) ?? settingConfig(s)?.cfg ?? null)?.proxy.task.kind === 'detector';
  const here = hereKey();
  const m = armMachines(readRun(mainDir, loadMachineLines()), n);
  if (detector ? onlyOn(m, here) : m.keys.every((k) => k === here))
    return {
      here: true,
      why: detector ? `its proxy trainings ran on this machine (${machineKeyText(here!)})` : 'its proxy trainings name no other machine',
    };
  return {
    here: false,
    why: `its proxy trainings are not all from this machine (${here === null ? 'which cannot be identified' : machineKeyText(here)}): ${seenText(m)}`,
  };
}

/**
 * Both arms of the early-stopping measurement train on one machine (for a detector proxy: training
 * is bit-identical on one machine only, and time is the machine's). Unless the measurement is
 * complete on one machine (both twins finished there, or the main search's arm is this machine's and
 * its twin finished here), a twin whose proxy trainings are not all from this machine (one resumed
 * elsewhere, or the other arm's partner trained elsewhere) is moved to <root>/discovery/set-aside/
 * (its journal and config kept, out of the comparison) and trained again here.
 */
function setAsideTwinsElsewhere(s: SettingDef, n: number): void {
  const twins = [true, false].map((stops) => ({ stops, dir: esDir(s.name, stops) })).filter((t) => Journal.exists(join(t.dir, 'run')));
  // the twins' own proxy (what they trained): a simulated one is the same on every machine
  if (!twins.some((t) => journalConfig(join(t.dir, 'run'))?.proxy.task.kind === 'detector')) return;
  const here = hereKey();
  const info = twins.map((t) => ({
    ...t,
    finished: journalStatus(join(t.dir, 'run')) === 'finished',
    m: armMachines(readRun(join(t.dir, 'run'), loadMachineLines()), n),
  }));
  const oneMachine = (a: { keys: number[]; unrecorded: number }, b: { keys: number[]; unrecorded: number }) =>
    !a.unrecorded && !b.unrecorded && a.keys.length === 1 && b.keys.length === 1 && a.keys[0] === b.keys[0];
  const complete =
    (info.length === 2 && info.every((t) => t.finished) && oneMachine(info[0]!.m, info[1]!.m)) ||
    (info.length === 1 && info[0]!.finished && onlyOn(info[0]!.m, here) && mainArmHere(s, n).here);
  if (complete) return;
  for (const t of info) {
    if (onlyOn(t.m, here)) continue;
    const to = setAside(t.dir);
    console.log(
      `early-stop ${s.name}: ${t.dir} trained on ${seenText(t.m) || 'no machine yet'}, not only on this machine (${here === null ? 'unidentified' : machineKeyText(here)}): moved to ${to}; it trains again here, so that both arms share one machine`,
    );
  }
}

/**
 * An efficiency run is one machine's (its candidates meet a default trained in the same run, and its
 * wall time is the machine's): an unfinished run with a detector proxy whose proxy trainings are not
 * all from this machine (begun in a session on another) is moved to <root>/discovery/set-aside/ and
 * started again here. A finished run stays (DISCOVERY.md names its machines).
 */
function setAsideEffElsewhere(dir: string, what: string): void {
  const runDir = join(dir, 'run');
  if (!Journal.exists(runDir) || journalStatus(runDir) === 'finished') return;
  if (journalConfig(runDir)?.proxy.task.kind !== 'detector') return;
  const here = hereKey();
  const m = armMachines(readRun(runDir, loadMachineLines()), Infinity);
  if (onlyOn(m, here)) return;
  const to = setAside(dir);
  console.log(
    `${what}: begun on ${seenText(m) || 'no machine yet'}, not only on this machine (${here === null ? 'unidentified' : machineKeyText(here)}): moved to ${to}; it starts again here`,
  );
}

/** What summary.json's multiFidelity holds: the comparison, which side is the twin, and the check it measured. */
type MultiFidelityResult = MultiFidelity & {
  /**
   * The twin (run for the measurement) is the run with early stopping, or the one without; 'both':
   * both arms are twins, trained one after the other (the main search trained on another machine).
   */
  twin: 'with' | 'without' | 'both';
  earlyStop: { fraction: number; minRatio: number } | null;
};

/**
 * The comparison of a setting's two arms, with early stopping and without: both twins when both
 * exist, else the main search and its twin; for --early-stop NAME, else for the first setting that
 * has a twin run.
 */
function collectMultiFidelity(): MultiFidelityResult | null {
  const twinsOf = (name: string) =>
    [false, true].map((twinStops) => ({ dir: join(esDir(name, twinStops), 'run'), twinStops })).filter((t) => Journal.exists(t.dir));
  const setting = esName ?? SETTINGS.map((s) => s.name).find((n) => twinsOf(n).length > 0);
  if (!setting) return null;
  const twins = twinsOf(setting);
  const mainDir = join(discRoot, setting, 'run');
  let withDir: string;
  let withoutDir: string;
  let twin: MultiFidelityResult['twin'];
  if (twins.length === 2) {
    withDir = twins.find((t) => t.twinStops)!.dir;
    withoutDir = twins.find((t) => !t.twinStops)!.dir;
    twin = 'both';
  } else {
    const t = twins[0];
    if (!t || !Journal.exists(mainDir)) return null;
    // a lone twin of the main search's own kind (the other arm set aside, or not trained yet): nothing to compare
    if (t.twinStops === !!journalConfig(mainDir)?.proxy.earlyStop) return null;
    withDir = t.twinStops ? t.dir : mainDir;
    withoutDir = t.twinStops ? mainDir : t.dir;
    twin = t.twinStops ? 'with' : 'without';
  }
  const n = esName ? esGenerations : (journalGenerations(twins[0]!.dir) ?? esGenerations);
  const sc = settingConfig(SETTINGS.find((s) => s.name === setting)!);
  const mf = compareEarlyStop(
    setting,
    readRun(withDir, loadMachineLines()),
    readRun(withoutDir, loadMachineLines()),
    n,
    sc?.cfg.final.top ?? 3,
  );
  // the arms must be one search but for early stopping, its length and the final evaluation
  const withCfg = journalConfig(withDir)!;
  const other = configDiff(withCfg, journalConfig(withoutDir)!).filter(
    (l) => !/^(proxy\.earlyStop|evolution\.generations|final\.)/.test(l),
  );
  if (other.length) mf.notes.push(`the two runs' configs differ besides early stopping: ${other.join('; ')}`);
  for (const note of mf.notes) console.log(`multi-fidelity ${setting}: ${note}`);
  const es = withCfg.proxy.earlyStop;
  return { ...mf, twin, earlyStop: es ? { fraction: es.fraction, minRatio: es.minRatio } : null };
}

// ------------------------------------------------------------------ summary.json and docs/DISCOVERY.md

function okValues(a: (number | null)[]): number[] {
  return a.filter((x): x is number => x !== null);
}

function cellOf(ap: (number | null)[], statuses: string[]): string {
  return ap.map((x, i) => (x !== null ? pct(x) : statuses[i] === 'not run' ? 'not run yet' : `failed (${statuses[i] ?? '?'})`)).join(', ');
}

function meanSd(a: number[]): string {
  if (!a.length) return '—';
  return a.length > 1 ? `${pct(mean(a))} ± ${pct(std(a))}` : pct(mean(a));
}

function table(rows: SummaryRow[], statuses: string[][], extraLabel = ''): string[] {
  const lines = [
    `| loss${extraLabel} | role | AP per seed | AP mean ± s.d. | AP50 mean | Δ AP vs default | Welch t | p |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const def = rows.find((r) => r.role.split(' ')[0] === 'default');
  rows.forEach((r, i) => {
    const ok = okValues(r.AP);
    let diff = '—';
    let t = '—';
    let p = '—';
    if (r !== def && def && ok.length && okValues(def.AP).length) {
      const c = compareMeans(ok, okValues(def.AP));
      diff = signed(100 * c.diff);
      t = c.t === null ? '—' : c.t.toFixed(2);
      p = pText(c.p);
    }
    const shown = PRESETS[r.loss] ? r.loss : `\`${r.loss}\``;
    lines.push(
      `| ${shown} | ${r.role} | ${cellOf(r.AP, statuses[i] ?? [])} | ${meanSd(ok)} | ${meanSd(okValues(r.AP50)).split(' ±')[0]} | ${diff} | ${t} | ${p} |`,
    );
  });
  return lines;
}

/**
 * How far the winner's gradient is from each preset's of the mode (expressions only): the mean
 * |difference| of d loss / d target logit (reg: d loss / d IoU) over the curves' grid (p or IoU =
 * 0.01 .. 0.99), on a positive and (cls, bcls) a negative sample; nearest first by their mean.
 * A loss with a preset's gradients trains like it, whatever its formula.
 */
function gradientDistances(
  mode: Mode,
  winner: string,
): { scale: (number | null)[]; presets: { name: string; sides: (number | null)[] }[] } {
  const sides = mode === 'reg' ? (['positive'] as const) : (['positive', 'negative'] as const);
  const grads = (loss: string) => sides.map((side) => curveOf(mode, loss, side).grad);
  const w = grads(winner);
  const meanOf = (d: number[]) => (d.length ? mean(d) : null);
  const meanAbs = (a: (number | null)[], b: (number | null)[]) =>
    meanOf(a.flatMap((v, i) => (v !== null && b[i] !== null ? [Math.abs(v - b[i]!)] : [])));
  const rows = Object.entries(PRESETS)
    .filter(([, p]) => p.mode === mode && p.text)
    .map(([name]) => ({ name, sides: grads(name).map((g, i) => meanAbs(w[i]!, g)) }));
  const key = (r: { sides: (number | null)[] }) => (r.sides.every((x) => x !== null) ? mean(r.sides as number[]) : Infinity);
  // the winner's own mean |gradient| per side: the scale the distances are read against
  return { scale: w.map((g) => meanOf(okValues(g).map(Math.abs))), presets: rows.sort((a, b) => key(a) - key(b)) };
}

/** The winner section's line on gradientDistances, with the winner's own gradient scale. */
function nearestLine(mode: Mode, winner: string): string {
  const what =
    mode === 'reg'
      ? 'd loss / d IoU over IoU = 0.01..0.99'
      : 'd loss / d logit over p = 0.01..0.99, on a positive | a negative sample (the plot shows the positive)';
  const f3 = (x: number | null) => (x === null ? '—' : x.toFixed(3));
  const { scale, presets } = gradientDistances(mode, winner);
  const rows = presets.map((r) => `${r.name} ${r.sides.map(f3).join(' | ')}`);
  return `- nearest presets by gradient (the mean |difference| of ${what}; the winner's mean |gradient| is ${scale.map(f3).join(' | ')}; 0 would mean it trains like the preset): ${rows.join(', ')}`;
}

/** The presets of confirm.rivals for setting `name` (configs/discovery.yaml). */
function rivalsOf(name: string): string[] {
  return driver.confirm?.rivals?.[name] ?? [];
}

function curveSvg(c: Collected, winner: string): string {
  const mode = c.cfg.mode;
  const defName = c.cfg.defaultLoss ?? DEFAULT_LOSS[mode];
  const pts = (x: number[], y: (number | null)[]) =>
    x.map((v, i) => [v, y[i]] as [number, number | null]).filter((p): p is [number, number] => p[1] !== null);
  // the winner, the default and the setting's rivals (confirm.rivals): what the winner is measured against
  const curves = [
    { name: 'winner', curve: curveOf(mode, winner) },
    { name: `default (${defName})`, curve: curveOf(mode, defName) },
    ...rivalsOf(c.name).map((r) => ({ name: `rival (${r})`, curve: curveOf(mode, r) })),
  ];
  const xLabel = mode === 'reg' ? 'IoU with the target box' : 'p (predicted probability of the target class)';
  const lossPlot = lineChartSvg({
    title: `${c.name}: loss`,
    xLabel,
    yLabel: 'loss',
    series: curves.map((k) => ({ name: k.name, points: pts(k.curve.x, k.curve.loss) })),
    width: 440,
    height: 300,
  });
  const gradPlot = lineChartSvg({
    title: `${c.name}: gradient`,
    xLabel,
    yLabel: mode === 'reg' ? 'd loss / d IoU' : 'd loss / d target logit',
    series: curves.map((k) => ({ name: k.name, points: pts(k.curve.x, k.curve.grad) })),
    width: 440,
    height: 300,
  });
  // the two plots side by side in one file
  const inner = (svg: string, dx: number) => svg.replace(/^<svg [^>]*>/, `<g transform="translate(${dx},0)">`).replace(/<\/svg>$/, '</g>');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="880" height="300" viewBox="0 0 880 300" font-family="sans-serif" font-size="11">\n${inner(lossPlot, 0)}\n${inner(gradPlot, 440)}\n</svg>\n`;
}

/**
 * The preset a searched loss is in disguise, if any: the same function (fingerprint), or the same
 * gradients (gradientFingerprint: a constant or a term of the targets apart, so it trains a
 * detector the same way). Either way it is no discovery.
 */
function presetTwin(mode: Mode, loss: string): { name: string; how: string } | null {
  const e = parseExpr(mode, loss);
  const fp = fingerprint(mode, e);
  const gfp = gradientFingerprint(mode, e);
  for (const [name, p] of Object.entries(PRESETS)) {
    if (p.mode !== mode || !p.text) continue;
    const pe = parseExpr(mode, p.text);
    if (fingerprint(mode, pe) === fp) return { name, how: 'the same function (fingerprint)' };
    if (gradientFingerprint(mode, pe) === gfp)
      return { name, how: 'the same gradients (it differs by terms without a logit, so it trains the same)' };
  }
  return null;
}

/** A proxy-study full-schedule run's file (scripts/results-proxy.ts), the fields read here. */
interface StudyFullRun {
  lossName: string;
  role: string;
  status: string;
  AP: number | null;
  provenance?: { env?: Provenance['env'] };
}

/**
 * How a proxy-study run's environment differs from the search's (envDiffs of scripts/environment.ts:
 * the study's run first, the search's second; the search's coordinator records no thread count), as
 * phrases; a run without a recorded environment differs in everything.
 */
function studyEnvDiffs(study: Provenance['env'] | undefined, search: Provenance['env'] | undefined): string[] {
  if (!study || !search) return [`no environment recorded${study ? ' by the search' : search ? ' by the study' : ''}`];
  return envDiffs(study, search);
}

/**
 * Where the winner stands among all the presets of its mode, not only the default and the
 * published half: the proxy study (results/proxy/<setting>/full/<preset>-seed0.json) trained every
 * preset at the full schedule, seed 0. Those APs compare with the final evaluation's seed 0 only
 * when the two pipelines train alike, which is checked, not assumed: the default's seed-0 AP must
 * be the same to the last bit in both, and each preset's run must come from the same CPU, libtorch
 * and BLAS as the search. Presets without such a run are counted (failed, not run, another
 * machine, unreadable), never silently left out.
 */
function presetContext(c: Collected, winnerSeed0: number | null): string[] {
  const dir = join(root, 'proxy', studyOf(c.name), 'full');
  if (!existsSync(dir) || c.cfg.final.seeds[0] !== 0) return [];
  const read = (name: string): StudyFullRun | 'unreadable' | null => {
    const f = join(dir, `${name}-seed0.json`);
    if (!existsSync(f)) return null;
    try {
      return JSON.parse(readFileSync(f, 'utf8')) as StudyFullRun;
    } catch (e) {
      console.log(`${f}: not read (${(e as Error).message}); counted as unreadable`);
      return 'unreadable';
    }
  };
  const mode = c.cfg.mode;
  const defName = c.cfg.defaultLoss ?? DEFAULT_LOSS[mode];
  const presets = Object.entries(PRESETS)
    .filter(([, p]) => p.mode === mode && p.text)
    .map(([name]) => name);
  const studyDef = read(defName);
  const finalDef = c.entry.final.find((r) => r.role === 'default')?.AP[0] ?? null;
  if (!studyDef || studyDef === 'unreadable' || studyDef.status !== 'ok' || studyDef.AP === null || finalDef === null) return [];
  const env = c.report?.provenance?.env;
  const defDiffs = studyEnvDiffs(studyDef.provenance?.env, env);
  if (defDiffs.length || studyDef.AP !== finalDef)
    return [
      `  Among the other presets: not comparable here. The proxy study's full-schedule run of the default (seed 0) gave AP ${studyDef.AP} and this final evaluation's ${finalDef}` +
        `${defDiffs.length ? ` (${defDiffs.join('; ')})` : ''}; only bit-identical runs of the default on one machine make the two tables one.`,
    ];
  const ok: { name: string; AP: number }[] = [];
  const missing = { failed: [] as string[], 'not run': [] as string[], 'another machine': [] as string[], unreadable: [] as string[] };
  for (const name of presets) {
    const r = read(name);
    if (r === null) missing['not run'].push(name);
    else if (r === 'unreadable') missing.unreadable.push(name);
    else if (studyEnvDiffs(r.provenance?.env, env).length) missing['another machine'].push(name);
    else if (r.status !== 'ok' || r.AP === null) missing.failed.push(name);
    else ok.push({ name, AP: r.AP });
  }
  ok.sort((a, b) => b.AP - a.AP);
  const best = ok[0]!;
  const shown = ok.map((r) => `${r.name} ${pct(r.AP)}`).join(', ');
  const gaps = Object.entries(missing)
    .filter(([, v]) => v.length)
    .map(([k, v]) => `${k}: ${v.join(', ')}`);
  const verdict =
    winnerSeed0 === null
      ? "the winner's seed 0 did not finish"
      : `the winner's seed 0: ${pct(winnerSeed0)}, ${winnerSeed0 >= best.AP ? `at or above every preset shown` : `${signed(100 * (winnerSeed0 - best.AP))} against the best preset, ${best.name}`} (one seed each: a hint, not a verdict)`;
  return [
    `  Among the presets of the mode (docs/PROXY.md's study, full schedule, seed 0, the same CPU and libraries; the default's seed 0 is bit-identical in both, so these runs and the final evaluation's are one pipeline), ${ok.length} of ${presets.length}${gaps.length ? ` (${gaps.join('; ')})` : ''}: ${shown}; ${verdict}.`,
  ];
}

/**
 * The retrain command run for real: <root>/discovery/<name>/retrain/winner-seed<k>/metrics.json
 * (the run folder's metrics.json of `cse-autoloss train` with the command the docs print, copied
 * there), compared with the final evaluation's AP to the last bit; '' when there is none.
 */
function retrainCheck(c: Collected, winner: string, seed: number, finalAps: readonly (number | null)[]): string {
  const f = join(discRoot, c.name, 'retrain', `winner-seed${seed}`, 'metrics.json');
  if (!existsSync(f)) return '';
  let m: { status?: string; clsLoss?: string; regLoss?: string; seed?: number; metrics?: { AP?: number }; provenance?: Provenance };
  try {
    m = JSON.parse(readFileSync(f, 'utf8')) as typeof m;
  } catch (e) {
    return ` ${shownPath(f)}: not read (${(e as Error).message}).`;
  }
  const half = c.cfg.mode === 'reg' ? m.regLoss : m.clsLoss;
  if (half !== winner || m.seed !== seed) return ` ${shownPath(f)} is not this command's run (another loss or seed): not compared.`;
  const got = m.status === 'ok' ? (m.metrics?.AP ?? null) : null;
  if (got === null) return ` Run for real (${shownPath(f)}): it ended ${m.status ?? '?'}, no AP.`;
  const finalAp = finalAps[c.cfg.final.seeds.indexOf(seed)] ?? null;
  const at = m.provenance?.commit ? ` at commit ${m.provenance.commit.slice(0, 7)}` : '';
  // the retrain's machine (its provenance names the CPU and BLAS kernels) against the final run's (its record, or machines.jsonl)
  const id = m.provenance?.env ? machineIdOf(m.provenance.env) : null;
  const mine = id === null ? null : machineKey(id);
  const theirs = c.winnerRun?.machine ?? null;
  if (mine !== null && theirs !== null && mine !== theirs) {
    const aps = finalAps.filter((x): x is number => x !== null);
    const lo = Math.min(...aps);
    const hi = Math.max(...aps);
    const within = aps.length > 1 && got >= lo && got <= hi;
    return (
      ` Run for real${at} on another machine (${shownPath(f)}; machine ${machineKeyText(mine)}, the final's ${machineKeyText(theirs)}): AP ${pct(got)} against the final's ${pct(finalAp)}, ` +
      (aps.length > 1
        ? `${within ? 'within' : '**outside**'} the spread of its ${aps.length} seeds (${pct(lo)}–${pct(hi)}).`
        : 'with one final seed, no spread to compare with.')
    );
  }
  const diffs = studyEnvDiffs(m.provenance?.env, c.report?.provenance?.env).map((d) => d.replace(' here,', ' for the retrain,'));
  const same =
    mine !== null && theirs !== null
      ? `, on the same machine (${machineKeyText(mine)})`
      : diffs.length
        ? ` (${diffs.join('; ')})`
        : ', on the same CPU and libraries';
  return got === finalAp
    ? ` Run for real${at} (${shownPath(f)}): AP ${got}, the final's to the last bit${mine !== null && theirs !== null ? same : ''}.`
    : ` Run for real${at} (${shownPath(f)}): AP ${got} against the final's ${finalAp}${same}: not the same bits.`;
}

/** A path as the docs show it: relative to the repository when inside it. */
function shownPath(p: string): string {
  const r = relative(REPO, resolve(p));
  return r && !r.startsWith('..') ? r : p;
}

function runCommand(names: string): string {
  return `npm run results:discovery -- --settings ${names}`;
}

function showsSection(c: Collected): string[] {
  const e = c.entry;
  if (c.status !== 'finished')
    return [
      `- **${c.name}**: pending (${c.status ? `${c.status}: ${e.generations} generation(s), ${e.proxyEvaluations} proxy evaluations so far${c.partialFinal ? `; final evaluation ${c.partialFinal.done} of ${c.partialFinal.total} runs` : ''}` : 'not started'}); run \`${runCommand(c.name)}\`.`,
    ];
  if (!e.winner)
    return [
      `- **${c.name}**: the search finished without a winner in the final evaluation (no searched loss finished a final seed${c.cfg.final.enabled ? '' : '; final evaluation disabled'}): the target is missed.`,
    ];
  const w = e.final.find((r) => r.role === 'winner')!;
  const def = e.final.find((r) => r.role === 'default')!;
  const pub = e.final.find((r) => r.role === 'published');
  const c0 = compareMeans(okValues(w.AP), okValues(def.AP));
  const ratio = c0.se && c0.se > 0 ? c0.diff / c0.se : null;
  const twin = presetTwin(c.cfg.mode, e.winner);
  const bigEnough = 100 * c0.diff >= 1.0;
  const sharp = ratio !== null && ratio >= 3;
  const target = bigEnough && sharp && !twin;
  const why: string[] = [];
  if (!bigEnough) why.push(`its AP is ${signed(100 * c0.diff)} against the default (target ≥ +1.0)`);
  if (!sharp)
    why.push(
      ratio === null
        ? 'there is no standard error (fewer than two finished seeds on a side)'
        : `difference / s.e. is ${ratio.toFixed(2)} (target ≥ 3)`,
    );
  if (twin) why.push(`it is the preset ${twin.name} in disguise: ${twin.how}`);
  const lines = [
    `- **${c.name}** (${e.detector}, ${e.mode}, ${e.dataset}): the winner scores ${meanSd(okValues(w.AP))} AP against the default's ${meanSd(okValues(def.AP))}, ` +
      `a difference of ${signed(100 * c0.diff)} AP${ratio !== null ? ` (difference / s.e. ${ratio.toFixed(2)}, Welch p ${pText(c0.p)})` : ''}; ` +
      `${twin ? `it is the preset ${twin.name} in disguise (${twin.how})` : 'it is not equivalent to any preset of the mode (by fingerprint, nor by gradients)'}. ` +
      (target ? '**Target met** (≥ +1.0 AP, difference / s.e. ≥ 3, not a preset).' : `**Target missed**: ${why.join('; ')}.`),
  ];
  if (!target) lines.push(...holdsBack(c));
  if (pub && okValues(pub.AP).length) {
    const cp = compareMeans(okValues(w.AP), okValues(pub.AP));
    lines.push(
      `  Stretch (equal or beat the published half ${pub.loss}, ${meanSd(okValues(pub.AP))} AP): ${cp.diff >= 0 ? '**met**' : '**missed**'}, ${signed(100 * cp.diff)} AP${cp.t !== null ? ` (Welch t ${cp.t.toFixed(2)}, p ${pText(cp.p)})` : ''}.`,
    );
  } else lines.push('  Stretch (the published half): not evaluated.');
  lines.push(...confirmLines(c));
  lines.push(...presetContext(c, w.AP[0] ?? null));
  const iw = e.transfer.findIndex((r) => r.role === 'winner');
  const id = e.transfer.findIndex((r) => r.role === 'default');
  const tw = e.transfer[iw];
  const td = e.transfer[id];
  if (tw && td && okValues(tw.AP).length && okValues(td.AP).length) {
    lines.push(transferLine(tw, td, c.transferMachines[iw] ?? [], c.transferMachines[id] ?? []));
  } else if (driver.transfer.settings.includes(c.name))
    lines.push(`  Transfer to ${driver.transfer.dataset.kind}: pending (run \`${runCommand(c.name)}\`).`);
  return lines;
}

/**
 * The transfer's comparison. Training differs across machines, so when the runs trained on more
 * than one, only the seeds whose two runs share a machine are compared, and the others are named.
 */
function transferLine(tw: SummaryRow & { dataset: string }, td: SummaryRow, mw: (number | null)[], md: (number | null)[]): string {
  const cmp = (w: number[], d: number[]) => {
    const ct = compareMeans(w, d);
    return `the winner ${meanSd(w)} AP against the default's ${meanSd(d)} (${signed(100 * ct.diff)}${ct.t !== null ? `, Welch t ${ct.t.toFixed(2)}, p ${pText(ct.p)}` : ''})`;
  };
  const all = `  Transfer to ${tw.dataset}: ${cmp(okValues(tw.AP), okValues(td.AP))}`;
  const ran = [
    ...tw.AP.flatMap((x, i) => (x !== null ? [mw[i] ?? null] : [])),
    ...td.AP.flatMap((x, i) => (x !== null ? [md[i] ?? null] : [])),
  ];
  const keys = new Set(ran.filter((k): k is number => k !== null));
  if (keys.size <= 1) {
    const unknown = ran.filter((k) => k === null).length;
    return `${all}${keys.size === 1 ? ` (all on one machine, ${machineKeyText([...keys][0]!)}${unknown ? `; ${unknown} run(s) recorded none` : ''})` : ''}.`;
  }
  // seeds run by both: kept when both runs share a machine
  const kept: number[] = [];
  const apart: string[] = [];
  tw.seeds.forEach((seed, i) => {
    const j = td.seeds.indexOf(seed);
    if (tw.AP[i] === null || j < 0 || td.AP[j] === null) return;
    const a = mw[i] ?? null;
    const b = md[j] ?? null;
    if (a !== null && a === b) kept.push(seed);
    else
      apart.push(
        `seed ${seed} (the winner on ${a === null ? 'an unrecorded machine' : machineKeyText(a)}, the default on ${b === null ? 'an unrecorded machine' : machineKeyText(b)})`,
      );
  });
  const pick = (r: SummaryRow) => kept.map((seed) => r.AP[r.seeds.indexOf(seed)]!);
  return (
    `  Transfer to ${tw.dataset}: **the runs trained on ${keys.size} machines**, and training differs across machines; over the seeds whose two runs trained on one (${kept.length ? kept.join(', ') : 'none'}): ` +
    (kept.length ? cmp(pick(tw), pick(td)) : 'nothing to compare') +
    `${apart.length ? `; left out: ${apart.join(', ')}` : ''}. Over all seeds: ${cmp(okValues(tw.AP), okValues(td.AP))}.`
  );
}

/**
 * For a missed target, what held the search back, in its own numbers: how far its best candidate
 * got above the default under the proxy, against the proxy's seed noise and the gap the proxy
 * study measured between the default and the published half (a search can only find what its
 * proxy sees), and how few founders its proxy evaluations came from (report.json's lineage).
 */
function holdsBack(c: Collected): string[] {
  const r = c.report;
  const best = r?.hallOfFame[0];
  if (!r || !best || !r.default) return [];
  const diff = best.fitness - r.default.fitness;
  const noise = proxyNoiseOf(join(root, 'proxy', 'summary.json'), studyOf(c.name), c.cfg);
  const parts: string[] = [];
  let proxy = `under the proxy, the search's best candidate (hall of fame #1) scored ${signed(100 * diff)} AP ×100 against the default's own proxy run`;
  if (noise) {
    proxy += ` (${(diff / noise.seedSd).toFixed(1)} times the proxy's seed s.d., ${pct(noise.seedSd)})`;
    if (noise.gap !== null)
      proxy +=
        `, while the proxy study (docs/PROXY.md) puts the published half ${signed(100 * noise.gap)} above the default under the same proxy: ` +
        (diff < noise.gap
          ? 'the search found nothing its proxy rates as high as the published half'
          : "the proxy rated the search's best at least as far above the default as the published half, and the full schedule did not confirm it");
  } else proxy += ' (the proxy study has not measured this proxy: its seed noise is not known here)';
  parts.push(proxy);
  const { after, most } = lineageSpread(r.lineage);
  if (most !== null) {
    const last = after.at(-1)!;
    // the last generation's evaluations from at most half its proxy slots' worth of founders: variants of a few trees
    const narrow = last.founders <= Math.ceil(c.cfg.proxy.topK / 2);
    parts.push(
      `after its first generation, each generation's new proxy evaluations descended from at most ${most} founder(s) (the last generation's ${last.proxied} from ${last.founders}), and the hall of fame from ${r.lineage.founders.length}${r.lineage.founders.some((f) => f.isDefault) ? ', one of them a random tree that trains as the default does' : ''} (Lineage below)${narrow ? ': the search refined a few trees rather than explored' : ''}`,
    );
  }
  return [`  What held it back: ${parts.join('; ')}.`];
}

/**
 * What a search that has not finished shows so far: the top of its hall of fame under the proxy
 * against the default's proxy fitness, and, once its proxy stage is done, the final evaluation's
 * finished runs (the rest 'not run yet'). Partial: no verdict is drawn from it.
 */
function runningSection(c: Collected): string[] {
  const r = c.report;
  if (!r) return [];
  const lines: string[] = [];
  if (r.hallOfFame.length) {
    lines.push(
      `Hall of fame so far (proxy AP ×100; the default ${r.default ? `${r.default.name} scores ${pct(r.default.fitness)}` : 'is not scored yet'}):`,
      '',
    );
    for (const h of r.hallOfFame.slice(0, Math.max(3, c.cfg.final.top)))
      lines.push(`${h.rank}. ${pct(h.fitness)} \`${h.loss}\` (simplified: \`${h.simplified}\`; generation ${h.gen})`);
    lines.push('');
  }
  const p = c.partialFinal;
  if (p) {
    lines.push(
      `Final evaluation so far: ${p.done} of ${p.total} runs finished (partial: no verdict until all have run; the differences below are over the seeds finished so far).`,
      '',
      ...table(p.rows, p.statuses),
      '',
    );
    if (c.finalMachines.length) lines.push(machinesSentence(c.finalMachines), '');
  }
  return lines;
}

/**
 * The winner against the default over the final's seeds and the confirm seeds, by the target's rule
 * (≥ +1.0 AP, difference / s.e. ≥ 3). Supplementary: the target line above is judged on the final
 * evaluation's seeds, as issue 15 sets it.
 */
function confirmLines(c: Collected): string[] {
  const cf = driver.confirm;
  if (!cf || !cf.settings.includes(c.name) || c.cfg.final.task.kind !== 'detector') return [];
  const w = c.entry.confirm.find((r) => r.role === 'winner');
  const d = c.entry.confirm.find((r) => r.role === 'default');
  const extra = cf.seeds.join(', ');
  const notRun = (i: number) => (c.confirmStatuses[i] ?? []).filter((x) => x === 'not run').length;
  const pending = c.entry.confirm.reduce((a, r, i) => a + (r.role === 'rival' ? 0 : notRun(i)), 0);
  if (!w || !d || pending)
    return [
      `  More seeds (${extra}) for the winner and the default on the final task: ${w && d ? `${pending} run(s) pending` : 'pending'} (run \`${runCommand(c.name)}\`).`,
    ];
  const cm = compareMeans(okValues(w.AP), okValues(d.AP));
  const ratio = cm.se && cm.se > 0 ? cm.diff / cm.se : null;
  const met = 100 * cm.diff >= 1.0 && ratio !== null && ratio >= 3;
  const n = (r: SummaryRow) => okValues(r.AP).length;
  return [
    `  With seeds ${extra} added (the final's task, machine and thread count; ${n(w)} and ${n(d)} finished seeds): the winner ${meanSd(okValues(w.AP))} AP against the default's ${meanSd(okValues(d.AP))}, ` +
      `${signed(100 * cm.diff)} AP${ratio !== null ? ` (difference / s.e. ${ratio.toFixed(2)}, Welch t ${cm.t!.toFixed(2)}, p ${pText(cm.p)})` : ''}: ` +
      `by the target's rule ${met ? 'met' : 'missed'} at these seeds (supplementary; the target above is judged on the final evaluation's seeds).`,
    ...c.entry.confirm
      .map((r, i) => [r, notRun(i)] as const)
      .filter(([r]) => r.role === 'rival')
      .map(([r, left]) => {
        if (left)
          return `  Against ${r.loss} (configs/discovery.yaml \`confirm.rivals\`): ${left} of ${r.seeds.length} run(s) pending (run \`${runCommand(c.name)}\`).`;
        const x = compareMeans(okValues(w.AP), okValues(r.AP));
        const q = x.se && x.se > 0 ? x.diff / x.se : null;
        return (
          `  Against ${r.loss} (configs/discovery.yaml \`confirm.rivals\`: a preset of the mode trained at the same ${r.seeds.length} seeds, ${n(r)} finished): ${r.loss} ${meanSd(okValues(r.AP))} AP, ` +
          `the winner ${signed(100 * x.diff)} AP${q !== null ? ` (difference / s.e. ${q.toFixed(2)}, Welch t ${x.t!.toFixed(2)}, p ${pText(x.p)})` : ''}` +
          (x.p === null
            ? '.'
            : x.p < VERDICT_ALPHA
              ? `: ${x.diff > 0 ? `the winner beats ${r.loss}` : `${r.loss} beats the winner`} (p < ${VERDICT_ALPHA}).`
              : `: no difference at these seeds (p ≥ ${VERDICT_ALPHA}), the winner ties ${r.loss}.`)
        );
      }),
  ];
}

/** How close a run that never reached the default came: its best proxy fitness against its default's (AP ×100). */
function neverText(r: EffRun): string {
  if (r.defaultFitness === null) return '';
  return r.bestFitness === null
    ? ` (nothing proxied scored; the default's proxy AP ${pct(r.defaultFitness)})`
    : ` (its best proxy AP ${pct(r.bestFitness)} against its default's ${pct(r.defaultFitness)})`;
}

/** A run's machines, as the end of its line: one, several (its candidates then met a default trained elsewhere), or none recorded. */
function effMachinesText(m: EffRun['machines']): string {
  if (!m) return '';
  const none = m.unrecorded ? `${m.unrecorded} proxy training(s) without a recorded machine` : '';
  if (m.keys.length > 1)
    return `; **its proxy trainings ran on ${m.keys.length} machines** (${m.keys.join(', ')}${none ? `; ${none}` : ''}), so its candidates met a default trained elsewhere`;
  if (m.keys.length === 1) return `; machine ${m.keys[0]}${none ? ` (${none})` : ''}`;
  return '; machine not recorded';
}

function efficiencySection(e: Efficiency | null): string[] {
  const lines = ['## Efficiency against vanilla evolution (issue 15, item 4)', ''];
  if (!e)
    return [
      ...lines,
      `Pending: run \`npm run results:discovery -- --efficiency S1\` (${driver.efficiency.seeds.length} search seeds per strategy, a budget of ${driver.efficiency.budget} proxy evaluations each, final disabled).`,
      '',
    ];
  const s = e.stats;
  const fmtSide = (name: string, x: EffSide) =>
    `| ${name} | ${x.runs} | ${x.reached} | ${x.medianEvaluations ?? '—'} | ${x.rangeEvaluations ? `${x.rangeEvaluations[0]}–${x.rangeEvaluations[1]}` : '—'} | ${x.medianSeconds !== null ? x.medianSeconds.toFixed(1) : '—'} | ${x.rangeSeconds ? `${x.rangeSeconds[0].toFixed(1)}–${x.rangeSeconds[1].toFixed(1)}` : '—'} |`;
  lines.push(
    `Setting ${e.setting}, the same proxy for both strategies, a budget of ${e.budget} proxy evaluations per run (generations = ceil(budget / topK)). ` +
      "Until a candidate first reaches the default loss's proxy fitness: proxy evaluations and wall time (s). Each run stops after the generation in which a candidate first reaches it (evolution.stopAtDefault: what is measured ends there); its wall time is taken at the end of that generation, so it includes the generation's later evaluations (an upper bound on that run's time); a run that never reached it spends its whole budget and counts at its whole budget and time, a lower bound.",
    '',
    '| strategy | runs | reached | median evaluations | range | median time (s) | range (s) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    fmtSide('cse', s.cse),
    fmtSide('vanilla', s.vanilla),
    '',
  );
  const labelled = [...e.cse.map((x) => ['cse', x] as const), ...e.vanilla.map((x) => ['vanilla', x] as const)];
  for (const r of labelled)
    lines.push(
      `- ${r[0]} seed ${r[1].seed}${r[1].from ? ` (the first ${r[1].generations} generations of the ${e.setting} search above, \`${shownPath(r[1].from)}\`${r[1].fromCommits?.length ? ` at commit ${r[1].fromCommits.map((x) => x.slice(0, 7)).join(', ')}` : ''}: the same strategy, seed and config but for generations and final, so not run twice; its wall time is that search's, its resumes and any load beside it included)` : ''}: ${r[1].proxyEvaluations} proxy evaluations in ${r[1].generations} generations${r[1].stoppedAtDefault ? ' (stopped there: it had reached the default)' : ''}, ${r[1].wallSeconds.toFixed(1)} s; ${r[1].reachedDefault ? `reached the default after ${r[1].reachedDefault.proxyEvaluations} evaluations, ${r[1].reachedDefault.seconds.toFixed(1)} s` : `never reached the default${neverText(r[1])}`}${effMachinesText(r[1].machines)}`,
    );
  const allKeys = new Set(labelled.flatMap(([, r]) => r.machines?.keys ?? []));
  const unknown = labelled.filter(([, r]) => !r.machines || (r.machines.keys.length === 0 && r.machines.unrecorded > 0));
  if (allKeys.size > 1)
    lines.push(
      '',
      `The runs trained on ${allKeys.size} machines (${[...allKeys].join(', ')})${unknown.length ? `, and ${unknown.length} run(s) recorded none` : ''}: proxy evaluations compare across them (each run's default is its own), wall times compare machines too.`,
    );
  else if (unknown.length && allKeys.size === 1)
    lines.push(
      '',
      `${unknown.length} run(s) recorded no machine (${unknown.map(([strategy, r]) => `${strategy} seed ${r.seed}`).join(', ')}), the others ran on ${[...allKeys][0]}: proxy evaluations compare across them (each run's default is its own); wall times may compare machines too.`,
    );
  lines.push('');
  const lb = s.ratioIsLowerBound ? ' (a **lower bound**: a vanilla run never reached the default)' : '';
  lines.push(
    s.evaluationRatio === null
      ? `Ratio vanilla / cse: not determined (${s.cse.runs === 0 ? 'no finished cse run' : s.vanilla.runs === 0 ? 'no finished vanilla run' : 'a cse run never reached the default'}). The paper claims 20x.`
      : `Ratio vanilla / cse: ${s.evaluationRatio.toFixed(2)}x proxy evaluations${s.timeRatio !== null ? `, ${s.timeRatio.toFixed(2)}x wall time` : ''}${lb}. The paper claims 20x.`,
    '',
  );
  return lines;
}

/** The time per candidate that both arms trained, stopped by the check or through it (one bullet; none when no candidate is in both). */
function pairCostLines(mf: MultiFidelityResult): string[] {
  const pc = mf.pairCost;
  if (pc.stopped.n + pc.completed.n === 0) return [];
  const part = (x: PairCost, what: string) => {
    if (!x.n) return `${what}: none`;
    const rel =
      x.medianWith !== null && x.medianWithout
        ? ` (${x.medianWith >= x.medianWithout ? '+' : '−'}${Math.abs(Math.round((100 * (x.medianWith - x.medianWithout)) / x.medianWithout))}%)`
        : '';
    return `${what} (${x.n}), ${x.medianWith!.toFixed(1)} s with against ${x.medianWithout!.toFixed(1)} s without${rel}`;
  };
  return [
    `- Time per candidate, over the candidates both runs trained (medians of their proxy trainings' seconds): ${part(pc.stopped, 'stopped by the check')}; ${part(pc.completed, 'trained through the check to the end')}. The check scores the partly trained model on the proxy's held-out images, the same ones the end of training scores, so both times include that evaluation.`,
  ];
}

function multiFidelitySection(mf: MultiFidelityResult | null): string[] {
  const lines = ['## Multi-fidelity: early stopping, measured (issue 15, item 5)', ''];
  if (!mf)
    return [
      ...lines,
      "Not measured on a discovery setting yet: `npm run results:discovery -- --early-stop NAME` runs the first 3 generations of setting NAME's search again, same seed, final disabled, with early stopping when NAME searches without it (S1, S2: the check of configs/discovery.yaml `earlyStop`) and without it when NAME's config sets `proxy.earlyStop`, and compares the two. The measurement at the demo's scale is in docs/SEARCH.md, \"Early stopping\".",
      '',
    ];
  const secs = (x: number) => x.toFixed(1);
  const fit = (x: number | null) => (x === null ? '—' : pct(x));
  const es = mf.with;
  const no = mf.without;
  const check = mf.earlyStop
    ? `\`proxy.earlyStop { fraction: ${mf.earlyStop.fraction}, minRatio: ${mf.earlyStop.minRatio} }\`: a candidate's proxy training is scored after ${Math.round(100 * mf.earlyStop.fraction)}% of its iterations and stopped when its AP there is below ${mf.earlyStop.minRatio} × the default's at the same point`
    : '`proxy.earlyStop`';
  lines.push(
    (mf.twin === 'both'
      ? `Setting ${mf.setting}, the first ${mf.generations} generation(s), the same seed, both runs trained for this measurement, one after the other (the main search's own first generations trained on another machine, or recorded none, and training is bit-identical only on one): without early stopping (final disabled; \`${no.runDir}\`) against with ${check} (final disabled; \`${es.runDir}\`). `
      : mf.twin === 'with'
        ? `Setting ${mf.setting}, the first ${mf.generations} generation(s), the same seed: the main search, which runs without early stopping (\`${no.runDir}\`), against its twin with ${check} (configs/discovery.yaml \`earlyStop\`; final disabled; \`${es.runDir}\`). `
        : `Setting ${mf.setting}, the first ${mf.generations} generation(s), the same seed: the main search, with ${check} (\`${es.runDir}\`), against its twin without early stopping (final disabled; \`${no.runDir}\`). `) +
      "Proxy time: the sum of the new proxy evaluations' training times (seconds; with several workers more than the wall time); best: the hall of fame's top so far (proxy AP ×100).",
    '',
  );
  for (const note of mf.notes) lines.push(`**Note:** ${note}.`, '');
  lines.push(
    '| generation | evaluations with / without | stopped early | proxy time with (s) | proxy time without (s) | best with | best without | same population |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  const rows = Math.max(es.perGeneration.length, no.perGeneration.length);
  for (let g = 0; g < rows; g++) {
    const a = es.perGeneration.find((x) => x.gen === g);
    const b = no.perGeneration.find((x) => x.gen === g);
    const same =
      g >= mf.measuredGenerations ? '—' : mf.firstDivergentGeneration !== null && g >= mf.firstDivergentGeneration ? 'no' : 'yes';
    lines.push(
      `| ${g} | ${a?.proxyEvaluations ?? '—'} / ${b?.proxyEvaluations ?? '—'} | ${a?.stoppedEarly ?? '—'} | ${a ? secs(a.proxySeconds) : '—'} | ${b ? secs(b.proxySeconds) : '—'} | ${a ? fit(a.bestFitness) : '—'} | ${b ? fit(b.bestFitness) : '—'} | ${same} |`,
    );
  }
  lines.push('');
  const m = mf.measuredGenerations;
  lines.push(
    `- Over ${m} generation(s): proxy time ${secs(es.proxySeconds)} s with early stopping, ${secs(no.proxySeconds)} s without` +
      (mf.proxyTimeRatio !== null ? ` (ratio ${mf.proxyTimeRatio.toFixed(2)})` : '') +
      `; ${es.proxyEvaluations} and ${no.proxyEvaluations} proxy evaluations, ${es.stoppedEarly} stopped early. ` +
      `The default's proxy training (baseline): ${es.defaultSeconds === null ? '—' : secs(es.defaultSeconds)} s with, ${no.defaultSeconds === null ? '—' : secs(no.defaultSeconds)} s without.`,
    ...pairCostLines(mf),
    `- Populations: ${mf.firstDivergentGeneration === null ? `the same in all ${m} generation(s)` : `first differ in generation ${mf.firstDivergentGeneration} (a stopped candidate has fitness 0 and is no parent, so later generations are bred from other parents)`}.`,
    `- Best candidate: with \`${es.best?.loss ?? '—'}\` (${fit(es.best?.fitness ?? null)}), without \`${no.best?.loss ?? '—'}\` (${fit(no.best?.fitness ?? null)}): ${mf.bestDiffers === null ? 'not comparable' : mf.bestDiffers ? '**different**' : 'the same'}; ${mf.topOverlap.common} of the top ${mf.topOverlap.k} in common.`,
    `- False stops: ${mf.falseStops.length} of the ${mf.stoppedMatched} stopped candidate(s) that the run without early stopping trained too scored at or above its default's proxy fitness (${fit(no.defaultFitness)})` +
      (mf.falseStops.length
        ? `: ${mf.falseStops.map((f) => `\`${f.loss}\` (generation ${f.gen}, ${fit(f.fitnessWithout)})`).join(', ')}`
        : '') +
      `${es.stoppedEarly > mf.stoppedMatched ? `; ${es.stoppedEarly - mf.stoppedMatched} stopped candidate(s) were not trained without early stopping (the runs had parted)` : ''}.`,
    '',
  );
  return lines;
}

/**
 * The generations that proxied something, those after the first of them, and the most founders
 * behind any of the latter (null: no generation after the first proxied anything).
 */
function lineageSpread(l: Lineage): { gens: Lineage['generations']; after: Lineage['generations']; most: number | null } {
  const gens = l.generations.filter((g) => g.proxied > 0);
  const after = gens.slice(1);
  return { gens, after, most: after.length ? Math.max(...after.map((g) => g.founders)) : null };
}

/**
 * Where the search's results come from (report.json's lineage): the founders of its hall of fame
 * (trees without parents) and how many founders each generation's new proxy evaluations descend
 * from, i.e. how widely the proxy budget was spread.
 */
function lineageLines(c: Collected): string[] {
  const l = c.report?.lineage;
  const fame = c.report?.hallOfFame.length ?? 0;
  if (!l || !fame || !l.founders.length) return [];
  const defName = c.report?.default?.name ?? 'the default';
  const founder = (f: Founder) =>
    `${f.id} \`${f.loss}\` (${f.origin}, generation ${f.id.split(':')[0]}, ${f.fitness === null ? 'not proxied' : `proxy AP ${pct(f.fitness)}`}${f.isDefault ? `; it trains as ${defName} does: the same fingerprint` : ''}; ${f.fame} of ${fame})`;
  const { gens, most } = lineageSpread(l);
  return [
    `Lineage (report.json \`lineage\`): the hall of fame's ${fame} loss${fame === 1 ? '' : 'es'} descend from ${l.founders.length} founder${l.founders.length === 1 ? '' : 's'} (trees without parents; after each, how many of the hall of fame descend from it): ${l.founders.map(founder).join('; ')}. ` +
      `Founders behind each generation's new proxy evaluations: ${gens.map((g) => `${g.founders} of ${g.proxied}`).join(', ')} (generations ${gens[0]!.gen}–${gens.at(-1)!.gen})` +
      (most !== null ? `; after generation ${gens[0]!.gen}, at most ${most}.` : '.'),
    '',
  ];
}

function writeDocs(cs: Collected[], eff: Efficiency | null, mf: MultiFidelityResult | null): void {
  mkdirSync(imgDir, { recursive: true });
  const lines: string[] = [
    '# Discovery: searched losses against the defaults',
    '',
    'Generated by `npm run results:discovery` (scripts/results-discovery.ts) from `results/discovery/` (do not edit by hand; ' +
      '`npm run results:discovery -- --collect-only` rewrites it). Every result file records its commit, the exact command and the environment. ' +
      'AP ×100 on the val split; mean ± sample s.d. over the seeds that finished; a failed seed is shown as failed and left out of the mean, never counted as 0. ' +
      "Differences from the default by `compareMeans` (src/search/stats.ts): Welch's t and its two-sided p-value.",
    '',
    ...cs.map((c) =>
      c.entry.proxy
        ? `- Proxy of ${c.name}${studyOf(c.name) !== c.name ? ` (measured on ${studyOf(c.name)}'s panel: the same detector, mode and dataset)` : ''}: ${proxyText(c.entry.proxy)}.`
        : existsSync(join(root, 'proxy', 'summary.json'))
          ? `- Proxy of ${c.name}: not in the proxy study (docs/PROXY.md measures the detector proxies of S1, S2 and the demo; \`npm run results:proxy\`).`
          : `- Proxy of ${c.name}: fidelity not measured yet (\`npm run results:proxy\`, [PROXY.md](PROXY.md)).`,
    ),
    '',
    '## What the runs show',
    '',
    'Target (issue 15): the winner beats the default by ≥ 1.0 AP with difference / standard error ≥ 3 and is not equivalent (by fingerprint) to any preset; stretch: it equals or beats the published half.',
    '',
  ];
  if (!cs.some((c) => c.status === 'finished'))
    lines.push(
      `No search has finished yet: pending. Run \`${runCommand(cs.map((c) => c.name).join(','))}\` (hours on 2 cores; resumable).`,
      '',
    );
  for (const c of cs) lines.push(...showsSection(c));
  lines.push('');
  for (const c of cs) {
    const e = c.entry;
    lines.push(`## ${c.name}: ${e.detector}, ${e.mode} mode, ${e.dataset}`, '');
    lines.push(`Config: \`${shownPath(c.configFile)}\`; run folder \`${join(discRoot, c.name, 'run')}\`.`, '');
    if (c.status === null) {
      lines.push(`Pending: not started. Run \`${runCommand(c.name)}\`.`, '');
      continue;
    }
    lines.push(
      `${e.generations} generation(s), ${e.proxyEvaluations} proxy evaluations${c.status === 'finished' ? '' : ` so far (${c.status}; pending: run \`${runCommand(c.name)}\` to resume)`}.`,
      '',
    );
    lines.push(...lineageLines(c));
    if (c.status !== 'finished') {
      lines.push(...runningSection(c));
      continue;
    }
    if (c.report?.warnings.length) for (const w of c.report.warnings) lines.push(`**Warning:** ${w}`, '');
    lines.push(
      'Final evaluation (the default, the published half and the top of the hall of fame, the other half of the losses at its default):',
      '',
    );
    lines.push(...table(e.final, c.finalStatuses), '');
    if (c.finalMachines.length) lines.push(machinesSentence(c.finalMachines), '');
    if (e.confirm.length)
      lines.push(
        `More seeds for the winner and the default (configs/discovery.yaml \`confirm\`: seeds ${driver.confirm!.seeds.join(', ')} on the final task, after its own seeds)${e.confirm.some((r) => r.role === 'rival') ? ', and the rivals of `confirm.rivals` at all those seeds' : ''}:`,
        '',
        ...table(e.confirm, c.confirmStatuses),
        '',
      );
    if (e.transfer.length)
      lines.push(
        `Transfer to ${driver.transfer.dataset.kind} (\`${driver.transfer.preset}\`):`,
        '',
        ...table(e.transfer, c.transferStatuses),
        '',
      );
    if (e.winner) {
      const expr = parseExpr(e.mode, e.winner);
      const svgName = `${c.name}-winner.svg`;
      writeFileSync(join(imgDir, svgName), curveSvg(c, e.winner));
      lines.push(
        'Winner:',
        '',
        `- official: \`${e.winner}\``,
        `- infix: \`${printInfix(expr)}\``,
        `- LaTeX: $${printLatex(expr)}$`,
        nearestLine(e.mode, e.winner),
        '',
        `![${c.name} winner: loss and gradient against the default${rivalsOf(c.name).length ? ' and the rivals' : ''}](${relative(dirname(outFile), join(imgDir, svgName))})`,
        '',
      );
      const run = c.winnerRun;
      const ap = e.final.find((r) => r.role === 'winner')?.AP[0];
      const args =
        run && run.threads !== null ? retrainArgs(c.cfg, e.winner, run.seed, run.threads, `runs/${c.name}-winner-seed${run.seed}`) : null;
      const data = datasetArgs(c.cfg);
      if (run && args)
        lines.push(
          `Retrain the winner's seed-${run.seed} run (the other half at its default; the final evaluation's task and the ${run.threads} thread(s) it trained with): \`cse-autoloss ${shellLine(args)}\`` +
            (data ? ` (its dataset first, as the search made it on first use: \`cse-autoloss ${shellLine(data)}\`)` : '') +
            '. ' +
            `On the final evaluation's machine it gives AP ${pct(ap)} again, bit for bit (test/search/detector_proxy.test.ts checks the command on a small task); on another machine it lands within the seeds' spread, not on the same bits.` +
            retrainCheck(c, e.winner, run.seed, e.final.find((r) => r.role === 'winner')?.AP ?? []),
          '',
        );
    }
  }
  lines.push(...efficiencySection(eff));
  lines.push(...multiFidelitySection(mf));
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, lines.join('\n'));
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const settings = SETTINGS.filter((s) => settingNames.includes(s.name));
  for (const s of settings) if (!settingConfig(s)) usage(`${s.name}: ${join(configDir, s.file)} does not exist`);
  for (const s of settings) {
    checkConfirmSeeds(s);
    checkConfirmRivals(s);
  }
  for (const d of restoreRunFolders())
    console.log(`restored ${shownPath(d)} from the committed journal copy (${shownPath(join(dirname(d), 'journal.sqlite'))})`);
  const effSetting = effName ? SETTINGS.find((s) => s.name === effName)! : null;
  const esSetting = esName ? SETTINGS.find((s) => s.name === esName)! : null;
  // checked before anything runs: a config without early stopping, a run folder of another length
  if (esSetting && !collectOnly && !planOnly) setAsideTwinsElsewhere(esSetting, esGenerations);
  const esFile = esSetting && !collectOnly && !planOnly ? esConfig(esSetting, esGenerations) : null;
  if (planOnly) {
    for (const s of settings) {
      const c = collectSearch(s)!;
      console.log(
        `${s.name}: search ${c.status ?? 'not started'} (${c.entry.generations} generations, ${c.entry.proxyEvaluations} proxy evaluations) in ${join(discRoot, s.name, 'run')}`,
      );
      const jobs = transferJobs(c);
      if (driver.transfer.settings.includes(s.name) && !jobs.length)
        console.log(`  transfer: after the search (winner and default x seeds ${driver.transfer.seeds.join(',')})`);
      for (const j of jobs) console.log(`  ${finishedRun(j.out) ? 'done   ' : 'pending'} transfer ${j.role} seed ${j.seed}`);
      const cj = confirmJobs(c);
      if (driver.confirm?.settings.includes(s.name) && !cj.length)
        console.log(`  confirm: after the search (winner and default x seeds ${driver.confirm.seeds.join(',')} on the final task)`);
      for (const j of cj)
        console.log(
          `  ${finishedRun(j.out) ? 'done   ' : 'pending'} confirm ${j.role === 'rival' ? `rival ${j.loss}` : j.role} seed ${j.seed}`,
        );
      const rj = retrainJob(c);
      if (typeof rj !== 'string')
        console.log(`  ${finishedRun(rj.out) ? 'done   ' : 'pending'} retrain winner seed ${rj.seed} (--retrain)`);
    }
    if (effSetting)
      for (const strategy of STRATEGIES)
        for (const seed of driver.efficiency.seeds) {
          const own = journalStatus(join(effDir(effSetting.name, strategy, seed), 'run'));
          const main = own ? null : prefixHere(effSetting, strategy, seed, true);
          console.log(
            `  ${own === 'finished' || main?.ready ? 'done   ' : 'pending'} efficiency ${effSetting.name} ${strategy} seed ${seed}${main ? ` (the first ${main.generations} generations of ${main.runDir}${main.ready ? '' : `, which has ${main.have}`})` : ''}`,
          );
        }
    if (esSetting) {
      const twinStops = twinStopsOf(esSetting) ?? false;
      const twinRun = join(esDir(esSetting.name, twinStops), 'run');
      console.log(
        `  ${journalStatus(twinRun) === 'finished' ? 'done   ' : 'pending'} early-stop ${esSetting.name}: ${esGenerations} generation(s) ${twinStops ? `with early stopping (${driver.earlyStop ? `fraction ${driver.earlyStop.fraction}, minRatio ${driver.earlyStop.minRatio}` : 'configs/discovery.yaml sets no earlyStop'})` : 'without early stopping'} in ${twinRun}`,
      );
      const arm = mainArmHere(esSetting, esGenerations);
      const otherRun = join(esDir(esSetting.name, !twinStops), 'run');
      if (!arm.here || Journal.exists(otherRun))
        console.log(
          `  ${journalStatus(otherRun) === 'finished' ? 'done   ' : 'pending'} early-stop ${esSetting.name}: ${esGenerations} generation(s) ${twinStops ? 'without' : 'with'} early stopping in ${otherRun} (the main search's arm, trained here: ${arm.why})`,
        );
    }
    return;
  }
  if (retrainOnly) {
    for (const s of settings) if (!interrupted) await runRetrain(collectSearch(s)!);
  } else if (!collectOnly) {
    const t0 = Date.now();
    for (const s of settings) {
      if (interrupted) break;
      const sc = settingConfig(s)!;
      const ok = await runSearchStep(s.name, sc.file, join(discRoot, s.name, 'run'));
      if (!ok || interrupted) continue;
      const c = collectSearch(s)!;
      // the confirm seeds first: they bear on the target; the transfer then
      await runConfirm(c, confirmJobs(c));
      if (!interrupted) await runTransfer(transferJobs(c));
      console.log(`(${((Date.now() - t0) / 60000).toFixed(1)} min so far)`);
    }
    if (effSetting && !interrupted) {
      for (const seed of driver.efficiency.seeds)
        for (const strategy of STRATEGIES) {
          if (interrupted) break;
          const main = journalStatus(join(effDir(effSetting.name, strategy, seed), 'run'))
            ? null
            : prefixHere(effSetting, strategy, seed, false);
          if (main) {
            console.log(
              main.ready
                ? `efficiency ${effSetting.name} ${strategy} seed ${seed}: the first ${main.generations} generations of ${main.runDir} (the setting's own search: the same strategy, seed and config but for generations and final), not run again`
                : `efficiency ${effSetting.name} ${strategy} seed ${seed}: this is the first ${main.generations} generations of ${main.runDir} (the setting's own search: the same strategy, seed and config but for generations and final), which has ${main.have}; run it further (\`${runCommand(effSetting.name)}\`), it is not trained twice`,
            );
            continue;
          }
          setAsideEffElsewhere(effDir(effSetting.name, strategy, seed), `efficiency ${effSetting.name} ${strategy} seed ${seed}`);
          const { file } = effConfig(effSetting, strategy, seed);
          await runSearchStep(
            `efficiency ${effSetting.name} ${strategy} seed ${seed}`,
            file,
            join(effDir(effSetting.name, strategy, seed), 'run'),
          );
        }
    }
    if (esSetting && esFile && !interrupted) {
      const twinStops = twinStopsOf(esSetting)!;
      const arm = mainArmHere(esSetting, esGenerations);
      const have = generationsDone(join(discRoot, esSetting.name, 'run'));
      if (arm.here && have < esGenerations)
        console.log(
          `early-stop ${esSetting.name}: the main search (${twinStops ? 'without early stopping' : 'early stopping on'}) has ${have} of ${esGenerations} generations; the comparison measures the generations both runs have (run the main search further, then --collect-only)`,
        );
      await runSearchStep(
        `early-stop ${esSetting.name} (${twinStops ? 'with' : 'without'} early stopping)`,
        esFile,
        join(esDir(esSetting.name, twinStops), 'run'),
      );
      if (!arm.here && !interrupted) {
        // the main search's arm is not from this machine: train its kind here too, so both arms share one
        console.log(
          `early-stop ${esSetting.name}: the main search's first ${esGenerations} generation(s) are not compared: ${arm.why}; its twin ${twinStops ? 'without' : 'with'} early stopping trains here`,
        );
        await runSearchStep(
          `early-stop ${esSetting.name} (${twinStops ? 'without' : 'with'} early stopping, the main search's arm)`,
          esConfig(esSetting, esGenerations, !twinStops),
          join(esDir(esSetting.name, !twinStops), 'run'),
        );
      }
    }
  }
  // collect: every setting whose config exists (the docs show the pending ones too)
  const shown = SETTINGS.filter((s) => settingNames.includes(s.name) || existsSync(join(discRoot, s.name, 'run')));
  const cs = shown.map(collectSearch).filter((c): c is Collected => c !== null);
  for (const c of cs) {
    collectTransfer(c);
    collectConfirm(c);
  }
  const eff = collectEfficiency();
  const mf = collectMultiFidelity();
  for (const c of cs) c.entry.proxy = proxyInfoOf(join(root, 'proxy', 'summary.json'), studyOf(c.name), c.cfg);
  // the issue's summary shape has one proxy: the first search's own, else its setting's choice in the study (each search's own is in its entry)
  const first = cs
    .map((c) => c.entry.proxy ?? proxyInfoOf(join(root, 'proxy', 'summary.json'), studyOf(c.name), c.cfg, 'choice'))
    .find((p) => p !== null);
  const proxy = first ? { name: first.name, kendallTau: first.kendallTau, ci95: first.ci95, panel: first.panel } : null;
  const summary = {
    commit: provenance().commit,
    proxy,
    searches: cs.map((c) => c.entry),
    efficiency: eff ? { setting: eff.setting, budget: eff.budget, cse: eff.cse, vanilla: eff.vanilla, stats: eff.stats } : null,
    multiFidelity: mf,
    provenance: provenance(),
  };
  writeJson(join(discRoot, 'summary.json'), summary);
  writeDocs(cs, eff, mf);
  console.log(`wrote ${join(discRoot, 'summary.json')} and ${outFile}; ${trained} step(s) run in this call`);
  if (interrupted) process.exit(130);
  if (failures) process.exit(1);
}

await main();
