import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Rng } from '../../src/util/rng.js';
import {
  PRESETS,
  checkExpr,
  compileFast,
  fingerprint,
  gradientFingerprint,
  parseExpr,
  printOfficial,
  randomTree,
  runFast,
  simplify,
  treeSize,
  type Expr,
  type Mode,
} from '../../src/loss/index.js';
import { close, randomBatch } from './helpers.js';

/** Values of both trees on the same inputs, a scalar broadcast over the other's shape. */
function sameValues(mode: Mode, a: Expr, b: Expr, seed: number): string | null {
  const batch = randomBatch(mode, new Rng(seed), 4, 3, 3);
  const va = runFast(compileFast(mode, a), batch.inputs, batch.n, batch.k).value;
  const vb = runFast(compileFast(mode, b), batch.inputs, batch.n, batch.k).value;
  const len = Math.max(va.length, vb.length);
  for (let i = 0; i < len; i++) {
    const x = va[va.length === 1 ? 0 : i]!;
    const y = vb[vb.length === 1 ? 0 : i]!;
    if (!close(x, y, 1e-9, 1e-12)) return `${x} vs ${y} at ${i}`;
  }
  return null;
}

test('examples: Neg(Neg(x)), Div(E,E), Add(x,0), constant folding, Sub(x,x) only when total', () => {
  const s = (mode: Mode, t: string) => printOfficial(simplify(mode, parseExpr(mode, t)));
  assert.equal(s('cls', 'Neg(Neg(Dot(Y,X)))'), 'Dot(Y,X)');
  assert.equal(s('reg', 'Add(I,Div(E,E))'), 'Add(1,I)');
  assert.equal(s('reg', 'Add(I,0)'), 'I');
  assert.equal(s('reg', 'Mul(Add(1,2),Sub(3,1))'), '6');
  assert.equal(s('reg', 'Mul(I,Sub(2,1))'), 'I');
  assert.equal(s('reg', 'Add(Sub(Sig(I),Sig(I)),I)'), 'I');
  assert.equal(s('reg', 'Add(Sub(Log(Sub(I,U)),Log(Sub(I,U))),I)'), 'Add(Sub(Log(Sub(I,U)),Log(Sub(I,U))),I)'); // the Log may be NaN
  // A [N, K] node does not become a scalar (that would change Dot's and Softmax's meaning).
  assert.equal(s('cls', 'Add(Sub(Sig(X),Sig(X)),X)'), 'Add(Sub(Sig(X),Sig(X)),X)');
  assert.equal(s('reg', 'Abs(Add(U,I))'), 'Add(U,I)');
  assert.equal(s('reg', 'Abs(Div(I,U))'), 'Abs(Div(I,U))'); // I/U can be 0, where Abs has derivative 0
  assert.equal(s('reg', 'Relu(Relu(Sub(I,U)))'), 'Relu(Sub(I,U))');
  assert.equal(s('reg', 'Add(I,Neg(U))'), 'Sub(I,U)');
  // The root keeps its shape: Div(E,E) alone stays a per-box [N] output.
  assert.equal(s('reg', 'Div(E,E)'), 'Div(E,E)');
  // Softmax keeps its [N, K] argument.
  assert.equal(checkExpr('cls', simplify('cls', parseExpr('cls', 'Softmax(Mul(X,0))'))), null);
});

test('presets simplify to trees with the same values and fingerprint', () => {
  for (const [name, p] of Object.entries(PRESETS)) {
    if (!p.text) continue;
    const e = parseExpr(p.mode, p.text);
    const s = simplify(p.mode, e);
    assert.ok(treeSize(s) <= treeSize(e), name);
    assert.equal(sameValues(p.mode, e, s, 1), null, name);
    assert.equal(fingerprint(p.mode, s), fingerprint(p.mode, e), name);
  }
  assert.ok(
    treeSize(simplify('reg', parseExpr('reg', PRESETS['cse-b-reg']!.text!))) < treeSize(parseExpr('reg', PRESETS['cse-b-reg']!.text!)),
  );
});

test('property: simplify keeps validity and values on random trees', () => {
  for (const mode of ['cls', 'bcls', 'reg'] as const) {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const e = randomTree(mode, new Rng(seed), { maxDepth: 5, maxSize: 40 });
        const s = simplify(mode, e);
        assert.equal(checkExpr(mode, s), null, printOfficial(s));
        assert.ok(treeSize(s) <= treeSize(e));
        const diff = sameValues(mode, e, s, seed);
        assert.equal(diff, null, `${printOfficial(e)} → ${printOfficial(s)}: ${diff}`);
        assert.deepEqual(simplify(mode, s), s, 'idempotent');
      }),
      { numRuns: 300, seed: 5 },
    );
  }
});

test('fingerprint: equal for equivalent forms, different for different functions', () => {
  const fp = (mode: Mode, t: string) => fingerprint(mode, parseExpr(mode, t));
  assert.equal(fp('reg', 'Add(I,U)'), fp('reg', 'Add(U,I)'));
  assert.equal(fp('reg', 'Add(I,I)'), fp('reg', 'Mul(2,I)'));
  assert.equal(fp('reg', 'Sub(1,Div(I,U))'), fp('reg', 'Neg(Sub(Div(I,U),1))'));
  assert.equal(fp('cls', 'Mul(Y,Y)'), fp('cls', 'Y')); // Y is one-hot
  assert.equal(fp('cls', PRESETS.ce!.text!), fp('cls', 'Neg(Dot(Log(Softmax(X)),Y))'));
  assert.notEqual(fp('reg', 'Add(I,U)'), fp('reg', 'Mul(2,I)'));
  assert.notEqual(fp('cls', PRESETS.ce!.text!), fp('cls', PRESETS['cse-a-cls']!.text!));
  assert.notEqual(fp('reg', 'I'), fp('cls', 'X'));
  assert.match(fp('bcls', 'X'), /^bcls:[0-9a-f]{16}$/);
  // Random trees: equal fingerprints after simplification.
  const rng = new Rng(17);
  for (let i = 0; i < 200; i++) {
    const mode = rng.pick(['cls', 'bcls', 'reg'] as const);
    const e = randomTree(mode, rng, { maxDepth: 4, maxSize: 30 });
    assert.equal(fingerprint(mode, simplify(mode, e)), fingerprint(mode, e), printOfficial(e));
  }
});

test('gradientFingerprint: a constant or a term of the targets alone trains the same; a scale or another function does not', () => {
  const g = (mode: Mode, t: string) => gradientFingerprint(mode, parseExpr(mode, t));
  const bce = PRESETS.bce!.text!;
  // found by the S1 search: BCE written as softplus(x) - x·PY plus terms of PY and Q only
  const disguised = 'Add(Salf(Exp(Abs(PY))),Add(Sub(Relu(PY),Mul(X,PY)),Add(Sin(Q),Softplus(X))))';
  assert.notEqual(fingerprint('bcls', parseExpr('bcls', disguised)), fingerprint('bcls', parseExpr('bcls', bce)));
  assert.equal(g('bcls', disguised), g('bcls', bce));
  assert.equal(g('reg', 'Sub(1,Div(I,U))'), g('reg', 'Sub(3,Div(I,U))'));
  assert.notEqual(g('bcls', `Mul(2,${bce})`), g('bcls', bce));
  assert.notEqual(g('bcls', PRESETS.focal!.text!), g('bcls', bce));
  assert.notEqual(g('cls', PRESETS.ce!.text!), g('cls', PRESETS['cse-a-cls']!.text!));
  assert.match(g('bcls', bce), /^gradient:bcls:[0-9a-f]{16}$/);
  // the value fingerprint is unchanged by the refactor that added this one (journal keys hash it)
  assert.equal(fingerprint('bcls', parseExpr('bcls', bce)), 'bcls:dce7263fd2007797');
});
