/**
 * The dataset a job needs. A stage task that reads a dataset names its folder (the proxy
 * config's `dataDir` for detector tasks); the coordinator stamps the job with a content hash
 * of that folder and the worker checks that its own folder at the same path hashes the same.
 *
 * The hash covers every file's relative path and bytes (sorted by path), so it does not depend
 * on where the folder lies or on file times. It is computed once per folder and process; a
 * change of the folder's file list, sizes or modification times recomputes it.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';

/** The dataset folder a task reads, or null when it reads none (CPV, MOS level 1, simulated proxy). */
export function datasetDirOf(task: unknown): string | null {
  const t = task as { config?: { kind?: unknown; dataDir?: unknown } };
  const c = t?.config;
  if (c && c.kind === 'detector' && typeof c.dataDir === 'string' && c.dataDir.length > 0) return c.dataDir;
  return null;
}

interface Entry {
  rel: string;
  abs: string;
  size: number;
  mtimeMs: number;
}

function walk(root: string, dir: string, out: Entry[]): void {
  for (const name of readdirSync(dir)) {
    const abs = join(dir, name);
    const st = statSync(abs);
    if (st.isDirectory()) walk(root, abs, out);
    else if (st.isFile()) out.push({ rel: relative(root, abs).split(sep).join('/'), abs, size: st.size, mtimeMs: st.mtimeMs });
  }
}

const memo = new Map<string, { stat: string; hash: Promise<string> }>();

/** Content hash (sha256, 16 hex digits) of a dataset folder; rejects when the folder is missing. */
export function hashDataset(dir: string): Promise<string> {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory())
    return Promise.reject(new Error(`dataset folder ${dir} (${root}) does not exist`));
  const entries: Entry[] = [];
  walk(root, root, entries);
  entries.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  const stat = entries.map((e) => `${e.rel}\0${e.size}\0${e.mtimeMs}`).join('\n');
  const hit = memo.get(root);
  if (hit && hit.stat === stat) return hit.hash;
  const hash = (async () => {
    const h = createHash('sha256');
    for (const e of entries) {
      h.update(`${e.rel}\0${e.size}\0`);
      for await (const chunk of createReadStream(e.abs)) h.update(chunk as Buffer);
    }
    return h.digest('hex').slice(0, 16);
  })();
  memo.set(root, { stat, hash });
  hash.catch(() => memo.delete(root));
  return hash;
}
