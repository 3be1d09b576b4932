/**
 * Baselines written in the language, the four published CSE-Autoloss strings, and the two fixed
 * baselines (L1, smooth L1 on box deltas) that the reg language cannot express.
 */
import type { Expr } from './expr.js';
import { checkExpr } from './expr.js';
import { parseExpr } from './parse.js';
import type { Mode } from './primitives.js';
import { printOfficial } from './print.js';
import { UserError } from '../util/errors.js';

export interface Preset {
  mode: Mode;
  /** Expression in the paper's format (absent for fixed baselines). */
  text?: string;
  /** A fixed baseline outside the tree language, computed on box deltas. */
  fixed?: 'l1' | 'smooth-l1';
  description: string;
}

export const PRESETS: Record<string, Preset> = {
  ce: {
    mode: 'cls',
    text: 'Neg(Dot(Y,Log(Softmax(X))))',
    description: 'cross-entropy: -Σ_c y_c log softmax(x)_c',
  },
  focal: {
    mode: 'bcls',
    text: 'Add(Mul(PY,Mul(Mul(Sub(1,Sig(X)),Sub(1,Sig(X))),Softplus(Neg(X)))),Mul(NY,Mul(Mul(Sig(X),Sig(X)),Softplus(X))))',
    description:
      'sigmoid focal loss, gamma 2: PY·(1-σ(x))²·(-log σ(x)) + NY·σ(x)²·(-log(1-σ(x))), log-sigmoids as softplus; alpha 0.25 comes from the bcls wrapper',
  },
  bce: {
    mode: 'bcls',
    text: 'Add(Mul(PY,Softplus(Neg(X))),Mul(NY,Softplus(X)))',
    description: 'binary cross-entropy with logits: PY·softplus(-x) + NY·softplus(x) (the bcls wrapper applies alpha_t)',
  },
  iou: { mode: 'reg', text: 'Sub(1,Div(I,U))', description: 'IoU loss, linear: 1 - I/U' },
  'log-iou': { mode: 'reg', text: 'Neg(Log(Div(I,U)))', description: 'IoU loss, logarithmic: -log(I/U)' },
  giou: { mode: 'reg', text: 'Add(Sub(1,Div(I,U)),Div(Sub(E,U),E))', description: 'GIoU loss: 1 - I/U + (E - U)/E' },
  l1: { mode: 'reg', fixed: 'l1', description: 'L1 on box deltas (fixed baseline, not in the language)' },
  'smooth-l1': {
    mode: 'reg',
    fixed: 'smooth-l1',
    description: 'smooth L1 (beta 1) on box deltas (fixed baseline, not in the language)',
  },
  'cse-a-cls': {
    mode: 'cls',
    text: 'Neg(Dot(Mul(Y,Add(1,Sin(Z))),Log(Softmax(X))))',
    description: 'CSE-Autoloss-A classification (two-stage, Faster R-CNN)',
  },
  'cse-a-reg': {
    mode: 'reg',
    text: 'Add(1,Neg(Add(Div(I,U),Neg(Div(Add(E,Neg(Add(I,2))),E)))))',
    description: 'CSE-Autoloss-A regression (two-stage, Faster R-CNN)',
  },
  'cse-b-cls': {
    mode: 'bcls',
    text: 'Neg(Add(Mul(Q,Mul(Add(1,Serf(Sig(NY))),Log(Sig(X)))),Mul(Add(Sgdf(X),Neg(Q)),Mul(Add(Add(1,Neg(Q)),Neg(Add(1,Neg(Sig(X))))),Log(Add(1,Neg(Sig(X))))))))',
    description: 'CSE-Autoloss-B classification (one-stage, FCOS)',
  },
  'cse-b-reg': {
    mode: 'reg',
    text: 'Neg(Div(Add(Div(Neg(Add(Neg(E),Add(1,I))),Neg(Add(3,Add(2,U)))),Add(Div(E,E),Div(Neg(E),Neg(1)))),Neg(Add(Div(Neg(Add(U,Div(I,1))),Neg(3)),Neg(E)))))',
    description: 'CSE-Autoloss-B regression (one-stage, FCOS)',
  },
};

export interface ResolvedLoss {
  mode: Mode;
  /** Preset name when the spec named one. */
  preset: string | null;
  /** The expression (null for fixed baselines). */
  expr: Expr | null;
  fixed: 'l1' | 'smooth-l1' | null;
  /** The expression in the paper's format, or the preset name of a fixed baseline. */
  text: string;
}

/** Error for a spec that names a preset of another mode. */
export class LossModeError extends UserError {
  override name = 'LossModeError';
}

/**
 * A preset name or an expression string, for a mode. Throws LossSyntaxError for a bad
 * expression, LossModeError for a preset of another mode.
 */
export function resolveLoss(mode: Mode, spec: string): ResolvedLoss {
  const key = spec.trim();
  const p = Object.prototype.hasOwnProperty.call(PRESETS, key) ? PRESETS[key] : undefined;
  if (p) {
    if (p.mode !== mode) {
      throw new LossModeError(`preset '${key}' is a ${p.mode} loss, but a ${mode} loss was asked for`);
    }
    if (p.fixed) return { mode, preset: key, expr: null, fixed: p.fixed, text: key };
    const expr = parseExpr(mode, p.text!);
    return { mode, preset: key, expr, fixed: null, text: p.text! };
  }
  const expr = parseExpr(mode, spec);
  return { mode, preset: null, expr, fixed: null, text: printOfficial(expr) };
}

/** The expression of a spec (string or tree) for a mode; fixed baselines are refused. */
export function exprOf(mode: Mode, spec: string | Expr): Expr {
  if (typeof spec !== 'string') {
    const problem = checkExpr(mode, spec);
    if (problem) throw new Error(`invalid ${mode} expression: ${problem.message}`);
    return spec;
  }
  const r = resolveLoss(mode, spec);
  if (!r.expr) throw new Error(`'${spec}' is a fixed baseline, not an expression`);
  return r.expr;
}
