/**
 * scripts/cli.ts, the command line of the scripts under scripts/: the helper itself (readCli), and
 * every script that reads a command line spawned with --help (usage on stdout naming its options,
 * exit 0) and with an unknown option (exit 2, the option named on stderr). Both stop during the
 * argument parsing: the results root (or output folder) passed along stays empty, nothing trains.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCli, type CliArgs, type CliResult, type CliSpec } from '../../scripts/cli.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));

const spec: CliSpec = {
  options: ['settings', 'plan', 'root', 'generations', 'smoke'],
  valued: ['settings', 'root', 'generations', 'smoke'],
  hidden: ['smoke'],
  usage: 'usage: x [--settings A,B] [--plan] [--root DIR] [--generations N] [--smoke N (test only)]',
};

function ok(r: CliResult): CliArgs {
  assert.equal(r.kind, 'ok', JSON.stringify(r));
  return (r as { args: CliArgs }).args;
}
function error(r: CliResult): string {
  assert.equal(r.kind, 'error');
  return (r as { message: string }).message;
}

test('readCli: flags, values, defaults; the first of a repeated option; a value may start with one dash', () => {
  const a = ok(readCli(spec, ['--plan', '--root', '/tmp/r', '--generations', '-1', '--root', 'other']));
  assert.equal(a.has('plan'), true);
  assert.equal(a.has('settings'), false);
  assert.equal(a.has('root'), true);
  assert.equal(a.value('root', 'results'), '/tmp/r');
  assert.equal(a.value('settings', 'S1,S2'), 'S1,S2');
  assert.equal(a.value('settings'), undefined);
  assert.equal(a.value('generations'), '-1');
  assert.deepEqual(a.positionals, []);
  const none = ok(readCli(spec, []));
  assert.equal(none.has('plan'), false);
  assert.equal(none.value('root', 'results'), 'results');
  // -h as an option's value is that value, not help
  assert.equal(ok(readCli(spec, ['--root', '-h'])).value('root'), '-h');
});

test('readCli: --help and -h win over everything else', () => {
  assert.deepEqual(readCli(spec, ['--help']), { kind: 'help' });
  assert.deepEqual(readCli(spec, ['--plan', '-h']), { kind: 'help' });
  assert.deepEqual(readCli(spec, ['--bogus', 'stray', '--root', '--help']), { kind: 'help' });
});

test('readCli: an unknown option names itself and the known ones (not the hidden ones)', () => {
  assert.equal(error(readCli(spec, ['--plan', '--bogus'])), 'unknown option --bogus (known: --settings, --plan, --root, --generations)');
  assert.match(error(readCli(spec, ['--root=x'])), /^unknown option --root=x /);
  // a hidden option is accepted
  assert.equal(ok(readCli(spec, ['--smoke', '2'])).value('smoke'), '2');
});

test('readCli: a stray argument, and a valued option without its value', () => {
  assert.equal(error(readCli(spec, ['stray'])), "unexpected argument 'stray'");
  assert.equal(error(readCli(spec, ['--plan', 'x'])), "unexpected argument 'x'");
  assert.equal(error(readCli(spec, ['--root', 'a', 'b'])), "unexpected argument 'b'");
  assert.equal(error(readCli(spec, ['-v'])), "unexpected argument '-v'");
  assert.equal(error(readCli(spec, ['--root'])), '--root needs a value');
  assert.equal(error(readCli(spec, ['--root', '--plan'])), '--root needs a value');
  assert.equal(error(readCli(spec, ['--settings', '--root', '/tmp/x'])), '--settings needs a value');
  // an unknown option or a stray argument is named before a missing value
  assert.match(error(readCli(spec, ['--root', '--bogus'])), /^unknown option --bogus /);
  assert.equal(error(readCli(spec, ['--root', '--plan', 'x'])), "unexpected argument 'x'");
});

test('readCli: positional arguments up to the declared count', () => {
  const p: CliSpec = { options: ['generations'], valued: ['generations'], positionals: 1, usage: 'usage: g CONFIG [--generations N]' };
  const a = ok(readCli(p, ['--generations', '2', 'configs/search.yaml']));
  assert.deepEqual(a.positionals, ['configs/search.yaml']);
  assert.equal(a.value('generations'), '2');
  assert.deepEqual(ok(readCli(p, [])).positionals, []);
  assert.equal(error(readCli(p, ['a', 'b'])), "unexpected argument 'b'");
});

test('readCli: a mistake in the spec or in its use throws', () => {
  assert.throws(() => readCli({ ...spec, usage: 'usage: x --settings --plan --root --generations' }, []), /does not name --smoke/);
  // --gen is not --generations
  assert.throws(() => readCli({ options: ['gen'], usage: 'usage: x --generations N' }, []), /does not name --gen/);
  assert.throws(() => readCli({ options: ['a'], valued: ['b'], usage: '--a' }, []), /--b is not among the options/);
  const a = ok(readCli(spec, []));
  assert.throws(() => a.has('rot'), /--rot is not a declared option/);
  assert.throws(() => a.value('plan'), /--plan takes no value/);
});

interface ScriptCase {
  file: string;
  options: string[];
  /**
   * Valid arguments pointing the script's output at `dir` (which must stay empty), choosing its
   * cheapest mode where it has one, so that a parser that let the run start would write there.
   */
  into: (dir: string) => string[];
}
const SCRIPTS: ScriptCase[] = [
  {
    file: 'results-proxy.ts',
    options: ['settings', 'collect-only', 'plan', 'root', 'out', 'no-reuse', 'defer-to-search', 'smoke-iters', 'max-jobs'],
    into: (d) => ['--root', d, '--out', join(d, 'PROXY.md'), '--settings', 'demo', '--collect-only'],
  },
  {
    file: 'results-discovery.ts',
    options: ['settings', 'collect-only', 'plan', 'efficiency', 'early-stop', 'generations', 'root', 'out', 'config-dir'],
    into: (d) => ['--root', d, '--out', join(d, 'DISCOVERY.md'), '--collect-only'],
  },
  {
    file: 'results-losses.ts',
    options: ['iters', 'seeds', 'images', 'datasets', 'detectors', 'root', 'out', 'collect-only'],
    into: (d) => ['--root', d, '--out', join(d, 'RESULTS.md'), '--collect-only'],
  },
  { file: 'early-stop-demo.ts', options: ['out', 'generations'], into: (d) => ['--out', join(d, 'demo'), '--generations', '1'] },
  { file: 'generation0.ts', options: ['generations'], into: () => ['configs/search-demo.yaml'] },
  {
    file: 'mos-bcls-study.ts',
    options: ['root', 'survivors', 'cls-survivors'],
    into: (d) => ['--root', d, '--survivors', '0', '--cls-survivors', '0'],
  },
];

function run(file: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join('scripts', file), ...args], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, CSE_THREADS: '1' },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

for (const s of SCRIPTS)
  test(`scripts/${s.file}: --help prints its usage and exits 0, an unknown option exits 2; neither starts anything`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'cse-script-cli-'));
    try {
      const help = run(s.file, [...s.into(dir), '--help']);
      assert.equal(help.code, 0, help.stderr);
      assert.equal(help.stderr, '');
      assert.match(help.stdout, /^usage: /);
      for (const o of s.options) assert.match(help.stdout, new RegExp(`--${o}(?![\\w-])`), `--help of ${s.file} names --${o}`);
      assert.match(help.stdout, /-h, --help/);

      const bad = run(s.file, [...s.into(dir), '--bogus-option']);
      assert.equal(bad.code, 2, bad.stdout + bad.stderr);
      assert.match(bad.stderr, /^error: unknown option --bogus-option \(known: --/);
      assert.equal(bad.stdout, '');

      assert.deepEqual(readdirSync(dir), [], `${s.file} wrote into ${dir}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

test('scripts/results-proxy.ts: -h, a stray argument and a missing value', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cse-script-cli-'));
  try {
    const h = run('results-proxy.ts', ['-h']);
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /test only/);
    const stray = run('results-proxy.ts', ['--root', dir, 'S1']);
    assert.equal(stray.code, 2);
    assert.equal(stray.stderr, "error: unexpected argument 'S1'\n");
    const missing = run('results-proxy.ts', ['--plan', '--root']);
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, 'error: --root needs a value\n');
    assert.equal(existsSync(join(dir, 'proxy')), false);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
