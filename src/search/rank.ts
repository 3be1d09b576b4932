/**
 * The one ordering of candidates, used by the evolution (parents, hall of fame, elites, the final
 * evaluation's entries), the report's hall of fame, the verdict and `export --rank`: higher
 * fitness first; on a tie the earlier generation, then the lower index in it (numeric order, so
 * candidate 0:2 comes before 0:10).
 */
export interface RankKey {
  fitness: number;
  gen: number;
  idx: number;
}

export function compareCandidates(a: RankKey, b: RankKey): number {
  return b.fitness - a.fitness || a.gen - b.gen || a.idx - b.idx;
}

/** A candidate id `gen:idx` as numbers. */
export function parseCandidateId(id: string): { gen: number; idx: number } {
  const m = /^(\d+):(\d+)$/.exec(id);
  if (!m) throw new RangeError(`not a candidate id (gen:idx): '${id}'`);
  return { gen: Number(m[1]), idx: Number(m[2]) };
}
