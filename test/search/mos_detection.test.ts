import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExpr, resolveLoss } from '../../src/loss/index.js';
import { ConfigError, configHash, parseConfig } from '../../src/search/config.js';
import { mosLevel } from '../../src/search/filters.js';
import { mos1, whiten } from '../../src/search/stages/mos.js';
import { averagePrecision } from '../../src/search/stages/problems.js';
import { Rng } from '../../src/util/rng.js';

const base = { samples: 64, classes: 4, steps: 200, lr: 0.05 };
const det = { ...base, problem: 'detection' as const };
const FOCAL = 'Add(Mul(PY,Mul(Mul(Sub(1,Sig(X)),Sub(1,Sig(X))),Softplus(Neg(X)))),Mul(NY,Mul(Mul(Sig(X),Sig(X)),Softplus(X))))';
const focalText = resolveLoss('bcls', 'focal').expr!;

test('averagePrecision: closed-form values, ties count against, the score threshold caps recall', () => {
  // Perfect ranking: 1.
  assert.equal(averagePrecision([0.9, 0.8, 0.1, 0.05], [1, 1, 0, 0]), 1);
  // Positives at ranks 1 and 3: (1/1 + 2/3) / 2.
  assert.ok(Math.abs(averagePrecision([0.9, 0.8, 0.7], [1, 0, 1]) - (1 + 2 / 3) / 2) < 1e-15);
  // Positives last of four: (1/3 + 2/4) / 2.
  assert.ok(Math.abs(averagePrecision([0.1, 0.2, 0.9, 0.8], [1, 1, 0, 0]) - (1 / 3 + 2 / 4) / 2) < 1e-15);
  // All tied: negatives ranked first, so a constant score earns the worst ranking.
  assert.ok(Math.abs(averagePrecision([0.5, 0.5, 0.5], [1, 0, 0]) - 1 / 3) < 1e-15);
  // Only scores above the threshold are detected: the second positive (0.3) is missed.
  assert.equal(averagePrecision([0.9, 0.3, 0.2], [1, 1, 0], 0.5), 0.5);
  assert.equal(averagePrecision([0.1, 0.2], [1, 0], 0.5), 0);
  assert.equal(averagePrecision([0.1, 0.2], [0, 0]), 0);
});

test('whiten: mean 0 and identity covariance, checked independently', () => {
  const rng = new Rng(3);
  const n = 300;
  const d = 4;
  const F = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const z = rng.normal(0, 1);
    for (let j = 0; j < d; j++) F[i * d + j] = 2 + (j + 1) * rng.normal(0, 1) + 3 * z; // correlated, shifted
  }
  whiten(F, n, d);
  for (let a = 0; a < d; a++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += F[i * d + a]!;
    assert.ok(Math.abs(m / n) < 1e-12);
    for (let b = 0; b < d; b++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += F[i * d + a]! * F[i * d + b]!;
      assert.ok(Math.abs(s / n - (a === b ? 1 : 0)) < 1e-9, `cov[${a},${b}] = ${s / n}`);
    }
  }
});

test('MOS level 1 detection problem: focal learns to rank, a loss pushing positives down does not; scale does not matter', () => {
  const focal = mos1('bcls', focalText, det, 1);
  assert.deepEqual(focal, mos1('bcls', parseExpr('bcls', FOCAL), det, 1)); // the preset is this tree
  assert.equal(focal.status, 'ok');
  assert.ok(focal.score > 0.5 && focal.score > focal.initialScore + 0.3, JSON.stringify(focal));
  // Focal's ascent: its gradient pushes positives down and negatives up.
  const ascent = mos1('bcls', parseExpr('bcls', `Neg(${FOCAL})`), det, 1);
  assert.ok(ascent.score < 0.1 && ascent.score < focal.score / 5, JSON.stringify(ascent));
  // The normalised step: a positive multiple follows the same path.
  const scaled = mos1('bcls', parseExpr('bcls', `Mul(3,${FOCAL})`), det, 1);
  assert.ok(Math.abs(scaled.score - focal.score) < 1e-9, `${scaled.score} vs ${focal.score}`);
  // Pushing every logit down (PY and NY alike) drops everything below the score threshold.
  const down = mos1('bcls', parseExpr('bcls', 'X'), det, 1);
  assert.equal(down.score, 0);
  // Same seed, same result; another seed, another problem.
  assert.deepEqual(mos1('bcls', focalText, det, 1), focal);
  assert.notEqual(mos1('bcls', focalText, det, 2).score, focal.score);
  // NaN is a divergence, as in the other problems.
  const nan = mos1('bcls', parseExpr('bcls', 'Sqrt(Neg(Add(PY,NY)))'), det, 1);
  assert.equal(nan.status, 'diverged');
});

test('MOS level 1 detection problem: the S1 panel survivors that train FCOS to AP 0 score far below focal', () => {
  // r1, r2 of scripts/results-proxy.ts's S1 panel: both balanced-accuracy 1.00, AP 0.0 on FCOS.
  const focal = mos1('bcls', focalText, det, 7).score;
  for (const text of ['Salf(Salf(Div(Add(NY,X),Sub(NY,Q))))', 'Serf(Cos(Add(Neg(NY),Salf(X))))']) {
    const r = mos1('bcls', parseExpr('bcls', text), det, 7);
    const old = mos1('bcls', parseExpr('bcls', text), base, 7);
    assert.ok(old.score > 0.95, `${text}: balanced ${old.score}`);
    assert.ok(r.score < 0.5 * focal, `${text}: ${r.score} vs focal ${focal}`);
  }
});

test('mos.level1.problem: absent by default (balanced, hash and tasks unchanged), validated, not for reg', () => {
  const c = parseConfig({ mode: 'bcls' });
  assert.equal('problem' in c.mos.level1, false);
  const balanced = parseConfig({ mode: 'bcls', mos: { level1: { problem: 'balanced' } } });
  assert.notEqual(configHash(balanced), configHash(c)); // an explicit choice is a recorded choice
  const task = mosLevel(c, 'bcls', 1, { mos1: 5, proxy: 6 }).task('focal');
  assert.deepEqual(task, { stage: 'mos1', mode: 'bcls', seed: 5, loss: 'focal', config: base });
  const d = parseConfig({ mode: 'bcls', mos: { level1: { problem: 'detection' } } });
  assert.deepEqual(mosLevel(d, 'bcls', 1, { mos1: 5, proxy: 6 }).task('focal'), {
    stage: 'mos1',
    mode: 'bcls',
    seed: 5,
    loss: 'focal',
    config: det,
  });
  // 'balanced' computes exactly what the absent field does.
  assert.deepEqual(mos1('bcls', focalText, { ...base, problem: 'balanced' }, 4), mos1('bcls', focalText, base, 4));
  for (const [raw, pattern] of [
    [{ mode: 'bcls', mos: { level1: { problem: 'ap' } } }, /mos\.level1\.problem/],
    [{ mode: 'reg', mos: { level1: { problem: 'detection' } } }, /mos\.level1\.problem: .*cls or bcls problem/],
  ] as const) {
    assert.throws(
      () => parseConfig(raw),
      (e: unknown) => e instanceof ConfigError && pattern.test(e.problems.join('\n')),
    );
  }
});
