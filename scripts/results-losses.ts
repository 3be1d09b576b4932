/**
 * npm run results:losses — the baseline table the search has to beat: each detector on
 * mnist-det and shapes with its default losses, the published CSE-Autoloss losses of its kind
 * (A on Faster R-CNN, B on FCOS), and each half swapped alone; several seeds each. Writes
 * docs/RESULTS.md (mean ± std of AP, AP50, AP75, the AP difference from the default losses) and a JSON
 * of every run.
 *
 * Options: --iters N (default: the cpu-small preset; a shortened run keeps the preset's 300-iteration
 *          warm-up, at most 30% of N), --seeds N (3), --images N per dataset (3000),
 *          --datasets mnist-det,shapes --detectors fcos,faster-rcnn --root DIR (data/runs, default results/)
 *          --out FILE (docs/RESULTS.md)
 * Runs are resumable: a run folder with a metrics.json of status ok or diverged (and the same iteration
 * count) is not trained again, and a run stopped midway goes on from its last checkpoint (every
 * 10% of the iterations; its data order after that point differs from an uninterrupted run's). Shortened schedules live in their own folders (runs-itN), so they never mix
 * with the documented one. Training goes seed by seed (every variant's seed 0 first), so a partial
 * table already has one run in each cell.
 * --collect-only writes the table from the finished runs and trains nothing (missing runs are listed).
 * --help prints the options (USAGE below); an unknown option or a stray argument is an error, exit
 * code 2 (scripts/cli.ts).
 */
import { parseCli } from './cli.js';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../src/tf.js';
import { useTorchBackend } from '../src/backend/index.js';
import { makeDataset, type DatasetKind } from '../src/data/index.js';
import { resolveTrainConfig, trainDetector, type DetectorKind } from '../src/detect/index.js';
import { compareMeans } from '../src/search/stats.js';
import { provenance, type Provenance } from '../src/util/provenance.js';

const USAGE = `usage: npm run results:losses -- [options]   (or: npx tsx scripts/results-losses.ts [options])
The baseline table: each detector with its default losses, the published losses and each half
swapped alone, several seeds each (hours of training; resumable); writes docs/RESULTS.md and
<root>/results-losses.json.

Options:
  --iters N                        iterations per run (default: the cpu-small preset; a shortened run
                                   keeps the preset's 300-iteration warm-up, at most 30% of N)
  --seeds N                        seeds per cell (default: 3)
  --images N                       images per generated dataset (default: 3000)
  --datasets mnist-det,shapes      (default: mnist-det,shapes)
  --detectors fcos,faster-rcnn     (default: fcos,faster-rcnn)
  --root DIR                       where data/ and runs/ go (default: results)
  --out FILE                       the generated table (default: docs/RESULTS.md)
  --collect-only                   write the table from the finished runs, train nothing
  -h, --help                       print this and exit`;
const cli = parseCli({
  options: ['iters', 'seeds', 'images', 'datasets', 'detectors', 'root', 'out', 'collect-only'],
  valued: ['iters', 'seeds', 'images', 'datasets', 'detectors', 'root', 'out'],
  usage: USAGE,
});
function arg(name: string, def: string): string {
  return cli.value(name, def);
}
const seeds = Number(arg('seeds', '3'));
const itersArg = arg('iters', '');
// a shortened schedule keeps the preset's 300-iteration warm-up (a 10% warm-up made Faster R-CNN
// collapse in the 400-iteration pilot), capped at 30% of a very short run
const warmupArg = itersArg ? Math.min(300, Math.round(Number(itersArg) * 0.3)) : 0;
const images = Number(arg('images', '3000'));
const datasets = arg('datasets', 'mnist-det,shapes').split(',') as DatasetKind[];
const detectors = arg('detectors', 'fcos,faster-rcnn').split(',') as DetectorKind[];
const root = arg('root', 'results');
const outFile = arg('out', 'docs/RESULTS.md');
const collectOnly = cli.has('collect-only');
// the command that trains these runs (without --collect-only and --out)
const shownArgs = process.argv.slice(2).filter((a, i, all) => a !== '--collect-only' && a !== '--out' && all[i - 1] !== '--out');

const VARIANTS: Record<DetectorKind, { name: string; cls: string; reg: string }[]> = {
  'faster-rcnn': [
    { name: 'default (CE + L1)', cls: 'ce', reg: 'l1' },
    { name: 'CSE-Autoloss-A (both)', cls: 'cse-a-cls', reg: 'cse-a-reg' },
    { name: 'A cls + L1', cls: 'cse-a-cls', reg: 'l1' },
    { name: 'CE + A reg', cls: 'ce', reg: 'cse-a-reg' },
  ],
  fcos: [
    { name: 'default (focal + GIoU)', cls: 'focal', reg: 'giou' },
    { name: 'CSE-Autoloss-B (both)', cls: 'cse-b-cls', reg: 'cse-b-reg' },
    { name: 'B cls + GIoU', cls: 'cse-b-cls', reg: 'giou' },
    { name: 'focal + B reg', cls: 'focal', reg: 'cse-b-reg' },
  ],
};

interface Row {
  dataset: string;
  detector: string;
  variant: string;
  seed: number;
  status: string;
  AP: number;
  AP50: number;
  AP75: number;
  seconds: number;
  /** libtorch threads of the run (unknown for runs before metrics.json recorded it) */
  threads: number | null;
  /** iteration the timed process started from (> 0: resumed, the time covers only the rest) */
  resumedFrom: number;
  /** commit, command and environment of the training (the run's metrics.json or provenance.json); null for runs before they were recorded */
  provenance: Provenance | null;
}

await useTorchBackend();
const t0 = Date.now();
const runsDir = join(root, itersArg ? `runs-it${itersArg}` : 'runs');
const itersOf = (det: DetectorKind) =>
  itersArg ? Number(itersArg) : resolveTrainConfig({ detector: det, data: '-', preset: 'cpu-small' }, 1).schedule.iters;
type RunMetrics = {
  status: string;
  iters?: number;
  metrics: Record<string, number> | null;
  timing?: { seconds: number; threads?: number | null; resumedFrom?: number };
  provenance?: Provenance;
};
/** The run's metrics.json at this schedule, whatever its status; null when there is none. */
function recorded(out: string, det: DetectorKind): RunMetrics | null {
  const done = join(out, 'metrics.json');
  if (!existsSync(done)) return null;
  const m = JSON.parse(readFileSync(done, 'utf8')) as RunMetrics;
  return m.iters === itersOf(det) ? m : null;
}
function finished(out: string, det: DetectorKind): RunMetrics | null {
  const m = recorded(out, det);
  // ok and diverged are outcomes; failed (a crash) is trained again
  return m && (m.status === 'ok' || m.status === 'diverged') ? m : null;
}
/** Provenance of a run: metrics.json's own, else the provenance.json this script writes after training it. */
function provenanceOf(out: string, m: RunMetrics | null): Provenance | null {
  if (m?.provenance) return m.provenance;
  const f = join(out, 'provenance.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as Provenance) : null;
}
const runDir = (ds: string, det: string, v: { cls: string; reg: string }, seed: number) =>
  join(runsDir, ds, det, `${v.cls}+${v.reg}`, `seed${seed}`);

// train, seed by seed
if (!collectOnly) {
  for (const ds of datasets) {
    const data = join(root, 'data', `${ds}-128`);
    if (!existsSync(join(data, 'val', 'annotations.json'))) {
      console.log(`making ${ds} (${images} images, 128 px) in ${data}`);
      await makeDataset(ds, { images, size: 128, seed: 7, out: data, valFraction: 1 / 6 });
    }
  }
  for (let seed = 0; seed < seeds; seed++) {
    for (const ds of datasets) {
      for (const det of detectors) {
        for (const v of VARIANTS[det]) {
          const out = runDir(ds, det, v, seed);
          if (finished(out, det)) continue;
          mkdirSync(out, { recursive: true });
          console.log(`${ds} ${det} ${v.name} seed ${seed} ... (${((Date.now() - t0) / 60000).toFixed(1)} min so far)`);
          const r = await trainDetector(
            {
              detector: det,
              data: join(root, 'data', `${ds}-128`),
              out,
              preset: 'cpu-small',
              seed,
              clsLoss: v.cls,
              regLoss: v.reg,
              resume: existsSync(join(out, 'config.json')), // a run stopped midway goes on from its last checkpoint (recorded as resumedFrom)
              ...(itersArg ? { iters: Number(itersArg), warmupIters: warmupArg } : {}),
            },
            {
              onProgress: (p) => {
                // a line every 10% of the run (these runs take minutes each)
                const step = Math.max(1, Math.round(p.iters / 10));
                if (p.phase === 'eval') console.log(`    iteration ${p.iter}/${p.iters}: evaluating`);
                else if (p.iter % step === 0) {
                  const total = p.losses.total;
                  console.log(
                    `    iteration ${p.iter}/${p.iters}: loss ${total !== undefined ? total.toFixed(3) : '?'}, ${p.itPerSec.toFixed(2)} it/s, ETA ${(p.etaSec / 60).toFixed(1)} min`,
                  );
                }
              },
            },
          );
          // the commit, command and environment of this training, next to its metrics.json
          writeFileSync(join(out, 'provenance.json'), JSON.stringify(provenance(), null, 1) + '\n');
          console.log(
            `  -> ${r.status} AP ${r.metrics?.AP?.toFixed(3)} AP50 ${r.metrics?.AP50?.toFixed(3)} (${(r.seconds / 60).toFixed(1)} min)`,
          );
        }
      }
    }
  }
}

// collect
const rows: Row[] = [];
for (const ds of datasets) {
  for (const det of detectors) {
    for (const v of VARIANTS[det]) {
      for (let seed = 0; seed < seeds; seed++) {
        // a run that failed is shown as failed (and left out of every mean), never counted as AP 0
        const m = recorded(runDir(ds, det, v, seed), det);
        const ok = m?.status === 'ok';
        const mm = ok ? m.metrics : null;
        rows.push({
          dataset: ds,
          detector: det,
          variant: v.name,
          seed,
          status: m ? m.status : 'not run',
          AP: mm?.AP ?? NaN,
          AP50: mm?.AP50 ?? NaN,
          AP75: mm?.AP75 ?? NaN,
          seconds: m?.timing?.seconds ?? NaN,
          threads: m?.timing?.threads ?? null,
          resumedFrom: m?.timing?.resumedFrom ?? 0,
          provenance: provenanceOf(runDir(ds, det, v, seed), m),
        });
      }
    }
  }
}

/** mean and sample std (NaN for a single value) of the finite values; null when there are none */
const meanSd = (xs: number[]) => {
  const f = xs.filter(Number.isFinite);
  if (!f.length) return null;
  const mean = f.reduce((a, b) => a + b, 0) / f.length;
  const sd = f.length > 1 ? Math.sqrt(f.reduce((a, b) => a + (b - mean) ** 2, 0) / (f.length - 1)) : NaN;
  return { mean, sd, n: f.length };
};
const stat = (xs: number[]) => {
  const m = meanSd(xs);
  if (!m) return '—';
  if (m.n === 1) return (100 * m.mean).toFixed(1); // one seed: no spread to show
  return `${(100 * m.mean).toFixed(1)} ± ${(100 * m.sd).toFixed(1)}`;
};
const okAP = (ds: string, det: string, variant: string) =>
  rows.filter((r) => r.dataset === ds && r.detector === det && r.variant === variant && r.status === 'ok').map((r) => r.AP);
const lines: string[] = [
  '# Results: the published losses against the defaults',
  '',
  `Generated by \`npm run results:losses${shownArgs.length ? ' -- ' + shownArgs.join(' ') : ''}\` (scripts/results-losses.ts): the \`cpu-small\` preset${itersArg ? ` shortened to ${itersArg} iterations (warm-up ${warmupArg})` : ''}, 128 px, ${seeds} seed(s) per cell, ` +
    `datasets of ${images} generated images (1/6 val), backend ${tf.getBackend()}. COCO metrics on the val split, ×100, mean ± sample std over the finished seeds; ` +
    'a run that diverged counts as missing and is listed below. "mean time/run" is wall time as the runs went (libtorch threads and machine load may differ between runs).',
  '',
  '| dataset | detector | losses | AP | AP50 | AP75 | runs ok | mean time/run |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
];
for (const ds of datasets) {
  for (const det of detectors) {
    for (const v of VARIANTS[det]) {
      const rs = rows.filter((r) => r.dataset === ds && r.detector === det && r.variant === v.name);
      const ok = rs.filter((r) => r.status === 'ok');
      const secs = rs
        .filter((r) => r.resumedFrom === 0)
        .map((r) => r.seconds)
        .filter(Number.isFinite); // a resumed run timed only its rest
      lines.push(
        `| ${ds} | ${det} | ${v.name} | ${stat(ok.map((r) => r.AP))} | ${stat(ok.map((r) => r.AP50))} | ${stat(ok.map((r) => r.AP75))} | ${ok.length}/${rs.length} | ${secs.length ? (secs.reduce((a, b) => a + b, 0) / secs.length / 60).toFixed(1) + ' min' : '—'} |`,
      );
    }
  }
}
// AP difference of each variant from its detector's default (the first variant) by the project's one
// rule, compareMeans (src/search/stats.ts): the difference over its standard error sqrt(s1²/n1 + s2²/n2)
// (Welch's t) and its two-sided p-value, where both cells have two or more seeds
lines.push(
  '',
  'Difference from the default losses (the first row of each detector), AP ×100, of the unrounded means; in brackets the difference ' +
    'divided by its standard error sqrt(s1²/n1 + s2²/n2) (s: sample std, n: finished seeds of each cell; no bracket with fewer than two seeds); bold where that ratio is 3 or more in size. ' +
    "p: the two-sided p-value of Welch's t test (Welch–Satterthwaite degrees of freedom), from `compareMeans` of src/search/stats.ts, the rule the search's final verdict uses:",
  '',
  `| | ${datasets.map((d) => `${d} | p`).join(' | ')} |`,
  `| --- |${datasets.map(() => ' --- | --- |').join('')}`,
);
const signed = (x: number) => (x < 0 ? '−' : '+') + Math.abs(x).toFixed(1);
const pValue = (p: number) => (p < 0.001 ? '< 0.001' : p.toFixed(3));
for (const det of detectors) {
  const [def, ...others] = VARIANTS[det];
  lines.push(
    `| ${det} ${def.name} | ${datasets
      .map((ds) => {
        const m = meanSd(okAP(ds, det, def.name));
        return `${m ? (100 * m.mean).toFixed(1) : '—'} | `;
      })
      .join(' | ')} |`,
  );
  for (const v of others) {
    const cells = datasets.map((ds) => {
      const a = okAP(ds, det, v.name);
      const d = okAP(ds, det, def.name);
      if (!a.length || !d.length) return '— | ';
      const c = compareMeans(a, d);
      const diff = 100 * c.diff;
      if (c.t === null) return `${signed(diff)} | `;
      const text = `${signed(diff)} (${signed(c.t).replace('+', '')})`;
      return `${Math.abs(c.t) >= 3 ? `**${text}**` : text} | ${pValue(c.p!)}`;
    });
    lines.push(`| ${det} ${v.name} | ${cells.join(' | ')} |`);
  }
}
const bad = rows.filter((r) => r.status !== 'ok' && r.status !== 'not run');
const notRun = rows.filter((r) => r.status === 'not run');
if (notRun.length) lines.push('', `Not run (yet): ${notRun.length} of ${rows.length} runs; their cells count only the finished seeds.`);
if (bad.length) {
  lines.push('', 'Runs that did not finish:', '');
  for (const r of bad) lines.push(`- ${r.dataset} ${r.detector} ${r.variant} seed ${r.seed}: ${r.status}`);
}
const finishedRuns = rows.filter((r) => r.status !== 'not run');
if (finishedRuns.length) {
  lines.push(
    '',
    'Every finished run (also in `' + join(root, 'results-losses.json') + '`):',
    '',
    '| dataset | detector | losses | seed | status | AP | AP50 | AP75 | time | threads |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  const pct = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : '—');
  for (const r of finishedRuns) {
    const time = Number.isFinite(r.seconds)
      ? `${(r.seconds / 60).toFixed(1)} min${r.resumedFrom > 0 ? ` (resumed at iteration ${r.resumedFrom})` : ''}`
      : '—';
    lines.push(
      `| ${r.dataset} | ${r.detector} | ${r.variant} | ${r.seed} | ${r.status} | ${pct(r.AP)} | ${pct(r.AP50)} | ${pct(r.AP75)} | ${time} | ${r.threads ?? '—'} |`,
    );
  }
}
lines.push('');
// Sections written by hand or by other tools (e.g. the search comparison) follow the table: keep them.
const keepFrom = existsSync(outFile) ? readFileSync(outFile, 'utf8').indexOf('\n## ') : -1;
const kept = keepFrom >= 0 ? readFileSync(outFile, 'utf8').slice(keepFrom) : '';
writeFileSync(outFile, lines.join('\n') + kept);
writeFileSync(join(root, 'results-losses.json'), JSON.stringify(rows, null, 1));
console.log(`wrote ${outFile} (${rows.length} runs, ${((Date.now() - t0) / 60000).toFixed(1)} min)`);
