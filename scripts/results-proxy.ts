/**
 * npm run results:proxy — how well a cheap proxy task ranks losses the way the full training
 * does (issue: "Proxy fidelity, measured"). For each searched setting (S1: FCOS bcls, S2: Faster
 * R-CNN cls; both on the shapes dataset of docs/RESULTS.md, 3 candidate proxies each) and for the
 * demo's proxy (setting `demo`: mode, detector, dataset and proxy task read from
 * configs/search-demo.yaml; its dataset made in <root>/data/ on first use):
 *   - a panel of >= 12 losses of the mode: the default, the published half, the other presets of
 *     the mode, 3 CPV + MOS survivors drawn from random trees with a fixed seed (r1-r3), and
 *     offspring of the presets (one seeded mutation each, CPV + MOS survivors; m1, m2, ...); for a
 *     setting whose search uses another MOS level-1 problem (S1, S2: 'detection'), also 3 random
 *     survivors of CPV + that problem (d1-d3); none hand-picked;
 *   - each panel loss trained at the final-evaluation schedule (cpu-small, on the val split; seed 0,
 *     and seeds 0-2 for the default and the published half);
 *   - each panel loss trained under every candidate proxy (the search's proxy function: a short
 *     training scored on held-out training images), seed 0; seeds 0-2 for three losses;
 *   - per proxy: Kendall tau-b against the full-schedule AP with a bootstrap 95% interval, the
 *     seed-to-seed s.d. next to the panel's spread, and the cost; the MOS score's tau likewise.
 * Every run's result is a JSON file under results/proxy/<setting>/ with its commit, command and
 * environment; docs/PROXY.md is generated from those files.
 *
 * results/proxy/summary.json also records each proxy's identity (detector, mode, dataset spec, the
 * proxy task's fields), by which a search's report finds the τ of its own proxy (src/search/fidelity.ts).
 *
 * Options (`--help` prints them, USAGE below; an unknown option or a stray argument is an error,
 * exit code 2, scripts/cli.ts):
 *          --settings S1,S2,demo (the default; they run in this order)  --collect-only (write
 *          docs/PROXY.md, train nothing)
 *          --plan (list the runs and which are done)  --root DIR (results/)  --out FILE (docs/PROXY.md)
 *          --no-reuse (train every run here: take nothing from a search's final evaluation, below)
 *          --defer-to-search (do not train the full-schedule seeds >= 1 of the default and the
 *          published half while the setting's search has not trained them: its final evaluation
 *          does, and a later call takes them from it; below)
 *          --smoke-iters N, --max-jobs K (test only, below)
 * Resumable: a finished run (its JSON exists) is not trained again; a full-schedule run stopped
 * midway goes on from its last checkpoint (bit-identically); a proxy run starts again. A run that
 * fails for the environment (I/O, data, a bug: isEnvironmentError, as the search judges it) is not
 * recorded: the study stops there with exit code 1, naming the run and the cause, and the same
 * command goes on once it is fixed (a file would count the run as finished, with a result that is
 * not the loss's).
 * Reuse of a search's final evaluation: the setting's discovery search (scripts/results-discovery.ts,
 * its journal <root>/discovery/<setting>/run/journal.sqlite, read-only) retrains the default and the
 * published half at the same schedule (cpu-small, val split, same dataset) with seeds 0-2. A pending
 * full-schedule run of loss L at seed k >= 1 is taken from that journal's final record of L at seed k
 * when that run finished 'ok' or 'diverged' (a divergence is a property of the loss; a 'failed' run
 * may be the environment or a limit, e.g. the search's own time limit: it is trained here), and only
 * when the two pipelines are proven to train L identically here: this study's own seed-0 run of L
 * finished ok, the journal's final seed-0 run of L finished ok with the very same AP (===, bit for
 * bit), both seed-0 runs and the seed-k run trained with the same libtorch thread count, and the
 * journal's run and session provenance records the same CPU, libtorch and BLAS (and thread count
 * where it records one: the search's coordinator does not load libtorch, so its own thread count is
 * null) as this study's seed-0 file; the journal's final task must be the detector's cpu-small
 * schedule on all training images. The file keeps the record's status, AP and time; its `provenance` is the journal's record
 * of the search process that trained it (the run's start, or the resumed session during which the
 * record was written; when that cannot be told, the start's, with every session's commit listed in
 * `reusedFrom.sessions`), and `reusedFrom` names the journal, the record's key, the seed-0 AP both
 * measured, the thread count and the process that copied it (`copiedBy`: commit, command).
 * Checked before each such run (the search may finish its final runs while this study runs);
 * otherwise the run is trained here, with a line saying why when the journal exists (or, when the
 * search has not trained its final seed 0 of L yet, that it may provide the run later).
 * `--plan` marks such runs "reusable from <journal>" (every message names the journal by its path
 * under --root); `--collect-only` is unaffected.
 * Order: run by run so that a partial result is already useful: for each panel loss its proxy runs,
 * then its full run; then the extra seeds.
 */
import { parseCli } from './cli.js';
import { tenthsProgress } from './progress.js';
import { envDiffs, fileMachineKey, parseMachineLines } from './environment.js';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useTorchBackend } from '../src/backend/index.js';
import { makeDataset } from '../src/data/index.js';
import { trainDetector, type DetectorKind } from '../src/detect/index.js';
import { DETECTORS } from '../src/detect/kinds.js';
import { defaultLossOf, hashOf, loadConfig, type SearchConfig } from '../src/search/config.js';
import { publishedPresetOf } from '../src/search/final.js';
import { FINGERPRINT_VERSION } from '../src/search/fingerprint.js';
import { Journal, JOURNAL_FILE, type StoredResult } from '../src/search/journal.js';
import type { DatasetSpec, ProxyIdentity } from '../src/search/fidelity.js';
import { detectorProxy, isEnvironmentError } from '../src/search/stages/detector.js';
import {
  convergenceChecks,
  fingerprint,
  parseExpr,
  PRESETS,
  printOfficial,
  mutate,
  randomTree,
  resolveLoss,
  type Expr,
  type Mode,
} from '../src/loss/index.js';
import { mos1 } from '../src/search/stages/mos.js';
import type { Mos1Problem } from '../src/search/types.js';
import { kendallTau, mixSeed } from '../src/search/stats.js';
import { Rng } from '../src/util/rng.js';
import { machineKeyText, provenance, type Provenance } from '../src/util/provenance.js';
import { MIN_CHOICE_PANEL } from './discovery-proxy.js';

const USAGE = `usage: npm run results:proxy -- [options]   (or: npx tsx scripts/results-proxy.ts [options])
The proxy-fidelity study: trains a panel of losses under each candidate proxy and at the full
schedule (hours of training; resumable), then writes docs/PROXY.md and <root>/proxy/summary.json.

Options:
  --settings S1,S2,demo  the settings to run, in this order (default: S1,S2,demo)
  --collect-only         write docs/PROXY.md and summary.json from the finished runs, train nothing
  --plan                 list the runs and which are done, train nothing
  --root DIR             results root (default: results)
  --out FILE             the generated page (default: docs/PROXY.md)
  --no-reuse             train every run here: take nothing from a search's final evaluation
  --defer-to-search      leave the full-schedule seeds >= 1 of the default and the published half
                         to the setting's search while it has not trained them (needs reuse)
  --smoke-iters N        test only: train every run for N iterations (needs --root other than results)
  --max-jobs K           test only: stop after K runs
  -h, --help             print this and exit`;
const cli = parseCli({
  options: ['settings', 'collect-only', 'plan', 'root', 'out', 'no-reuse', 'defer-to-search', 'smoke-iters', 'max-jobs'],
  valued: ['settings', 'root', 'out', 'smoke-iters', 'max-jobs'],
  hidden: ['smoke-iters', 'max-jobs'],
  usage: USAGE,
});
function arg(name: string, def: string): string {
  return cli.value(name, def);
}
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = arg('root', 'results');
const outFile = arg('out', 'docs/PROXY.md');
const collectOnly = cli.has('collect-only');
const planOnly = cli.has('plan');
const settingNames = arg('settings', 'S1,S2,demo').split(',');
/** Take seeds 1-2 of a full-schedule run from the setting's search's final evaluation when proven identical (see the header). */
const reuse = !cli.has('no-reuse');
/**
 * --defer-to-search: leave the full-schedule seeds >= 1 of the default and the published half to the
 * setting's search, whose final evaluation trains them anyway (so that no run is trained twice):
 * such a run is not trained while the search has not trained it yet (no journal, or no final record
 * of that loss at seed 0 or at that seed); run the study again after the search to take it (above).
 */
const deferToSearch = cli.has('defer-to-search');
/**
 * Test only (test/scripts/results_proxy.test.ts): --smoke-iters N trains every run for N
 * iterations (its record says `smoke: true`) and --max-jobs K stops after K runs (trained or
 * taken from a search's final evaluation). Refused
 * without an explicit --root other than results/, so that no smoke record lands among real ones.
 */
const smokeIters = cli.has('smoke-iters') ? Number(arg('smoke-iters', '')) : 0;
const maxJobs = cli.has('max-jobs') ? Number(arg('max-jobs', '')) : Infinity;

interface Setting {
  name: string;
  detector: DetectorKind;
  mode: Mode;
  defaultLoss: string;
  published: string;
  /**
   * The MOS level-1 problem the setting's search config uses when it is not the original one
   * (S1, configs/search.yaml, and S2, configs/discovery-s2.yaml, use the 'detection' problem,
   * docs/SEARCH.md). The panel then also
   * holds survivors of that filter, and the table its score.
   */
  searchMos?: Mos1Problem;
  /**
   * The search config whose filters the panel is also judged by (S1: configs/search.yaml, S2:
   * configs/discovery-s2.yaml): CPV with its options and MOS level 1 at its threshold. Losses that
   * pass them are what that search's proxy gets to rank; τ-b over them is reported too.
   */
  searchConfig?: string;
  /** The generated dataset (made in dataDir on first use); both the proxies and the full schedule train on it. */
  dataset: DatasetSpec;
  dataDir: string;
  proxies: Proxy[];
}

/**
 * A candidate proxy: a combination of input size, iterations, train subset and preset. The fields
 * left out take the search's proxy-task defaults: the preset's warm-up (at most `iters`), a
 * held-out fifth of the train split scored (valSubset 0), batch 8 and lr 0.02 (cpu-small's).
 */
interface Proxy {
  name: string;
  inputSize: number;
  iters: number;
  /** Training images (0: all but the held-out fifth of the train split). */
  trainSubset: number;
  preset: 'cpu-small' | 'tiny';
  /** Held-out training images scored (0: the fifth after the training images). */
  valSubset?: number;
  warmupIters?: number;
  batch?: number;
  lr?: number;
}
const PROXIES: Proxy[] = [
  { name: 'p400-128', inputSize: 128, iters: 400, trainSubset: 0, preset: 'cpu-small' },
  { name: 'p800-96', inputSize: 96, iters: 800, trainSubset: 0, preset: 'cpu-small' },
  { name: 'p800-128', inputSize: 128, iters: 800, trainSubset: 0, preset: 'cpu-small' },
];

/** The shapes dataset of docs/RESULTS.md (S1, S2). */
const SHAPES: DatasetSpec = { kind: 'shapes', images: 3000, size: 128, seed: 7, valFraction: 1 / 6 };
const SHAPES_DIR = join(root, 'data', 'shapes-128');

/**
 * The demo's setting (`search --demo`, configs/search-demo.yaml, read through the search's own
 * config loader): its mode, detector, dataset and proxy task, so that the run's report can quote
 * the τ measured here (src/search/fidelity.ts matches a run to a setting by this identity).
 */
function demoSetting(): Setting {
  const c = loadConfig({ demo: true });
  const t = c.proxy.task;
  if (t.kind !== 'detector' || !c.dataset)
    throw new Error('configs/search-demo.yaml: the demo setting needs a detector proxy task and a dataset spec');
  if (t.preset === 'r50-paper') throw new Error('configs/search-demo.yaml: proxy.task.preset r50-paper is not a CPU proxy');
  const sched = DETECTORS[t.detector].schedules[t.preset];
  const inputSize = t.inputSize ?? sched.inputSize;
  return {
    name: 'demo',
    detector: t.detector,
    mode: c.mode,
    defaultLoss: defaultLossOf(c),
    published: publishedPresetOf(c.mode, t.detector),
    dataset: { ...c.dataset },
    dataDir: join(root, 'data', basename(t.dataDir)),
    proxies: [
      {
        name: `p${t.iters}-${inputSize}${t.trainSubset ? `-n${t.trainSubset}` : ''}`,
        inputSize,
        iters: t.iters,
        trainSubset: t.trainSubset,
        preset: t.preset,
        valSubset: t.valSubset,
        warmupIters: Math.min(t.warmupIters ?? sched.warmupIters, t.iters),
        batch: t.batch,
        lr: t.lr,
      },
    ],
  };
}

/** The settings, in the order they run; each built when chosen (the demo's reads its config). */
const SETTINGS: Record<string, () => Setting> = {
  S1: () => ({
    name: 'S1',
    detector: 'fcos',
    mode: 'bcls',
    defaultLoss: 'focal',
    published: 'cse-b-cls',
    searchMos: 'detection',
    searchConfig: 'configs/search.yaml',
    dataset: SHAPES,
    dataDir: SHAPES_DIR,
    proxies: PROXIES,
  }),
  S2: () => ({
    name: 'S2',
    detector: 'faster-rcnn',
    mode: 'cls',
    defaultLoss: 'ce',
    published: 'cse-a-cls',
    searchMos: 'detection',
    searchConfig: 'configs/discovery-s2.yaml',
    dataset: SHAPES,
    dataDir: SHAPES_DIR,
    proxies: PROXIES,
  }),
  demo: demoSetting,
};

/** A proxy's identity as the search's report looks it up (src/search/fidelity.ts): every field that defines its training. */
function identityOf(s: Setting, p: Proxy): ProxyIdentity {
  const sched = DETECTORS[s.detector].schedules[p.preset];
  return {
    detector: s.detector,
    mode: s.mode,
    dataset: s.dataset,
    task: {
      inputSize: p.inputSize,
      iters: p.iters,
      warmupIters: Math.min(p.warmupIters ?? sched.warmupIters, p.iters),
      trainSubset: p.trainSubset,
      valSubset: p.valSubset ?? 0,
      preset: p.preset,
      batch: p.batch ?? 8,
      lr: p.lr ?? 0.02,
    },
  };
}
const PANEL_SIZE = 12;
/**
 * Random CPV + MOS survivors in the panel. The first ones trained (seed 2026) scored AP ≈ 0 at
 * every fidelity: random survivors only tell working from broken losses. The rest of the panel is
 * offspring of the presets (one mutation each), the near-good losses a search must rank.
 */
const RANDOM_SURVIVORS = 3;
const PANEL_SEED = 2026;
const SEEDS = [0, 1, 2];

/** The panel of a setting: presets of the mode first, then CPV + MOS-1 survivors of seeded random trees. */
function panelOf(s: Setting): PanelLoss[] {
  const mosCfg = { samples: 64, classes: 4, steps: 200, lr: 0.05 }; // configs/search.yaml's level 1
  const mosSeed = mixSeed(0, 'mos1');
  const score = (text: string) => {
    const r = mos1(s.mode, parseExpr(s.mode, text), mosCfg, mosSeed);
    return r.status === 'ok' ? r.score : 0;
  };
  const searchScore = (text: string) => {
    if (!s.searchMos) return null;
    const r = mos1(s.mode, parseExpr(s.mode, text), { ...mosCfg, problem: s.searchMos }, mosSeed);
    return r.status === 'ok' ? r.score : 0;
  };
  const presets = Object.entries(PRESETS).filter(([, p]) => p.mode === s.mode && p.text);
  const out: PanelLoss[] = presets.map(([name, p]) => ({
    name,
    loss: p.text!,
    role: name === s.defaultLoss ? 'default' : name === s.published ? 'published' : 'preset',
    mos1: score(p.text!),
  }));
  const seen = new Set(out.map((p) => fingerprint(s.mode, parseExpr(s.mode, p.loss))));
  const threshold = 0.9 * out.find((p) => p.role === 'default')!.mos1;
  const rng = new Rng(mixSeed(PANEL_SEED, s.name));
  // draws until `want` candidates pass: CPV, a new fingerprint, the MOS score at the bar; `next`
  // gets the number accepted so far (the offspring's parents go in turn)
  const collect = (want: number, maxTries: number, what: string, next: (accepted: number) => Expr, pass: (text: string) => boolean) => {
    const texts: string[] = [];
    for (let tries = 0; texts.length < want; tries++) {
      if (tries > maxTries) throw new Error(`${s.name}: fewer than ${want} ${what} after ${tries} draws`);
      const e = next(texts.length);
      if (!convergenceChecks(s.mode, e).pass) continue;
      const fp = fingerprint(s.mode, e);
      if (seen.has(fp)) continue;
      seen.add(fp);
      const text = printOfficial(e);
      if (pass(text)) texts.push(text);
    }
    return texts;
  };
  const tree = (r: Rng) => () => randomTree(s.mode, r, { minDepth: 2, maxDepth: 6, maxSize: 40 });
  const passes = (text: string) => score(text) >= threshold;
  collect(RANDOM_SURVIVORS, 5_000_000, 'random survivors', tree(rng), passes).forEach((text, i) =>
    out.push({ name: `r${i + 1}`, loss: text, role: 'survivor', mos1: score(text) }),
  );
  // offspring of the presets: one mutation of the search's own operator (src/loss/random.ts),
  // parents in turn, kept when they pass CPV and MOS-1 like a search's offspring would
  const parents = presets.map(([, p]) => parseExpr(s.mode, p.text!));
  const mrng = new Rng(mixSeed(PANEL_SEED, `${s.name}/offspring`));
  const mutant = (j: number) => mutate(s.mode, parents[j % parents.length]!, mrng, { maxDepth: 8, maxSize: 40 });
  collect(PANEL_SIZE - out.length, 1_000_000, 'panel losses', mutant, passes).forEach((text, i) =>
    out.push({ name: `m${i + 1}`, loss: text, role: 'offspring', mos1: score(text) }),
  );
  // survivors of the search's own filter, where it differs (S1, S2: CPV + the detection problem)
  if (s.searchMos) {
    const bar = 0.9 * searchScore(out.find((p) => p.role === 'default')!.loss)!;
    const srng = new Rng(mixSeed(PANEL_SEED, `${s.name}/${s.searchMos}`));
    collect(RANDOM_SURVIVORS, 20_000_000, `${s.searchMos} survivors`, tree(srng), (text) => searchScore(text)! >= bar).forEach((text, i) =>
      out.push({ name: `d${i + 1}`, loss: text, role: 'survivor', mos1: score(text) }),
    );
  }
  for (const p of out) p.mosSearch = searchScore(p.loss);
  // the search's own filters, from its config (never used to draw the panel: the panel stays as it was)
  if (s.searchConfig) {
    const c = loadConfig({ file: join(REPO, s.searchConfig) });
    const m = c.mos.level1;
    const same =
      c.seed === 0 && m.samples === mosCfg.samples && m.classes === mosCfg.classes && m.steps === mosCfg.steps && m.lr === mosCfg.lr; // the panel's MOS seed is seed 0's
    if (c.mode !== s.mode || (m.problem ?? 'balanced') !== (s.searchMos ?? 'balanced') || !same)
      throw new Error(
        `${s.searchConfig}: mode ${c.mode}, MOS level 1 ${JSON.stringify(m)}; the ${s.name} setting scores the panel with ${s.mode}, ${s.searchMos}, ${JSON.stringify(mosCfg)}`,
      );
    const bar = m.threshold * out.find((p) => p.role === 'default')!.mosSearch!; // scored just above
    for (const p of out) {
      const cpv = convergenceChecks(s.mode, parseExpr(s.mode, p.loss), { saturating: c.cpv.saturating === true });
      p.searchFilter = !cpv.pass ? `CPV ${cpv.failed}` : p.mosSearch! < bar ? `MOS ${p.mosSearch!.toFixed(2)} < ${bar.toFixed(2)}` : null;
    }
  }
  return out;
}

interface PanelLoss {
  name: string;
  loss: string;
  role: string;
  /** MOS level 1, the original problem (the panel's filter for r* and m*). */
  mos1: number;
  /** MOS level 1 with the setting's searchMos problem (null: none). */
  mosSearch?: number | null;
  /** Where the setting has a search config: null when the loss passes its filters, else which one stops it. */
  searchFilter?: string | null;
}

interface Job {
  setting: Setting;
  kind: 'full' | 'proxy';
  proxy?: Proxy;
  lossName: string;
  loss: string;
  role: string;
  mos1: number;
  mosSearch: number | null;
  searchFilter?: string | null;
  seed: number;
  file: string;
}

interface RunRecord {
  setting: string;
  detector: string;
  mode: string;
  kind: 'full' | 'proxy';
  proxy: Proxy | null;
  lossName: string;
  loss: string;
  role: string;
  mos1: number;
  seed: number;
  status: string;
  reason?: string;
  AP: number | null;
  AP50: number | null;
  seconds: number;
  provenance: ReturnType<typeof provenance>;
  /** A test's run (--smoke-iters), never a result. */
  smoke?: boolean;
  /**
   * Set when the run was not trained here but taken from the setting's search's final evaluation
   * (see the header): its journal (relative to the results root), the record's key, the seed-0 AP
   * that this study and the search both measured for the loss (bit for bit), the libtorch thread
   * count the run trained with, the process that copied it here (its commit and command; the
   * file's `provenance` is the search's, of the process that trained it), and which of the
   * search's sessions that was: `session` when the record's time tells it, else (a resumed search
   * whose sessions cannot be told apart) `sessions`, every session's start and commit.
   */
  reusedFrom?: {
    journal: string;
    key: string;
    seed0AP: number;
    threads: number;
    copiedBy: { commit: string | null; command: string };
    session?: { index: number; startedAt: string; resumed: boolean };
    sessions?: { startedAt: string; commit: string | null }[];
  };
}

function jobsOf(s: Setting): Job[] {
  const panel = panelOf(s);
  const dir = join(root, 'proxy', s.name);
  const file = (kind: string, name: string, seed: number) => join(dir, kind, `${name}-seed${seed}.json`);
  const jobs: Job[] = [];
  const add = (p: (typeof panel)[number], kind: 'full' | 'proxy', seed: number, proxy?: Proxy) =>
    jobs.push({
      setting: s,
      kind,
      proxy,
      lossName: p.name,
      loss: p.loss,
      role: p.role,
      mos1: p.mos1,
      mosSearch: p.mosSearch ?? null,
      ...(p.searchFilter !== undefined ? { searchFilter: p.searchFilter } : {}),
      seed,
      file: file(kind === 'full' ? 'full' : proxy!.name, p.name, seed),
    });
  // seed 0 of everything, loss by loss (cheapest proxy first); the original filter's random
  // survivors last: they scored AP ≈ 0 everywhere so far
  // the search filter's survivors d* right after the presets (do the candidates a search proxies
  // train at all?), then the offspring, then the original filter's r*
  const survivors = panel.filter((p) => p.role === 'survivor');
  const order = [
    ...panel.filter((p) => p.role !== 'survivor' && p.role !== 'offspring'),
    ...survivors.filter((p) => p.name.startsWith('d')),
    ...panel.filter((p) => p.role === 'offspring'),
    ...survivors.filter((p) => !p.name.startsWith('d')),
  ];
  for (const p of order) {
    for (const proxy of s.proxies) add(p, 'proxy', 0, proxy);
    add(p, 'full', 0);
  }
  // the seed spread: the proxies on three losses (default, published, first offspring), the full schedule on default and published
  const three = [
    panel.find((p) => p.role === 'default')!,
    panel.find((p) => p.role === 'published')!,
    panel.find((p) => p.role === 'offspring')!,
  ];
  for (const seed of SEEDS.slice(1)) for (const p of three) for (const proxy of s.proxies) add(p, 'proxy', seed, proxy);
  for (const seed of SEEDS.slice(1)) for (const p of three.slice(0, 2)) add(p, 'full', seed);
  return jobs;
}

/** The fields of a run's record that describe the job. */
function baseOf(j: Job) {
  const s = j.setting;
  return {
    setting: s.name,
    detector: s.detector,
    mode: s.mode,
    kind: j.kind,
    proxy: j.proxy ?? null,
    lossName: j.lossName,
    loss: j.loss,
    role: j.role,
    mos1: j.mos1,
    seed: j.seed,
  };
}

async function runJob(j: Job): Promise<RunRecord> {
  const s = j.setting;
  const base = baseOf(j);
  const lossField = s.mode === 'reg' ? { regLoss: j.loss } : { clsLoss: j.loss };
  if (j.kind === 'full') {
    const out = join(root, 'proxy-runs', s.name, `${j.lossName}-seed${j.seed}`);
    const t0 = Date.now();
    const r = await trainDetector(
      {
        detector: s.detector,
        data: s.dataDir,
        out,
        preset: 'cpu-small',
        seed: j.seed,
        ...lossField,
        ...(smokeIters ? { iters: smokeIters } : {}),
        resume: existsSync(join(out, 'config.json')),
      },
      {
        onNotice: (m) => console.log(`    ${m}`),
        onProgress: tenthsProgress(),
      },
    );
    // a failure of the environment (I/O, data, a bug: src/search/stages/detector.ts) says nothing of the loss
    const status = r.status === 'failed' && isEnvironmentError(r.error) ? 'error' : r.status;
    return {
      ...base,
      status,
      ...(r.reason ? { reason: r.reason } : {}),
      AP: r.metrics?.AP ?? null,
      AP50: r.metrics?.AP50 ?? null,
      seconds: (Date.now() - t0) / 1000,
      provenance: provenance(),
      ...(smokeIters ? { smoke: true } : {}),
    };
  }
  const p = j.proxy!;
  const r = await detectorProxy({
    mode: s.mode,
    loss: j.loss,
    config: {
      kind: 'detector',
      detector: s.detector,
      dataDir: s.dataDir,
      iters: smokeIters || p.iters,
      trainSubset: p.trainSubset,
      valSubset: p.valSubset ?? 0,
      batch: p.batch ?? 8,
      lr: p.lr ?? 0.02,
      timeoutSeconds: 0,
      preset: p.preset,
      inputSize: p.inputSize,
      ...(p.warmupIters !== undefined ? { warmupIters: p.warmupIters } : {}),
    },
    seed: j.seed,
    split: 'proxy',
  });
  return {
    ...base,
    status: r.status,
    ...(r.error ? { reason: r.error } : {}),
    AP: r.status === 'ok' ? r.ap : null,
    AP50: r.status === 'ok' ? r.ap50 : null,
    seconds: r.seconds,
    provenance: provenance(),
    ...(smokeIters ? { smoke: true } : {}),
  };
}

// ---------------------------------------------------------------- reuse of a search's final evaluation

/** The setting's discovery search's journal, relative to the results root (where scripts/results-discovery.ts runs it). */
const journalOf = (s: Setting) => join('discovery', s.name, 'run', JOURNAL_FILE);

/** One session of a search (its start or a resume) as its journal's meta 'sessions' records it (src/search/resume.ts). */
interface SearchSession {
  startedAt: string;
  resumed?: boolean;
  provenance?: Provenance | null;
}

/** What the reuse check needs of a search journal (read-only): its final records, the key of each final seed, its environments. */
interface SearchFinal {
  /** The journal, relative to the results root (as `reusedFrom.journal` records it). */
  journal: string;
  /** The journal's path under --root, as every message names it. */
  shown: string;
  /** Why nothing of it can be reused (unreadable, another task); null when it can. */
  unusable: string | null;
  /** The result key of the final runs of each seed of its config's final.seeds. */
  keys: Map<number, string>;
  /** Its stage-'final' records. */
  records: StoredResult[];
  /** The environment of the run's start and of each session (start and resumes). */
  envs: Provenance['env'][];
  /** The provenance of the run's start (the journal's meta 'provenance'; else its first session's). */
  start: Provenance | null;
  /** Its sessions (start and resumes), in order. */
  sessions: SearchSession[];
  /** Whether its final evaluation runs at all, and retrains the published half. */
  enabled: boolean;
  published: boolean;
}

/** The setting's search journal, read now (null: there is none). */
function readSearchFinal(s: Setting): SearchFinal | null {
  const journal = journalOf(s);
  const dir = dirname(join(root, journal));
  if (!Journal.exists(dir)) return null;
  const out: SearchFinal = {
    journal,
    shown: join(root, journal),
    unusable: null,
    keys: new Map(),
    records: [],
    envs: [],
    start: null,
    sessions: [],
    enabled: true,
    published: true,
  };
  let jn: Journal;
  try {
    jn = Journal.open(dir, { readonly: true });
  } catch (e) {
    return { ...out, unusable: `it cannot be read (${(e as Error).message})` };
  }
  try {
    const cfg = JSON.parse(jn.getMeta('config') ?? 'null') as SearchConfig | null;
    const t = cfg?.final?.task;
    // the study's full schedule: trainDetector with the detector's cpu-small preset on all training images, scored on the val split
    const sched = DETECTORS[s.detector].schedules['cpu-small'];
    const same =
      cfg?.mode === s.mode &&
      t?.kind === 'detector' &&
      t.detector === s.detector &&
      t.preset === 'cpu-small' &&
      t.iters === sched.iters &&
      t.batch === sched.batch &&
      t.lr === sched.lr &&
      (t.inputSize ?? sched.inputSize) === sched.inputSize &&
      (t.warmupIters ?? sched.warmupIters) === sched.warmupIters &&
      t.trainSubset === 0 &&
      (t.valSubset ?? 0) === 0;
    if (!cfg || !t || !same)
      return {
        ...out,
        unusable: `its final task is not this study's full schedule (${s.detector} cpu-small, ${s.mode}): ${JSON.stringify(t ?? null)}`,
      };
    for (const seed of cfg.final.seeds)
      out.keys.set(seed, hashOf({ stage: 'final', mode: cfg.mode, seed, config: t, fp: FINGERPRINT_VERSION }));
    out.enabled = cfg.final.enabled !== false;
    out.published = cfg.final.published !== false;
    out.records = jn.allResults().filter((r) => r.stage === 'final');
    const run = JSON.parse(jn.getMeta('provenance') ?? 'null') as Provenance | null;
    const sessions = JSON.parse(jn.getMeta('sessions') ?? '[]') as SearchSession[];
    out.sessions = Array.isArray(sessions) ? sessions : [];
    out.start = run ?? out.sessions[0]?.provenance ?? null;
    out.envs = [run, ...out.sessions.map((x) => x.provenance ?? null)].filter((p): p is Provenance => !!p?.env).map((p) => p.env);
    if (!out.envs.length) return { ...out, unusable: 'it records no provenance (an older journal)' };
    return out;
  } catch (e) {
    return { ...out, unusable: `it cannot be read (${(e as Error).message})` };
  } finally {
    jn.close();
  }
}

/** A loss text in the official format (the journal's final rows print the presets so), or null when it does not parse. */
function officialText(mode: Mode, text: string): string | null {
  try {
    return printOfficial(parseExpr(mode, text));
  } catch {
    return null;
  }
}

/**
 * The reusable statuses: a run that finished ok, or diverged (a property of the loss). Not
 * 'failed': the detector stage reports its own timeout so ("timed out after N s",
 * src/search/stages/detector.ts), and a failure may be the environment or a limit, not the loss.
 */
const REUSED_STATUSES = ['ok', 'diverged'];

/**
 * The search's record of the process that trained a final record: the session (start or resume)
 * during which the record was written (its finishedAt within the session's span, from its start to
 * the next one's), or, when a resumed search's sessions cannot be told apart by time, the run
 * start's provenance with every session's commit listed.
 */
function trainerOf(
  sf: SearchFinal,
  rk: StoredResult,
): Pick<NonNullable<RunRecord['reusedFrom']>, 'session' | 'sessions'> & {
  provenance: Provenance;
} {
  const ss = sf.sessions;
  const start = sf.start!; // readSearchFinal: a journal without provenance is unusable
  if (ss.length <= 1) return { provenance: start };
  const t = typeof rk.finishedAt === 'number' && Number.isFinite(rk.finishedAt) ? rk.finishedAt : NaN;
  const starts = ss.map((x) => Date.parse(x.startedAt));
  if (Number.isFinite(t) && starts.every((x, i) => Number.isFinite(x) && (i === 0 || x >= starts[i - 1]!)) && t >= starts[0]!) {
    let i = 0;
    while (i + 1 < ss.length && starts[i + 1]! <= t) i++;
    const p = ss[i]!.provenance;
    if (p) return { provenance: p, session: { index: i, startedAt: ss[i]!.startedAt, resumed: !!ss[i]!.resumed } };
  }
  return { provenance: start, sessions: ss.map((x) => ({ startedAt: x.startedAt, commit: x.provenance?.commit ?? null })) };
}

/**
 * --defer-to-search: whether a pending run is left to the setting's search (not trained now): a
 * full-schedule seed >= 1 of the default or the published half that the search has not trained yet
 * (no journal, or `pending` in reuseOf: no final record of the loss at seed 0 or at that seed).
 */
function deferred(j: Job, sf: SearchFinal | null, r: { rec: RunRecord | null; pending?: boolean } | null): boolean {
  if (!deferToSearch || j.kind !== 'full' || j.seed < 1 || (j.role !== 'default' && j.role !== 'published') || r?.rec) return false;
  return sf === null || !!r?.pending;
}

/**
 * Whether a pending full-schedule run (seed >= 1) is taken from the setting's search's final
 * evaluation (see the header): its record when it is, and the line that says why it is, or why
 * not (null when there is nothing to say: no journal); `pending` when the search has not trained
 * its final seed 0 of the loss yet (it may provide the run later).
 */
function reuseOf(j: Job, sf: SearchFinal | null): { rec: RunRecord | null; why: string | null; pending?: boolean } {
  const none = { rec: null, why: null };
  if (j.kind !== 'full' || j.seed < 1 || !sf) return none;
  const s = j.setting;
  const not = (why: string) => ({ rec: null, why: `not taken from ${sf.shown}: ${why}; trained here` });
  if (sf.unusable) return not(sf.unusable);
  if (!sf.enabled) return not('its final evaluation is off (final.enabled: false)');
  if (j.role === 'published' && !sf.published)
    return not('its final evaluation does not retrain the published half (final.published: false)');
  for (const seed of [0, j.seed]) if (!sf.keys.has(seed)) return not(`its final evaluation has no seed ${seed} (final.seeds)`);
  const target = officialText(s.mode, j.loss);
  const at = (seed: number) => {
    const key = sf.keys.get(seed);
    const recs = sf.records.filter(
      (r) => r.key === key && (r.loss === j.loss || (target !== null && officialText(s.mode, r.loss) === target)),
    );
    // one run per loss and seed (two that disagree would be no evidence of anything)
    return recs.every((r) => r.status === recs[0]!.status && r.score === recs[0]!.score) ? (recs[0] ?? null) : null;
  };
  const r0 = at(0);
  // the search will train it: say so, so that nobody trains here what the search provides anyway
  if (!r0)
    return {
      rec: null,
      why: `the search ${sf.shown} has not trained its final seed 0 of ${j.lossName} yet: once it has, this run may be taken from it; running now trains it here`,
      pending: true,
    };
  const file0 = join(dirname(j.file), `${j.lossName}-seed0.json`);
  const own = existsSync(file0) ? (JSON.parse(readFileSync(file0, 'utf8')) as RunRecord) : null;
  if (!own || own.loss !== j.loss || own.status !== 'ok' || own.AP === null || own.smoke || !own.provenance?.env)
    return not(`this study has no finished seed-0 run of ${j.lossName} to compare with the search's (AP ${r0.score})`);
  const aps = `seed-0 AP ${own.AP} here, ${r0.score} in the search`;
  const threads = own.provenance.env.threads;
  const diffs: string[] = [];
  if (r0.status !== 'ok' || r0.score !== own.AP)
    diffs.push(r0.status !== 'ok' ? `the search's seed-0 run ${r0.status}` : 'not bit-identical');
  if (r0.metrics.threads !== threads)
    diffs.push(`seed 0 trained with ${threads} threads here, ${r0.metrics.threads ?? 'an unrecorded count'} in the search`);
  for (const env of sf.envs) diffs.push(...envDiffs(own.provenance.env, env));
  if (diffs.length) return not(`${aps} (${[...new Set(diffs)].join('; ')})`);
  const rk = at(j.seed);
  const same = `the seed-0 runs of ${j.lossName} here and in the search have the same AP, ${own.AP}, bit for bit`;
  if (!rk) return { ...not(`${same}, but the search has no final seed-${j.seed} run of it yet`), pending: true };
  if (!REUSED_STATUSES.includes(rk.status))
    return not(
      `${same}, but its seed-${j.seed} run ended '${rk.status}'${rk.reason ? ` (${rk.reason})` : ''} (only ok or diverged runs are taken)`,
    );
  if (rk.metrics.threads !== threads)
    return not(
      `${same}, but its seed-${j.seed} run trained with ${rk.metrics.threads ?? 'an unrecorded count of'} threads, seed 0 with ${threads}`,
    );
  const ok = rk.status === 'ok' && typeof rk.score === 'number';
  const { provenance: trainer, ...session } = trainerOf(sf, rk);
  const copier = provenance();
  const rec: RunRecord = {
    ...baseOf(j),
    status: rk.status,
    ...(rk.reason ? { reason: rk.reason } : {}),
    AP: ok ? rk.score : null,
    AP50: ok ? (rk.metrics.ap50 ?? null) : null,
    seconds: rk.seconds,
    provenance: trainer,
    reusedFrom: {
      journal: sf.journal,
      key: rk.key,
      seed0AP: own.AP,
      threads: threads!,
      copiedBy: { commit: copier.commit, command: copier.command },
      ...session,
    },
  };
  return {
    rec,
    why: `taken from the ${s.name} search's final evaluation (${sf.shown}, key ${rk.key}), not trained here: valid because ${same}, with ${threads} threads on the same CPU, libtorch and BLAS`,
  };
}

// ---------------------------------------------------------------- statistics and the report

function bootstrapTau(x: number[], y: number[], reps = 2000, seed = 7): [number, number] | null {
  const rng = new Rng(seed);
  const taus: number[] = [];
  for (let r = 0; r < reps; r++) {
    const idx = x.map(() => rng.int(0, x.length - 1));
    const t = kendallTau(
      idx.map((i) => x[i]!),
      idx.map((i) => y[i]!),
    );
    if (t !== null) taus.push(t);
  }
  if (taus.length < reps / 2) return null;
  taus.sort((a, b) => a - b);
  return [taus[Math.floor(0.025 * taus.length)]!, taus[Math.min(taus.length - 1, Math.floor(0.975 * taus.length))]!];
}

const meanOf = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
/** Root mean square (NaN for none): the pooled seed s.d. over several losses' s.d.s. */
const rmsOf = (a: number[]) => (a.length ? Math.sqrt(meanOf(a.map((v) => v * v))) : NaN);
const sdOf = (a: number[]) => (a.length < 2 ? NaN : Math.sqrt(a.reduce((x, y) => x + (y - meanOf(a)) ** 2, 0) / (a.length - 1)));
/** A gap as the table shows it: '+1.5 (1.9)', AP ×100 and in seed s.d. */
const gapCell = (gap: number | null, inSd: number | null) =>
  gap === null
    ? '—'
    : `${gap < 0 ? '−' : '+'}${Math.abs(100 * gap).toFixed(1)}${inSd !== null && Number.isFinite(inSd) ? ` (${inSd < 0 ? '−' : ''}${Math.abs(inSd).toFixed(1)})` : ''}`;
/** The published half's AP minus the default's, each the mean over its runs (null: either has none). */
function gapOf(s: Pick<Setting, 'defaultLoss' | 'published'>, bySeed: Map<string, number[]>): number | null {
  const d = bySeed.get(s.defaultLoss);
  const p = bySeed.get(s.published);
  return d?.length && p?.length ? meanOf(p) - meanOf(d) : null;
}
const f1 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : (100 * x).toFixed(1));
const f2 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(2));

/**
 * The time the runs left (this one included) will take: each at the mean time of the runs on disk
 * of its setting and kind (the full schedule, or its proxy). A run that --defer-to-search would
 * leave to the search is not counted; a kind with no run on disk yet makes the estimate a lower bound.
 */
function etaText(left: Job[], recs: RunRecord[]): string {
  const key = (setting: string, kind: string, proxy: string | undefined) => `${setting}|${kind === 'full' ? 'full' : proxy}`;
  const times = new Map<string, number[]>();
  for (const r of recs) {
    if (!(r.seconds >= 0)) continue;
    const k = key(r.setting, r.kind, r.proxy?.name);
    times.set(k, [...(times.get(k) ?? []), r.seconds]);
  }
  let sec = 0;
  let untimed = 0;
  for (const j of left) {
    if (deferred(j, null, null)) continue; // left to the search (with no search result at hand, as deferred() decides)
    const t = times.get(key(j.setting.name, j.kind, j.proxy?.name));
    if (t?.length) sec += t.reduce((a, b) => a + b, 0) / t.length;
    else untimed++;
  }
  const h = sec >= 5400 ? `${(sec / 3600).toFixed(1)} h` : `${Math.round(sec / 60)} min`;
  if (!untimed) return `ETA ${h}`;
  if (untimed === left.length) return 'ETA not known yet: no run of these kinds timed';
  return `ETA at least ${h}: ${untimed} run(s) of a kind not timed yet left out`;
}

/** The file each record read by readRecords came from. */
const fileOf = new WeakMap<RunRecord, string>();

function readRecords(s: Setting): RunRecord[] {
  const dir = join(root, 'proxy', s.name);
  if (!existsSync(dir)) return [];
  const recs: RunRecord[] = [];
  for (const sub of readdirSync(dir))
    for (const f of readdirSync(join(dir, sub)))
      if (f.endsWith('.json')) {
        const rec = JSON.parse(readFileSync(join(dir, sub, f), 'utf8')) as RunRecord;
        fileOf.set(rec, join(dir, sub, f));
        recs.push(rec);
      }
  return recs;
}

/**
 * Which machines a setting's runs trained on (fileMachineKey: the key a run records, else
 * results/discovery/machines.jsonl's at the commit that added its file): one sentence. Training is
 * bit-identical on one machine only, so runs of several machines mix machine differences into τ
 * and the seed s.d.
 */
function machinesLine(recs: readonly RunRecord[]): string {
  const f = join(root, 'discovery', 'machines.jsonl');
  const lines = existsSync(f) ? parseMachineLines(readFileSync(f, 'utf8')).lines : [];
  const count = new Map<string, number>();
  let unknown = 0;
  for (const r of recs) {
    const file = fileOf.get(r);
    const k = file ? fileMachineKey(file, lines, REPO) : null;
    if (k === null) unknown++;
    else count.set(machineKeyText(k), (count.get(machineKeyText(k)) ?? 0) + 1);
  }
  const none = unknown ? `; ${unknown} recorded none (trained before machines were recorded)` : '';
  if (count.size > 1)
    return `**Machines: these runs trained on ${count.size} machines** (${[...count].map(([k, n]) => `${k}: ${n} run(s)`).join(', ')}${none}): training differs across machines, so τ and the seed s.d. carry machine differences too.`;
  if (count.size === 1)
    return `Machines: the ${recs.length - unknown} run(s) that recorded one trained on one machine (${[...count.keys()][0]})${none}.`;
  return `Machines: not recorded for these ${recs.length} run(s) (trained before machines were recorded).`;
}

interface ProxySummary {
  name: string;
  n: number;
  tau: number | null;
  ci95: [number, number] | null;
  /** Losses whose full AP is at least half the default's, and τ-b over them only. */
  nWorking: number;
  tauWorking: number | null;
  /** Losses that pass the setting's search filters (searchConfig), and τ-b over them with its interval. */
  nSearch?: number;
  tauSearch?: number | null;
  ci95Search?: [number, number] | null;
  seedSd: number;
  panelSd: number;
  /**
   * Resolution at the top: the published half's proxy AP minus the default's (means over their
   * seeds), and that gap in units of the proxy's seed s.d. (null: either side not trained yet). A
   * proxy can rank a panel from poor to good (τ) and still not tell the default from a better loss.
   */
  gap: number | null;
  gapInSd: number | null;
  seconds: number;
  /** What defines the proxy's training: the search's report matches its run's proxy to this (src/search/fidelity.ts). */
  identity: ProxyIdentity;
}

function summarise(
  s: Setting,
  recs: RunRecord[],
  jobs: Job[],
): { md: string; proxies: ProxySummary[]; mosTau: number | null; searchMosTau: number | null } {
  const full = new Map<string, number>(); // lossName -> AP of seed 0 at the full schedule (failed: absent)
  for (const r of recs) if (r.kind === 'full' && r.seed === 0 && r.status === 'ok' && r.AP !== null) full.set(r.lossName, r.AP);
  const panel = [...new Map(jobs.map((j) => [j.lossName, j])).values()];
  const defaultFull = full.get(panel.find((p) => p.role === 'default')!.lossName);
  const lines: string[] = [];
  lines.push(`### ${s.name}: ${s.detector}, ${s.mode} mode (default ${s.defaultLoss}, published ${s.published})`, '');
  const header = [
    'loss',
    'role',
    'MOS-1',
    ...(s.searchMos ? [`MOS-1 ${s.searchMos}`] : []),
    ...(s.searchConfig ? ['search filters'] : []),
    'full AP (seed 0)',
    ...s.proxies.map((p) => `${p.name} AP`),
  ];
  lines.push(`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`);
  for (const p of panel) {
    const cell = (kind: string, proxy?: string) => {
      const r = recs.find((x) => x.lossName === p.lossName && x.seed === 0 && x.kind === kind && (proxy ? x.proxy?.name === proxy : true));
      if (!r) return 'pending';
      return r.status === 'ok' ? f1(r.AP) : r.status;
    };
    const shown = p.role === 'survivor' || p.role === 'offspring' ? `${p.lossName}: \`${p.loss}\`` : `${p.lossName}`;
    lines.push(
      `| ${shown} | ${p.role} | ${f2(p.mos1)} | ${s.searchMos ? `${f2(p.mosSearch)} | ` : ''}${s.searchConfig ? `${p.searchFilter ?? 'pass'} | ` : ''}${cell('full')} | ${s.proxies.map((x) => cell('proxy', x.name)).join(' | ')} |`,
    );
  }
  lines.push('');
  const proxies: ProxySummary[] = [];
  for (const proxy of s.proxies) {
    const pairs: [number, number][] = [];
    const searchPairs: [number, number][] = [];
    for (const [name, ap] of full) {
      const r = recs.find((x) => x.kind === 'proxy' && x.proxy?.name === proxy.name && x.lossName === name && x.seed === 0);
      if (!r) continue;
      const pair: [number, number] = [r.status === 'ok' && r.AP !== null ? r.AP : 0, ap]; // a proxy failure ranks last, as in the search
      pairs.push(pair);
      if (panel.find((p) => p.lossName === name)!.searchFilter === null) searchPairs.push(pair);
    }
    const x = pairs.map((p) => p[0]);
    const y = pairs.map((p) => p[1]);
    // the losses that work (full AP at least half the default's): does the proxy rank close losses?
    const working = pairs.filter((p) => defaultFull !== undefined && p[1] >= 0.5 * defaultFull);
    const bySeed = new Map<string, number[]>();
    for (const r of recs)
      if (r.kind === 'proxy' && r.proxy?.name === proxy.name && r.status === 'ok' && r.AP !== null)
        bySeed.set(r.lossName, [...(bySeed.get(r.lossName) ?? []), r.AP]);
    const sds = [...bySeed.values()].filter((a) => a.length >= 2).map(sdOf);
    const seed0 = recs.filter((r) => r.kind === 'proxy' && r.proxy?.name === proxy.name && r.seed === 0);
    const seedSd = rmsOf(sds);
    const gap = gapOf(s, bySeed);
    proxies.push({
      name: proxy.name,
      n: pairs.length,
      tau: kendallTau(x, y),
      ci95: pairs.length >= 4 ? bootstrapTau(x, y) : null,
      nWorking: working.length,
      tauWorking:
        working.length >= 3
          ? kendallTau(
              working.map((p) => p[0]),
              working.map((p) => p[1]),
            )
          : null,
      ...(s.searchConfig
        ? {
            nSearch: searchPairs.length,
            tauSearch: searchPairs.length >= 3 ? kendallTau(...unzip(searchPairs)) : null,
            ci95Search: searchPairs.length >= 4 ? bootstrapTau(...unzip(searchPairs)) : null,
          }
        : {}),
      seedSd,
      gap,
      gapInSd: gap !== null && seedSd > 0 ? gap / seedSd : null,
      panelSd: seed0.length >= 2 ? sdOf(seed0.filter((r) => r.status === 'ok' && r.AP !== null).map((r) => r.AP!)) : NaN,
      seconds: seed0.length ? meanOf(seed0.map((r) => r.seconds)) : NaN,
      identity: identityOf(s, proxy),
    });
  }
  const mosRow = (label: string, scoreOf: (p: Job) => number | null) => {
    const pairs = [...full].map(([name, ap]) => [scoreOf(panel.find((p) => p.lossName === name)!), ap] as [number, number]);
    const tau = kendallTau(
      pairs.map((p) => p[0]),
      pairs.map((p) => p[1]),
    );
    const ci =
      pairs.length >= 4
        ? bootstrapTau(
            pairs.map((p) => p[0]),
            pairs.map((p) => p[1]),
          )
        : null;
    const row = `| ${label} | ${pairs.length} | ${f2(tau)} | ${ci ? `[${f2(ci[0])}, ${f2(ci[1])}]` : '—'} | — | ${s.searchConfig ? '— | ' : ''}— | — | — | < 0.1 s |`;
    return { tau, row };
  };
  const mos = mosRow('MOS level 1', (p) => p.mos1);
  const mosTau = mos.tau;
  const searchMos = s.searchMos ? mosRow(`MOS level 1, ${s.searchMos}`, (p) => p.mosSearch) : null;
  const fullBySeed = new Map<string, number[]>();
  for (const r of recs)
    if (r.kind === 'full' && r.status === 'ok' && r.AP !== null) fullBySeed.set(r.lossName, [...(fullBySeed.get(r.lossName) ?? []), r.AP]);
  const fullSds = [...fullBySeed.values()].filter((a) => a.length >= 2).map(sdOf);
  const sc = s.searchConfig;
  lines.push(
    `| ranker | losses | Kendall τ-b vs full AP | bootstrap 95% | τ-b among working losses | ${sc ? "τ-b among the search's candidates [95%] | " : ''}seed s.d. (AP×100) | panel s.d. (AP×100) | default → published (AP×100, in seed s.d.) | cost per evaluation |`,
    `| --- | --- | --- | --- | --- | ${sc ? '--- | ' : ''}--- | --- | --- | --- |`,
  );
  for (const p of proxies) {
    const searchCell = sc
      ? `${f2(p.tauSearch ?? null)} (${p.nSearch})${p.ci95Search ? ` [${f2(p.ci95Search[0])}, ${f2(p.ci95Search[1])}]` : ''} | `
      : '';
    lines.push(
      `| ${p.name} | ${p.n} | ${f2(p.tau)} | ${p.ci95 ? `[${f2(p.ci95[0])}, ${f2(p.ci95[1])}]` : '—'} | ${f2(p.tauWorking)} (${p.nWorking}) | ${searchCell}${f1(p.seedSd)} | ${f1(p.panelSd)} | ${gapCell(p.gap, p.gapInSd)} | ${Number.isFinite(p.seconds) ? `${(p.seconds / 60).toFixed(1)} min` : '—'} |`,
    );
  }
  lines.push(mos.row);
  if (searchMos) lines.push(searchMos.row);
  const fullSecs = recs.filter((r) => r.kind === 'full' && r.seed === 0).map((r) => r.seconds);
  const fullGap = gapOf(s, fullBySeed);
  const fullSd = rmsOf(fullSds);
  lines.push(
    `| full schedule (cpu-small, val) | ${full.size} | ${full.size >= 2 ? '1' : '—'} | — | — | ${sc ? '— | ' : ''}${f1(fullSd)} | ${f1(sdOf([...full.values()]))} | ${gapCell(fullGap, fullGap !== null && fullSd > 0 ? fullGap / fullSd : null)} | ${fullSecs.length ? `${(meanOf(fullSecs) / 60).toFixed(1)} min` : '—'} |`,
  );
  lines.push('');
  lines.push(...limitsOf(s, panel, full, defaultFull, fullSds));
  return { md: lines.join('\n'), proxies, mosTau, searchMosTau: searchMos?.tau ?? null };
}

/**
 * What limits τ, in numbers: how close the working losses are at the full schedule against its
 * seed-to-seed spread (a single-seed reference cannot order losses closer than that), and which
 * panel losses the search's filters would never let reach its proxy.
 */
function limitsOf(s: Setting, panel: Job[], full: Map<string, number>, defaultFull: number | undefined, fullSds: number[]): string[] {
  if (defaultFull === undefined || full.size < 4) return [];
  const working = [...full].filter(([, ap]) => ap >= 0.5 * defaultFull).map(([, ap]) => ap);
  const seedSd = fullSds.length ? rmsOf(fullSds) : null;
  const out: string[] = [];
  if (working.length >= 2) {
    const pairs = (working.length * (working.length - 1)) / 2;
    let close = 0;
    if (seedSd !== null)
      for (let i = 0; i < working.length; i++)
        for (let j = i + 1; j < working.length; j++) if (Math.abs(working[i]! - working[j]!) < 2 * seedSd) close++;
    out.push(
      `- The reference itself: the ${working.length} working losses score ${f1(Math.min(...working))}–${f1(Math.max(...working))} at the full schedule (seed 0, s.d. ${f1(sdOf(working))}); ` +
        (seedSd !== null
          ? `the full schedule's seed s.d. is ${f1(seedSd)} (${fullSds.length} losses, seeds 0-2), and ${close} of their ${pairs} pairs differ by less than twice that: one seed does not order them, so τ among them is bounded by the reference's noise as much as by the proxy's.`
          : `the full schedule's seed s.d. is not measured yet (seeds 1-2 of the default and the published half).`),
    );
  }
  const stopped = panel.filter((p) => p.searchFilter && full.has(p.lossName));
  if (s.searchConfig && stopped.length)
    out.push(
      `- Losses the search never proxies: ${stopped.map((p) => `${p.lossName} (${p.searchFilter}; full AP ${f1(full.get(p.lossName)!)})`).join(', ')} fail ${s.searchConfig}'s filters; the τ among the search's candidates leaves them out.`,
    );
  return out.length ? ['What limits the ranking:', '', ...out, ''] : [];
}

const unzip = (pairs: [number, number][]): [number[], number[]] => [pairs.map((p) => p[0]), pairs.map((p) => p[1])];

/** The proxies table of docs/PROXY.md: each proxy of the collected settings, with the fields that define its training. */
function proxiesTable(settings: Setting[]): string {
  const rows = new Map<string, { names: string[]; text: string }>();
  for (const s of settings)
    for (const p of s.proxies) {
      const id = identityOf(s, p);
      const t = id.task;
      const d = s.dataset;
      const data = `${d.kind}, ${d.images} images, ${d.size} px, seed ${d.seed}`;
      const text = `| ${p.name} | ${data} | ${t.inputSize} px | ${t.iters} | ${t.warmupIters} | ${t.trainSubset || 'all but the held-out fifth'} | ${t.valSubset || 'the held-out fifth'} | ${t.preset}, batch ${t.batch}, lr ${t.lr} |`;
      const key = `${p.name}|${text}`;
      const row = rows.get(key) ?? { names: [], text };
      row.names.push(s.name);
      rows.set(key, row);
    }
  return [
    '| settings | proxy | dataset | input | iterations | warm-up | train images | scored images | preset |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...[...rows.values()].map((r) => `| ${r.names.join(', ')} ${r.text}`),
  ].join('\n');
}

/** The cheapest proxy with τ ≥ 0.8 beside the choice: its cost and how far each tells the default from the published half. */
function aimLine(aim: ProxySummary, chosen: ProxySummary): string {
  const res = (p: ProxySummary) => (p.gapInSd === null ? 'not measured in seed s.d.' : `${p.gapInSd.toFixed(1)} seed s.d.`);
  return (
    `The cheapest with τ ≥ 0.8 (the issue's aim) is ${aim.name} (τ = ${f2(aim.tau)}), at ${f2(aim.seconds / chosen.seconds)}× the cost of ${chosen.name}. ` +
    `The published half scores ${gapCell(aim.gap, null)} AP ×100 against the default under it (${res(aim)}) and ${gapCell(chosen.gap, null)} under ${chosen.name} (${res(chosen)}).`
  );
}

function writeReport(all: { s: Setting; recs: RunRecord[]; jobs: Job[] }[]): void {
  const parts: string[] = [];
  const summary: Record<string, unknown> = {};
  for (const { s, recs: stored, jobs } of all) {
    // only the runs of the current panel (a loss name with another loss behind it is an old panel's)
    const recs = stored.filter((r) => jobs.some((j) => j.lossName === r.lossName && j.loss === r.loss));
    const r = summarise(s, recs, jobs);
    parts.push(r.md);
    const done = recs.length;
    parts.push(`${done} of ${jobs.length} runs finished.`, '');
    if (done) parts.push(machinesLine(recs), '');
    const ok = r.proxies.filter((p) => p.tau !== null && p.tau >= 0.6 && p.n >= MIN_CHOICE_PANEL).sort((a, b) => a.seconds - b.seconds);
    const chosen = ok[0] ?? [...r.proxies].sort((a, b) => (b.tau ?? -2) - (a.tau ?? -2))[0];
    // the issue's aim (τ ≥ 0.8), where a dearer proxy reaches it and the choice does not
    const aim = ok.find((p) => p.tau! >= 0.8) ?? null;
    summary[s.name] = {
      chosen: chosen?.name ?? null,
      meetsTarget: ok.length > 0,
      aim: aim?.name ?? null,
      proxies: r.proxies,
      mosTau: r.mosTau,
      ...(s.searchMos ? { searchMos: s.searchMos, searchMosTau: r.searchMosTau } : {}),
    };
    parts.push(
      ok.length
        ? `**Chosen for ${s.name}: ${chosen!.name}**, the cheapest proxy with τ ≥ 0.6 (τ = ${f2(chosen!.tau)} over ${chosen!.n} losses).`
        : `**No proxy reaches τ ≥ 0.6 for ${s.name} yet** (over the finished losses); the best so far is ${chosen?.name ?? '—'} (τ = ${f2(chosen?.tau)}).`,
      '',
    );
    if (aim && aim !== chosen) parts.push(aimLine(aim, chosen!), '');
  }
  const md = `# Proxy fidelity

Generated by \`npm run results:proxy\` from \`results/proxy/**/*.json\` (do not edit by hand;
\`npm run results:proxy -- --collect-only\` rewrites it). Each run's file records its commit, the
exact command and the environment (CPU, threads, libtorch and BLAS).

The search ranks candidates by a short proxy training; it can only find a better loss when that
ranking agrees with the full training's. For each searched setting, a panel of losses (the
default, the published half, the other presets of the mode, ${RANDOM_SURVIVORS} CPV + MOS-1 survivors of random
trees drawn with seed ${PANEL_SEED} (r1, r2, ...), and offspring of the presets (m1, m2, ...): one mutation by the search's own
operator, seeded, kept when it passes CPV and MOS-1; where the setting's search uses another
MOS-1 problem (S1 and S2: the detection problem of their mode, docs/SEARCH.md), also ${RANDOM_SURVIVORS} random survivors of CPV and
that problem, named d1, d2, ...; none hand-picked) is trained at the final-evaluation schedule
(\`cpu-small\`, scored on the val split) and under each candidate proxy (the search's own proxy
function: a short training scored on held-out training images). AP ×100. The settings: S1 (FCOS,
bcls) and S2 (Faster R-CNN, cls) on the shapes dataset of docs/RESULTS.md, each with ${PROXIES.length}
candidate proxies; and \`demo\`, the proxy of \`search --demo\` (configs/search-demo.yaml: its mode,
detector, dataset and proxy task, read from that file), whose full schedule is \`cpu-small\` on the
val split of the demo's dataset. The proxies:

${proxiesTable(all.map((a) => a.s))}

A search's report quotes the τ-b measured here for its own proxy: \`results/proxy/summary.json\`
records, for each setting and proxy, its identity (the detector, the mode, the generated dataset's
spec and the proxy task's input size, iterations, warm-up, train and scored images, preset, batch
and lr), and src/search/fidelity.ts looks up the run's proxy by that identity (the dataDir, the
time limit and early stopping are not part of it). A proxy not measured here is reported as such.

Seed s.d.: the root mean square of the per-loss seed s.d. (seeds 0-2) over three losses (the
default, the published half and the first offspring; for the full schedule the first two); panel s.d.: the s.d. of the seed-0 APs over
the panel. Default → published: the published half's mean AP over seeds 0-2 minus the default's, and that gap in
seed s.d.s: how clearly a ranker tells the default from a better loss, which τ over a panel from poor to good does
not show. Seeds 1-2 of the default and the published half at the full schedule may be taken from the
setting's search's final evaluation (\`discovery/<setting>/run/journal.sqlite\` under the results root: the
same schedule, split and dataset) once their seed-0 runs were found bit-identical there and here (the same
AP to the last bit, thread count, CPU, libtorch and BLAS), and only when it finished ok or diverged (a
failed run, e.g. one that hit the search's time limit, is trained here); such a run's file says so
(\`reusedFrom\`, with the process that copied it) and records, as its provenance, the search process
that trained it.
τ-b's interval: 2,000 bootstrap resamples of the panel. A failed or diverged proxy run
counts as AP 0 (as in the search); a failed full run leaves the loss out of τ. Working losses:
those whose full AP is at least half the default's; τ-b over them says whether a proxy ranks
close losses, which is what a search needs once its population works. The search's candidates
(S1, S2): the losses that pass the filters of that search's config (configs/search.yaml,
configs/discovery-s2.yaml: CPV with \`cpv.saturating\`, MOS level 1 at its threshold; the
"search filters" column names what stops the others), i.e. what its proxy gets to rank; the
panel itself was drawn before \`cpv.saturating\` existed and is not redrawn. Costs are wall
times on 2 cores of a machine shared with other work; they compare proxies, not machines. Under
each setting, "Machines" names the machines its runs trained on (the key a run's file records, else
the one \`results/discovery/machines.jsonl\` recorded at the start of the session whose commit added
the file): training is bit-identical on one machine only, so a panel trained on several carries
machine differences in its τ and seed s.d.

${parts.join('\n')}`;
  writeFileSync(outFile, md);
  mkdirSync(join(root, 'proxy'), { recursive: true });
  writeFileSync(join(root, 'proxy', 'summary.json'), `${JSON.stringify(summary, null, 1)}\n`);
  console.log(`wrote ${outFile} and ${join(root, 'proxy', 'summary.json')}`);
}

async function main(): Promise<void> {
  if (smokeIters && (!Number.isInteger(smokeIters) || smokeIters < 1 || !cli.has('root') || root === 'results')) {
    console.error('--smoke-iters: a positive integer, with an explicit --root other than results/ (it is for tests)');
    process.exit(2);
  }
  if (deferToSearch && !reuse) {
    console.error('--defer-to-search leaves runs to the search to take them from it later: it needs reuse (drop --no-reuse)');
    process.exit(2);
  }
  if (maxJobs !== Infinity && (!Number.isInteger(maxJobs) || maxJobs < 0)) {
    console.error('--max-jobs: a non-negative integer');
    process.exit(2);
  }
  const unknown = settingNames.filter((n) => !(n in SETTINGS));
  if (unknown.length) {
    console.error(`--settings: ${unknown.join(',')} ${unknown.length > 1 ? 'are' : 'is'} not known (${Object.keys(SETTINGS).join(', ')})`);
    process.exit(2);
  }
  const settings = Object.entries(SETTINGS)
    .filter(([name]) => settingNames.includes(name))
    .map(([, make]) => make());
  for (const s of settings) for (const l of [s.defaultLoss, s.published]) resolveLoss(s.mode, l);
  const selected = settings.map((s) => ({ s, jobs: jobsOf(s), recs: [] as RunRecord[] }));
  if (planOnly) {
    for (const { s, jobs } of selected) {
      console.log(`${s.name}: ${jobs.length} runs`);
      const sf = reuse ? readSearchFinal(s) : null;
      for (const j of jobs) {
        const done = existsSync(j.file);
        // a pending run that the search's final evaluation provides (or why it does not)
        const r = done ? null : reuseOf(j, sf);
        const mark =
          !done && deferred(j, sf, r)
            ? ` (deferred to the ${s.name} search's final evaluation: --defer-to-search)`
            : r?.rec
              ? `: reusable from ${sf!.shown} (seed-0 AP bit-identical)`
              : r?.why
                ? r.pending
                  ? ` (${r.why})`
                  : `: ${r.why}`
                : '';
        console.log(
          `  ${done ? 'done   ' : 'pending'} ${j.kind === 'full' ? 'full' : j.proxy!.name} ${j.lossName} (${j.role}) seed ${j.seed}${j.role === 'survivor' || j.role === 'offspring' ? `: ${j.loss}` : ''}${mark}`,
        );
      }
    }
    return;
  }
  // the report covers every setting whatever --settings trains (docs/PROXY.md and summary.json whole)
  const all = Object.values(SETTINGS).map((make) => {
    const s = make();
    return selected.find((a) => a.s.name === s.name) ?? { s, jobs: jobsOf(s), recs: [] as RunRecord[] };
  });
  if (!collectOnly) {
    await useTorchBackend();
    for (const s of settings) {
      if (existsSync(join(s.dataDir, 'train', 'annotations.json'))) continue;
      const d = s.dataset;
      console.log(
        `making the ${d.kind} dataset in ${s.dataDir} (${d.images} images, ${d.size} px, seed ${d.seed}, val fraction ${d.valFraction === 1 / 6 ? '1/6' : d.valFraction}; ${s.name === 'demo' ? "configs/search-demo.yaml's" : 'as docs/RESULTS.md'})`,
      );
      await makeDataset(d.kind, { images: d.images, size: d.size, seed: d.seed, out: s.dataDir, valFraction: d.valFraction });
    }
    const t0 = Date.now();
    // setting by setting (S1 is searched first)
    const queue: Job[] = selected.flatMap((a) => a.jobs);
    const pending = queue.filter((j) => !existsSync(j.file));
    const todo = pending.slice(0, maxJobs);
    console.log(
      `${queue.length - pending.length} of ${queue.length} runs done; ${pending.length} to go${todo.length < pending.length ? ` (${todo.length} in this call: --max-jobs)` : ''}`,
    );
    let n = 0;
    let deferredRuns = 0;
    for (const j of todo) {
      n++;
      console.log(
        `[${n}/${todo.length}] ${j.setting.name} ${j.kind === 'full' ? 'full' : j.proxy!.name} ${j.lossName} (${j.role}) seed ${j.seed} (${((Date.now() - t0) / 60000).toFixed(1)} min so far, ${etaText(
          todo.slice(n - 1),
          all.flatMap((a) => a.recs),
        )})`,
      );
      // a seed >= 1 full-schedule run may be the search's (read again now: it may have finished its final runs meanwhile)
      const sf = reuse && j.kind === 'full' && j.seed > 0 ? readSearchFinal(j.setting) : null;
      const taken = reuse && j.kind === 'full' && j.seed > 0 ? reuseOf(j, sf) : null;
      if (deferred(j, sf, taken)) {
        deferredRuns++;
        console.log(
          `  deferred to the ${j.setting.name} search's final evaluation, which trains it (--defer-to-search): ${sf ? (taken?.why ?? '') : `there is no search journal ${join(root, journalOf(j.setting))} yet`}; run this study again after the search to take it from there`,
        );
        continue;
      }
      if (taken?.why) console.log(`  ${taken.why}`);
      let rec: RunRecord;
      try {
        rec = taken?.rec ?? (await runJob(j));
      } catch (e) {
        // a loss's failures come back as statuses; a throw is the environment's (e.g. a dataset that cannot be read)
        const m = e instanceof Error ? `${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}` : String(e);
        const lines = m.split('\n');
        rec = { status: 'error', reason: lines.length > 2 ? `${lines.slice(0, 2).join(' ')} ...` : lines.join(' ') } as RunRecord;
      }
      if (rec.status === 'error') {
        // not recorded: a run file would count as finished and keep a result that is not the loss's
        console.error(
          `${j.setting.name} ${j.proxy?.name ?? 'full'} ${j.lossName} seed ${j.seed}: the environment failed, not the loss (${rec.reason ?? 'no reason given'}); ` +
            'nothing was recorded for this run and the study stops here: fix the cause and run the same command again (the finished runs are kept)',
        );
        process.exitCode = 1;
        return;
      }
      mkdirSync(join(j.file, '..'), { recursive: true });
      writeFileSync(j.file, `${JSON.stringify(rec, null, 1)}\n`);
      console.log(
        `  -> ${rec.status}${rec.reason ? ` (${rec.reason.slice(0, 120)})` : ''} AP ${f1(rec.AP)} (${(rec.seconds / 60).toFixed(1)} min)`,
      );
      for (const a of all) a.recs = readRecords(a.s);
      writeReport(all);
    }
    if (deferredRuns)
      console.log(
        `${deferredRuns} run(s) deferred to the search's final evaluation (--defer-to-search): run this study again once the search has trained them`,
      );
  }
  for (const a of all) a.recs = readRecords(a.s);
  writeReport(all);
}

await main();
