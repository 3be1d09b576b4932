/**
 * Printers: the paper's prefix format (round-trips with the parser), infix and LaTeX for display.
 * Infix and LaTeX omit the guards (1e-20 in Log and Div, the clamp of Exp).
 */
import type { Expr } from './expr.js';
import { PRIM_BY_NAME } from './primitives.js';

/** Number as a literal: integers without a decimal point, others in JavaScript's shortest form. */
export function formatNumber(x: number): string {
  if (Object.is(x, -0)) return '0';
  return String(x);
}

/**
 * The paper's format: `Name(arg,arg)`. A parsed constant prints its original literal, so
 * printOfficial(parseExpr(m, s)) === s for any s without whitespace. `spaces` prints DEAP's
 * `Name(arg, arg)` form.
 */
export function printOfficial(e: Expr, opts: { spaces?: boolean } = {}): string {
  const sep = opts.spaces ? ', ' : ',';
  const out: string[] = [];
  const walk = (x: Expr) => {
    if (x.kind === 'var') out.push(x.name);
    else if (x.kind === 'const') out.push(x.text ?? formatNumber(x.value));
    else {
      out.push(x.op, '(');
      x.args.forEach((a, i) => {
        if (i > 0) out.push(sep);
        walk(a);
      });
      out.push(')');
    }
  };
  walk(e);
  return out.join('');
}

const PREC_ATOM = 10;
const PREC_NEG = 3;

/** Infix with minimal parentheses: `-(Y * (1 + sin(Z))) ...`; Dot prints as dot(a, b). */
export function printInfix(e: Expr): string {
  return infix(e).s;
}

function infix(e: Expr): { s: string; prec: number } {
  if (e.kind === 'var') return { s: e.name, prec: PREC_ATOM };
  if (e.kind === 'const') {
    const s = e.text ?? formatNumber(e.value);
    return { s, prec: s.startsWith('-') ? PREC_NEG : PREC_ATOM };
  }
  const p = PRIM_BY_NAME.get(e.op);
  if (!p) throw new Error(`unknown primitive '${e.op}'`);
  const args = e.args.map(infix);
  const st = p.infix;
  if (st.kind === 'fn') return { s: `${st.name}(${args.map((a) => a.s).join(', ')})`, prec: PREC_ATOM };
  if (st.kind === 'neg') {
    const a = args[0]!;
    return { s: `-${a.prec > PREC_NEG ? a.s : `(${a.s})`}`, prec: PREC_NEG };
  }
  const [a, b] = args as [{ s: string; prec: number }, { s: string; prec: number }];
  const left = a.prec >= st.prec ? a.s : `(${a.s})`;
  // Right operand: same precedence needs parentheses unless the operator is associative.
  const right =
    !b.s.startsWith('-') && (b.prec > st.prec || (b.prec === st.prec && st.assoc && rightAssocOk(e, st.sym))) ? b.s : `(${b.s})`;
  return { s: `${left} ${st.sym} ${right}`, prec: st.prec };
}

/** a + (b + c) may drop parentheses, a * (b / c) may not (a*b/c reads as (a*b)/c: same value, but be exact). */
function rightAssocOk(e: Expr, sym: string): boolean {
  if (e.kind !== 'op') return false;
  const b = e.args[1]!;
  if (b.kind !== 'op') return true;
  const bp = PRIM_BY_NAME.get(b.op)!;
  return bp.infix.kind === 'binop' && bp.infix.sym === sym;
}

/** LaTeX (math mode, without delimiters). */
export function printLatex(e: Expr): string {
  return latex(e).s;
}

const LATEX_VAR: Record<string, string> = { PY: 'P_{Y}', NY: 'N_{Y}' };

function latex(e: Expr): { s: string; prec: number } {
  if (e.kind === 'var') return { s: LATEX_VAR[e.name] ?? e.name, prec: PREC_ATOM };
  if (e.kind === 'const') {
    const s = formatNumber(e.value).replace(/e([+-]?\d+)$/, ' \\times 10^{$1}');
    return { s, prec: s.startsWith('-') ? PREC_NEG : PREC_ATOM };
  }
  const p = PRIM_BY_NAME.get(e.op);
  if (!p) throw new Error(`unknown primitive '${e.op}'`);
  const args = e.args.map(latex);
  const st = p.infix;
  if (st.kind === 'fn') return { s: p.latex(...args.map((a) => a.s)), prec: PREC_ATOM };
  if (st.kind === 'neg') {
    const a = args[0]!;
    return { s: p.latex(a.prec > PREC_NEG ? a.s : `\\left(${a.s}\\right)`), prec: PREC_NEG };
  }
  const [a, b] = args as [{ s: string; prec: number }, { s: string; prec: number }];
  if (e.op === 'Div') return { s: p.latex(a.s, b.s), prec: PREC_ATOM };
  const left = a.prec >= st.prec ? a.s : `\\left(${a.s}\\right)`;
  const right =
    !b.s.startsWith('-') && (b.prec > st.prec || (b.prec === st.prec && st.assoc && rightAssocOk(e, st.sym)))
      ? b.s
      : `\\left(${b.s}\\right)`;
  return { s: p.latex(left, right), prec: st.prec };
}
