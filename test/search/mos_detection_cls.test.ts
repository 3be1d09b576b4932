import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExpr, resolveLoss } from '../../src/loss/index.js';
import { ConfigError, configHash, parseConfig } from '../../src/search/config.js';
import { mosLevel } from '../../src/search/filters.js';
import { meanClassAP, mos1, whiten, whitenBy } from '../../src/search/stages/mos.js';
import { Rng } from '../../src/util/rng.js';

const base = { samples: 64, classes: 4, steps: 200, lr: 0.05 };
const det = { ...base, problem: 'detection' as const };
const CE = 'Neg(Dot(Y,Log(Softmax(X))))';
const ceText = resolveLoss('cls', 'ce').expr!;
const cseA = resolveLoss('cls', 'cse-a-cls').expr!;

test('meanClassAP: per-class AP over all rows by that class probability, averaged (closed form)', () => {
  // 4 rows, 2 foreground classes, background last.
  const probs = [
    [0.7, 0.2, 0.1], // class 0
    [0.5, 0.3, 0.2], // background
    [0.3, 0.6, 0.1], // class 1
    [0.4, 0.3, 0.3], // class 0
  ].flat();
  const labels = [0, 2, 1, 0];
  // Class 0 ranks 0.7 (+), 0.5 (-), 0.4 (+), 0.3 (-): (1/1 + 2/3) / 2. Class 1: its positive first, 1.
  assert.ok(Math.abs(meanClassAP(probs, labels, 4, 2) - (5 / 6 + 1) / 2) < 1e-15);
  // Threshold 0.45: class 0's second positive (0.4) is not detected: (1/1) / 2; class 1 still 1.
  assert.ok(Math.abs(meanClassAP(probs, labels, 4, 2, 0.45) - (0.5 + 1) / 2) < 1e-15);
  // The background column is never ranked: only columns 0..k-1 count.
  const bgHigh = [
    [0.1, 0.1, 0.8],
    [0.2, 0.1, 0.7],
  ].flat();
  // Class 0's positive ranks 2nd (1/2); class 1's ties with a negative, which goes first (1/2).
  assert.equal(meanClassAP(bgHigh, [0, 1], 2, 2), (1 / 2 + 1 / 2) / 2);
  // A class without positives counts as AP 0 (as a detector's class never seen): (1 + 0) / 2.
  assert.equal(meanClassAP(bgHigh, [0, 0], 2, 2), 0.5);
});

test('whitenBy: the first rows whitened, the others moved by the same affine map', () => {
  const rng = new Rng(5);
  const fit = 200;
  const extra = 20;
  const d = 3;
  const F = new Float64Array((fit + extra) * d);
  for (let i = 0; i < fit; i++) {
    const z = rng.normal(0, 1);
    for (let j = 0; j < d; j++) F[i * d + j] = 1 - j + (j + 1) * rng.normal(0, 1) + 2 * z;
  }
  // The extra rows are copies of the first ones: they must end where those end.
  F.copyWithin(fit * d, 0, extra * d);
  const ref = F.slice(0, fit * d);
  whiten(ref, fit, d);
  whitenBy(F, fit + extra, fit, d);
  assert.deepEqual(F.subarray(0, fit * d), ref); // the fit rows: exactly whiten's result
  for (let x = 0; x < extra * d; x++) assert.equal(F[fit * d + x], ref[x]);
});

test('MOS level 1 cls detection problem: ce learns to rank, its ascent and an MAE-like loss do not; scale does not matter', () => {
  const ce = mos1('cls', ceText, det, 1);
  assert.deepEqual(ce, mos1('cls', parseExpr('cls', CE), det, 1)); // the preset is this tree
  assert.equal(ce.status, 'ok');
  assert.ok(ce.score > 0.15 && ce.score > 5 * ce.initialScore, JSON.stringify(ce));
  // The published half passes the level's rule (≥ 0.9 × ce) on this seed.
  assert.ok(mos1('cls', cseA, det, 1).score >= 0.9 * ce.score);
  // ce's ascent pushes the label's probability down: nothing ranks.
  const ascent = mos1('cls', parseExpr('cls', `Neg(${CE})`), det, 1);
  assert.ok(ascent.score < 0.02 && ascent.score < ce.initialScore, JSON.stringify(ascent));
  // 1 − p_y (MAE on probabilities) barely moves the confidently wrong rows: it underfits.
  const mae = mos1('cls', parseExpr('cls', 'Neg(Dot(Y,Softmax(X)))'), det, 1);
  assert.ok(mae.score < 0.5 * ce.score, `${mae.score} vs ce ${ce.score}`);
  // The normalised step: a positive multiple follows the same path.
  const scaled = mos1('cls', parseExpr('cls', `Mul(3,${CE})`), det, 1);
  assert.ok(Math.abs(scaled.score - ce.score) < 1e-9, `${scaled.score} vs ${ce.score}`);
  // Same seed, same result; another seed, another problem.
  assert.deepEqual(mos1('cls', ceText, det, 1), ce);
  assert.notEqual(mos1('cls', ceText, det, 2).score, ce.score);
  // NaN is a divergence, as in the other problems.
  assert.equal(mos1('cls', parseExpr('cls', 'Sqrt(Neg(Add(Y,1)))'), det, 1).status, 'diverged');
});

test('mos.level1.problem in cls: absent by default (tasks and results unchanged), detection accepted, reg refused', () => {
  const c = parseConfig({ mode: 'cls' });
  assert.equal('problem' in c.mos.level1, false);
  assert.deepEqual(mosLevel(c, 'cls', 1, { mos1: 5, proxy: 6 }).task('ce'), {
    stage: 'mos1',
    mode: 'cls',
    seed: 5,
    loss: 'ce',
    config: base,
  });
  const d = parseConfig({ mode: 'cls', mos: { level1: { problem: 'detection' } } });
  assert.notEqual(configHash(d), configHash(c));
  assert.deepEqual(mosLevel(d, 'cls', 1, { mos1: 5, proxy: 6 }).task('ce'), {
    stage: 'mos1',
    mode: 'cls',
    seed: 5,
    loss: 'ce',
    config: det,
  });
  // 'balanced' is the original problem (accuracy of argmax on free logits), and differs from detection.
  const old = mos1('cls', ceText, base, 4);
  assert.deepEqual(mos1('cls', ceText, { ...base, problem: 'balanced' }, 4), old);
  assert.equal(old.score, 1); // the original problem saturates: ce fits every random label
  assert.ok(mos1('cls', ceText, det, 4).score < 1);
  assert.throws(
    () => parseConfig({ mode: 'reg', mos: { level1: { problem: 'detection' } } }),
    (e: unknown) => e instanceof ConfigError && /mos\.level1\.problem: .*cls or bcls problem \(mode is 'reg'\)/.test(e.problems.join('\n')),
  );
});
