/**
 * Whether two runs' environments are the same machine and libraries, for scripts that compare or
 * reuse runs (results-proxy, results-discovery): provenance from either format, the object
 * LibraryInfo of src/util/provenance.ts or the older '<package> <version> (<path>)' string.
 */
import { machineIdOf, type LibraryInfo, type Provenance } from '../src/util/provenance.js';

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
