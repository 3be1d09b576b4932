/**
 * The primitive table: every operator of the search space is defined once here, with its name,
 * arity, the modes that allow it, its tfjs implementation (differentiable by the tape), its fast
 * Float64Array implementation with derivative, and how it prints (infix and LaTeX).
 *
 * Each row also carries its PyTorch emitter, from which `cse-autoloss export` generates the
 * standalone module (src/search/export.ts).
 *
 * Semantics follow the paper's public implementation (tools/search_space.py of the mmdetection
 * fork); docs/SEARCH_SPACE.md states them in full.
 */
import { tf } from '../tf.js';
import { MODES, type ClsMode, type Mode } from './mode.js';

export { MODES, MODE_VARS, type Mode, type ClsMode } from './mode.js';

/** Log and Div guard. */
export const EPS = 1e-20;
/** Exp clamps its input at this value (avoids overflow; gradient 0 above it). */
export const EXP_CLAMP = 88;
/** Softplus returns x itself above this threshold (torch's softplus, beta 1). */
export const SOFTPLUS_THRESHOLD = 20;

const SQRT_PI = Math.sqrt(Math.PI);

/** How a primitive maps shapes: elementwise with broadcasting, row softmax, or the Dot reduction. */
export type PrimKind = 'elementwise' | 'softmax' | 'dot';

/**
 * Fast unary kernels. `a` input, `o` output, `g` upstream gradient (d sum(out) / d out), `ga`
 * gradient buffer of the input, accumulated into (+=). `n` elements, `k` columns (row length).
 */
export interface FastUnary {
  fwd(a: Float64Array, o: Float64Array, n: number, k: number): void;
  bwd(a: Float64Array, o: Float64Array, g: Float64Array, ga: Float64Array, n: number, k: number): void;
}

/**
 * Fast binary kernels with broadcasting by stride: element i of a is a[i * sa], sa ∈ {0, 1}
 * (0: a scalar). For 'dot', `n` is the number of output elements and `k` the reduced length:
 * out[r] = Σ_j a[(r·k + j)·sa] · b[(r·k + j)·sb].
 */
export interface FastBinary {
  fwd(a: Float64Array, sa: number, b: Float64Array, sb: number, o: Float64Array, n: number, k: number): void;
  bwd(
    a: Float64Array,
    sa: number,
    b: Float64Array,
    sb: number,
    o: Float64Array,
    g: Float64Array,
    ga: Float64Array,
    gb: Float64Array,
    n: number,
    k: number,
  ): void;
}

export type InfixStyle = { kind: 'fn'; name: string } | { kind: 'neg' } | { kind: 'binop'; sym: string; prec: number; assoc: boolean };

interface PrimBase {
  name: string;
  modes: readonly Mode[];
  kind: PrimKind;
  /** One-line meaning, used by `loss list` and the docs. */
  doc: string;
  infix: InfixStyle;
  /** LaTeX with already-formatted argument strings. */
  latex: (...args: string[]) => string;
  /**
   * PyTorch emitter: the body lines of the Python function named as the primitive, with
   * parameter `x` (unary) or `a, b` (binary), in the module `export --to pytorch` writes.
   * `torch`, `F` (torch.nn.functional), `math` and `EPS` are in scope; the arguments are
   * tensors (a constant is a 0-dim tensor). Values and autograd derivatives must match the
   * fast kernels (test/loss/pytorch_export.test.ts runs them in PyTorch).
   */
  pytorch: readonly string[];
}
export interface UnaryPrim extends PrimBase {
  arity: 1;
  tf: (a: tf.Tensor) => tf.Tensor;
  fast: FastUnary;
}
export interface BinaryPrim extends PrimBase {
  arity: 2;
  tf: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
  fast: FastBinary;
}
export type Prim = UnaryPrim | BinaryPrim;

const ALL: readonly Mode[] = MODES;
const CLS_ONLY: readonly ClsMode[] = ['cls', 'bcls'];

/** A unary op whose gradient is dy * d(x, y) computed by `grad`, recorded through tf.customGrad. */
function customUnary(
  forward: (x: tf.Tensor) => tf.Tensor,
  grad: (dy: tf.Tensor, x: tf.Tensor, y: tf.Tensor) => tf.Tensor,
): (a: tf.Tensor) => tf.Tensor {
  const op = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = inputs[0] as tf.Tensor;
    const save = inputs[1] as tf.GradSaveFunc;
    const value = forward(x);
    save([x, value]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => grad(dy, saved[0] as tf.Tensor, saved[1] as tf.Tensor),
    };
  });
  return (a) => op(a);
}

const fnLatex = (name: string) => (a: string) => `${name}\\left(${a}\\right)`;

export const PRIMITIVES: readonly Prim[] = [
  {
    name: 'Neg',
    arity: 1,
    modes: ALL,
    kind: 'elementwise',
    doc: '-x',
    infix: { kind: 'neg' },
    latex: (a) => `-${a}`,
    pytorch: ['return -x'],
    tf: (a) => tf.neg(a),
    fast: {
      fwd(a, o, n) {
        for (let i = 0; i < n; i++) o[i] = -a[i]!;
      },
      bwd(_a, _o, g, ga, n) {
        for (let i = 0; i < n; i++) ga[i]! -= g[i]!;
      },
    },
  },
  {
    name: 'Exp',
    arity: 1,
    modes: ALL,
    kind: 'elementwise',
    doc: 'exp(min(x, 88))',
    infix: { kind: 'fn', name: 'exp' },
    latex: (a) => `e^{${a}}`,
    pytorch: [`return torch.exp(torch.clamp(x, max=${EXP_CLAMP.toFixed(1)}))`],
    // torch: clamp(max=88) then exp; the clamp's backward selects (no inf*0).
    tf: customUnary(
      (x) => tf.exp(tf.minimum(x, EXP_CLAMP)),
      (dy, x, y) => tf.where(tf.lessEqual(x, EXP_CLAMP), tf.mul(dy, y), tf.zerosLike(dy)),
    ),
    fast: {
      fwd(a, o, n) {
        for (let i = 0; i < n; i++) {
          const x = a[i]!;
          o[i] = Math.exp(x < EXP_CLAMP ? x : EXP_CLAMP);
        }
      },
      bwd(a, o, g, ga, n) {
        for (let i = 0; i < n; i++) if (a[i]! <= EXP_CLAMP) ga[i]! += g[i]! * o[i]!;
      },
    },
  },
  {
    name: 'Log',
    arity: 1,
    modes: ALL,
    kind: 'elementwise',
    doc: 'log(x + 1e-20)',
    infix: { kind: 'fn', name: 'log' },
    latex: fnLatex('\\log'),
    pytorch: ['return torch.log(x + EPS)'],
    tf: (a) => tf.log(tf.add(a, EPS)),
    fast: {
      fwd(a, o, n) {
        for (let i = 0; i < n; i++) o[i] = Math.log(a[i]! + EPS);
      },
      bwd(a, _o, g, ga, n) {
        for (let i = 0; i < n; i++) ga[i]! += g[i]! / (a[i]! + EPS);
      },
    },
  },
  {
    name: 'Abs',
    arity: 1,
    modes: ALL,
    kind: 'elementwise',
    doc: '|x| (derivative sign(x), 0 at 0)',
    infix: { kind: 'fn', name: 'abs' },
    latex: (a) => `\\left|${a}\\right|`,
    pytorch: ['return torch.abs(x)'],
    // tfjs's own Abs gradient uses step(x, -1) (-1 at 0); torch uses sign(x).
    tf: customUnary(
      (x) => tf.abs(x),
      (dy, x) => tf.mul(dy, tf.sign(x)),
    ),
    fast: {
      fwd(a, o, n) {
        for (let i = 0; i < n; i++) o[i] = Math.abs(a[i]!);
      },
      bwd(a, _o, g, ga, n) {
        for (let i = 0; i < n; i++) {
          const x = a[i]!;
          ga[i]! += x > 0 ? g[i]! : x < 0 ? -g[i]! : g[i]! * 0;
        }
      },
    },
  },
  {
    name: 'Sqrt',
    arity: 1,
    modes: ALL,
    kind: 'elementwise',
    doc: 'sqrt(x) (NaN below 0, not guarded)',
    infix: { kind: 'fn', name: 'sqrt' },
    latex: (a) => `\\sqrt{${a}}`,
    pytorch: ['return torch.sqrt(x)'],
    tf: (a) => tf.sqrt(a),
    fast: {
      fwd(a, o, n) {
        for (let i = 0; i < n; i++) o[i] = Math.sqrt(a[i]!);
      },
      bwd(_a, o, g, ga, n) {
        for (let i = 0; i < n; i++) ga[i]! += g[i]! / (2 * o[i]!);
      },
    },
  },
  {
    name: 'Softmax',
    arity: 1,
    modes: CLS_ONLY,
    kind: 'softmax',
    doc: 'softmax over the class axis (axis 1 of [N, C])',
    infix: { kind: 'fn', name: 'softmax' },
    latex: fnLatex('\\operatorname{softmax}'),
    pytorch: ['return F.softmax(x, dim=1)'],
    tf: (a) => tf.softmax(a, -1),
    fast: {
      fwd(a, o, n, k) {
        for (let r = 0; r < n; r += k) {
          let m = -Infinity;
          for (let j = r; j < r + k; j++) if (a[j]! > m) m = a[j]!;
          let s = 0;
          for (let j = r; j < r + k; j++) {
            const e = Math.exp(a[j]! - m);
            o[j] = e;
            s += e;
          }
          for (let j = r; j < r + k; j++) o[j]! /= s;
        }
      },
      bwd(_a, o, g, ga, n, k) {
        for (let r = 0; r < n; r += k) {
          let d = 0;
          for (let j = r; j < r + k; j++) d += g[j]! * o[j]!;
          for (let j = r; j < r + k; j++) ga[j]! += o[j]! * (g[j]! - d);
        }
      },
    },
  },
  {
    name: 'Softplus',
    arity: 1,
    modes: ALL,
    kind: 'elementwise',
    doc: 'log(1 + exp(x)); x itself above 20 (torch)',
    infix: { kind: 'fn', name: 'softplus' },
    latex: fnLatex('\\operatorname{softplus}'),
    pytorch: [`return F.softplus(x, beta=1, threshold=${SOFTPLUS_THRESHOLD})`],
    tf: customUnary(
      (x) => {
        const small = tf.log1p(tf.exp(tf.minimum(x, SOFTPLUS_THRESHOLD)));
        return tf.where(tf.greater(x, SOFTPLUS_THRESHOLD), x, small);
      },
      (dy, x) => tf.where(tf.greater(x, SOFTPLUS_THRESHOLD), dy, tf.mul(dy, tf.sigmoid(x))),
    ),
    fast: {
      fwd(a, o, n) {
        for (let i = 0; i < n; i++) {
          const x = a[i]!;
          o[i] = x > SOFTPLUS_THRESHOLD ? x : Math.log1p(Math.exp(x));
        }
      },
      bwd(a, _o, g, ga, n) {
        for (let i = 0; i < n; i++) {
          const x = a[i]!;
          ga[i]! += x > SOFTPLUS_THRESHOLD ? g[i]! : g[i]! / (1 + Math.exp(-x));
        }
      },
    },
  },
  {
    name: 'Sig',
    arity: 1,
    modes: ALL,
    kind: 'elementwise',
    doc: '1 / (1 + exp(-x))',
    infix: { kind: 'fn', name: 'sigmoid' },
    latex: fnLatex('\\sigma'),
    pytorch: ['return torch.sigmoid(x)'],
    tf: (a) => tf.sigmoid(a),
    fast: {
      fwd(a, o, n) {
        for (let i = 0; i < n; i++) o[i] = 1 / (1 + Math.exp(-a[i]!));
      },
      bwd(_a, o, g, ga, n) {
        for (let i = 0; i < n; i++) {
          const y = o[i]!;
          ga[i]! += g[i]! * y * (1 - y);
        }
      },
    },
  },
  {
    name: 'Sgdf',
    arity: 1,
    modes: CLS_ONLY,
    kind: 'elementwise',
    doc: 'scaled Gudermannian: (gd(x·π/4)·2/π + 1)/2, gd(t) = 2·atan(tanh(t/2))',
    infix: { kind: 'fn', name: 'sgdf' },
    latex: fnLatex('\\operatorname{sgdf}'),
    pytorch: ['t = x * math.pi / 4', 'g = 2 * torch.atan(torch.tanh(t / 2))', 'return (g * 2 / math.pi + 1) / 2'],
    tf: (a) => {
      const t = tf.mul(a, Math.PI / 4);
      const gd = tf.mul(tf.atan(tf.tanh(tf.div(t, 2))), 2);
      return tf.div(tf.add(tf.mul(gd, 2 / Math.PI), 1), 2);
    },
    fast: {
      fwd(a, o, n) {
        for (let i = 0; i < n; i++) {
          const gd = 2 * Math.atan(Math.tanh((a[i]! * Math.PI) / 8));
          o[i] = ((gd * 2) / Math.PI + 1) / 2;
        }
      },
      bwd(a, _o, g, ga, n) {
        // d/dx = sech(x·π/4) / 4, written as (1 - u²)/(1 + u²)/4 with u = tanh(x·π/8).
        for (let i = 0; i < n; i++) {
          const u = Math.tanh((a[i]! * Math.PI) / 8);
          const u2 = u * u;
          ga[i]! += (g[i]! * (1 - u2)) / (1 + u2) / 4;
        }
      },
    },
  },
  {
    name: 'Salf',
    arity: 1,
    modes: CLS_ONLY,
    kind: 'elementwise',
    doc: 'scaled algebraic: (t / sqrt(1 + t²) + 1)/2, t = x/2',
    infix: { kind: 'fn', name: 'salf' },
    latex: fnLatex('\\operatorname{salf}'),
    pytorch: ['t = x / 2', 'return (t / torch.sqrt(1 + t * t) + 1) / 2'],
    tf: (a) => {
      const t = tf.div(a, 2);
      return tf.div(tf.add(tf.div(t, tf.sqrt(tf.add(1, tf.square(t)))), 1), 2);
    },
    fast: {
      fwd(a, o, n) {
        for (let i = 0; i < n; i++) {
          const t = a[i]! / 2;
          o[i] = (t / Math.sqrt(1 + t * t) + 1) / 2;
        }
      },
      bwd(a, _o, g, ga, n) {
        for (let i = 0; i < n; i++) {
          const t = a[i]! / 2;
          const s = 1 + t * t;
          ga[i]! += g[i]! / (4 * s * Math.sqrt(s));
        }
      },
    },
  },
  {
    name: 'Serf',
    arity: 1,
    modes: CLS_ONLY,
    kind: 'elementwise',
    doc: 'scaled erf: (erf(t) + 1)/2, t = (sqrt(π)/2)·x/2',
    infix: { kind: 'fn', name: 'serf' },
    latex: fnLatex('\\operatorname{serf}'),
    pytorch: ['t = (math.sqrt(math.pi) / 2) * x / 2', 'return (torch.erf(t) + 1) / 2'],
    tf: (a) => tf.div(tf.add(tf.erf(tf.mul(a, SQRT_PI / 4)), 1), 2),
    fast: {
      fwd(a, o, n) {
        for (let i = 0; i < n; i++) o[i] = (erf((a[i]! * SQRT_PI) / 4) + 1) / 2;
      },
      bwd(a, _o, g, ga, n) {
        for (let i = 0; i < n; i++) {
          const t = (a[i]! * SQRT_PI) / 4;
          ga[i]! += (g[i]! * Math.exp(-t * t)) / 4;
        }
      },
    },
  },
  {
    name: 'Tanh',
    arity: 1,
    modes: ALL,
    kind: 'elementwise',
    doc: 'tanh(x)',
    infix: { kind: 'fn', name: 'tanh' },
    latex: fnLatex('\\tanh'),
    pytorch: ['return torch.tanh(x)'],
    tf: (a) => tf.tanh(a),
    fast: {
      fwd(a, o, n) {
        for (let i = 0; i < n; i++) o[i] = Math.tanh(a[i]!);
      },
      bwd(_a, o, g, ga, n) {
        for (let i = 0; i < n; i++) {
          const y = o[i]!;
          ga[i]! += g[i]! * (1 - y * y);
        }
      },
    },
  },
  {
    name: 'Sin',
    arity: 1,
    modes: ALL,
    kind: 'elementwise',
    doc: 'sin(x)',
    infix: { kind: 'fn', name: 'sin' },
    latex: fnLatex('\\sin'),
    pytorch: ['return torch.sin(x)'],
    tf: (a) => tf.sin(a),
    fast: {
      fwd(a, o, n) {
        for (let i = 0; i < n; i++) o[i] = Math.sin(a[i]!);
      },
      bwd(a, _o, g, ga, n) {
        for (let i = 0; i < n; i++) ga[i]! += g[i]! * Math.cos(a[i]!);
      },
    },
  },
  {
    name: 'Cos',
    arity: 1,
    modes: ALL,
    kind: 'elementwise',
    doc: 'cos(x)',
    infix: { kind: 'fn', name: 'cos' },
    latex: fnLatex('\\cos'),
    pytorch: ['return torch.cos(x)'],
    tf: (a) => tf.cos(a),
    fast: {
      fwd(a, o, n) {
        for (let i = 0; i < n; i++) o[i] = Math.cos(a[i]!);
      },
      bwd(a, _o, g, ga, n) {
        for (let i = 0; i < n; i++) ga[i]! -= g[i]! * Math.sin(a[i]!);
      },
    },
  },
  {
    name: 'Relu',
    arity: 1,
    modes: ALL,
    kind: 'elementwise',
    doc: 'max(x, 0) (derivative selects: 0 for x ≤ 0)',
    infix: { kind: 'fn', name: 'relu' },
    latex: fnLatex('\\operatorname{relu}'),
    pytorch: ['return F.relu(x)'],
    // torch's threshold_backward selects the gradient (no inf*0 = NaN as tfjs's mul(dy, step)).
    tf: customUnary(
      (x) => tf.relu(x),
      (dy, x) => tf.where(tf.greater(x, 0), dy, tf.zerosLike(dy)),
    ),
    fast: {
      fwd(a, o, n) {
        for (let i = 0; i < n; i++) {
          const x = a[i]!;
          o[i] = x > 0 ? x : x !== x ? x : 0;
        }
      },
      bwd(a, _o, g, ga, n) {
        for (let i = 0; i < n; i++) if (a[i]! > 0) ga[i]! += g[i]!;
      },
    },
  },
  {
    name: 'Add',
    arity: 2,
    modes: ALL,
    kind: 'elementwise',
    doc: 'a + b',
    infix: { kind: 'binop', sym: '+', prec: 1, assoc: true },
    latex: (a, b) => `${a} + ${b}`,
    pytorch: ['return a + b'],
    tf: (a, b) => tf.add(a, b),
    fast: {
      fwd(a, sa, b, sb, o, n) {
        for (let i = 0; i < n; i++) o[i] = a[i * sa]! + b[i * sb]!;
      },
      bwd(_a, sa, _b, sb, _o, g, ga, gb, n) {
        for (let i = 0; i < n; i++) {
          ga[i * sa]! += g[i]!;
          gb[i * sb]! += g[i]!;
        }
      },
    },
  },
  {
    name: 'Sub',
    arity: 2,
    modes: ALL,
    kind: 'elementwise',
    doc: 'a - b',
    infix: { kind: 'binop', sym: '-', prec: 1, assoc: false },
    latex: (a, b) => `${a} - ${b}`,
    pytorch: ['return a - b'],
    tf: (a, b) => tf.sub(a, b),
    fast: {
      fwd(a, sa, b, sb, o, n) {
        for (let i = 0; i < n; i++) o[i] = a[i * sa]! - b[i * sb]!;
      },
      bwd(_a, sa, _b, sb, _o, g, ga, gb, n) {
        for (let i = 0; i < n; i++) {
          ga[i * sa]! += g[i]!;
          gb[i * sb]! -= g[i]!;
        }
      },
    },
  },
  {
    name: 'Mul',
    arity: 2,
    modes: ALL,
    kind: 'elementwise',
    doc: 'a · b',
    infix: { kind: 'binop', sym: '*', prec: 2, assoc: true },
    latex: (a, b) => `${a} \\cdot ${b}`,
    pytorch: ['return a * b'],
    tf: (a, b) => tf.mul(a, b),
    fast: {
      fwd(a, sa, b, sb, o, n) {
        for (let i = 0; i < n; i++) o[i] = a[i * sa]! * b[i * sb]!;
      },
      bwd(a, sa, b, sb, _o, g, ga, gb, n) {
        for (let i = 0; i < n; i++) {
          ga[i * sa]! += g[i]! * b[i * sb]!;
          gb[i * sb]! += g[i]! * a[i * sa]!;
        }
      },
    },
  },
  {
    name: 'Div',
    arity: 2,
    modes: ALL,
    kind: 'elementwise',
    doc: 'a / (b + 1e-20)',
    infix: { kind: 'binop', sym: '/', prec: 2, assoc: false },
    latex: (a, b) => `\\frac{${a}}{${b}}`,
    pytorch: ['return a / (b + EPS)'],
    tf: (a, b) => tf.div(a, tf.add(b, EPS)),
    fast: {
      fwd(a, sa, b, sb, o, n) {
        for (let i = 0; i < n; i++) o[i] = a[i * sa]! / (b[i * sb]! + EPS);
      },
      bwd(a, sa, b, sb, _o, g, ga, gb, n) {
        for (let i = 0; i < n; i++) {
          const d = b[i * sb]! + EPS;
          ga[i * sa]! += g[i]! / d;
          gb[i * sb]! -= (g[i]! * a[i * sa]!) / (d * d);
        }
      },
    },
  },
  {
    name: 'Dot',
    arity: 2,
    modes: ['cls'],
    kind: 'dot',
    doc: 'Σ over the class axis of a·b: [N, C] → [N] (a 1-D product sums to a scalar)',
    infix: { kind: 'fn', name: 'dot' },
    latex: (a, b) => `\\left\\langle ${a},\\, ${b} \\right\\rangle`,
    pytorch: ['p = a * b', 'return p.sum(dim=-1) if p.dim() > 0 else p'],
    tf: (a, b) => {
      const p = tf.mul(a, b);
      return p.rank === 2 ? tf.sum(p, 1) : tf.sum(p);
    },
    fast: {
      fwd(a, sa, b, sb, o, n, k) {
        for (let r = 0; r < n; r++) {
          let s = 0;
          const base = r * k;
          for (let j = base; j < base + k; j++) s += a[j * sa]! * b[j * sb]!;
          o[r] = s;
        }
      },
      bwd(a, sa, b, sb, _o, g, ga, gb, n, k) {
        for (let r = 0; r < n; r++) {
          const gr = g[r]!;
          const base = r * k;
          for (let j = base; j < base + k; j++) {
            ga[j * sa]! += gr * b[j * sb]!;
            gb[j * sb]! += gr * a[j * sa]!;
          }
        }
      },
    },
  },
];

export const PRIM_BY_NAME: ReadonlyMap<string, Prim> = new Map(PRIMITIVES.map((p) => [p.name, p]));

/** The primitives a mode allows, in table order. */
export function primitivesFor(mode: Mode): readonly Prim[] {
  return PRIMS_BY_MODE[mode];
}
const PRIMS_BY_MODE: Record<Mode, readonly Prim[]> = {
  cls: PRIMITIVES.filter((p) => p.modes.includes('cls')),
  bcls: PRIMITIVES.filter((p) => p.modes.includes('bcls')),
  reg: PRIMITIVES.filter((p) => p.modes.includes('reg')),
};

/** Constants drawn by the search. */
export const SEARCH_CONSTANTS: readonly number[] = [1, 2, 3];

/** erf, Abramowitz–Stegun 7.1.26 is too coarse; this is W. J. Cody's rational approximation (|err| < 1e-15 relative). */
export function erf(x: number): number {
  if (x !== x) return x;
  const ax = Math.abs(x);
  if (ax < 0.5) {
    const t = x * x;
    const num =
      (((0.185777706184603153 * t + 3.1611237438705656) * t + 113.864154151050156) * t + 377.485237685302021) * t + 3209.37758913846947;
    const den = (((t + 23.6012909523441209) * t + 244.024637934444173) * t + 1282.61652607737228) * t + 2844.23683343917062;
    return (x * num) / den;
  }
  return x > 0 ? 1 - erfcPos(ax) : erfcPos(ax) - 1;
}

function erfcPos(x: number): number {
  if (x >= 27) return 0;
  let r: number;
  if (x < 4) {
    const num =
      (((((((2.15311535474403846e-8 * x + 0.564188496988670089) * x + 8.88314979438837594) * x + 66.1191906371416295) * x +
        298.635138197400131) *
        x +
        881.95222124176909) *
        x +
        1712.04761263407058) *
        x +
        2051.07837782607147) *
        x +
      1230.33935479799725;
    const den =
      (((((((x + 15.7449261107098347) * x + 117.693950891312499) * x + 537.181101862009858) * x + 1621.38957456669019) * x +
        3290.79923573345963) *
        x +
        4362.61909014324716) *
        x +
        3439.36767414372164) *
        x +
      1230.33935480374942;
    r = num / den;
  } else {
    const z = 1 / (x * x);
    const num =
      ((((0.0163153871373020978 * z + 0.305326634961232344) * z + 0.360344899949804439) * z + 0.125781726111229246) * z +
        0.0160837851487422766) *
        z +
      6.58749161529837803e-4;
    const den =
      ((((z + 2.56852019228982242) * z + 1.87295284992346725) * z + 0.527905102951428412) * z + 0.0605183413124413191) * z +
      0.00233520497626869185;
    r = (1 / x) * (1 / Math.sqrt(Math.PI) - (z * num) / den);
  }
  // exp(-x²) split to keep precision.
  const xs = Math.trunc(x * 16) / 16;
  const del = (x - xs) * (x + xs);
  return Math.exp(-xs * xs) * Math.exp(-del) * r;
}
