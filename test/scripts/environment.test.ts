/**
 * scripts/environment.ts envDiffs: two records of one CPU model name are different machines when
 * both carry a CPU identification and the identifications differ; older records (model name only)
 * are compared as before. machineOfRecord maps a stored training to the machine it ran on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  envDiffs,
  fileMachineKey,
  machineKeyOfRecord,
  machineOfRecord,
  machinesSentence,
  parseMachineLines,
} from '../../scripts/environment.js';
import { machineIdOf, machineKey, type Provenance } from '../../src/util/provenance.js';

const lib = (version: string, pkg: string) => ({ version, path: `/usr/lib/${pkg}.so`, from: `dpkg ${pkg}` });
const env = (over: Partial<Provenance['env']> = {}): Provenance['env'] => ({
  cpu: 'AMD EPYC',
  cores: 2,
  threads: 2,
  libtorch: lib('1.13.1+dfsg-4', 'libtorch1.13'),
  blas: lib('0.3.21+ds-4', 'libopenblas0-openmp'),
  node: 'v20.20.2',
  platform: 'linux-x64',
  ...over,
});
const zen3 = { vendor: 'AuthenticAMD', family: '25', model: '1', stepping: '1', microcode: '0x1000065', flags: 'aaaaaaaaaaaa' };

test('envDiffs: one model name, two CPU identifications, is two machines; a record without one compares by name', () => {
  assert.deepEqual(envDiffs(env(), env()), [], 'older records, one name: the same environment');
  assert.deepEqual(envDiffs(env({ cpuId: zen3, blasCore: 'Zen' }), env({ cpuId: zen3, blasCore: 'Zen' })), []);
  const other = envDiffs(
    env({ cpuId: zen3, blasCore: 'Zen' }),
    env({ cpuId: { ...zen3, model: '17', microcode: '0xa001173' }, blasCore: 'Zen' }),
  );
  assert.equal(other.length, 1);
  assert.match(
    other[0]!,
    /^CPU 'AuthenticAMD 25\/1\/1 ucode 0x1000065 .* blas Zen' here, 'AuthenticAMD 25\/17\/1 ucode 0xa001173 .*' in the search$/,
  );
  assert.equal(
    envDiffs(env({ cpuId: zen3, blasCore: 'Zen' }), env({ cpuId: zen3, blasCore: 'Haswell' })).length,
    1,
    'another OpenBLAS core',
  );
  assert.deepEqual(envDiffs(env({ cpuId: zen3, blasCore: 'Zen' }), env()), [], 'one side unidentified: not a difference by itself');
  assert.deepEqual(envDiffs(env({ cpu: 'Intel Xeon' }), env()), ["CPU 'Intel Xeon' here, 'AMD EPYC' in the search"]);
});

test('machineOfRecord: the key a record carries, else the last recorded start before it finished; machinesSentence flags several', () => {
  const zen = { family: '25', model: '1', stepping: '1', microcode: '0x1000065', flags: 'f1', openblasCore: 'Zen' };
  const text = [
    JSON.stringify({ startedAt: '2026-12-01T22:32:39Z', ...zen }),
    'not json',
    JSON.stringify({ startedAt: '2026-12-01T19:14:33Z', ...zen }),
    JSON.stringify({ startedAt: '2026-12-02T01:00:00Z', ...zen, model: '17', microcode: '0xa001173' }),
  ].join('\n');
  const { lines, skipped } = parseMachineLines(text);
  assert.equal(skipped, 1);
  assert.deepEqual(
    lines.map((l) => l.startedAt),
    ['2026-12-01T19:14:33Z', '2026-12-01T22:32:39Z', '2026-12-02T01:00:00Z'],
    'oldest first',
  );
  const at = (iso: string, metrics: Record<string, number> = { ap: 0.5 }) =>
    machineOfRecord({ finishedAt: Date.parse(iso), metrics }, lines);
  assert.equal(at('2026-12-01T18:00:00Z'), null, 'before the first recorded start');
  const zenLabel = 'family 25 model 1 stepping 1 microcode 0x1000065 flags f1 OpenBLAS Zen';
  assert.equal(at('2026-12-01T21:22:13Z'), zenLabel);
  assert.equal(at('2026-12-01T23:10:46Z'), zenLabel, 'a later start on the same kind of machine: the same label');
  assert.equal(at('2026-12-02T02:00:00Z'), 'family 25 model 17 stepping 1 microcode 0xa001173 flags f1 OpenBLAS Zen');
  assert.equal(at('2026-12-02T02:00:00Z', { ap: 0.5, machine: 0xd943bdbe0ca5 }), 'key d943bdbe0ca5', "the record's own key first");
  assert.match(
    machinesSentence([zenLabel, zenLabel, null]),
    /^Machines: all 2 recorded run\(s\) trained on one machine \(family 25 .*\); 1 finished before/,
  );
  assert.match(machinesSentence([null, null]), /not recorded for these 2 run/);
  const two = machinesSentence([zenLabel, at('2026-12-02T02:00:00Z')]);
  assert.match(two, /^\*\*Machines: these runs trained on 2 different machines\*\*/);
});

test('machineKeyOfRecord and fileMachineKey: the record key, the provenance, else machines.jsonl at the commit that added the file', () => {
  const zen = { family: '25', model: '1', stepping: '1', microcode: '0x1000065', flags: 'f1', openblasCore: 'Zen' };
  const { lines } = parseMachineLines(
    [
      // an early start without a key takes the key of a later start with the same identification
      JSON.stringify({ startedAt: '2026-12-01T19:00:00Z', ...zen }),
      JSON.stringify({ startedAt: '2026-12-02T01:00:00Z', ...zen, machineKey: 'd943bdbe0ca5' }),
      JSON.stringify({ startedAt: '2026-12-02T11:00:00Z', ...zen, family: '26', machineKey: '63cd5a191630' }),
      // another identification, never keyed: stays without one
      JSON.stringify({ startedAt: '2026-12-03T00:00:00Z', ...zen, model: '17' }),
    ].join('\n'),
  );
  assert.deepEqual(
    lines.map((l) => l.machineKey ?? null),
    ['d943bdbe0ca5', 'd943bdbe0ca5', '63cd5a191630', null],
  );
  const at = (iso: string, metrics: Record<string, number> = {}) => machineKeyOfRecord({ finishedAt: Date.parse(iso), metrics }, lines);
  assert.equal(at('2026-12-01T18:00:00Z'), null, 'before any recorded start');
  assert.equal(at('2026-12-01T20:00:00Z'), 0xd943bdbe0ca5);
  assert.equal(at('2026-12-02T12:00:00Z'), 0x63cd5a191630);
  assert.equal(at('2026-12-03T01:00:00Z'), null, 'a start that names no key');
  assert.equal(at('2026-12-02T12:00:00Z', { machine: 7 }), 7, "the record's own key first");

  // files: a temporary repository whose commit dates place each file's landing
  const repo = mkdtempSync(join(tmpdir(), 'cse-env-'));
  const git = (args: string[], date?: string) => {
    const r = spawnSync('git', args, {
      cwd: repo,
      encoding: 'utf8',
      env: { ...process.env, ...(date ? { GIT_COMMITTER_DATE: date, GIT_AUTHOR_DATE: date } : {}) },
    });
    assert.equal(r.status, 0, r.stderr);
  };
  git(['init', '-q']);
  git(['config', 'user.email', 't@t']);
  git(['config', 'user.name', 't']);
  const put = (name: string, body: unknown, date: string | null) => {
    writeFileSync(join(repo, name), JSON.stringify(body));
    if (date) {
      git(['add', name]);
      git(['commit', '-q', '-m', name], date);
    }
    return join(repo, name);
  };
  const e = env({ cpuId: zen3, blasCore: 'Zen' });
  assert.equal(fileMachineKey(put('a.json', { metrics: { machine: 5 } }, null), lines, repo), 5);
  assert.equal(fileMachineKey(put('b.json', { provenance: { env: e } }, null), lines, repo), machineKey(machineIdOf(e)!));
  // no key, no identification: the commit that added it (a later rewrite does not move it)
  const c = put('c.json', { provenance: { env: env() } }, '2026-12-02T12:00:00Z');
  writeFileSync(c, JSON.stringify({ provenance: { env: env() }, rewritten: true }));
  git(['commit', '-q', '-am', 'rewrite'], '2026-12-03T05:00:00Z');
  assert.equal(fileMachineKey(c, lines, repo), 0x63cd5a191630);
  assert.equal(fileMachineKey(put('d.json', {}, null), lines, repo), null, 'not committed');
  assert.equal(fileMachineKey(join(repo, 'none.json'), lines, repo), null, 'no file');
  rmSync(repo, { recursive: true, force: true });
});
