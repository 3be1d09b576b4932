/**
 * Fast CPU evaluator: a tree is compiled once into a flat program (identical subtrees shared),
 * then run over Float64Array batches with vectorised per-primitive kernels from the primitive
 * table, forward and reverse mode. No tfjs.
 *
 * Inputs: for cls/bcls each variable is [N, K] row-major (length N·K); for reg each is [N].
 * The value is the expression's raw output (shape 'M' [N, K], 'V' [N] or 'S' scalar), the
 * gradients are those of sum(value) (or of Σ seed·value) with respect to every input of the mode.
 */
import { inputShape, type Expr, type Shape, opShape } from './expr.js';
import { MODE_VARS, PRIM_BY_NAME, type BinaryPrim, type Mode, type UnaryPrim } from './primitives.js';

const enum T {
  Input,
  Const,
  Unary,
  Binary,
}

interface PNode {
  t: T;
  shape: Shape;
  a: number;
  b: number;
  unary: UnaryPrim | null;
  binary: BinaryPrim | null;
  dot: boolean;
  softmax: boolean;
  input: string;
  value: number;
}

export interface FastProgram {
  readonly mode: Mode;
  /** Output shape. */
  readonly shape: Shape;
  /** Number of distinct nodes after sharing identical subtrees. */
  readonly length: number;
  /** @internal */
  readonly nodes: readonly PNode[];
  /** @internal index of each input variable's node, -1 if unused. */
  readonly inputNode: Readonly<Record<string, number>>;
}

export function compileFast(mode: Mode, e: Expr): FastProgram {
  const nodes: PNode[] = [];
  const ids = new Map<string, number>();
  const inputNode: Record<string, number> = {};
  for (const name of MODE_VARS[mode]) inputNode[name] = -1;
  const ishape = inputShape(mode);
  const add = (key: string, n: PNode): number => {
    const id = ids.get(key);
    if (id !== undefined) return id;
    nodes.push(n);
    ids.set(key, nodes.length - 1);
    return nodes.length - 1;
  };
  const base = { a: -1, b: -1, unary: null, binary: null, dot: false, softmax: false, input: '', value: 0 };
  const walk = (x: Expr): number => {
    if (x.kind === 'var') {
      if (!(x.name in inputNode)) throw new Error(`variable '${x.name}' is not an input of mode ${mode}`);
      const id = add(`v:${x.name}`, { ...base, t: T.Input, shape: ishape, input: x.name });
      inputNode[x.name] = id;
      return id;
    }
    if (x.kind === 'const') return add(`c:${x.value}`, { ...base, t: T.Const, shape: 'S', value: x.value });
    const p = PRIM_BY_NAME.get(x.op);
    if (!p || !p.modes.includes(mode)) throw new Error(`primitive '${x.op}' is not allowed in mode ${mode}`);
    if (x.args.length !== p.arity) throw new Error(`${x.op} takes ${p.arity} arguments`);
    const args = x.args.map(walk);
    const s = opShape(
      p,
      args.map((i) => nodes[i]!.shape),
    );
    if (s.length > 1) throw new Error(s);
    const key = `${x.op}(${args.join(',')})`;
    if (p.arity === 1) {
      return add(key, { ...base, t: T.Unary, shape: s as Shape, a: args[0]!, unary: p, softmax: p.kind === 'softmax' });
    }
    return add(key, { ...base, t: T.Binary, shape: s as Shape, a: args[0]!, b: args[1]!, binary: p, dot: p.kind === 'dot' });
  };
  walk(e);
  return { mode, shape: nodes[nodes.length - 1]!.shape, length: nodes.length, nodes, inputNode };
}

/** Reusable scratch memory for runs (one per thread of work; results are views into it). */
export class Workspace {
  private pool: Float64Array[] = [];
  private used = 0;
  reset(): void {
    this.used = 0;
  }
  alloc(len: number): Float64Array {
    let buf = this.pool[this.used];
    if (!buf || buf.length < len) {
      buf = new Float64Array(Math.max(len, 16));
      this.pool[this.used] = buf;
    }
    this.used++;
    return buf.length === len ? buf : buf.subarray(0, len);
  }
}

export interface FastRun {
  shape: Shape;
  value: Float64Array;
  /** Gradient of sum(value) per input (zeros for unused inputs); null when not requested. */
  grads: Record<string, Float64Array> | null;
  /** Forward buffers of every node (internal; views into the workspace). */
  values: Float64Array[];
}

function lenOf(shape: Shape, n: number, k: number): number {
  return shape === 'M' ? n * k : shape === 'V' ? n : 1;
}

/**
 * Runs a program. `inputs` must hold every input the tree uses, with length N·K (cls/bcls) or
 * N (reg). With `workspace`, results are views into it (valid until its next reset); without,
 * fresh arrays.
 */
export function runFast(
  prog: FastProgram,
  inputs: Readonly<Record<string, Float64Array>>,
  n: number,
  k: number,
  opts: { grad?: boolean; workspace?: Workspace; seed?: Float64Array } = {},
): FastRun {
  const ws = opts.workspace;
  const alloc = ws ? (len: number) => ws.alloc(len) : (len: number) => new Float64Array(len);
  ws?.reset();
  const nodes = prog.nodes;
  const vals: Float64Array[] = new Array(nodes.length);
  for (let i = 0; i < nodes.length; i++) {
    const nd = nodes[i]!;
    const len = lenOf(nd.shape, n, k);
    if (nd.t === T.Input) {
      const x = inputs[nd.input];
      if (!x) throw new Error(`missing input '${nd.input}'`);
      if (x.length !== len) throw new Error(`input '${nd.input}' has length ${x.length}, expected ${len}`);
      vals[i] = x;
      continue;
    }
    const o = alloc(len);
    vals[i] = o;
    if (nd.t === T.Const) o[0] = nd.value;
    else if (nd.t === T.Unary) nd.unary!.fast.fwd(vals[nd.a]!, o, len, nd.softmax ? k : 1);
    else {
      const sa = nodes[nd.a]!.shape === 'S' ? 0 : 1;
      const sb = nodes[nd.b]!.shape === 'S' ? 0 : 1;
      if (nd.dot) {
        const inner = innerLen(nodes[nd.a]!.shape, nodes[nd.b]!.shape, n, k, len);
        nd.binary!.fast.fwd(vals[nd.a]!, sa, vals[nd.b]!, sb, o, len, inner);
      } else nd.binary!.fast.fwd(vals[nd.a]!, sa, vals[nd.b]!, sb, o, len, 1);
    }
  }
  const out = nodes.length - 1;
  const value = vals[out]!;
  let grads: Record<string, Float64Array> | null = null;
  if (opts.grad) {
    const gs: Float64Array[] = new Array(nodes.length);
    for (let i = 0; i < nodes.length; i++) {
      const g = alloc(lenOf(nodes[i]!.shape, n, k));
      g.fill(0);
      gs[i] = g;
    }
    if (opts.seed) {
      if (opts.seed.length !== gs[out]!.length) throw new Error('runFast: seed length does not match the output');
      gs[out]!.set(opts.seed);
    } else gs[out]!.fill(1);
    for (let i = out; i >= 0; i--) {
      const nd = nodes[i]!;
      if (nd.t === T.Input || nd.t === T.Const) continue;
      const len = lenOf(nd.shape, n, k);
      if (nd.t === T.Unary) nd.unary!.fast.bwd(vals[nd.a]!, vals[i]!, gs[i]!, gs[nd.a]!, len, nd.softmax ? k : 1);
      else {
        const sa = nodes[nd.a]!.shape === 'S' ? 0 : 1;
        const sb = nodes[nd.b]!.shape === 'S' ? 0 : 1;
        const inner = nd.dot ? innerLen(nodes[nd.a]!.shape, nodes[nd.b]!.shape, n, k, len) : 1;
        nd.binary!.fast.bwd(vals[nd.a]!, sa, vals[nd.b]!, sb, vals[i]!, gs[i]!, gs[nd.a]!, gs[nd.b]!, len, inner);
      }
    }
    grads = {};
    const ilen = lenOf(inputShape(prog.mode), n, k);
    for (const name of MODE_VARS[prog.mode]) {
      const id = prog.inputNode[name]!;
      grads[name] = id >= 0 ? gs[id]! : alloc(ilen).fill(0);
    }
  }
  return { shape: prog.shape, value, grads, values: vals };
}

function innerLen(a: Shape, b: Shape, n: number, k: number, outLen: number): number {
  const m: Shape = a === 'S' ? b : a;
  return lenOf(m, n, k) / outLen;
}

/** Largest finite float32. */
export const F32_MAX = 3.4028234663852886e38;

/** True when every element is a number within float32 range. */
export function finite32(x: Float64Array): boolean {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (!(v <= F32_MAX && v >= -F32_MAX)) return false;
  }
  return true;
}

/** Evaluates a constant-only tree (or any tree whose inputs are not needed) to a number. */
export function evalConstant(mode: Mode, e: Expr): number {
  const prog = compileFast(mode, e);
  const r = runFast(prog, {}, 1, 1);
  return r.value[0]!;
}
