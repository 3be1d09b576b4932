/**
 * Populations: the initial one (ramped half-and-half random trees, optional seeds) and the
 * offspring of a generation's parents (crossover, the four mutations plus subtree replacement,
 * fresh random trees for diversity), on top of src/loss's operators. Every draw from the Rng
 * passed in.
 */
import {
  crossover,
  mutateDeleteOp,
  mutateInsertOp,
  mutateReplaceLeaf,
  mutateReplaceOp,
  mutateSubtree,
  parseExpr,
  printOfficial,
  randomTree,
  resolveLoss,
  treeDepth,
  treeSize,
  type Expr,
  type Mode,
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

const MUTATION_FNS = {
  insert: mutateInsertOp,
  delete: mutateDeleteOp,
  replaceOp: mutateReplaceOp,
  replaceLeaf: mutateReplaceLeaf,
  subtree: mutateSubtree,
} as const;
type MutationKey = keyof typeof MUTATION_FNS;

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

/** Generation 0: the seeds (presets or expressions), then random trees up to the population size. */
export function initialPopulation(mode: Mode, rng: Rng, cfg: SearchConfig): Newborn[] {
  const out: Newborn[] = [];
  for (const s of cfg.population.seedWith) {
    const r = resolveLoss(mode, s);
    if (!r.expr) throw new Error(`seed '${s}' is a fixed baseline, not an expression`);
    out.push(born(r.expr, [], 'seed', s));
  }
  while (out.length < cfg.population.size) out.push(randomIndividual(mode, rng, cfg));
  return out.slice(0, Math.max(cfg.population.size, cfg.population.seedWith.length));
}

/** The next generation from parents: a fraction random, the rest by crossover and/or mutation. */
export function offspring(mode: Mode, parents: Parent[], rng: Rng, cfg: SearchConfig): Newborn[] {
  const n = cfg.population.size;
  const ev = cfg.evolution;
  const lim: VariationLimits = { maxDepth: cfg.population.maxOffspringDepth, maxSize: cfg.population.maxSize };
  const parsed = parents.map((p) => ({ id: p.id, expr: parseExpr(mode, p.loss) }));
  const out: Newborn[] = [];
  const nRandom = parsed.length === 0 ? n : Math.round(ev.randomFraction * n);
  for (let i = 0; i < nRandom; i++) out.push(randomIndividual(mode, rng, cfg));
  const mutateOnce = (e: Expr): { expr: Expr; op: MutationKey } => {
    const op = weightedPick(rng, ev.mutationWeights);
    return { expr: MUTATION_FNS[op](mode, e, rng, lim), op };
  };
  while (out.length < n) {
    if (parsed.length >= 2 && rng.next() < ev.crossoverProb) {
      const a = rng.pick(parsed);
      let b = rng.pick(parsed);
      for (let t = 0; t < 4 && b.id === a.id; t++) b = rng.pick(parsed);
      const [c1, c2] = crossover(mode, a.expr, b.expr, rng, lim);
      for (const c of [c1, c2]) {
        if (out.length >= n) break;
        if (rng.next() < ev.mutationAfterCrossoverProb) {
          const m = mutateOnce(c);
          out.push(born(m.expr, [a.id, b.id], 'crossover+mutation', m.op));
        } else out.push(born(c, [a.id, b.id], 'crossover', null));
      }
    } else {
      const a = rng.pick(parsed);
      const m = mutateOnce(a.expr);
      out.push(born(m.expr, [a.id], 'mutation', m.op));
    }
  }
  return out;
}

export { treeDepth, treeSize };
