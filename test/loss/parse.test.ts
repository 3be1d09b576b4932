import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LossSyntaxError, PRESETS, MAX_NODES, parseExpr, printOfficial, treeSize, type Mode } from '../../src/loss/index.js';

test('every preset string parses in its mode and prints back unchanged', () => {
  for (const [name, p] of Object.entries(PRESETS)) {
    if (!p.text) continue;
    assert.equal(printOfficial(parseExpr(p.mode, p.text)), p.text, name);
  }
});

test('whitespace, DEAP spacing and other numeric literals', () => {
  const e = parseExpr('cls', ' Neg( Dot(Mul(Y, Add(1, Sin(Z))), Log(Softmax(X))) ) ');
  assert.equal(printOfficial(e), 'Neg(Dot(Mul(Y,Add(1,Sin(Z))),Log(Softmax(X))))');
  assert.equal(printOfficial(e, { spaces: true }), 'Neg(Dot(Mul(Y, Add(1, Sin(Z))), Log(Softmax(X))))');
  for (const lit of ['2.5', '-1', '1e-3', '0.25', '+3']) {
    const s = `Add(I,${lit})`;
    const x = parseExpr('reg', s);
    assert.equal(printOfficial(x), s);
    assert.equal((x as unknown as { args: { value: number }[] }).args[1]!.value, Number(lit));
  }
});

function expectError(mode: Mode, text: string, position: number, re: RegExp) {
  try {
    parseExpr(mode, text);
  } catch (e) {
    assert.ok(e instanceof LossSyntaxError, `not a LossSyntaxError: ${e}`);
    assert.equal(e.position, position, `${text}: ${e.message}`);
    assert.match(e.problem, re);
    assert.match(e.message, new RegExp(`at position ${position}`));
    return;
  }
  assert.fail(`no error for ${text}`);
}

test('bad input: each problem is named with its character position', () => {
  expectError('cls', 'Neg(Foo(X))', 4, /unknown primitive 'Foo'/);
  expectError('cls', 'Add(X)', 5, /Add takes 2 arguments, got 1/);
  expectError('cls', 'Neg(X,Y)', 6, /Neg takes 1 argument, got more/);
  expectError('cls', 'Neg()', 4, /takes 1 argument, got 0/);
  expectError('cls', 'Add(X,U)', 6, /unknown variable 'U'.*mode cls/);
  expectError('reg', 'Dot(I,U)', 0, /'Dot' is not allowed in mode reg/);
  expectError('bcls', 'Dot(X,PY)', 0, /not allowed in mode bcls/);
  expectError('reg', 'Sgdf(I)', 0, /not allowed in mode reg/);
  expectError('cls', 'Neg(Log(X)', 10, /unbalanced parentheses/);
  expectError('cls', 'Neg(X))', 6, /unbalanced parentheses: unexpected '\)'/);
  expectError('cls', 'Neg(X) Y', 7, /trailing text/);
  expectError('cls', '', 0, /expected an expression/);
  expectError('cls', 'Neg', 0, /needs arguments/);
  expectError('cls', 'X(1)', 0, /is a variable/);
  expectError('cls', 'Add(X,,Y)', 6, /unexpected ','/);
  expectError('cls', 'Neg(X;)', 5, /unexpected ";"/);
  expectError('cls', 'Softmax(Dot(Y,X))', 0, /Softmax needs a per-class \[N, K\] argument/);
  expectError('cls', 'Add(X,Dot(Y,X))', 0, /mixes \[N, K\] and \[N\]/);
  expectError('cls', 'Add(X,1e999)', 6, /not a finite number/);
});

test('more than 1,000 nodes is refused at the node that crosses the limit', () => {
  const ok = 'Neg('.repeat(MAX_NODES - 1) + 'X' + ')'.repeat(MAX_NODES - 1);
  assert.equal(treeSize(parseExpr('cls', ok)), MAX_NODES);
  const tooBig = 'Neg('.repeat(MAX_NODES) + 'X' + ')'.repeat(MAX_NODES);
  expectError('cls', tooBig, 4 * MAX_NODES, /more than 1000 nodes/);
  // Very deep input fails fast without a stack overflow.
  assert.throws(() => parseExpr('cls', 'Neg('.repeat(200000) + 'X' + ')'.repeat(200000)), LossSyntaxError);
  assert.throws(() => parseExpr('cls', '('.repeat(200000)), LossSyntaxError);
});

const validStrings = Object.values(PRESETS)
  .filter((p) => p.text)
  .map((p) => ({ mode: p.mode, text: p.text! }));

function parseOrSyntaxError(mode: Mode, s: string): void {
  try {
    const e = parseExpr(mode, s);
    // Whatever parses prints to something that parses to the same print.
    const printed = printOfficial(e);
    assert.equal(printOfficial(parseExpr(mode, printed)), printed);
  } catch (err) {
    if (!(err instanceof LossSyntaxError)) throw err;
    assert.ok(
      Number.isInteger(err.position) && err.position >= 0 && err.position <= s.length,
      `position ${err.position} for ${JSON.stringify(s)}`,
    );
  }
}

test('fuzz: random strings never crash or hang the parser', () => {
  const alphabet = fc.constantFrom(...'NegAdDotMulXYZQPIUE()(),,, 0123.-eSqrtLogxp\u0000\u00ff'.split(''));
  fc.assert(
    fc.property(fc.constantFrom<Mode>('cls', 'bcls', 'reg'), fc.string({ unit: alphabet, maxLength: 80 }), (mode, s) =>
      parseOrSyntaxError(mode, s),
    ),
    { numRuns: 3000, seed: 42 },
  );
  fc.assert(
    fc.property(fc.constantFrom<Mode>('cls', 'bcls', 'reg'), fc.string({ unit: 'binary', maxLength: 120 }), (mode, s) =>
      parseOrSyntaxError(mode, s),
    ),
    { numRuns: 2000, seed: 43 },
  );
});

test('fuzz: mutated valid strings (deleted, inserted, replaced characters) never crash', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...validStrings),
      fc.array(fc.tuple(fc.nat(), fc.constantFrom('del', 'ins', 'rep'), fc.constantFrom(...'(),XYZIUEQ12Neg '.split(''))), {
        minLength: 1,
        maxLength: 4,
      }),
      ({ mode, text }, edits) => {
        let s = text;
        for (const [i, kind, ch] of edits) {
          const at = i % (s.length + 1);
          if (kind === 'del') s = s.slice(0, at) + s.slice(at + 1);
          else if (kind === 'ins') s = s.slice(0, at) + ch + s.slice(at);
          else s = s.slice(0, at) + ch + s.slice(at + 1);
        }
        parseOrSyntaxError(mode, s);
      },
    ),
    { numRuns: 3000, seed: 44 },
  );
});
