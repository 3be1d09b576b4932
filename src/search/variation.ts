/**
 * Populations: the initial one (ramped half-and-half random trees, optional seeds) and the
 * offspring of a generation's parents (crossover, the four mutations plus subtree replacement,
 * fresh random trees for diversity), on top of src/loss's operators. Every draw from the Rng
 * passed in.
 */
import {
  crossover,
  MUTATIONS,
  parseExpr,
  printOfficial,
  randomTree,
  resolveLoss,
  treeDepth,
  treeSize,
  type Expr,
  type Mode,
  type MutationName,
  type VariationLimits,
} from '../loss/index.js';
import type { Rng } from '../util/rng.js';
import type { SearchConfig } from './config.js';
import type { Origin } from './types.js';

export interface Newborn {
  expr: Expr;
  loss: string;
  parents: string[];
  origin: Origin;
  op: string | null;
}

export interface Parent {
  id: string;
  loss: string;
}

function weightedPick<K extends string>(rng: Rng, weights: Record<K, number>): K {
  const keys = Object.keys(weights) as K[];
  let total = 0;
  for (const k of keys) total += weights[k];
  let r = rng.next() * total;
  for (const k of keys) {
    r -= weights[k];
    if (r < 0) return k;
  }
  return keys[keys.length - 1]!;
}

function born(expr: Expr, parents: string[], origin: Origin, op: string | null): Newborn {
  return { expr, loss: printOfficial(expr), parents, origin, op };
}

export function randomIndividual(mode: Mode, rng: Rng, cfg: SearchConfig): Newborn {
  const p = cfg.population;
  return born(randomTree(mode, rng, { minDepth: p.minDepth, maxDepth: p.maxDepth, maxSize: p.maxSize }), [], 'random', null);
}

/** Counters of one generation's draws under a DrawFilter (journalled in its GenerationStats). */
export interface DrawStats {
  /** Trees drawn or children made, rejected ones included. */
  drawn: number;
  /** Of those, how many passed the filter's validity check (CPV); duplicates included. */
  passed: number;
  /** Valid draws rejected as a duplicate (by key) of an earlier member of the generation. */
  duplicates: number;
  random: { drawn: number; passed: number };
  offspring: { drawn: number; passed: number };
  /** The cap that was hit while filling (null: none); the population (or its random part) may be short. */
  capped: 'maxDraws' | 'maxOffspringTries' | null;
}

/**
 * Filters a generation's draws (strategy cse): a drawn tree or an offspring child joins the
 * population only when it is `valid` (passes CPV) and its `key` (fingerprint) is new in the
 * generation; otherwise another one is drawn, until the population is full or a cap is hit
 * (`population.maxDraws` random trees, `population.maxOffspringTries` children). Every draw still
 * comes from the generation's Rng, so the filtered population is a function of (seed, generation).
 */
export class DrawFilter {
  readonly stats: DrawStats = {
    drawn: 0,
    passed: 0,
    duplicates: 0,
    random: { drawn: 0, passed: 0 },
    offspring: { drawn: 0, passed: 0 },
    capped: null,
  };
  private readonly seen = new Set<string>();
  private ticks = 0;

  constructor(
    private readonly valid: (e: Expr) => boolean,
    private readonly key: (e: Expr) => string,
    readonly maxDraws: number,
    readonly maxOffspringTries: number,
    /** Called every `every` draws (progress, abort checks); may throw to stop the draw. */
    private readonly onTick?: (s: DrawStats) => void,
    private readonly every = 5000,
  ) {}

  /** A member placed without the filter (a seed): its key counts for the duplicates. */
  place(e: Expr): void {
    this.seen.add(this.key(e));
  }

  /** Counts one draw of `kind`; true when it joins the population. */
  admit(e: Expr, kind: 'random' | 'offspring'): boolean {
    const s = this.stats;
    s.drawn++;
    s[kind].drawn++;
    const ok = this.valid(e);
    if (ok) {
      s.passed++;
      s[kind].passed++;
    }
    let admitted = false;
    if (ok) {
      const k = this.key(e);
      if (this.seen.has(k)) s.duplicates++;
      else {
        this.seen.add(k);
        admitted = true;
      }
    }
    return admitted;
  }

  /** Lets other work (signals, output) run during a long draw; calls onTick. */
  async tick(): Promise<void> {
    if (++this.ticks % this.every !== 0) return;
    this.onTick?.(this.stats);
    await new Promise((r) => setImmediate(r));
  }

  /** True (and recorded) when `kind`'s cap is reached. */
  capReached(kind: 'random' | 'offspring'): boolean {
    const hit = kind === 'random' ? this.stats.random.drawn >= this.maxDraws : this.stats.offspring.drawn >= this.maxOffspringTries;
    if (hit) this.stats.capped ??= kind === 'random' ? 'maxDraws' : 'maxOffspringTries';
    return hit;
  }

  /** Final progress call. */
  done(): void {
    this.onTick?.(this.stats);
  }
}

/** Up to `count` random trees that pass the filter (or `count` unfiltered ones). */
async function randomMembers(
  mode: Mode,
  rng: Rng,
  cfg: SearchConfig,
  count: number,
  filter: DrawFilter | undefined,
  out: Newborn[],
): Promise<void> {
  if (!filter) {
    for (let i = 0; i < count; i++) out.push(randomIndividual(mode, rng, cfg));
    return;
  }
  const p = cfg.population;
  let got = 0;
  while (got < count && !filter.capReached('random')) {
    const e = randomTree(mode, rng, { minDepth: p.minDepth, maxDepth: p.maxDepth, maxSize: p.maxSize });
    if (filter.admit(e, 'random')) {
      out.push(born(e, [], 'random', null));
      got++;
    }
    await filter.tick();
  }
}

/**
 * Generation 0: the seeds (presets or expressions), then random trees up to the population size;
 * with a filter, only trees that pass it (the population may stay short when `maxDraws` is hit).
 */
export async function initialPopulation(mode: Mode, rng: Rng, cfg: SearchConfig, filter?: DrawFilter): Promise<Newborn[]> {
  const out: Newborn[] = [];
  for (const s of cfg.population.seedWith) {
    const r = resolveLoss(mode, s);
    if (!r.expr) throw new Error(`seed '${s}' is a fixed baseline, not an expression`);
    out.push(born(r.expr, [], 'seed', s));
    filter?.place(r.expr);
  }
  await randomMembers(mode, rng, cfg, cfg.population.size - out.length, filter, out);
  filter?.done();
  return out.slice(0, Math.max(cfg.population.size, cfg.population.seedWith.length));
}

/**
 * The next generation from parents: a fraction random, the rest by crossover and/or mutation.
 * With a filter, a child that fails it is dropped and another one made (up to
 * `maxOffspringTries` children), and the random fraction is drawn as in generation 0.
 */
export async function offspring(mode: Mode, parents: Parent[], rng: Rng, cfg: SearchConfig, filter?: DrawFilter): Promise<Newborn[]> {
  const n = cfg.population.size;
  const ev = cfg.evolution;
  const lim: VariationLimits = { maxDepth: cfg.population.maxOffspringDepth, maxSize: cfg.population.maxSize };
  const parsed = parents.map((p) => ({ id: p.id, expr: parseExpr(mode, p.loss) }));
  const out: Newborn[] = [];
  const nRandom = parsed.length === 0 ? n : Math.round(ev.randomFraction * n);
  await randomMembers(mode, rng, cfg, nRandom, filter, out);
  const mutateOnce = (e: Expr): { expr: Expr; op: MutationName } => {
    const op = weightedPick(rng, ev.mutationWeights);
    return { expr: MUTATIONS[op](mode, e, rng, lim), op };
  };
  const add = (b: Newborn) => {
    if (!filter || filter.admit(b.expr, 'offspring')) out.push(b);
  };
  while (out.length < n && parsed.length > 0) {
    if (filter) {
      if (filter.capReached('offspring')) break;
      await filter.tick();
    }
    if (parsed.length >= 2 && rng.next() < ev.crossoverProb) {
      const a = rng.pick(parsed);
      let b = rng.pick(parsed);
      for (let t = 0; t < 4 && b.id === a.id; t++) b = rng.pick(parsed);
      const [c1, c2] = crossover(mode, a.expr, b.expr, rng, lim);
      for (const c of [c1, c2]) {
        if (out.length >= n) break;
        if (rng.next() < ev.mutationAfterCrossoverProb) {
          const m = mutateOnce(c);
          add(born(m.expr, [a.id, b.id], 'crossover+mutation', m.op));
        } else add(born(c, [a.id, b.id], 'crossover', null));
      }
    } else {
      const a = rng.pick(parsed);
      const m = mutateOnce(a.expr);
      add(born(m.expr, [a.id], 'mutation', m.op));
    }
  }
  filter?.done();
  return out;
}

export { treeDepth, treeSize };
