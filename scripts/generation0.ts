/**
 * How a search config's filters fill generation 0 (and 1): the config with its proxy swapped for
 * the `simulated` stand-in (no early stopping, no dataset, final off), run for N generations
 * in-process; prints the CLI's generation lines (drawn, CPV, MOS passed, proxy slots filled).
 *
 *   npx tsx scripts/generation0.ts configs/search.yaml [--generations 1]
 *
 * The numbers in docs/SEARCH.md ("In the search: ...") come from this script. Writes only a
 * temporary folder. --help prints the options; an unknown option or a second argument is an
 * error, exit code 2 (scripts/cli.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { parseCli } from './cli.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = parseCli({
  options: ['generations'],
  valued: ['generations'],
  positionals: 1,
  usage: `usage: npx tsx scripts/generation0.ts CONFIG [--generations N]
How a search config's filters fill generation 0 (and 1): CONFIG with its proxy swapped for the
'simulated' stand-in (no early stopping, no dataset, final off), run for N generations
in-process; prints the CLI's generation lines. Writes only a temporary folder.

Options:
  --generations N    an integer >= 1 (default: 1)
  -h, --help         print this and exit`,
});
const file = cli.positionals[0];
const generations = cli.has('generations') ? Number(cli.value('generations')) : 1;
if (!file || !Number.isInteger(generations) || generations < 1) {
  console.error('usage: npx tsx scripts/generation0.ts CONFIG [--generations N ≥ 1]');
  process.exit(2);
}
const c = YAML.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
c.proxy!.task = { kind: 'simulated', iters: 30 };
delete c.proxy!.earlyStop;
c.final = { ...c.final, enabled: false };
c.evolution = { ...c.evolution, generations };
delete c.dataset;
c.pool = { workers: 1, threadsPerWorker: 1 };
const dir = mkdtempSync(join(tmpdir(), 'generation0-'));
writeFileSync(join(dir, 'config.yaml'), YAML.stringify(c));
const r = spawnSync(
  process.execPath,
  [join(REPO, 'bin', 'cse-autoloss.js'), 'search', '--config', join(dir, 'config.yaml'), '--out', join(dir, 'run'), '--no-report'],
  {
    encoding: 'utf8',
    env: { ...process.env, CSE_THREADS: '1' },
  },
);
for (const line of `${r.stdout}${r.stderr}`.split('\n')) if (/^(gen \d+\/\d+  |default )/.test(line)) console.log(line); // generation lines, not the per-training ones
rmSync(dir, { recursive: true, force: true });
process.exit(r.status ?? 1);
