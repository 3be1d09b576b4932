import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import { CPV_PROPERTIES, PRESETS, convergenceChecks, parseExpr, randomTree, type Mode } from '../../src/loss/index.js';

test('every baseline and the four published strings pass', () => {
  for (const [name, p] of Object.entries(PRESETS)) {
    if (!p.text) continue;
    const r = convergenceChecks(p.mode, parseExpr(p.mode, p.text));
    assert.equal(r.pass, true, `${name}: ${r.failed} ${JSON.stringify(r.details.properties)}`);
    assert.equal(r.failed, null);
    assert.deepEqual(
      r.details.properties.map((x) => x.name),
      CPV_PROPERTIES[p.mode].map((x) => x.name),
    );
  }
});

test('the non-fatal non-overlap gradient property: IoU losses have none, GIoU and the CSE strings do', () => {
  const nonOverlap = (name: string) => {
    const p = PRESETS[name]!;
    return convergenceChecks(p.mode, parseExpr(p.mode, p.text!)).details.properties.find((x) => x.name === 'non-overlap-gradient')!;
  };
  assert.equal(nonOverlap('iou').pass, false);
  assert.equal(nonOverlap('iou').fatal, false);
  assert.match(nonOverlap('iou').where!, /zero gradient/);
  assert.equal(nonOverlap('log-iou').pass, false);
  assert.equal(nonOverlap('giou').pass, true);
  assert.equal(nonOverlap('cse-a-reg').pass, true);
  assert.equal(nonOverlap('cse-b-reg').pass, true);
});

const broken: [Mode, string, string][] = [
  ['cls', 'Dot(Y,Log(Softmax(X)))', 'gt-logit-monotone'], // sign-flipped cross-entropy
  ['cls', 'Neg(Neg(Dot(Y,Log(Softmax(X)))))', 'gt-logit-monotone'],
  ['cls', '2', 'gt-logit-monotone'], // a constant
  ['cls', 'Neg(Dot(Y,X))', 'gradient-direction'], // pushes nothing down
  ['cls', 'Neg(Dot(Y,Mul(Exp(Exp(X)),Exp(Exp(X)))))', 'finite'], // overflows float32
  ['cls', 'Sqrt(Neg(Dot(Y,Softmax(X))))', 'finite'],
  ['bcls', 'Sqrt(Neg(Softplus(X)))', 'finite'], // NaN producer
  ['bcls', 'Add(Mul(PY,Softplus(X)),Mul(NY,Softplus(X)))', 'positive-decreasing'],
  ['bcls', 'Mul(PY,Softplus(Neg(X)))', 'negative-increasing'], // ignores negatives
  ['bcls', '1', 'positive-decreasing'],
  ['reg', 'Div(I,U)', 'iou-monotone'],
  ['reg', '3', 'iou-monotone'],
  ['reg', 'Div(U,I)', 'finite'], // 1e20-scale gradients at no overlap
  ['reg', 'Sqrt(Sub(I,U))', 'finite'],
  ['reg', 'Abs(Sub(Div(I,U),Div(1,2)))', 'iou-monotone'],
];

test('obviously broken losses fail, naming the property and where', () => {
  for (const [mode, text, prop] of broken) {
    const r = convergenceChecks(mode, parseExpr(mode, text));
    assert.equal(r.pass, false, `${mode} ${text} passed`);
    assert.equal(r.failed, prop, `${mode} ${text}: failed ${r.failed}: ${JSON.stringify(r.details.properties)}`);
    const last = r.details.properties[r.details.properties.length - 1]!;
    assert.equal(last.name, prop);
    assert.ok(last.where && last.where.length > 10, 'says where');
  }
});

test('a tree that sums over the batch is checked per sample', () => {
  // Dot over [N] sums the batch; per sample this is cross-entropy again.
  const r = convergenceChecks('cls', parseExpr('cls', 'Neg(Dot(Dot(Y,Log(Softmax(X))),1))'));
  assert.equal(r.pass, true, JSON.stringify(r.details));
});

test('an invalid tree fails "valid" instead of throwing', () => {
  const r = convergenceChecks('reg', { kind: 'op', op: 'Softmax', args: [{ kind: 'var', name: 'I' }] });
  assert.equal(r.failed, 'valid');
});

test('deterministic on random trees, and most random trees fail (the paper rejects > 99%)', () => {
  for (const mode of ['cls', 'bcls', 'reg'] as const) {
    const trees = Array.from(
      { length: 300 },
      (
        (rng) => () =>
          randomTree(mode, rng)
      )(new Rng(99)),
    );
    const a = trees.map((t) => convergenceChecks(mode, t));
    const b = trees.map((t) => convergenceChecks(mode, t));
    assert.deepEqual(a, b);
    const pass = a.filter((r) => r.pass).length;
    assert.ok(pass / trees.length < 0.1, `${mode}: ${pass}/${trees.length} pass`);
    for (const r of a) if (!r.pass) assert.ok(CPV_PROPERTIES[mode].some((p) => p.name === r.failed));
  }
});
