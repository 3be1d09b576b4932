/**
 * The search commands end to end, as a user runs them: kill -9 mid-generation and --resume,
 * report, export, compare, and exit codes for bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import YAML from 'yaml';
import { PRIMITIVES } from '../../src/loss/index.js';
import { SMALL, snapshot, tmpDir } from './helpers.js';

const BIN = fileURLToPath(new URL('../../bin/cse-autoloss.js', import.meta.url));
const dir = tmpDir('cse-cli-');
const cfgFile = join(dir, 'search.yaml');
writeFileSync(
  cfgFile,
  YAML.stringify({
    ...SMALL,
    population: { ...SMALL.population, size: 400 },
    evolution: { ...SMALL.evolution, generations: 4 },
    pool: { workers: 1 },
  }),
);

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const refDir = join(dir, 'ref');
const refRun = new Promise<void>((resolve, reject) => {
  const p = spawn(process.execPath, [BIN, 'search', '--config', cfgFile, '--out', refDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`reference run exited ${code}: ${err}`))));
});

test('kill -9 mid-generation, then --resume: the same final results as an uninterrupted run', async () => {
  const out = join(dir, 'killed');
  const p = spawn(process.execPath, [BIN, 'search', '--config', cfgFile, '--out', out, '--json-log'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let killedAt: { gen: number; stage: string } | null = null;
  const lines = createInterface({ input: p.stdout! });
  for await (const line of lines) {
    const ev = JSON.parse(line) as { type: string; gen?: number; stage?: string; done?: number };
    if (ev.type === 'stage' && ev.gen === 2 && ev.stage === 'mos1' && (ev.done ?? 0) >= 2) {
      killedAt = { gen: ev.gen, stage: ev.stage };
      p.kill('SIGKILL');
      break;
    }
  }
  const code = await new Promise<number | null>((r) =>
    p.exitCode !== null || p.signalCode !== null ? r(p.exitCode) : p.on('exit', (c) => r(c)),
  );
  assert.equal(p.signalCode, 'SIGKILL', `exited ${code} before the kill`);
  assert.deepEqual(killedAt, { gen: 2, stage: 'mos1' });
  const partial = snapshot(out) as { gens: unknown[]; status: string };
  // generations 0 and 1 are complete; the child may have run ahead of what this test read (the
  // pipe holds ~64 KB of events), but not past the end: 4 generations
  assert.ok(partial.gens.length >= 2 && partial.gens.length < 4, `${partial.gens.length} generations journalled`);
  assert.equal(partial.status, 'running');
  const r = cli(['search', '--out', out, '--resume']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /resumed: \d+ stored results/);
  await refRun;
  assert.deepEqual(snapshot(out), snapshot(refDir));
});

test('report, export --to pytorch, compare, and the files they write', async () => {
  await refRun;
  assert.ok(existsSync(join(refDir, 'report.html')) && existsSync(join(refDir, 'report.json')));
  const r = cli(['report', refDir]);
  assert.equal(r.code, 0, r.stderr);
  const data = JSON.parse(readFileSync(join(refDir, 'report.json'), 'utf8')) as {
    hallOfFame: { loss: string; infix: string; latex: string }[];
    generations: unknown[];
    final: unknown[];
    pareto: { front: unknown[] };
  };
  assert.equal(data.generations.length, 4);
  assert.ok(data.hallOfFame.length > 0 && data.hallOfFame[0]!.infix.length > 0 && data.hallOfFame[0]!.latex.length > 0);
  assert.equal(data.final.length, 4); // default + published half + top 2
  assert.ok(data.pareto.front.length > 0);
  const html = readFileSync(join(refDir, 'report.html'), 'utf8');
  // The dashboard's views offline: its script and styles inline, the data embedded as JSON.
  assert.ok(!/<link|\ssrc=["']?(?!data:)|url\(["']?(?!data:|#)/.test(html), 'self-contained: no external script, stylesheet or font');
  const embedded = /<script type="application\/json" id="cse-data">([^<]*)<\/script>/.exec(html);
  assert.ok(embedded, 'embedded data');
  const view = JSON.parse(embedded[1]!) as {
    run: {
      generations: { gen: number; funnel: { drawn: number; cpvPass: number; unique: number } }[];
      hallOfFame: { id: string; loss: string; latexHtml: string }[];
    };
    candidates: Record<string, { loss: string; latexHtml: string; graphSvg: string; curves: unknown }>;
  };
  assert.deepEqual(
    view.run.generations.map((g) => g.gen),
    [1, 2, 3, 4],
  );
  for (const g of view.run.generations) assert.ok(g.funnel.drawn >= g.funnel.cpvPass && g.funnel.cpvPass >= g.funnel.unique);
  assert.equal(view.run.hallOfFame[0]!.loss, data.hallOfFame[0]!.loss);
  assert.match(view.run.hallOfFame[0]!.latexHtml, /class="katex"/);
  const top = view.candidates[view.run.hallOfFame[0]!.id]!;
  assert.ok(
    top && top.loss === data.hallOfFame[0]!.loss && /<svg /.test(top.graphSvg) && top.curves,
    'the best loss has its candidate page',
  );

  const exp = cli(['export', '--run', refDir, '--rank', '1', '--to', 'pytorch']);
  assert.equal(exp.code, 0, exp.stderr);
  const best = data.hallOfFame[0]!.loss;
  for (const p of PRIMITIVES) if (best.includes(`${p.name}(`)) assert.ok(exp.stdout.includes(`def ${p.name}(`), p.name);
  assert.match(exp.stdout, /class CseAutolossReg\(nn\.Module\)/);
  const py = join(dir, 'loss.py');
  writeFileSync(py, exp.stdout);
  const has = spawnSync('python3', ['--version']);
  if (has.status === 0) {
    const parsed = spawnSync('python3', ['-c', `import ast,sys; ast.parse(open(sys.argv[1]).read())`, py], { encoding: 'utf8' });
    assert.equal(parsed.status, 0, parsed.stderr);
  }
  assert.equal(cli(['export', '--run', refDir, '--rank', '999']).code, 2);
  assert.equal(cli(['export', '--run', refDir, '--to', 'onnx']).code, 2);

  const vdir = join(dir, 'vanilla');
  const v = cli(['search', '--config', cfgFile, '--out', vdir, '--strategy', 'vanilla', '--workers', '0']);
  assert.equal(v.code, 0, v.stderr);
  const c = cli(['compare', refDir, vdir, '--json']);
  assert.equal(c.code, 0, c.stderr);
  const cmp = JSON.parse(c.stdout) as {
    a: { strategy: string; proxyEvaluations: number };
    b: { strategy: string };
    evaluationRatio: number | null;
    configDifferences: string[];
  };
  assert.equal(cmp.a.strategy, 'cse');
  assert.equal(cmp.b.strategy, 'vanilla');
  assert.deepEqual(cmp.configDifferences, []);
  const text = cli(['compare', refDir, vdir]);
  assert.match(text.stdout, /ratio/);
});

test('bad input: invalid config names each field (exit 2); resume of another config shows the difference; corrupted journal untouched', async () => {
  await refRun;
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'mode: boxes\npopulation:\n  size: 0\nproxy:\n  task:\n    iterations: 5\n');
  const r = cli(['search', '--config', bad, '--out', join(dir, 'never')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /mode:/);
  assert.match(r.stderr, /population\.size:/);
  assert.match(r.stderr, /proxy\.task: unknown field\(s\) 'iterations'/);
  assert.ok(!existsSync(join(dir, 'never')));

  const other = cli(['search', '--config', cfgFile, '--out', refDir, '--resume', '--seed', '7']);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /another config[\s\S]*seed: 1 → 7/);

  const cdir = join(dir, 'corrupt');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(cdir);
  writeFileSync(join(cdir, 'journal.sqlite'), 'garbage'.repeat(500));
  const c = cli(['search', '--config', cfgFile, '--out', cdir, '--resume']);
  assert.equal(c.code, 2);
  assert.match(c.stderr, /corrupted|not a cse-autoloss journal/);
  assert.equal(readFileSync(join(cdir, 'journal.sqlite'), 'utf8'), 'garbage'.repeat(500));
  assert.equal(cli(['report', join(dir, 'nothing-here')]).code, 2);
});
