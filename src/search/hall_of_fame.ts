/** The hall of fame: the best proxied candidate per fingerprint (first seen), in the one ranking of src/search/rank.ts. */
import { compareCandidates, parseCandidateId } from './rank.js';

export interface HallOfFameEntry {
  loss: string;
  fingerprint: string;
  fitness: number;
  ap50: number | null;
  mosScore: number | null;
  size: number;
  gen: number;
  id: string;
}

export class HallOfFame {
  private entries = new Map<string, HallOfFameEntry>();

  /** @param size how many entries `ranked()` returns */
  constructor(private readonly size: number) {}

  /** Adds a proxied candidate unless its fingerprint is in already (the first one found stays). */
  add(entry: HallOfFameEntry): void {
    if (!this.entries.has(entry.fingerprint)) this.entries.set(entry.fingerprint, entry);
  }

  /** The best `size` entries, best first. */
  ranked(): HallOfFameEntry[] {
    const key = (h: HallOfFameEntry) => ({ fitness: h.fitness, ...parseCandidateId(h.id) });
    return [...this.entries.values()].sort((a, b) => compareCandidates(key(a), key(b))).slice(0, this.size);
  }
}
