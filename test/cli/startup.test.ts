/**
 * A fast start: `--help` (the program's and each command's) loads none of the heavy modules
 * (tfjs, the libtorch addon, BullMQ/ioredis, better-sqlite3); commands import them when they
 * run. And no tfjs banner in any output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'cse-autoloss.js');
const HEAVY = /@tensorflow\/|\/bullmq\/|\/ioredis\/|\/better-sqlite3\/|\/src\/backend\/|\/src\/tf\.[jt]s$/;
const COMMANDS = ['demo', 'data', 'eval', 'loss', 'search', 'report', 'compare', 'export', 'worker', 'train', 'test', 'serve'];

/** Runs the CLI with a module-resolution hook that lists every module it loads (ES modules: all of ours and the packages' entries). */
function loadedModules(dir: string, args: string[]): string[] {
  const log = join(dir, `loaded-${args.join('-')}.txt`);
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs';\n` +
      `export async function resolve(spec, ctx, next) { const r = await next(spec, ctx); appendFileSync(process.env.CSE_LOAD_LOG, r.url + '\\n'); return r; }\n`,
  );
  const register = join(dir, 'register.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, CSE_LOAD_LOG: log },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Usage: cse-autoloss/);
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

test('--help loads no heavy module: the program and every command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cse-startup-'));
  try {
    const top = loadedModules(dir, ['--help']);
    assert.ok(
      top.some((u) => /\/cli\/train\.[jt]s$/.test(u)),
      'the program help registers every command',
    );
    assert.deepEqual(
      top.filter((u) => HEAVY.test(u)),
      [],
    );
    for (const c of COMMANDS) {
      const loaded = loadedModules(dir, [c, '--help']);
      assert.deepEqual(
        loaded.filter((u) => HEAVY.test(u)),
        [],
        c,
      );
      // only the command that runs is loaded
      const commands = loaded.filter((u) =>
        /\/cli\/(demo|data|eval|loss|search|report|compare|export|worker|train|test|serve)\.[jt]s$/.test(u),
      );
      assert.ok(
        commands.every((u) => u.includes(`/cli/${c}.`) || (c === 'test' && u.includes('/cli/train.'))),
        `${c}: ${commands.join(' ')}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("no tfjs banner: src/tf.ts silences tfjs's logs (control: plain tfjs-core prints it)", () => {
  const script = (withProject: boolean) =>
    [
      withProject ? `await import(${JSON.stringify(pathToFileURL(join(root, 'src', 'tf.ts')).href)});` : '',
      "const tf = await import('@tensorflow/tfjs-core');",
      "await import('@tensorflow/tfjs-backend-cpu');",
      "await tf.setBackend('cpu');",
      'console.log(tf.add(tf.tensor([1, 2]), tf.tensor([3, 4])).dataSync().join(","));',
    ].join('\n');
  const run = (withProject: boolean) =>
    spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(withProject)], { cwd: root, encoding: 'utf8' });
  const plain = run(false);
  assert.equal(plain.status, 0, plain.stderr);
  assert.match(plain.stdout + plain.stderr, /looks like you are running TensorFlow\.js in Node\.js/);
  const ours = run(true);
  assert.equal(ours.status, 0, ours.stderr);
  assert.equal(ours.stdout.trim(), '4,6');
  assert.equal(ours.stderr, '');
});
