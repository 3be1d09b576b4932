/**
 * scripts/environment.ts envDiffs: two records of one CPU model name are different machines when
 * both carry a CPU identification and the identifications differ; older records (model name only)
 * are compared as before. machineOfRecord maps a stored training to the machine it ran on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envDiffs, machineOfRecord, machinesSentence, parseMachineLines } from '../../scripts/environment.js';
import type { Provenance } from '../../src/util/provenance.js';

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
