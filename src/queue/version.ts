/**
 * Version stamps of a job. A worker runs a job only when its own stamps equal the job's:
 *
 *   protocol  the job payload format of src/queue (bumped when the payload changes)
 *   code      a content hash of what computes results: every file under src/ (the CLI
 *             excepted), native/ and package-lock.json (dependency versions), plus the
 *             package version
 *   config    a content hash of the config schema and stage task types (src/search/config.ts,
 *             src/search/types.ts): tells the user, when the code differs, whether the
 *             configuration format differs too
 *
 * CSE_CODE_VERSION in the environment replaces the computed code stamp (both stamps), for
 * installations without sources and for tests.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROTOCOL_VERSION = 1;

export interface VersionStamp {
  protocol: number;
  code: string;
  config: string;
}

/** The project root: the nearest folder above this file with the project's package.json. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'cse-autoloss') return dir;
      } catch {
        /* keep looking */
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the cse-autoloss project root above src/queue');
    dir = up;
  }
}

function listFiles(dir: string, out: string[]): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) listFiles(p, out);
    else if (st.isFile()) out.push(p);
  }
}

function hashFiles(root: string, files: string[]): string {
  const h = createHash('sha256');
  for (const f of files) {
    h.update(relative(root, f).split(sep).join('/'));
    h.update('\0');
    h.update(readFileSync(f));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

let cached: VersionStamp | null = null;

/** This installation's stamps (computed once per process). */
export function localVersion(): VersionStamp {
  if (cached) return cached;
  const override = process.env.CSE_CODE_VERSION;
  if (override) {
    cached = { protocol: PROTOCOL_VERSION, code: override, config: override };
    return cached;
  }
  const root = projectRoot();
  const files: string[] = [];
  listFiles(join(root, 'src'), files);
  listFiles(join(root, 'native'), files);
  const skip = join(root, 'src', 'cli') + sep;
  const codeFiles = files.filter((f) => !f.startsWith(skip));
  for (const extra of ['package.json', 'package-lock.json']) if (existsSync(join(root, extra))) codeFiles.push(join(root, extra));
  const configFiles = ['config.ts', 'types.ts'].map((f) => join(root, 'src', 'search', f)).filter((f) => existsSync(f));
  cached = { protocol: PROTOCOL_VERSION, code: hashFiles(root, codeFiles), config: hashFiles(root, configFiles) };
  return cached;
}

/** Why a job's stamps are refused by this worker, or null when they match. */
export function versionMismatch(job: VersionStamp, mine: VersionStamp): string | null {
  if (job.protocol !== mine.protocol) {
    return `the job uses queue protocol ${job.protocol}, this worker speaks ${mine.protocol}: update the older side`;
  }
  if (job.code !== mine.code) {
    const cfg = job.config === mine.config ? 'the config format is the same' : `config format ${job.config} there, ${mine.config} here`;
    return `the job was made by code version ${job.code}, this worker runs code version ${mine.code} (${cfg}): run the same commit and dependencies on the coordinator and every worker`;
  }
  if (job.config !== mine.config) return `the job's config format ${job.config} differs from this worker's ${mine.config}`;
  return null;
}
