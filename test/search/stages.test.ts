import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExpr, resolveLoss, type Mode } from '../../src/loss/index.js';
import { parseConfig } from '../../src/search/config.js';
import { fingerprint } from '../../src/search/fingerprint.js';
import { runStage } from '../../src/search/stages/index.js';
import { mos1 } from '../../src/search/stages/mos.js';
import { proxyTask } from '../../src/search/stages/proxy.js';
import { proxySplit } from '../../src/search/stages/detector.js';
import { kendallTau, median, paretoFront, std } from '../../src/search/stats.js';

const cfg = { samples: 48, classes: 4, steps: 150, lr: 0.05 };
const ex = (mode: Mode, s: string) => resolveLoss(mode, s).expr!;

test('Kendall tau-b matches scipy.stats.kendalltau on its documented example, and small statistics', () => {
  // scipy docs: kendalltau([12, 2, 1, 12, 2], [1, 4, 7, 1, 0]) → -0.47140452079103173
  assert.ok(Math.abs(kendallTau([12, 2, 1, 12, 2], [1, 4, 7, 1, 0])! - -0.47140452079103173) < 1e-12);
  assert.equal(kendallTau([1, 2, 3], [2, 4, 9]), 1);
  assert.equal(kendallTau([1, 2, 3], [3, 2, 1]), -1);
  assert.equal(kendallTau([1], [1]), null);
  assert.equal(kendallTau([1, 1, 1], [1, 2, 3]), null);
  assert.equal(median([3, 1, 2, 10]), 2.5);
  assert.ok(Math.abs(std([1, 2, 3, 4]) - Math.sqrt(5 / 3)) < 1e-12);
  const front = paretoFront([
    { size: 5, fitness: 0.3 },
    { size: 3, fitness: 0.2 },
    { size: 9, fitness: 0.25 },
    { size: 7, fitness: 0.5 },
    { size: 3, fitness: 0.1 },
  ]);
  assert.deepEqual(
    front.map((p) => [p.size, p.fitness]),
    [
      [3, 0.2],
      [5, 0.3],
      [7, 0.5],
    ],
  );
});

test('MOS level 1 (cls): cross-entropy fits the random labels, its negation does not; scale does not matter', () => {
  const ce = mos1('cls', ex('cls', 'ce'), cfg, 5);
  assert.equal(ce.status, 'ok');
  assert.equal(ce.score, 1);
  assert.ok(ce.initialScore < 0.5);
  const ascent = mos1('cls', parseExpr('cls', 'Dot(Y,Log(Softmax(X)))'), cfg, 5);
  assert.ok(ascent.score < ascent.initialScore, `ascent ${ascent.score} vs initial ${ascent.initialScore}`);
  const scaled = mos1('cls', parseExpr('cls', 'Mul(3,Neg(Dot(Y,Log(Softmax(X)))))'), cfg, 5);
  assert.equal(scaled.score, ce.score);
  // Same seed, same problem and result; another seed, another problem.
  assert.deepEqual(mos1('cls', ex('cls', 'cse-a-cls'), cfg, 5), mos1('cls', ex('cls', 'cse-a-cls'), cfg, 5));
  assert.notEqual(mos1('cls', ex('cls', 'ce'), cfg, 6).initialScore, ce.initialScore);
});

test('MOS level 1 (bcls, reg): default losses improve their score; NaN is recorded as diverged', () => {
  const focal = mos1('bcls', ex('bcls', 'focal'), cfg, 1);
  assert.ok(focal.score > 0.95 && focal.initialScore < 0.7, JSON.stringify(focal));
  const giou = mos1('reg', ex('reg', 'giou'), cfg, 1);
  assert.ok(giou.score > giou.initialScore + 0.3, JSON.stringify(giou));
  const anti = mos1('reg', parseExpr('reg', 'Div(I,U)'), cfg, 1);
  assert.ok(anti.score < 0.05, JSON.stringify(anti));
  // I − U < 0 always (U = I + the non-overlapping areas + eps): Sqrt gives NaN.
  const nan = mos1('reg', parseExpr('reg', 'Sqrt(Sub(I,U))'), cfg, 1);
  assert.equal(nan.status, 'diverged');
  assert.equal(nan.score, 0);
});

test('fingerprint: equal functions share it, different ones do not', () => {
  const fp = (m: Mode, s: string) => fingerprint(m, parseExpr(m, s));
  assert.equal(fp('cls', 'Add(X,Z)'), fp('cls', 'Add(Z,X)'));
  assert.equal(fp('cls', 'Neg(Neg(X))'), fp('cls', 'X'));
  assert.equal(fp('reg', 'Sub(1,Div(I,U))'), fp('reg', 'Add(Neg(Div(I,U)),1)'));
  assert.notEqual(fp('cls', 'Add(X,Z)'), fp('cls', 'Sub(X,Z)'));
  assert.notEqual(fp('reg', 'Div(I,U)'), fp('reg', 'Div(I,E)'));
  // A [N] and an [N, K] result of the same numbers are different candidates.
  assert.notEqual(fp('cls', 'Dot(Y,X)'), fp('cls', 'Mul(Y,X)'));
});

test('runStage: CPV verdicts with reasons; a bad loss string is a failed record, not a throw', async () => {
  const ok = await runStage({ stage: 'cpv', mode: 'cls', loss: 'Neg(Dot(Y,Log(Softmax(X))))', seed: 0 });
  assert.equal(ok.pass, true);
  const bad = await runStage({ stage: 'cpv', mode: 'cls', loss: 'Dot(Y,Log(Softmax(X)))', seed: 0 });
  assert.equal(bad.pass, false);
  assert.match(bad.reason!, /^gt-logit-monotone/);
  const broken = await runStage({ stage: 'cpv', mode: 'cls', loss: 'Frob(X)', seed: 0 });
  assert.equal(broken.status, 'failed');
  assert.match(broken.reason!, /Frob/);
  // An exception of the stage code itself (here: a config the MOS problem cannot use) is an
  // environment error, not the candidate's fate.
  const bug = await runStage({ stage: 'mos1', mode: 'cls', loss: 'Neg(Dot(Y,Log(Softmax(X))))', seed: 0, config: null as never });
  assert.equal(bug.status, 'error');
  assert.match(bug.reason!, /^TypeError: /);
});

test('proxy: the simulated task ranks the default above its negation; NaN training is diverged; runStage records a proxy result as the loop journals it', async () => {
  const task = parseConfig({ proxy: { task: { iters: 120 } } }).proxy.task;
  const good = await proxyTask({ mode: 'cls', loss: 'Neg(Dot(Y,Log(Softmax(X))))', config: task, seed: 1, split: 'proxy' });
  const bad = await proxyTask({ mode: 'cls', loss: 'Dot(Y,Log(Softmax(X)))', config: task, seed: 1, split: 'proxy' });
  assert.equal(good.status, 'ok');
  assert.ok(good.ap > bad.ap + 0.1, `${good.ap} vs ${bad.ap}`);
  const again = await proxyTask({ mode: 'cls', loss: 'Neg(Dot(Y,Log(Softmax(X))))', config: task, seed: 1, split: 'proxy' });
  assert.equal(again.ap, good.ap);
  const nan = await proxyTask({ mode: 'reg', loss: 'Sqrt(Sub(I,U))', config: task, seed: 1, split: 'proxy' });
  assert.equal(nan.status, 'diverged');
  const det = { ...task, kind: 'detector' as const, dataDir: '/nonexistent/mnist-det' };
  // The real detector proxy reports a missing dataset as an environment error naming it (not a
  // fate of the candidate: the search stops instead of journalling it), an invalid loss as failed.
  const missing = await proxyTask({ mode: 'cls', loss: 'Neg(Dot(Y,Log(Softmax(X))))', config: det, seed: 1, split: 'proxy' });
  assert.equal(missing.status, 'error');
  assert.match(missing.error!, /\/nonexistent\/mnist-det/);
  const invalid = await proxyTask({ mode: 'cls', loss: 'Neg(Frob(X))', config: det, seed: 1, split: 'proxy' });
  assert.equal(invalid.status, 'failed');
  assert.match(invalid.error!, /Frob/);
  // runStage turns a proxy result into the record the loop journals: score = AP, metrics.ap50
  // (compared with the same deterministic proxy called directly), the error as the reason.
  const direct = await proxyTask({ mode: 'cls', loss: 'Neg(Dot(Y,Log(Softmax(X))))', config: task, seed: 0, split: 'proxy' });
  assert.equal(direct.status, 'ok');
  const rec = await runStage({ stage: 'proxy', mode: 'cls', loss: 'Neg(Dot(Y,Log(Softmax(X))))', seed: 0, config: task });
  assert.equal(rec.status, 'ok');
  assert.equal(rec.score, direct.ap);
  assert.equal(rec.metrics.ap, direct.ap);
  assert.equal(rec.metrics.ap50, direct.ap50);
  const recMissing = await runStage({ stage: 'proxy', mode: 'cls', loss: 'ce', seed: 0, config: det });
  assert.equal(recMissing.status, 'error');
  assert.equal(recMissing.score, 0);
  assert.match(recMissing.reason!, /\/nonexistent\/mnist-det/);
});

test('proxy split: the first trainSubset train images train, the valSubset after them are held out; split val uses the val split', () => {
  const ids = Array.from({ length: 20 }, (_, i) => 100 + i);
  assert.deepEqual(proxySplit(ids, { trainSubset: 8, valSubset: 4 }, 'proxy'), {
    trainSubset: ids.slice(0, 8),
    valSubset: ids.slice(8, 12),
    evalSplit: 'train',
  });
  // 0 means all: a fifth held out (4 of 20), the other 16 train
  assert.deepEqual(proxySplit(ids, { trainSubset: 0, valSubset: 0 }, 'proxy'), {
    trainSubset: ids.slice(0, 16),
    valSubset: ids.slice(16),
    evalSplit: 'train',
  });
  assert.deepEqual(proxySplit(null, { trainSubset: 8, valSubset: 4 }, 'val'), { trainSubset: 8, evalSplit: 'val' });
  assert.deepEqual(proxySplit(null, { trainSubset: 0, valSubset: 4 }, 'val'), { evalSplit: 'val' });
  assert.throws(
    () => proxySplit(ids, { trainSubset: 20, valSubset: 4 }, 'proxy'),
    /the train split has 20 images, the proxy task needs more than trainSubset=20/,
  );
});
