/**
 * Whether two runs' environments are the same machine and libraries, for scripts that compare or
 * reuse runs (results-proxy, results-discovery): provenance from either format, the object
 * LibraryInfo of src/util/provenance.ts or the older '<package> <version> (<path>)' string.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { machineIdOf, machineKey, machineKeyText, type LibraryInfo, type Provenance } from '../src/util/provenance.js';

/**
 * A library's identity in a provenance record, comparable across its two formats: this study's
 * first files wrote strings (libtorch: libtorch-dev's Debian version, or `LIBTORCH=<dir>`; BLAS:
 * '<package> <version> (<file>)'), src/util/provenance.ts writes { version, path, from: 'dpkg
 * <package>' }. Null when unknown (then nothing matches it).
 */
export function libraryId(x: unknown, what: 'libtorch' | 'blas'): string | null {
  if (typeof x === 'string') {
    if (what === 'libtorch') return x.startsWith('LIBTORCH=') ? null : x;
    const m = /^(\S+) (\S+) \(/.exec(x);
    return m && m[2] !== '?' ? `${m[1]} ${m[2]}` : null;
  }
  if (x === null || typeof x !== 'object') return null;
  const { version, from } = x as Partial<LibraryInfo>;
  if (!version) return null;
  if (what === 'libtorch') return version;
  const pkg = /^dpkg (\S+)$/.exec(from ?? '')?.[1];
  return pkg ? `${pkg} ${version}` : null;
}

/** How a journal environment differs from this study's seed-0 run's, as phrases (none: the same CPU, libtorch, BLAS and threads where recorded). */
export function envDiffs(study: Provenance['env'], search: Provenance['env']): string[] {
  const out: string[] = [];
  if (study.cpu !== search.cpu) out.push(`CPU '${study.cpu}' here, '${search.cpu}' in the search`);
  else {
    // one model name covers several machines: their identification, where both recorded it
    const a = machineIdOf(study);
    const b = machineIdOf(search);
    if (a !== null && b !== null && a !== b) out.push(`CPU '${a}' here, '${b}' in the search`);
  }
  for (const lib of ['libtorch', 'blas'] as const) {
    const a = libraryId(study[lib], lib);
    const b = libraryId(search[lib], lib);
    if (a === null || a !== b) out.push(`${lib} ${a ?? 'unknown'} here, ${b ?? 'unknown'} in the search`);
  }
  // the search's coordinator records no thread count (it does not load libtorch): its trainings' own count is checked per record
  if (search.threads !== null && search.threads !== study.threads)
    out.push(`${study.threads} threads here, ${search.threads} in the search`);
  return out;
}

/** A line of results/discovery/machines.jsonl (scripts/long-runs.sh record_machine): one per start of the long runs. */
export interface MachineLine {
  startedAt: string;
  family?: string;
  model?: string;
  stepping?: string;
  microcode?: string;
  flags?: string;
  openblasCore?: string;
  machineKey?: string;
}

/**
 * machines.jsonl's lines, oldest first; unreadable lines are skipped (and counted in `skipped`). A
 * line written before the lines carried a key (2026-12-02) takes the key of a later line with the
 * same CPU identification and OpenBLAS kernels (family, model, stepping, microcode, flags and core:
 * what machineId() is made of, so the same key).
 */
export function parseMachineLines(text: string): { lines: MachineLine[]; skipped: number } {
  const lines: MachineLine[] = [];
  let skipped = 0;
  for (const l of text.split('\n')) {
    if (!l.trim()) continue;
    try {
      const m = JSON.parse(l) as MachineLine;
      if (typeof m.startedAt === 'string' && !Number.isNaN(Date.parse(m.startedAt))) lines.push(m);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  lines.sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
  const identity = (m: MachineLine) =>
    m.family && m.model && m.stepping && m.flags && m.openblasCore
      ? [m.family, m.model, m.stepping, m.microcode ?? '', m.flags, m.openblasCore].join('|')
      : null;
  const keyOf = new Map<string, string>();
  for (const m of lines) if (m.machineKey && identity(m)) keyOf.set(identity(m)!, m.machineKey);
  for (const m of lines) if (!m.machineKey && identity(m) && keyOf.has(identity(m)!)) m.machineKey = keyOf.get(identity(m)!);
  return { lines, skipped };
}

/**
 * The machine a stored training ran on, as a label: the key the record carries (metrics.machine,
 * code from 5b848dd on), else the machine of the last start in machines.jsonl before the record
 * finished (its CPU identification and OpenBLAS core; the same label for every start on one kind of
 * machine), else null (finished before any recorded start).
 */
export function machineOfRecord(
  rec: { finishedAt: number; metrics: Record<string, number> },
  lines: readonly MachineLine[],
): string | null {
  if (typeof rec.metrics.machine === 'number') return `key ${machineKeyText(rec.metrics.machine)}`;
  let last: MachineLine | null = null;
  for (const l of lines) if (Date.parse(l.startedAt) <= rec.finishedAt) last = l;
  if (!last) return null;
  return `family ${last.family ?? '?'} model ${last.model ?? '?'} stepping ${last.stepping ?? '?'} microcode ${last.microcode ?? '?'} flags ${last.flags ?? '?'} OpenBLAS ${last.openblasCore ?? '?'}`;
}

/**
 * The machine key of a stored training: the key the record carries (metrics.machine), else the key
 * results/discovery/machines.jsonl recorded at the last start before the record finished (lines
 * from 2026-12-02 on carry one), else null.
 */
export function machineKeyOfRecord(
  rec: { finishedAt: number; metrics: Record<string, number> },
  lines: readonly MachineLine[],
): number | null {
  if (typeof rec.metrics.machine === 'number') return rec.metrics.machine;
  let last: MachineLine | null = null;
  for (const l of lines) if (Date.parse(l.startedAt) <= rec.finishedAt) last = l;
  return last?.machineKey && /^[0-9a-f]{12}$/.test(last.machineKey) ? parseInt(last.machineKey, 16) : null;
}

/**
 * The machine key of a training's result file (a run's metrics.json, a proxy study's record): the
 * key it records (metrics.machine, or its provenance's CPU identification and BLAS kernels), else
 * the key machines.jsonl recorded at the last start of the long runs before the commit that added
 * the file (the long runs commit a finished run within minutes, in the session that trained it),
 * else null (unreadable, not committed yet, or from before machines were recorded).
 */
export function fileMachineKey(file: string, lines: readonly MachineLine[], repo: string): number | null {
  let m: { metrics?: Record<string, unknown>; provenance?: { env?: Provenance['env'] } };
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as typeof m;
  } catch {
    return null;
  }
  if (typeof m.metrics?.machine === 'number') return m.metrics.machine;
  const id = m.provenance?.env ? machineIdOf(m.provenance.env) : null;
  if (id !== null) return machineKey(id);
  const rel = relative(repo, resolve(file));
  if (!rel || rel.startsWith('..')) return null;
  const added = addedAt(repo).get(rel.split(sep).join('/'));
  return added === undefined ? null : machineKeyOfRecord({ finishedAt: added, metrics: {} }, lines);
}

const addedCache = new Map<string, Map<string, number>>();

/**
 * When each file of a repository's history was first added (ms; commit time), from one `git log`
 * per repository and process (a collect reads hundreds of result files). Empty outside a repository.
 */
function addedAt(repo: string): Map<string, number> {
  let m = addedCache.get(repo);
  if (!m) {
    m = new Map();
    const g = spawnSync('git', ['log', '--no-renames', '--diff-filter=A', '--format=@%ct', '--name-only'], {
      cwd: repo,
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    let t = 0;
    // newest first: the last time seen for a path is the commit that first added it
    if (g.status === 0)
      for (const line of g.stdout.split('\n'))
        if (line.startsWith('@')) t = Number(line.slice(1)) * 1000;
        else if (line) m.set(line, t);
    addedCache.set(repo, m);
  }
  return m;
}

/** One sentence on the machines of a set of runs (labels from machineOfRecord; null: not recorded). */
export function machinesSentence(labels: readonly (string | null)[]): string {
  const known = [...new Set(labels.filter((l): l is string => l !== null))];
  const unknown = labels.filter((l) => l === null).length;
  const tail = unknown ? `; ${unknown} finished before machines were recorded` : '';
  if (!known.length)
    return `Machines: not recorded for these ${labels.length} run(s) (finished before results/discovery/machines.jsonl began).`;
  if (known.length === 1) return `Machines: all ${labels.length - unknown} recorded run(s) trained on one machine (${known[0]})${tail}.`;
  return `**Machines: these runs trained on ${known.length} different machines** (${known.join('; ')})${tail}. Training differs across machines: read the differences with that in mind, or retrain on one.`;
}
