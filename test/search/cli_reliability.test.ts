/**
 * Issue 16 through the CLI: signals with --workers 0, values refused before anything is written,
 * --json-log error events, CSE_THREADS checks, and a detector search whose dataset appears only
 * after the first attempt.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import YAML from 'yaml';
import { runSearch } from '../../src/search/evolution.js';
import { parseConfig } from '../../src/search/config.js';
import { runStage } from '../../src/search/stages/index.js';
import { InProcessTransport } from '../../src/search/transport/index.js';
import { SMALL, interruptedSearch, snapshot, tmpDir } from './helpers.js';

const BIN = fileURLToPath(new URL('../../bin/cse-autoloss.js', import.meta.url));
const dir = tmpDir('cse-clirel-');
const raw = {
  ...SMALL,
  population: { ...SMALL.population, size: 400 },
  evolution: { ...SMALL.evolution, generations: 4 },
  final: { enabled: false },
  pool: { workers: 0 },
};
const cfgFile = join(dir, 'search.yaml');
writeFileSync(cfgFile, YAML.stringify(raw));

function cli(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const refDir = join(dir, 'ref');
const ref = runSearch({ config: parseConfig(raw), runDir: refDir, transport: new InProcessTransport(runStage) });

const interrupted = (out: string, signals: NodeJS.Signals[]) => interruptedSearch(cfgFile, out, signals);

test('--workers 0: SIGINT stops with exit 130 and the resume hint; --resume gives the uninterrupted results', async () => {
  const out = join(dir, 'sigint');
  const r = await interrupted(out, ['SIGINT']);
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /interrupted: .*Continue with: cse-autoloss search --out .* --resume/);
  assert.equal(r.lastEvent.type, 'error');
  assert.equal(r.lastEvent.kind, 'interrupted');
  assert.equal(r.lastEvent.exitCode, 130);
  const again = cli(['search', '--out', out, '--resume']);
  assert.equal(again.code, 0, again.stderr);
  await ref;
  assert.deepEqual(snapshot(out), snapshot(refDir));
});

test('--workers 0: SIGTERM then a second signal exits 130 at once', async () => {
  const r = await interrupted(join(dir, 'sigterm'), ['SIGTERM', 'SIGINT']);
  assert.equal(r.code, 130, r.stderr);
});

test('bad values are refused with exit 2 naming the flag or field, before the run folder exists; --json-log reports it', () => {
  const out = join(dir, 'bad-seeds');
  const r = cli(['search', '--config', cfgFile, '--out', out, '--seed-population', 'bogus,Add((', '--json-log']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /population\.seedWith\.0: 'bogus' .*\(from --seed-population\)/);
  assert.match(r.stderr, /population\.seedWith\.1: 'Add\(\(' .*\(from --seed-population\)/);
  assert.equal(existsSync(out), false, 'nothing written');
  const ev = JSON.parse(r.stdout.trim().split('\n').pop()!) as { type: string; kind: string; exitCode: number; message: string };
  assert.deepEqual([ev.type, ev.kind, ev.exitCode], ['error', 'usage', 2]);
  assert.match(ev.message, /seedWith/);
  const badDefault = join(dir, 'bad-default.yaml');
  writeFileSync(badDefault, YAML.stringify({ ...raw, defaultLoss: 'Add(X,' }));
  const d = cli(['search', '--config', badDefault, '--out', join(dir, 'bad-default')]);
  assert.equal(d.code, 2);
  assert.match(d.stderr, /defaultLoss: 'Add\(X,' is not a reg loss/);
  assert.equal(existsSync(join(dir, 'bad-default')), false);
});

test('CSE_THREADS that is not a positive integer, and --threads 0, are usage errors', () => {
  for (const v of ['abc', '0', '-2', '1.5']) {
    const r = cli(['report', join(dir, 'nothing')], { CSE_THREADS: v });
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`CSE_THREADS must be an integer ≥ 1.*'${v.replace('.', '\\.')}'`));
  }
  const t = cli(['train', '--data', join(dir, 'nothing'), '--out', join(dir, 't'), '--threads', '0']);
  assert.equal(t.code, 2);
  assert.match(t.stderr, /--threads must be an integer ≥ 1/);
  const s = cli(['search', '--config', cfgFile, '--out', join(dir, 's'), '--threads', '0']);
  assert.equal(s.code, 2);
});

test('report on a killed run says interrupted, not running', async () => {
  const out = join(dir, 'killed');
  const p = spawn(process.execPath, [BIN, 'search', '--config', cfgFile, '--out', out, '--json-log'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const exit = new Promise((r) => p.on('exit', r));
  for await (const line of createInterface({ input: p.stdout! })) {
    const ev = JSON.parse(line) as { type: string; gen?: number };
    // generation 0's end: 3 of the 4 generations are left, so the kill lands before the run ends
    // even when the run is ahead of the events read here (the pipe holds about a generation's)
    if (ev.type === 'generation-end') {
      p.kill('SIGKILL');
      break;
    }
  }
  await exit;
  assert.equal(p.signalCode, 'SIGKILL', `the search exited (${p.exitCode}) before the kill`);
  const r = cli(['report', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { status: string }).status, 'interrupted');
});

test('a detector search whose dataset is missing stops without journalling it; after data make, --resume completes', () => {
  const data = join(dir, 'det-data');
  const cfg = {
    mode: 'reg',
    seed: 0,
    population: { size: 30, maxSize: 15, minDepth: 2, maxDepth: 4 },
    evolution: { generations: 1, parents: 2, elites: 1 },
    mos: { level1: { samples: 16, steps: 20 } },
    proxy: {
      topK: 1,
      task: { kind: 'detector', detector: 'fcos', preset: 'tiny', dataDir: data, iters: 2, trainSubset: 4, valSubset: 2, batch: 2 },
    },
    final: { enabled: false },
    pool: { workers: 0, threadsPerWorker: 1 },
  };
  const file = join(dir, 'det.yaml');
  writeFileSync(file, YAML.stringify(cfg));
  const out = join(dir, 'det-run');
  const first = cli(['search', '--config', file, '--out', out]);
  assert.equal(first.code, 1, first.stderr);
  assert.match(first.stderr, /proxy evaluation of .* could not run: .*det-data/);
  assert.match(first.stderr, /not of the loss: nothing was recorded for it.*--resume/s);
  const made = cli(['data', 'make', '--kind', 'mnist-det', '--out', data, '--images', '60', '--size', '32']);
  assert.equal(made.code, 0, made.stderr);
  const second = cli(['search', '--out', out, '--resume']);
  assert.equal(second.code, 0, second.stderr);
  const s = snapshot(out) as { status: string; results: string[] };
  assert.equal(s.status, 'finished');
  assert.ok(s.results.some((r) => r.includes('|proxy|') && r.includes('|ok|')));
});
