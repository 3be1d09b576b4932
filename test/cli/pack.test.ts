/**
 * The npm package: `npm pack`, installed into an empty folder, gives a working
 * `npx cse-autoloss` running the compiled JavaScript, with the libtorch addon built by the
 * install (binding.gyp). Offline: the folder's node_modules starts with copies of this checkout's
 * installed production dependencies, so npm installs only the package (and runs its addon
 * build, 20-60 s); nothing is fetched, not even from npm's cache (a private empty one is used).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string; files: string[] };

/** The environment without npm's own variables (set when the suite runs under `npm test`) and CSE_DEV. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.toLowerCase().startsWith('npm_') && k !== 'CSE_DEV') env[k] = v;
  return env;
}

function sh(cmd: string, args: string[], opts: SpawnSyncOptions): { stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: cleanEnv(), maxBuffer: 1 << 26, ...opts });
  const out = { stdout: String(r.stdout), stderr: String(r.stderr) };
  assert.equal(
    r.status,
    0,
    `${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${out.stderr.slice(-4000)}\n${out.stdout.slice(-2000)}`,
  );
  return out;
}

/** The top-level folders of node_modules (`name` or `@scope/name`) that the production dependencies occupy. */
function productionDependencies(): string[] {
  const { stdout } = sh('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root });
  const tops = new Set<string>();
  for (const line of stdout.split('\n')) {
    const rel = relative(join(root, 'node_modules'), line.trim());
    if (!line.trim() || rel.startsWith('..') || rel === '') continue;
    const parts = rel.split('/');
    tops.add(parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!);
  }
  return [...tops].sort();
}

test('npm pack installed into an empty folder: npx cse-autoloss runs the build, with the addon', { timeout: 900_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cse-pack-'));
  try {
    // 1. Pack from a copy of the package's sources: its prepack build writes the copy's dist/, not this checkout's.
    const stage = join(dir, 'stage');
    for (const f of [...pkg.files.filter((f) => !f.startsWith('dist')), 'package.json', 'README.md', join('scripts', 'build.mjs')]) {
      if (existsSync(join(root, f))) cpSync(join(root, f), join(stage, f), { recursive: true });
    }
    symlinkSync(join(root, 'node_modules'), join(stage, 'node_modules'));
    sh('npm', ['pack', '--pack-destination', dir], { cwd: stage });
    const tgz = join(dir, `${pkg.name}-${pkg.version}.tgz`);
    assert.ok(existsSync(tgz), `npm pack wrote no ${tgz}`);

    // 2. The empty folder, its node_modules seeded with the installed production dependencies.
    const app = join(dir, 'app');
    const deps = productionDependencies();
    assert.ok(deps.includes('@tensorflow/tfjs-core') && deps.includes('better-sqlite3') && !deps.includes('tsx'), deps.join(' '));
    for (const d of deps) cpSync(join(root, 'node_modules', d), join(app, 'node_modules', d), { recursive: true, verbatimSymlinks: true });
    mkdirSync(join(app, 'node_modules', '.bin'));
    for (const name of readdirSync(join(root, 'node_modules', '.bin'))) {
      const target = readlinkSync(join(root, 'node_modules', '.bin', name));
      const parts = target.replace(/^\.\.\//, '').split('/');
      const owner = parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
      if (deps.includes(owner)) symlinkSync(target, join(app, 'node_modules', '.bin', name));
    }
    sh('npm', ['install', '--offline', '--cache', join(dir, 'npm-cache'), '--no-package-lock', '--no-audit', '--no-fund', tgz], {
      cwd: app,
    });
    const installed = join(app, 'node_modules', pkg.name);
    assert.ok(existsSync(join(installed, 'build', 'Release', 'torch_addon.node')), 'the install built the addon');
    assert.ok(existsSync(join(installed, 'dist', 'src', 'cli', 'main.js')), 'the package ships the compiled CLI');
    assert.ok(!existsSync(join(app, 'node_modules', 'tsx')), 'tsx (a development dependency) is not installed');

    // 3. npx runs it: the version, the torch backend through the addon, and the same COCO numbers as the sources give.
    const npx = (...args: string[]) => sh('npx', ['--no-install', pkg.name, ...args], { cwd: app });
    assert.equal(npx('--version').stdout.trim(), pkg.version);
    const demo = npx('demo', '--steps', '2', '--batch', '2', '--size', '16', '--threads', '1');
    assert.match(demo.stdout, /backend torch, 1 libtorch threads/);
    assert.match(demo.stdout, /step time: median [\d.]+ ms/);
    assert.doesNotMatch(demo.stdout + demo.stderr, /looks like you are running TensorFlow\.js/);
    const fixture = join(root, 'test', 'fixtures', 'coco', 'random-0');
    const evalArgs = ['eval', '--gt', join(fixture, 'gt.json'), '--dt', join(fixture, 'dt.json'), '--json', '--per-class'];
    const fromPackage = JSON.parse(npx(...evalArgs).stdout) as Record<string, unknown>;
    const fromSource = JSON.parse(
      sh(process.execPath, [join(root, 'bin', 'cse-autoloss.js'), ...evalArgs], { cwd: root, env: { ...cleanEnv(), CSE_DEV: '1' } }).stdout,
    ) as Record<string, unknown>;
    assert.deepEqual(fromPackage, fromSource);
    assert.equal(typeof fromPackage.AP, 'number');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
