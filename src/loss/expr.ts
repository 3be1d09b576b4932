/**
 * The expression tree of a loss candidate: plain, JSON-serialisable objects.
 *
 * Shapes: every node has one of three shape classes, inferred bottom-up:
 *  - 'M': per sample and class, [N, K] (cls/bcls inputs),
 *  - 'V': per sample, [N] (reg inputs; the result of Dot over [N, K]),
 *  - 'S': a scalar (constants; Dot over [N] sums the batch).
 * Binary ops broadcast a scalar against anything; mixing [N] with [N, K] is an error (it fails
 * with a broadcast error in the public implementation), as is Softmax of anything but [N, K].
 */
import { MODE_VARS, PRIM_BY_NAME, type Mode, type Prim } from './primitives.js';

export type Expr = VarNode | ConstNode | OpNode;
export interface VarNode {
  readonly kind: 'var';
  readonly name: string;
}
export interface ConstNode {
  readonly kind: 'const';
  readonly value: number;
  /** The literal as written when parsed (printed back unchanged); absent for constructed constants. */
  readonly text?: string;
}
export interface OpNode {
  readonly kind: 'op';
  readonly op: string;
  readonly args: readonly Expr[];
}

export type Shape = 'S' | 'V' | 'M';

/** Hard limit on the number of nodes of a tree (parser and generators). */
export const MAX_NODES = 1000;

export const v = (name: string): VarNode => ({ kind: 'var', name });
export const c = (value: number): ConstNode => ({ kind: 'const', value });
export const op = (name: string, ...args: Expr[]): OpNode => ({ kind: 'op', op: name, args });

export function treeSize(e: Expr): number {
  if (e.kind !== 'op') return 1;
  let n = 1;
  for (const a of e.args) n += treeSize(a);
  return n;
}

/** Depth in edges from the root to the deepest leaf (a leaf has depth 0, as DEAP's height). */
export function treeDepth(e: Expr): number {
  if (e.kind !== 'op') return 0;
  let d = 0;
  for (const a of e.args) d = Math.max(d, treeDepth(a));
  return d + 1;
}

export function exprEquals(a: Expr, b: Expr): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'var') return a.name === (b as VarNode).name;
  if (a.kind === 'const') return Object.is(a.value, (b as ConstNode).value);
  const bo = b as OpNode;
  if (a.op !== bo.op || a.args.length !== bo.args.length) return false;
  for (let i = 0; i < a.args.length; i++) if (!exprEquals(a.args[i]!, bo.args[i]!)) return false;
  return true;
}

/** Variables used by a tree. */
export function variablesOf(e: Expr, out: Set<string> = new Set()): Set<string> {
  if (e.kind === 'var') out.add(e.name);
  else if (e.kind === 'op') for (const a of e.args) variablesOf(a, out);
  return out;
}

/** Shape of a mode's input variables. */
export function inputShape(mode: Mode): Shape {
  return mode === 'reg' ? 'V' : 'M';
}

/** The shape an op produces from argument shapes, or an error message. */
export function opShape(p: Prim, shapes: readonly Shape[]): Shape | string {
  if (p.kind === 'softmax') {
    return shapes[0] === 'M' ? 'M' : `Softmax needs a per-class [N, K] argument, got ${shapeName(shapes[0]!)}`;
  }
  if (p.arity === 1) return shapes[0]!;
  const [a, b] = shapes as [Shape, Shape];
  let m: Shape;
  if (a === 'S') m = b;
  else if (b === 'S' || a === b) m = a;
  else return `${p.name} mixes ${shapeName(a)} and ${shapeName(b)} arguments (they do not broadcast)`;
  if (p.kind === 'dot') return m === 'M' ? 'V' : 'S';
  return m;
}

export function shapeName(s: Shape): string {
  return s === 'M' ? '[N, K]' : s === 'V' ? '[N]' : 'scalar';
}

/** Where a tree breaks the rules of a mode (first problem, pre-order), or null. */
export interface ExprProblem {
  /** Path of child indices from the root to the offending node. */
  path: number[];
  message: string;
}

/** Shape of a valid tree; throws on an invalid one (use `checkExpr` to get the problem). */
export function exprShape(mode: Mode, e: Expr): Shape {
  const r = inferShape(mode, e, []);
  if (typeof r !== 'string') throw new Error(r.message);
  return r;
}

/** Checks primitives, arity, variables and shapes for a mode. */
export function checkExpr(mode: Mode, e: Expr): ExprProblem | null {
  const r = inferShape(mode, e, []);
  return typeof r === 'string' ? null : r;
}

function inferShape(mode: Mode, e: Expr, path: number[]): Shape | ExprProblem {
  if (e.kind === 'const') {
    return Number.isFinite(e.value) ? 'S' : { path, message: `constant ${e.value} is not finite` };
  }
  if (e.kind === 'var') {
    if (!MODE_VARS[mode].includes(e.name)) {
      return { path, message: `variable '${e.name}' is not an input of mode ${mode} (inputs: ${MODE_VARS[mode].join(', ')})` };
    }
    return inputShape(mode);
  }
  const p = PRIM_BY_NAME.get(e.op);
  if (!p) return { path, message: `unknown primitive '${e.op}'` };
  if (!p.modes.includes(mode)) return { path, message: `primitive '${e.op}' is not allowed in mode ${mode}` };
  if (e.args.length !== p.arity) {
    return { path, message: `${e.op} takes ${p.arity} argument${p.arity > 1 ? 's' : ''}, got ${e.args.length}` };
  }
  const shapes: Shape[] = [];
  for (let i = 0; i < e.args.length; i++) {
    const s = inferShape(mode, e.args[i]!, [...path, i]);
    if (typeof s !== 'string') return s;
    shapes.push(s);
  }
  const s = opShape(p, shapes);
  if (s.length > 1) return { path, message: s };
  return s as Shape;
}

/** True if evaluation sums over the batch somewhere (a Dot over [N] arguments). */
export function couplesBatch(mode: Mode, e: Expr): boolean {
  let coupled = false;
  const walk = (x: Expr): Shape => {
    if (x.kind === 'const') return 'S';
    if (x.kind === 'var') return inputShape(mode);
    const shapes = x.args.map(walk);
    const p = PRIM_BY_NAME.get(x.op)!;
    if (p.kind === 'dot' && shapes.includes('V')) coupled = true;
    return opShape(p, shapes) as Shape;
  };
  walk(e);
  return coupled;
}

// ---------------------------------------------------------------- addressing and rewriting

/** All node paths in pre-order (the root is []). */
export function nodePaths(e: Expr): number[][] {
  const out: number[][] = [];
  const walk = (x: Expr, path: number[]) => {
    out.push(path);
    if (x.kind === 'op') x.args.forEach((a, i) => walk(a, [...path, i]));
  };
  walk(e, []);
  return out;
}

export function getAt(e: Expr, path: readonly number[]): Expr {
  let x = e;
  for (const i of path) {
    if (x.kind !== 'op') throw new Error('getAt: path leaves the tree');
    x = x.args[i]!;
  }
  return x;
}

export function replaceAt(e: Expr, path: readonly number[], sub: Expr): Expr {
  if (path.length === 0) return sub;
  if (e.kind !== 'op') throw new Error('replaceAt: path leaves the tree');
  const [i, ...rest] = path as [number, ...number[]];
  const args = e.args.slice();
  args[i] = replaceAt(args[i]!, rest, sub);
  return { kind: 'op', op: e.op, args };
}

/** Depth of the node at `path` (root 0). */
export function pathDepth(path: readonly number[]): number {
  return path.length;
}
