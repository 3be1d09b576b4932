import type { Command } from 'commander';
import { UsageError } from './errors.js';
import { resolve } from 'node:path';
import type { BesideServer } from '../serve/beside.js';
import type { RunningServer } from '../serve/server.js';

interface ServeFlags {
  port: string;
  host: string;
}

export function parsePort(v: string | true | undefined, fallback = 8080): number {
  if (v === undefined || v === true) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`port must be an integer in 0..65535, got '${v}'`);
  return n;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description(
      'live dashboard of search runs (read-only, server-sent events): runs, a run, candidates, comparison; see docs/DASHBOARD.md',
    )
    .argument('[run-dir...]', 'run folders of `cse-autoloss search` (or a folder of run folders)', ['runs'])
    .option('--port <n>', 'port (0: any free one)', '8080')
    .option('--host <addr>', 'address to bind (default loopback only)', '127.0.0.1')
    .action(async (dirs: string[], f: ServeFlags) => {
      const srv = await start(dirs, parsePort(f.port), f.host, false);
      process.stderr.write(`dashboard: ${srv.url} (${dirs.join(', ')}; read-only; Ctrl-C stops)\n`);
      if (f.host !== '127.0.0.1' && f.host !== 'localhost' && f.host !== '::1') {
        process.stderr.write(`warning: listening on ${f.host}: anyone who can reach it sees the runs (there is no authentication)\n`);
      }
      await untilSignal();
      await srv.close();
    });
}

/** The server module (journals, the loss library) loads when the command runs, not for --help. */
async function start(dirs: string[], port: number, host: string, allowPending: boolean): Promise<RunningServer> {
  const { startServer } = await import('../serve/server.js');
  return startServer({ runDirs: dirs, port, host, allowPending }); // a ServeError is a UserError (exit 2)
}

/** Resolves on SIGINT or SIGTERM; keeps the process alive until then (signal listeners alone do not). */
export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const alive = setInterval(() => undefined, 1 << 30);
    const done = () => {
      clearInterval(alive);
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

/**
 * `search --serve [PORT]`: the dashboard over the search's run folder (its journal may not exist
 * yet), in a child process so that in-process stages do not stall it.
 */
export async function serveBeside(runDir: string, port: string | true): Promise<BesideServer> {
  const { serveInChild } = await import('../serve/beside.js');
  const srv: BesideServer = await serveInChild(resolve(runDir), parsePort(port));
  process.stderr.write(`dashboard: ${srv.url}#/run/0\n`);
  return srv;
}
