/**
 * Test helpers for the queue tests: a real redis-server on a free loopback port with its own
 * temporary folder, queue worker processes (`cse-autoloss worker`) with the stand-in stage
 * module, and a registry that kills every spawned process when the test file ends, pass or fail.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(ROOT, 'bin', 'cse-autoloss.js');
export const STAND_IN = pathToFileURL(join(ROOT, 'test', 'queue', 'fixtures', 'stand-in-stage.ts')).href;
/**
 * The environment under which a spawned `cse-autoloss` process's stage workers run the stand-in
 * (fixtures/stand-in-hook.mjs, a module hook every process of the tree loads; CSE_DEV=1 runs the
 * TypeScript sources, so that the stand-in, TypeScript too, loads in the workers).
 */
export const STAND_IN_ENV: Record<string, string> = {
  CSE_DEV: '1',
  NODE_OPTIONS:
    `${process.env.NODE_OPTIONS ?? ''} --import ${pathToFileURL(join(ROOT, 'test', 'queue', 'fixtures', 'stand-in-hook.mjs')).href}`.trim(),
};

const children = new Set<ChildProcess>();
const tempDirs: string[] = [];

function killAllSync(): void {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      try {
        c.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}
process.on('exit', () => {
  killAllSync();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});
// Interrupted (Ctrl-C, a test runner's timeout): still no redis-server or worker left behind.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killAllSync();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}

/** Kills every process the helpers spawned and waits for them (call in after()). */
export async function killAll(): Promise<void> {
  const waits = [...children].map((c) => exited(c));
  killAllSync();
  await Promise.all(waits);
  children.clear();
}

export function tempDir(tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `cse-dist-${tag}-`));
  tempDirs.push(d);
  return d;
}

export function exited(c: ChildProcess): Promise<number | null> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve(c.exitCode);
  return new Promise((r) => c.once('exit', (code) => r(code)));
}

/**
 * The exit code once the process has exited AND its stdout and stderr are read to the end: 'exit'
 * can come before the last output has been read (the child's final lines, e.g. its error message,
 * would be missing), 'close' comes after both. Use it where the output is checked after the exit.
 * (A process whose stage workers still hold the pipes closes when they exit: they follow their
 * coordinator on IPC disconnect.)
 */
export function closed(c: ChildProcess): Promise<number | null> {
  const streams = [c.stdout, c.stderr].filter((s) => s !== null);
  if (streams.every((s) => s.readableEnded || s.destroyed) && (c.exitCode !== null || c.signalCode !== null))
    return Promise.resolve(c.exitCode);
  return new Promise((r) => c.once('close', (code) => r(code)));
}

export function track(c: ChildProcess): ChildProcess {
  children.add(c);
  c.once('exit', () => children.delete(c));
  return c;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Polls until `fn` is truthy (or throws after `ms`). The deadline only turns a hang into a
 * failure: it is generous (a loaded 2-core machine starts a worker or a search through tsx
 * several times slower than an idle one).
 */
export async function waitFor<T>(what: string, fn: () => T | Promise<T>, ms = 120_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export function haveRedis(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

/** A redis-server on 127.0.0.1, no persistence (a restart loses everything, the harder case). */
export class RedisServer {
  private proc: ChildProcess | null = null;
  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  static async start(): Promise<RedisServer> {
    const r = new RedisServer(await freePort(), tempDir('redis'));
    await r.launch();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  private async launch(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
    ];
    this.proc = track(spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'inherit'] }));
    await waitFor('redis-server to answer', async () => {
      const c = new Redis({ host: '127.0.0.1', port: this.port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      c.on('error', () => {});
      try {
        await c.connect();
        return (await c.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        c.disconnect();
      }
    });
  }

  /** kill -9: everything in it is lost. */
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p) return;
    const done = exited(p);
    p.kill('SIGKILL');
    await done;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }
}

export interface WorkerProc {
  proc: ChildProcess;
  output: () => string;
}

/** `cse-autoloss worker` with the stand-in stage module and short locks (a killed worker's job returns in ~2 s). */
export function startWorker(url: string, opts: { env?: Record<string, string>; args?: string[]; cwd?: string } = {}): WorkerProc {
  let out = '';
  const proc = track(
    spawn(
      process.execPath,
      [
        CLI,
        'worker',
        '--queue',
        url,
        '--concurrency',
        '1',
        '--threads',
        '1',
        '--lock-seconds',
        '2',
        '--stalled-check-seconds',
        '0.5',
        ...(opts.args ?? []),
      ],
      {
        cwd: opts.cwd ?? ROOT,
        env: { ...process.env, ...STAND_IN_ENV, CSE_CODE_VERSION: 'test-version', ...opts.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ),
  );
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { proc, output: () => out };
}

/** Waits until a worker has announced itself (its heartbeat is in Redis). */
export async function workerReady(w: WorkerProc): Promise<void> {
  await waitFor('the worker to start', () => {
    if (w.proc.exitCode !== null) throw new Error(`worker exited early:\n${w.output()}`);
    return /^worker .*: queue /m.test(w.output());
  });
}

/** Lines of an execution log written by the stand-in stage module. */
export function execLog(file: string): { what: string; stage: string; loss: string; seed: string; ppid: number }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [what, stage, loss, seed, ppid] = l.split(' ');
      return { what: what!, stage: stage!, loss: loss!, seed: seed!, ppid: Number(ppid) };
    });
}
