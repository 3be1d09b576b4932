/**
 * Provenance of a result: the code (git commit, whether src/ has uncommitted changes, a hash of
 * src/'s content), the exact command, and the environment that training depends on (CPU model,
 * cores, libtorch threads, the libtorch and BLAS builds, Node). Training is bit-identical on one
 * machine but not across machines, so every result file records this. Cheap: the static parts are
 * computed once per process (a few subprocess calls, ~0.1 s); the thread count is read each call.
 *
 * The CPU's "model name" does not tell machines apart (cloud machines report "AMD EPYC" for several
 * kinds, and two of them trained one run 1.4 AP apart), so the environment also holds the CPU's
 * identification (vendor, family, model, stepping, microcode, a hash of its feature flags) and the
 * kernel set OpenBLAS chose for it; machineId() makes one comparable string of them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadedAddon } from '../backend/native.js';

export interface LibraryInfo {
  /** Package or build version; null when unknown. */
  version: string | null;
  /** The library file in use (or the one the system resolves), null when none was found. */
  path: string | null;
  /** Where the version comes from: 'dpkg <package>', 'LIBTORCH build-version', 'unknown'. */
  from: string;
}

export interface Provenance {
  /** `git rev-parse HEAD` of the package root; null outside a git checkout. */
  commit: string | null;
  /** True when src/ has uncommitted changes (`git status --porcelain -- src`); null outside git. */
  dirty: boolean | null;
  /** sha256 (16 hex) of the source tree's content (src/, or dist/src/ in an installed package): a dirty tree differs. */
  srcHash: string;
  /** process.argv, shell-quoted. */
  command: string;
  env: {
    cpu: string;
    cores: number;
    /** libtorch intra-op threads in use; null when the backend is not loaded in this process. */
    threads: number | null;
    libtorch: LibraryInfo;
    blas: LibraryInfo;
    node: string;
    platform: string;
    /** The CPU's identification from /proc/cpuinfo; null where not readable (not Linux). Absent in older records. */
    cpuId?: CpuId | null;
    /** The kernel set OpenBLAS chose for this CPU ('Zen', 'Haswell', ...); null when the BLAS is not OpenBLAS or does not say. Absent in older records. */
    blasCore?: string | null;
  };
}

/** A CPU as /proc/cpuinfo identifies it (the first processor's entry). */
export interface CpuId {
  vendor: string | null;
  family: string | null;
  model: string | null;
  stepping: string | null;
  microcode: string | null;
  /** sha256 (12 hex) of the sorted feature flags: the instruction sets the kernels may use. */
  flags: string | null;
}

function run(cmd: string, args: string[], cwd?: string): string | null {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch {
    return null;
  }
}

/** The folder holding this package's package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

/** Quotes an argument for a POSIX shell when it needs it. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_\-+=.,/:@%]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** sha256 (16 hex) over the relative paths and contents of every file under dir, in sorted order. */
export function treeHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    const entries = readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        h.update(relative(dir, p) + '\0');
        h.update(readFileSync(p));
        h.update('\0');
      }
    }
  };
  if (existsSync(dir)) walk(dir);
  return h.digest('hex').slice(0, 16);
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1]!.trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? 'unknown';
}

/** The first processor's identification in a /proc/cpuinfo text (x86 'flags' or ARM 'Features'); null fields where absent. */
export function parseCpuInfo(text: string): CpuId {
  const first = text.split(/\n\s*\n/)[0] ?? '';
  const field = (name: string): string | null => {
    const m = new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(first);
    return m ? m[1]!.trim() : null;
  };
  const flagText = field('flags') ?? field('Features');
  const flags =
    flagText === null
      ? null
      : createHash('sha256').update(flagText.split(/\s+/).filter(Boolean).sort().join(' ')).digest('hex').slice(0, 12);
  return {
    vendor: field('vendor_id') ?? field('CPU implementer'),
    family: field('cpu family') ?? field('CPU architecture'),
    model: field('model') ?? field('CPU part'),
    stepping: field('stepping') ?? field('CPU revision'),
    microcode: field('microcode'),
    flags,
  };
}

function cpuId(): CpuId | null {
  try {
    return parseCpuInfo(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return null;
  }
}

/**
 * The core name OpenBLAS prints when loaded with OPENBLAS_VERBOSE=2 ("Core: Zen"): the kernel set
 * its runtime dispatch chose for this CPU. Read by preloading the library into /bin/true (a few
 * milliseconds); null when the file is not OpenBLAS or nothing is printed.
 */
export function openblasCore(libPath: string | null): string | null {
  if (!libPath || !/openblas/i.test(libPath) || !existsSync('/bin/true')) return null;
  const r = spawnSync('/bin/true', [], {
    env: { ...process.env, OPENBLAS_VERBOSE: '2', LD_PRELOAD: libPath },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 5000,
  });
  // OpenBLAS writes the line to stderr
  const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  return /Core:\s*(\S+)/.exec(out)?.[1] ?? null;
}

/**
 * One string that tells machines apart where training may differ: the CPU's vendor, family, model,
 * stepping, microcode and flags hash, and OpenBLAS's core, e.g. 'AuthenticAMD 25/1/1 ucode 0x1000065
 * flags 9f0ddf41f450 blas Zen'. Null when the record has no CPU identification (older records,
 * not Linux): then only the model name and libraries can be compared.
 */
export function machineIdOf(env: Pick<Provenance['env'], 'cpuId' | 'blasCore'>): string | null {
  const c = env.cpuId;
  if (!c) return null;
  const v = (x: string | null) => x ?? '?';
  return `${v(c.vendor)} ${v(c.family)}/${v(c.model)}/${v(c.stepping)} ucode ${v(c.microcode)} flags ${v(c.flags)} blas ${env.blasCore ?? '?'}`;
}

/**
 * A machine id as a number (the first 48 bits of its sha256), for records whose extra fields are
 * numbers only (a stage record's metrics travel through the job queue as numbers): equal ids give
 * equal keys; machineKeyText prints it as 12 hex digits.
 */
export function machineKey(id: string): number {
  return parseInt(createHash('sha256').update(id).digest('hex').slice(0, 12), 16);
}

export function machineKeyText(key: number): string {
  return key.toString(16).padStart(12, '0');
}

let cachedMachine: string | null | undefined;

/** This machine's machineIdOf (cached; the BLAS is the one loaded, or the one libblas.so.3 resolves to; no dpkg look-up). */
export function machineId(): string | null {
  if (cachedMachine === undefined) {
    const path = blasPath();
    cachedMachine = machineIdOf({ cpuId: cpuId(), blasCore: openblasCore(path && existsSync(path) ? realpathSync(path) : null) });
  }
  return cachedMachine;
}

/** The Debian package owning a file and its version, or null. */
function dpkgOf(file: string): { pkg: string; version: string } | null {
  const owner = run('dpkg-query', ['-S', file]);
  const pkg = owner?.split(':')[0]?.split(',')[0]?.trim();
  if (!pkg) return null;
  const arch = owner!.split(':').length > 2 ? `:${owner!.split(':')[1]}` : '';
  const version = run('dpkg-query', ['-W', '-f', '${Version}', pkg + arch]) ?? run('dpkg-query', ['-W', '-f', '${Version}', pkg]);
  return version ? { pkg, version } : null;
}

/** Shared libraries mapped into this process whose file name matches re (Linux). */
function mapped(re: RegExp): string | null {
  try {
    for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
      const path = line.slice(line.indexOf('/'));
      if (line.includes('/') && re.test(path.split('/').pop() ?? '')) return path.trim();
    }
  } catch {
    // not Linux
  }
  return null;
}

function libtorchInfo(): LibraryInfo {
  // the libtorch actually loaded (the addon is loaded), else the one the build would use
  const loaded = mapped(/^libtorch_cpu\.so/) ?? mapped(/^libtorch\.so/);
  const candidates = [
    loaded,
    process.env.LIBTORCH ? join(process.env.LIBTORCH, 'lib', 'libtorch_cpu.so') : null,
    '/usr/lib/x86_64-linux-gnu/libtorch_cpu.so',
    '/usr/lib/aarch64-linux-gnu/libtorch_cpu.so',
  ];
  for (const c of candidates) {
    if (!c || !existsSync(c)) continue;
    const real = realpathSync(c);
    const deb = dpkgOf(real) ?? dpkgOf(c);
    if (deb) return { version: deb.version, path: real, from: `dpkg ${deb.pkg}` };
    // a libtorch zip: <dir>/lib/libtorch_cpu.so with <dir>/build-version
    const bv = join(dirname(dirname(real)), 'build-version');
    if (existsSync(bv)) return { version: readFileSync(bv, 'utf8').trim(), path: real, from: 'libtorch build-version' };
    return { version: null, path: real, from: 'unknown' };
  }
  const deb = run('dpkg-query', ['-W', '-f', '${Version}', 'libtorch-dev']);
  return deb ? { version: deb, path: null, from: 'dpkg libtorch-dev' } : { version: null, path: null, from: 'unknown' };
}

/** The BLAS mapped into this process (libtorch loaded), else what libblas.so.3 resolves to; null when none is found. */
function blasPath(): string | null {
  let path = mapped(/^lib(open)?blas[^/]*\.so/);
  if (!path) {
    const alt =
      run('update-alternatives', ['--query', 'libblas.so.3-x86_64-linux-gnu']) ??
      run('update-alternatives', ['--query', 'libblas.so.3-aarch64-linux-gnu']);
    path = alt ? (/^Value:\s*(.+)$/m.exec(alt)?.[1]?.trim() ?? null) : null;
  }
  if (!path)
    for (const c of ['/usr/lib/x86_64-linux-gnu/libblas.so.3', '/usr/lib/aarch64-linux-gnu/libblas.so.3']) if (existsSync(c)) path = c;
  return path;
}

function blasInfo(): LibraryInfo {
  const path = blasPath();
  if (!path || !existsSync(path)) return { version: null, path, from: 'unknown' };
  const real = realpathSync(path);
  const deb = dpkgOf(real) ?? dpkgOf(path);
  return deb ? { version: deb.version, path: real, from: `dpkg ${deb.pkg}` } : { version: null, path: real, from: 'unknown' };
}

let cached: (Omit<Provenance, 'env'> & { env: Omit<Provenance['env'], 'threads' | 'libtorch' | 'blas' | 'blasCore'> }) | null = null;
let cachedLibs: { libtorch: LibraryInfo; blas: LibraryInfo; blasCore: string | null; loaded: boolean } | null = null;

/**
 * This process's provenance (see Provenance). Cached; the libraries are looked up again once the
 * libtorch addon gets loaded (then they are the ones in use), and the thread count is read each call.
 */
export function provenance(): Provenance {
  if (!cached) {
    const root = packageRoot();
    const commit = run('git', ['rev-parse', 'HEAD'], root);
    const status = commit ? run('git', ['status', '--porcelain', '--', 'src'], root) : null;
    const srcDir = existsSync(join(root, 'src')) ? join(root, 'src') : join(root, 'dist', 'src');
    cached = {
      commit,
      dirty: commit ? status !== '' : null,
      srcHash: treeHash(srcDir),
      command: process.argv.map(shellQuote).join(' '),
      env: {
        cpu: cpuModel(),
        cpuId: cpuId(),
        cores: cpus().length,
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
      },
    };
  }
  const addon = loadedAddon();
  if (!cachedLibs || (addon && !cachedLibs.loaded)) {
    const blas = blasInfo();
    cachedLibs = { libtorch: libtorchInfo(), blas, blasCore: openblasCore(blas.path), loaded: !!addon };
  }
  return {
    ...cached,
    env: {
      ...cached.env,
      threads: addon ? addon.getNumThreads() : null,
      libtorch: cachedLibs.libtorch,
      blas: cachedLibs.blas,
      blasCore: cachedLibs.blasCore,
    },
  };
}
