/**
 * scripts/environment.ts envDiffs: two records of one CPU model name are different machines when
 * both carry a CPU identification and the identifications differ; older records (model name only)
 * are compared as before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envDiffs } from '../../scripts/environment.js';
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
