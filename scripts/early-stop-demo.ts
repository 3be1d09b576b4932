/**
 * Early stopping measured on the demo's search (issue 15, item 5, at the demo's scale): the
 * demo config (configs/search-demo.yaml, an FCOS proxy on mnist-det) for N generations with the
 * final evaluation off, once as it is (proxy.earlyStop on) and once without proxy.earlyStop,
 * same seed, in-process (--workers 0), one after the other; then the comparison of
 * scripts/multi-fidelity.ts (per generation: proxy evaluations, stops, proxy and wall time, best
 * so far; overall: the time ratio, where the populations diverge, false stops).
 *
 *   npx tsx scripts/early-stop-demo.ts [--out DIR (results/multifidelity/demo)] [--generations N (3)]
 *
 * Writes DIR/with.yaml, DIR/without.yaml, the two run folders DIR/with and DIR/without (a
 * finished run is reused; an interrupted one resumes), DIR/compare.json, and prints the table.
 * Run it alone on the machine: the times are what it measures. --help prints the options; an
 * unknown option or a stray argument is an error, exit code 2 (scripts/cli.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { parseCli } from './cli.js';
import { compareEarlyStop, readRun } from './multi-fidelity.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = parseCli({
  options: ['out', 'generations'],
  valued: ['out', 'generations'],
  usage: `usage: npx tsx scripts/early-stop-demo.ts [options]
The demo's search for N generations with the final evaluation off, with and without
proxy.earlyStop (same seed, in-process, one after the other), then their comparison; writes
DIR/with.yaml, DIR/without.yaml, the run folders DIR/with and DIR/without, DIR/compare.json.

Options:
  --out DIR          (default: results/multifidelity/demo)
  --generations N    an integer >= 1 (default: 3)
  -h, --help         print this and exit`,
});
function arg(name: string, def: string): string {
  return cli.value(name) || def;
}
const out = resolve(arg('out', join(REPO, 'results', 'multifidelity', 'demo')));
const generations = Number(arg('generations', '3'));
if (!Number.isInteger(generations) || generations < 1) {
  console.error('--generations: an integer ≥ 1');
  process.exit(2);
}

mkdirSync(out, { recursive: true });
const demo = YAML.parse(readFileSync(join(REPO, 'configs', 'search-demo.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
const withCfg = structuredClone(demo);
withCfg.final = { ...withCfg.final, enabled: false };
withCfg.evolution = { ...withCfg.evolution, generations };
withCfg.pool = { workers: 0 };
(withCfg.proxy!.task as Record<string, unknown>).dataDir = join(out, 'data');
if (!withCfg.proxy!.earlyStop) throw new Error('configs/search-demo.yaml has no proxy.earlyStop: nothing to compare');
const withoutCfg = structuredClone(withCfg);
delete withoutCfg.proxy!.earlyStop;

const bin = join(REPO, 'bin', 'cse-autoloss.js');
for (const [side, cfg] of [
  ['with', withCfg],
  ['without', withoutCfg],
] as const) {
  const file = join(out, `${side}.yaml`);
  writeFileSync(file, YAML.stringify(cfg));
  const run = join(out, side);
  const report = join(run, 'report.json');
  const finished = existsSync(report) && (JSON.parse(readFileSync(report, 'utf8')) as { status: string }).status === 'finished';
  if (finished) {
    console.log(`${side}: finished run in ${run}, reused`);
    continue;
  }
  const resume = existsSync(join(run, 'journal.sqlite')) ? ['--resume'] : [];
  console.log(`${side}: search --config ${file} --out ${run} ${resume.join(' ')}`);
  const r = spawnSync(process.execPath, [bin, 'search', '--config', file, '--out', run, '--workers', '0', ...resume], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const cmp = compareEarlyStop(
  `demo (${generations} generations, final off)`,
  readRun(join(out, 'with')),
  readRun(join(out, 'without')),
  generations,
  2,
);
writeFileSync(join(out, 'compare.json'), `${JSON.stringify(cmp, null, 1)}\n`);
const f4 = (x: number | null | undefined) => (x === null || x === undefined ? '-' : x.toFixed(4));
for (const side of ['with', 'without'] as const) {
  const s = cmp[side];
  console.log(
    `${side} early stopping: default proxy AP ${f4(s.defaultFitness)}; ${s.proxyEvaluations} proxy evaluations, ${s.stoppedEarly} stopped; best ${s.best ? `${f4(s.best.fitness)} ${s.best.loss} (generation ${s.best.gen})` : '-'}`,
  );
  for (const g of s.perGeneration)
    console.log(
      `  generation ${g.gen}: ${g.proxyEvaluations} evaluations, ${g.stoppedEarly} stopped, proxy ${g.proxySeconds.toFixed(0)} s (sum of the records), wall ${g.wallSeconds.toFixed(0)} s, best ${f4(g.bestFitness)}`,
    );
}
const wall = (s: (typeof cmp)['with']) => s.perGeneration.reduce((a, g) => a + g.wallSeconds, 0);
console.log(
  `wall time with/without ${(wall(cmp.with) / wall(cmp.without)).toFixed(2)} (${wall(cmp.with).toFixed(0)} s / ${wall(cmp.without).toFixed(0)} s); proxy-record time ratio ${cmp.proxyTimeRatio?.toFixed(2) ?? '-'}; populations first differ in generation ${cmp.firstDivergentGeneration ?? '-'}; best differs: ${cmp.bestDiffers}; false stops ${cmp.falseStops.length} of ${cmp.stoppedMatched} stopped candidates also trained without early stopping`,
);
for (const n of cmp.notes) console.log(`  note: ${n}`);
console.log(`wrote ${join(out, 'compare.json')}`);
