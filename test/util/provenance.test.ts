/**
 * Provenance (issue 15, item 8): the commit, the command and the environment, each checked
 * against an independent source (git log, the shell, /proc/cpuinfo via grep, dpkg).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import {
  machineId,
  machineIdOf,
  machineKey,
  machineKeyText,
  openblasCore,
  packageRoot,
  parseCpuInfo,
  provenance,
  shellQuote,
  treeHash,
} from '../../src/util/provenance.js';

const sh = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { cwd: packageRoot(), encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
};

test('commit and dirty flag as git reports them; the command as the argv', () => {
  const p = provenance();
  const head = sh('git', ['log', '-1', '--format=%H']);
  assert.equal(p.commit, head, 'the checkout HEAD');
  if (head) {
    const changed = sh('git', ['diff', 'HEAD', '--name-only', '--', 'src'])!;
    const untracked = sh('git', ['ls-files', '--others', '--exclude-standard', '--', 'src'])!;
    assert.equal(p.dirty, changed !== '' || untracked !== '');
  } else assert.equal(p.dirty, null);
  assert.match(p.srcHash, /^[0-9a-f]{16}$/);
  assert.equal(p.srcHash, treeHash(join(packageRoot(), 'src')));
  // the shell reads the quoted command back into the same argv
  const back = execFileSync('sh', ['-c', `for a in ${process.argv.map(shellQuote).join(' ')}; do printf '%s\\0' "$a"; done`], {
    encoding: 'utf8',
  });
  assert.deepEqual(back.split('\0').slice(0, -1), process.argv);
  assert.equal(p.command, process.argv.map(shellQuote).join(' '));
});

test('shellQuote: the shell reads every argument back unchanged', () => {
  const args = ['plain', 'with space', "it's", '$HOME', 'a"b', '', '--x=1', 'semi;colon', 'back\\slash', 'new\nline'];
  const out = execFileSync('sh', ['-c', `for a in ${args.map(shellQuote).join(' ')}; do printf '%s\\0' "$a"; done`], { encoding: 'utf8' });
  assert.deepEqual(out.split('\0').slice(0, -1), args);
});

test('treeHash: a function of the paths and contents only', () => {
  const d = mkdtempSync(join(tmpdir(), 'prov-'));
  mkdirSync(join(d, 'sub'));
  writeFileSync(join(d, 'a.ts'), 'x');
  writeFileSync(join(d, 'sub', 'b.ts'), 'y');
  const h1 = treeHash(d);
  assert.equal(treeHash(d), h1);
  writeFileSync(join(d, 'a.ts'), 'x2');
  const h2 = treeHash(d);
  assert.notEqual(h2, h1, 'a changed file');
  writeFileSync(join(d, 'a.ts'), 'x');
  assert.equal(treeHash(d), h1, 'the same content again');
  renameSync(join(d, 'sub', 'b.ts'), join(d, 'sub', 'c.ts'));
  assert.notEqual(treeHash(d), h1, 'a renamed file');
});

test('environment: CPU model, cores, Node, libtorch and BLAS versions, threads once the backend is loaded', async () => {
  const p = provenance();
  const model = sh('grep', ['-m1', '^model name', '/proc/cpuinfo']);
  if (model) assert.equal(p.env.cpu, model.split(':').slice(1).join(':').trim());
  assert.equal(p.env.cores, cpus().length);
  assert.equal(p.env.node, process.version);
  assert.equal(p.env.platform, `${process.platform}-${process.arch}`);
  const debTorch = sh('dpkg-query', ['-W', '-f', '${Version}', 'libtorch-dev']);
  if (debTorch && !process.env.LIBTORCH) assert.equal(p.env.libtorch.version, debTorch, 'the Debian libtorch');
  const alt = sh('update-alternatives', ['--query', 'libblas.so.3-x86_64-linux-gnu']);
  const altPath = alt ? /^Value:\s*(.+)$/m.exec(alt)?.[1] : undefined;
  if (altPath) {
    const owner = sh('dpkg-query', ['-S', altPath])!.split(':')[0]!;
    assert.equal(p.env.blas.version, sh('dpkg-query', ['-W', '-f', '${Version}', owner]));
    assert.equal(p.env.blas.from, `dpkg ${owner}`);
  }
  // threads: null until the backend is loaded in this process, then libtorch's intra-op threads
  assert.equal(p.env.threads, null);
  const { useTorchBackend, setNumThreads } = await import('../../src/backend/index.js');
  await useTorchBackend();
  setNumThreads(1);
  const q = provenance();
  assert.equal(q.env.threads, 1);
  assert.ok(q.env.libtorch.path && /libtorch/.test(q.env.libtorch.path), `the loaded libtorch: ${q.env.libtorch.path}`);
  if (altPath) assert.equal(q.env.blas.version, p.env.blas.version, 'the BLAS libtorch loaded');
  assert.equal(q.commit, p.commit);
});

test('parseCpuInfo: the first processor of an x86 and an ARM cpuinfo; the flags hash ignores order', () => {
  const x86 = [
    'processor\t: 0',
    'vendor_id\t: AuthenticAMD',
    'cpu family\t: 25',
    'model\t\t: 1',
    'model name\t: AMD EPYC',
    'stepping\t: 1',
    'microcode\t: 0x1000065',
    'flags\t\t: fpu vme sse avx2',
    '',
    'processor\t: 1',
    'vendor_id\t: GenuineIntel',
    'cpu family\t: 6',
    'flags\t\t: fpu',
    '',
  ].join('\n');
  const flagsHash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);
  assert.deepEqual(parseCpuInfo(x86), {
    vendor: 'AuthenticAMD',
    family: '25',
    model: '1',
    stepping: '1',
    microcode: '0x1000065',
    flags: flagsHash('avx2 fpu sse vme'),
  });
  assert.equal(parseCpuInfo(x86.replace('fpu vme sse avx2', 'avx2 sse vme fpu')).flags, flagsHash('avx2 fpu sse vme'));
  const arm =
    'processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\nCPU revision\t: 1\n';
  assert.deepEqual(parseCpuInfo(arm), {
    vendor: '0x41',
    family: '8',
    model: '0xd0c',
    stepping: '1',
    microcode: null,
    flags: flagsHash('asimd evtstrm fp'),
  });
  assert.equal(
    machineIdOf({ cpuId: parseCpuInfo(x86), blasCore: 'Zen' }),
    `AuthenticAMD 25/1/1 ucode 0x1000065 flags ${flagsHash('avx2 fpu sse vme')} blas Zen`,
  );
  assert.equal(machineIdOf({}), null, 'an older record: no identification');
  assert.notEqual(machineKey('a'), machineKey('b'));
  assert.equal(machineKeyText(machineKey('a')), createHash('sha256').update('a').digest('hex').slice(0, 12));
});

test("machine identification: this machine's cpuinfo (as grep reads it) and the core OpenBLAS reports when libtorch loads it", () => {
  const p = provenance();
  const grep = (name: string) =>
    sh('grep', ['-m1', `^${name}\\s*:`, '/proc/cpuinfo'])
      ?.split(':')
      .slice(1)
      .join(':')
      .trim() ?? null;
  if (!existsSync('/proc/cpuinfo')) {
    assert.equal(p.env.cpuId, null);
    return;
  }
  assert.equal(p.env.cpuId!.vendor, grep('vendor_id') ?? grep('CPU implementer'));
  assert.equal(p.env.cpuId!.family, grep('cpu family') ?? grep('CPU architecture'));
  assert.equal(p.env.cpuId!.microcode, grep('microcode'));
  assert.equal(machineId(), machineIdOf(p.env));
  // the reference: a separate Node process that loads the addon (libtorch, then the system BLAS) with OPENBLAS_VERBOSE=2
  const addon = join(packageRoot(), 'build', 'Release', 'torch_addon.node');
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(addon)})`], {
    encoding: 'utf8',
    env: { ...process.env, OPENBLAS_VERBOSE: '2' },
  });
  assert.equal(r.status, 0, r.stderr);
  const core = /Core:\s*(\S+)/.exec(r.stderr + r.stdout)?.[1] ?? null;
  assert.equal(p.env.blasCore, core, `OpenBLAS core as the addon's process reports it (${p.env.blas.path})`);
  if (core !== null) {
    // OpenBLAS's runtime dispatch follows OPENBLAS_CORETYPE: the reading is OpenBLAS's, not a constant
    const prev = process.env.OPENBLAS_CORETYPE;
    process.env.OPENBLAS_CORETYPE = core === 'Prescott' ? 'Nehalem' : 'Prescott';
    try {
      assert.equal(openblasCore(p.env.blas.path), process.env.OPENBLAS_CORETYPE);
    } finally {
      if (prev === undefined) delete process.env.OPENBLAS_CORETYPE;
      else process.env.OPENBLAS_CORETYPE = prev;
    }
  }
  assert.equal(openblasCore('/usr/lib/libnotblas.so'), null, 'not OpenBLAS');
});
