/**
 * Lineage: which trees a search's results descend from. A founder is a candidate without parents
 * (a random tree, a seedWith tree); a candidate made by mutation or crossover descends from the
 * founders of its parents. A search whose proxied candidates all descend from a few founders has
 * spent its proxy evaluations on variants of them: the report says so, with the founders.
 */
import type { CandidateRow } from './journal.js';
import type { GenerationStats } from './evolution.js';

export interface Founder {
  /** 'gen:idx', as candidate ids are written everywhere (parents, the hall of fame). */
  id: string;
  loss: string;
  origin: string;
  /** Its own proxy fitness, when it was proxied (null: it never went to the proxy). */
  fitness: number | null;
  /** Trains as the default does (the default's fingerprint). */
  isDefault: boolean;
  /** How many of the hall of fame descend from it. */
  fame: number;
}

export interface Lineage {
  /** The founders of the hall of fame, the most descendants first (ties: the earlier id). */
  founders: Founder[];
  /** Per generation: its new proxy evaluations and how many distinct founders they descend from. */
  generations: { gen: number; proxied: number; founders: number }[];
}

/** The founders ('gen:idx') of every candidate, through any number of generations; an unknown parent id is a founder of its own. */
export function foundersOf(cands: readonly Pick<CandidateRow, 'gen' | 'idx' | 'parents'>[]): Map<string, Set<string>> {
  const byId = new Map(cands.map((c) => [`${c.gen}:${c.idx}`, c]));
  const memo = new Map<string, Set<string>>();
  const visit = (id: string): Set<string> => {
    const known = memo.get(id);
    if (known) return known;
    const c = byId.get(id);
    const out = new Set<string>();
    memo.set(id, out); // a cycle (never written by the search) ends here instead of looping
    if (!c || c.parents.length === 0) out.add(id);
    else for (const p of c.parents) for (const f of visit(p)) out.add(f);
    return out;
  };
  for (const id of byId.keys()) visit(id);
  return memo;
}

/**
 * The lineage of a search from its journal's candidates: the founders of the hall of fame (`fame`:
 * candidate ids) and, per generation, the founders behind its new proxy evaluations (stats.proxyOrder).
 */
export function lineageOf(
  cands: readonly CandidateRow[],
  stats: readonly GenerationStats[],
  fame: readonly string[],
  defaultFingerprint: string | null,
): Lineage {
  const founders = foundersOf(cands);
  const byId = new Map(cands.map((c) => [`${c.gen}:${c.idx}`, c]));
  const count = new Map<string, number>();
  for (const id of fame) for (const f of founders.get(id) ?? [id]) count.set(f, (count.get(f) ?? 0) + 1);
  const idOrder = (a: string, b: string) => {
    const [ga, ia] = a.split(':').map(Number);
    const [gb, ib] = b.split(':').map(Number);
    return ga! - gb! || ia! - ib!;
  };
  const list: Founder[] = [...count]
    .sort((a, b) => b[1] - a[1] || idOrder(a[0], b[0]))
    .map(([id, n]) => {
      const c = byId.get(id);
      return {
        id,
        loss: c?.loss ?? '?',
        origin: c?.origin ?? '?',
        fitness: c?.fitness ?? null,
        isDefault: defaultFingerprint !== null && c?.fingerprint === defaultFingerprint,
        fame: n,
      };
    });
  const generations = stats.map((s) => {
    const ids = (s.proxyOrder ?? []).map((idx) => `${s.gen}:${idx}`);
    const fs = new Set<string>();
    for (const id of ids) for (const f of founders.get(id) ?? [id]) fs.add(f);
    return { gen: s.gen, proxied: ids.length, founders: fs.size };
  });
  return { founders: list, generations };
}
