/**
 * Provenance of a result file: the commit, the exact command and the environment (CPU, threads,
 * libtorch and BLAS versions). Training is bit-identical on one machine, not across machines, so
 * results are compared only among runs of one environment.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { cpus } from 'node:os';
import { getNumThreads } from '../src/backend/index.js';

function sh(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function dpkgVersion(pkg: string): string | null {
  return sh('dpkg-query', ['-W', '-f=${Version}', pkg]);
}

let cached: Omit<Provenance, 'command' | 'env'> & { env: Omit<Provenance['env'], 'threads'> } | null = null;

export interface Provenance {
  commit: string | null;
  /** Uncommitted changes under src/ or scripts/ when the result was made. */
  dirty: boolean | null;
  command: string;
  env: { cpu: string; cores: number; threads: number | null; libtorch: string | null; blas: string | null; node: string; platform: string };
}

export function provenance(): Provenance {
  if (!cached) {
    const commit = sh('git', ['rev-parse', 'HEAD']);
    const status = commit ? sh('git', ['status', '--porcelain', '--', 'src', 'scripts', 'native']) : null;
    let cpu = cpus()[0]?.model ?? 'unknown';
    try {
      cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu;
    } catch {
      // not Linux
    }
    let blasLib: string | null = null;
    try {
      blasLib = realpathSync('/usr/lib/x86_64-linux-gnu/libblas.so.3');
    } catch {
      // no system BLAS
    }
    const blasPkg = blasLib?.includes('openblas-openmp') ? 'libopenblas0-openmp' : blasLib?.includes('openblas') ? 'libopenblas0-pthread' : 'libblas3';
    cached = {
      commit,
      dirty: status === null ? null : status.length > 0,
      env: {
        cpu,
        cores: cpus().length,
        libtorch: process.env.LIBTORCH ? `LIBTORCH=${process.env.LIBTORCH}` : dpkgVersion('libtorch-dev'),
        blas: blasLib ? `${blasPkg} ${dpkgVersion(blasPkg) ?? '?'} (${blasLib})` : null,
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
      },
    };
  }
  let threads: number | null = null;
  try {
    threads = getNumThreads();
  } catch {
    // the backend is not loaded
  }
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  const command = [`CSE_THREADS=${process.env.CSE_THREADS ?? ''}`, 'node', ...process.execArgv, ...process.argv.slice(1)].map(quote).join(' ');
  return { ...cached, command, env: { ...cached.env, threads } };
}
