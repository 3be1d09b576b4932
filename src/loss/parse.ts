/**
 * Parser for the paper's prefix format, e.g. `Neg(Dot(Mul(Y,Add(1,Sin(Z))),Log(Softmax(X))))`.
 *
 *   expr   := NAME '(' expr (',' expr)* ')'   primitive application
 *           | NAME                            input variable of the mode
 *           | NUMBER                          constant (integers as in the paper; decimals,
 *                                             exponents and a leading sign accepted)
 * Whitespace is allowed between tokens (DEAP prints ", " between arguments).
 * Every error is a LossSyntaxError carrying the 0-based character offset of the problem.
 */
import { MAX_NODES, opShape, type ConstNode, type Expr, type Shape } from './expr.js';
import { MODE_VARS, PRIM_BY_NAME, type Mode } from './primitives.js';
import { inputShape } from './expr.js';
import { UserError } from '../util/errors.js';

export class LossSyntaxError extends UserError {
  override name = 'LossSyntaxError';
  /** 0-based character offset in the text. */
  readonly position: number;
  /** The problem without position or excerpt. */
  readonly problem: string;
  constructor(problem: string, position: number, text: string) {
    super(`${problem} at position ${position}\n${excerpt(text, position)}`);
    this.problem = problem;
    this.position = position;
  }
}

/** A token for a message: long ones (a 120 kB constant) as their first 60 characters and length. */
function clip(token: string): string {
  return token.length <= 60 ? token : `${token.slice(0, 60)}… (${token.length} characters)`;
}

function excerpt(text: string, pos: number): string {
  const from = Math.max(0, pos - 40);
  const to = Math.min(text.length, pos + 40);
  const pre = from > 0 ? '...' : '';
  const shown = pre + text.slice(from, to).replace(/[\x00-\x1f\x7f]/g, ' ') + (to < text.length ? '...' : '');
  return `  ${shown}\n  ${' '.repeat(pre.length + pos - from)}^`;
}

const NUMBER_RE = /[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
const NAME_RE = /[A-Za-z_][A-Za-z0-9_]*/y;

export function parseExpr(mode: Mode, text: string): Expr {
  if (typeof text !== 'string') throw new TypeError('parseExpr: text must be a string');
  const p = new Parser(mode, text);
  const e = p.parse();
  return e;
}

class Parser {
  private pos = 0;
  private nodes = 0;
  private readonly vars: readonly string[];
  constructor(
    private readonly mode: Mode,
    private readonly text: string,
  ) {
    this.vars = MODE_VARS[mode];
  }

  fail(problem: string, at = this.pos): never {
    throw new LossSyntaxError(problem, at, this.text);
  }

  parse(): Expr {
    this.ws();
    if (this.pos >= this.text.length) this.fail('expected an expression, found the end of the text');
    const { expr } = this.expr();
    this.ws();
    if (this.pos < this.text.length) {
      const ch = this.text[this.pos];
      this.fail(
        ch === ')'
          ? "unbalanced parentheses: unexpected ')'"
          : `trailing text after the expression: '${this.text.slice(this.pos, this.pos + 20)}'`,
      );
    }
    return expr;
  }

  private ws(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const ch = t.charCodeAt(this.pos);
      if (ch === 32 || ch === 9 || ch === 10 || ch === 13) this.pos++;
      else break;
    }
  }

  private count(at: number): void {
    if (++this.nodes > MAX_NODES) this.fail(`expression has more than ${MAX_NODES} nodes`, at);
  }

  private expr(): { expr: Expr; shape: Shape } {
    this.ws();
    const start = this.pos;
    const t = this.text;
    if (start >= t.length) this.fail('unexpected end of the text: expected an expression (unbalanced parentheses?)');
    NUMBER_RE.lastIndex = start;
    const num = NUMBER_RE.exec(t);
    if (num) {
      this.count(start);
      this.pos = start + num[0].length;
      const value = Number(num[0]);
      if (!Number.isFinite(value)) this.fail(`constant '${clip(num[0])}' is not a finite number`, start);
      const node: ConstNode = { kind: 'const', value, text: num[0] };
      return { expr: node, shape: 'S' };
    }
    NAME_RE.lastIndex = start;
    const m = NAME_RE.exec(t);
    if (!m) {
      const ch = t[start]!;
      if (ch === '(') this.fail("unexpected '(': expected a primitive name, a variable or a constant", start);
      if (ch === ')' || ch === ',') this.fail(`unexpected '${ch}': expected an expression`, start);
      this.fail(`unexpected character ${JSON.stringify(ch)}`, start);
    }
    const name = m[0];
    this.count(start);
    this.pos = start + name.length;
    this.ws();
    const isCall = t[this.pos] === '(';
    if (!isCall) {
      if (this.vars.includes(name)) return { expr: { kind: 'var', name }, shape: inputShape(this.mode) };
      if (PRIM_BY_NAME.has(name)) this.fail(`primitive '${name}' needs arguments in parentheses`, start);
      this.fail(`unknown variable '${clip(name)}': mode ${this.mode} has inputs ${this.vars.join(', ')}`, start);
    }
    const prim = PRIM_BY_NAME.get(name);
    if (!prim) {
      if (this.vars.includes(name)) this.fail(`'${name}' is a variable, not a primitive: it takes no arguments`, start);
      this.fail(`unknown primitive '${clip(name)}'`, start);
    }
    if (!prim.modes.includes(this.mode)) this.fail(`primitive '${name}' is not allowed in mode ${this.mode}`, start);
    this.pos++; // '('
    const args: Expr[] = [];
    const shapes: Shape[] = [];
    for (;;) {
      this.ws();
      if (t[this.pos] === ')' && args.length === 0) {
        this.fail(`${name} takes ${prim.arity} argument${prim.arity > 1 ? 's' : ''}, got 0`, this.pos);
      }
      if (args.length === prim.arity) {
        this.fail(`${name} takes ${prim.arity} argument${prim.arity > 1 ? 's' : ''}, got more`, this.pos);
      }
      const a = this.expr();
      args.push(a.expr);
      shapes.push(a.shape);
      this.ws();
      const ch = t[this.pos];
      if (ch === ',') {
        this.pos++;
        continue;
      }
      if (ch === ')') {
        if (args.length < prim.arity) {
          this.fail(`${name} takes ${prim.arity} argument${prim.arity > 1 ? 's' : ''}, got ${args.length}`, this.pos);
        }
        this.pos++;
        break;
      }
      if (ch === undefined) this.fail(`unbalanced parentheses: '(' opened at position ${start + name.length} is not closed`, this.pos);
      this.fail(`unexpected ${JSON.stringify(ch)}: expected ',' or ')'`, this.pos);
    }
    const s = opShape(prim, shapes);
    if (s.length > 1) this.fail(s, start);
    return { expr: { kind: 'op', op: name, args }, shape: s as Shape };
  }
}
