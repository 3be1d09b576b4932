/**
 * One process at a time per run folder: `lock` in the folder holds the owner's pid. A lock whose
 * process is gone (kill -9, a crash) is taken over; a live owner is refused by pid.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export class RunLockError extends Error {
  override name = 'RunLockError';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the folder's lock; returns its release function. */
export function acquireRunLock(dir: string, what = 'run'): () => void {
  const file = join(dir, 'lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        rmSync(file, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new RunLockError(`cannot lock ${dir}: ${(e as Error).message}`);
    }
    let pid = NaN;
    try {
      pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    } catch {
      // removed meanwhile: try again
    }
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
      throw new RunLockError(`${dir} is in use by ${pid === process.pid ? 'this process' : `process ${pid}`} (another ${what} writes it); wait for it or stop it`);
    }
    rmSync(file, { force: true }); // stale: its owner is gone
  }
  throw new RunLockError(`cannot lock ${dir}: the lock file keeps changing`);
}
