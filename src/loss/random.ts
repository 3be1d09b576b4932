/**
 * Random trees and variation operators for the search, DEAP-style (the public implementation
 * builds its primitive sets with DEAP): ramped half-and-half generation, and mutation /
 * crossover operators that respect the mode's primitive set and shape rules. Every draw goes
 * through the seeded Rng passed in.
 */
import type { Rng } from '../util/rng.js';
import { checkExpr, getAt, nodePaths, replaceAt, treeDepth, treeSize, MAX_NODES, type Expr } from './expr.js';
import { MODE_VARS, SEARCH_CONSTANTS, primitivesFor, type Mode, type Prim } from './primitives.js';

export interface RandomTreeOptions {
  /** Smallest height (root to deepest leaf, a leaf alone is 0). Default 2. */
  minDepth?: number;
  /** Largest height. Default 6. */
  maxDepth?: number;
  /** Largest number of nodes. Default 100. */
  maxSize?: number;
  /** 'grow' or 'full'; by default each tree draws one with probability 1/2 (half-and-half). */
  method?: 'grow' | 'full';
}

export const RANDOM_TREE_DEFAULTS = { minDepth: 2, maxDepth: 6, maxSize: 100 } as const;
const MAX_ATTEMPTS = 1000;

/** A random terminal: an input of the mode or an ephemeral constant 1, 2, 3 (drawn as DEAP draws from its terminal list). */
export function randomTerminal(mode: Mode, rng: Rng): Expr {
  const vars = MODE_VARS[mode];
  const i = rng.int(0, vars.length); // the last slot is the ephemeral constant
  if (i < vars.length) return { kind: 'var', name: vars[i]! };
  return { kind: 'const', value: rng.pick(SEARCH_CONSTANTS) };
}

function generate(mode: Mode, rng: Rng, minDepth: number, maxDepth: number, method: 'grow' | 'full'): Expr {
  const prims = primitivesFor(mode);
  const nTerm = MODE_VARS[mode].length + 1;
  const terminalRatio = nTerm / (nTerm + prims.length);
  const height = rng.int(minDepth, maxDepth);
  const build = (depth: number): Expr => {
    const leaf = depth >= height || (method === 'grow' && depth >= minDepth && rng.next() < terminalRatio);
    if (leaf) return randomTerminal(mode, rng);
    const p = rng.pick(prims);
    const args: Expr[] = [];
    for (let i = 0; i < p.arity; i++) args.push(build(depth + 1));
    return { kind: 'op', op: p.name, args };
  };
  return build(0);
}

/**
 * A random valid tree: height drawn uniformly in [minDepth, maxDepth], grown with DEAP's
 * 'grow' or 'full' method; trees that break the mode's shape rules or exceed maxSize are
 * redrawn.
 */
export function randomTree(mode: Mode, rng: Rng, opts: RandomTreeOptions = {}): Expr {
  const minDepth = opts.minDepth ?? RANDOM_TREE_DEFAULTS.minDepth;
  const maxDepth = Math.max(minDepth, opts.maxDepth ?? RANDOM_TREE_DEFAULTS.maxDepth);
  const maxSize = Math.min(opts.maxSize ?? RANDOM_TREE_DEFAULTS.maxSize, MAX_NODES);
  if (minDepth < 0) throw new RangeError('randomTree: minDepth must be ≥ 0');
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const method = opts.method ?? (rng.next() < 0.5 ? 'grow' : 'full');
    const e = generate(mode, rng, minDepth, maxDepth, method);
    if (treeSize(e) <= maxSize && checkExpr(mode, e) === null) return e;
  }
  throw new Error(`randomTree: no valid ${mode} tree within ${MAX_ATTEMPTS} attempts (depth ${minDepth}..${maxDepth}, size ≤ ${maxSize})`);
}

// ------------------------------------------------------------------------------- variation

export interface VariationLimits {
  /** Largest height of a result. Default 12. */
  maxDepth?: number;
  /** Largest number of nodes of a result. Default 100. */
  maxSize?: number;
}
const VAR_DEFAULTS = { maxDepth: 12, maxSize: 100 };
const VAR_ATTEMPTS = 64;

function within(mode: Mode, e: Expr, lim: VariationLimits): boolean {
  return (
    treeSize(e) <= (lim.maxSize ?? VAR_DEFAULTS.maxSize) &&
    treeDepth(e) <= (lim.maxDepth ?? VAR_DEFAULTS.maxDepth) &&
    checkExpr(mode, e) === null
  );
}

/** Tries `make` until it yields a valid tree within the limits; returns the parent unchanged when none is found. */
function retry(mode: Mode, parent: Expr, lim: VariationLimits, make: () => Expr | null): Expr {
  for (let i = 0; i < VAR_ATTEMPTS; i++) {
    const e = make();
    if (e && within(mode, e, lim)) return e;
  }
  return parent;
}

const leafPaths = (e: Expr) => nodePaths(e).filter((p) => getAt(e, p).kind !== 'op');
const opPaths = (e: Expr) => nodePaths(e).filter((p) => getAt(e, p).kind === 'op');

/** Replaces one leaf by another terminal of the mode. */
export function mutateReplaceLeaf(mode: Mode, e: Expr, rng: Rng, lim: VariationLimits = {}): Expr {
  const leaves = leafPaths(e);
  return retry(mode, e, lim, () => {
    const path = rng.pick(leaves);
    const old = getAt(e, path);
    const t = randomTerminal(mode, rng);
    if (old.kind === 'var' && t.kind === 'var' && old.name === t.name) return null;
    if (old.kind === 'const' && t.kind === 'const' && old.value === t.value) return null;
    return replaceAt(e, path, t);
  });
}

/** Wraps a random subtree in a new primitive (its other argument, if any, a random terminal). */
export function mutateInsertOp(mode: Mode, e: Expr, rng: Rng, lim: VariationLimits = {}): Expr {
  const paths = nodePaths(e);
  const prims = primitivesFor(mode);
  return retry(mode, e, lim, () => {
    const path = rng.pick(paths);
    const sub = getAt(e, path);
    const p = rng.pick(prims);
    const args = p.arity === 1 ? [sub] : rng.next() < 0.5 ? [sub, randomTerminal(mode, rng)] : [randomTerminal(mode, rng), sub];
    return replaceAt(e, path, { kind: 'op', op: p.name, args });
  });
}

/** Removes a primitive, keeping one of its arguments in its place (DEAP's mutShrink). */
export function mutateDeleteOp(mode: Mode, e: Expr, rng: Rng, lim: VariationLimits = {}): Expr {
  const ops = opPaths(e);
  if (ops.length === 0) return e;
  return retry(mode, e, lim, () => {
    const path = rng.pick(ops);
    const node = getAt(e, path);
    if (node.kind !== 'op') return null;
    return replaceAt(e, path, rng.pick(node.args));
  });
}

/** Replaces a primitive by another of the same arity, or a leaf by another terminal (DEAP's mutNodeReplacement). */
export function mutateReplaceOp(mode: Mode, e: Expr, rng: Rng, lim: VariationLimits = {}): Expr {
  const ops = opPaths(e);
  if (ops.length === 0) return mutateReplaceLeaf(mode, e, rng, lim);
  const prims = primitivesFor(mode);
  return retry(mode, e, lim, () => {
    const path = rng.pick(ops);
    const node = getAt(e, path);
    if (node.kind !== 'op') return null;
    const same = prims.filter((p: Prim) => p.arity === node.args.length && p.name !== node.op);
    if (same.length === 0) return null;
    return replaceAt(e, path, { kind: 'op', op: rng.pick(same).name, args: node.args });
  });
}

/** Replaces a random subtree by a freshly grown one of height 0..2 (DEAP's mutUniform). */
export function mutateSubtree(mode: Mode, e: Expr, rng: Rng, lim: VariationLimits = {}): Expr {
  const paths = nodePaths(e);
  return retry(mode, e, lim, () => {
    const path = rng.pick(paths);
    const sub = randomTree(mode, rng, { minDepth: 0, maxDepth: 2, method: 'grow', maxSize: 7 });
    return replaceAt(e, path, sub);
  });
}

/** One-point subtree crossover: swaps a random subtree of each parent; both children valid (or the parents back). */
export function crossover(mode: Mode, a: Expr, b: Expr, rng: Rng, lim: VariationLimits = {}): [Expr, Expr] {
  const pa = nodePaths(a);
  const pb = nodePaths(b);
  for (let i = 0; i < VAR_ATTEMPTS; i++) {
    const x = rng.pick(pa);
    const y = rng.pick(pb);
    const ca = replaceAt(a, x, getAt(b, y));
    const cb = replaceAt(b, y, getAt(a, x));
    if (within(mode, ca, lim) && within(mode, cb, lim)) return [ca, cb];
  }
  return [a, b];
}

/**
 * The one registry of mutation operators, named as the search config's `mutationWeights` name
 * them. The order is the draw order of `mutate` (kept as it was when the names changed).
 */
export const MUTATIONS = {
  replaceLeaf: mutateReplaceLeaf,
  insert: mutateInsertOp,
  delete: mutateDeleteOp,
  replaceOp: mutateReplaceOp,
  subtree: mutateSubtree,
} as const;
export type MutationName = keyof typeof MUTATIONS;

/** One mutation drawn uniformly from MUTATIONS. */
export function mutate(mode: Mode, e: Expr, rng: Rng, lim: VariationLimits = {}): Expr {
  const names = Object.keys(MUTATIONS) as MutationName[];
  return MUTATIONS[rng.pick(names)](mode, e, rng, lim);
}
