/**
 * A run folder (a search's or a training's) is owned by one process at a time: RUN_DIR/owner.lock, created exclusively
 * (O_EXCL) by the process that writes it (the journal, the checkpoints), holding its pid, host and start time, and
 * removed when it ends. A lock whose process is gone (kill -9, a crash) is stale and taken over;
 * one held by a live process refuses the second writer. `report` uses it to tell a running
 * search from one that was stopped.
 */
import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UserError } from './errors.js';

export const LOCK_FILE = 'owner.lock';

export class RunLockedError extends UserError {
  override name = 'RunLockedError';
}

export interface RunOwner {
  pid: number;
  host: string;
  startedAt: string;
}

/** Whether the process of a lock is alive (a lock of another host counts as alive: it cannot be checked). */
function alive(o: RunOwner): boolean {
  if (o.host !== hostname()) return true;
  try {
    process.kill(o.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(path: string): RunOwner | null {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as RunOwner;
    return typeof o.pid === 'number' && typeof o.host === 'string' ? o : null;
  } catch {
    return null;
  }
}

/** The live owner of a run folder, or null (none, or a stale lock). */
export function runOwner(runDir: string): RunOwner | null {
  const o = readOwner(join(runDir, LOCK_FILE));
  return o && alive(o) ? o : null;
}

/** Takes the run folder (which must exist) for this process; returns the release function. */
export function acquireRunLock(runDir: string): () => void {
  const path = join(runDir, LOCK_FILE);
  const me: RunOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) {
        throw new RunLockedError(`cannot lock run folder ${runDir} (${path}): ${(e as Error).message}`);
      }
      const o = readOwner(path);
      if (o && alive(o)) {
        throw new RunLockedError(
          `${runDir} is in use by another process (pid ${o.pid} on ${o.host}, since ${o.startedAt}); ` +
            `wait for it to end or stop it. If that process is gone, remove ${path}.`,
        );
      }
      rmSync(path, { force: true }); // stale: its process is gone
      continue;
    }
    try {
      writeSync(fd, JSON.stringify(me) + '\n');
    } finally {
      closeSync(fd);
    }
    return () => {
      const o = readOwner(path);
      if (o && o.pid === me.pid && o.host === me.host) rmSync(path, { force: true });
    };
  }
}
