/**
 * Provenance (issue 15, item 8): the commit, the command and the environment, each checked
 * against an independent source (git log, the shell, /proc/cpuinfo via grep, dpkg).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot, provenance, shellQuote, treeHash } from '../../src/util/provenance.js';

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
