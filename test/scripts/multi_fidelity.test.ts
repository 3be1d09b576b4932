/**
 * scripts/multi-fidelity.ts (issue 15, item 5): the comparison of a search with early stopping and
 * the same search without it. First on two hand-made runs whose every number is computed by hand
 * below; then on two real journals of the search loop (same seed, a stand-in proxy that applies
 * the early-stopping rule to fixed AP values, as test/search/early_stop.test.ts does), checked
 * against the loop's own per-generation records and the stand-in's known APs and times.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { armMachines, compareEarlyStop, readRun, type MfCandidate, type MfRun } from '../../scripts/multi-fidelity.js';
import { runSearch } from '../../src/search/evolution.js';
import { Journal } from '../../src/search/journal.js';
import { runStage } from '../../src/search/stages/index.js';
import { InProcessTransport } from '../../src/search/transport/index.js';
import type { StageRecord, StageTask } from '../../src/search/types.js';
import { smallConfig, tmpDir } from '../search/helpers.js';

const cand = (gen: number, idx: number, loss: string, fate: string, fitness: number | null, fp = `fp${loss}`): MfCandidate => ({
  gen,
  idx,
  loss,
  fingerprint: fp,
  fate,
  fitness,
});

// With early stopping: 3 generations. B and K stop in generation 0, F in 1, H in 2; A2 is A's
// fingerprint again (reused, not a new evaluation).
const WITH: MfRun = {
  runDir: 'with',
  status: 'finished',
  defaultFitness: 0.3,
  defaultSeconds: 10,
  generations: [
    { gen: 0, elapsedMs: 100_000, proxyOrder: [0, 1, 2, 4] },
    { gen: 1, elapsedMs: 160_000, proxyOrder: [0, 1] },
    { gen: 2, elapsedMs: 200_000, proxyOrder: [0, 1] },
  ],
  candidates: [
    cand(0, 0, 'A', 'proxied', 0.4),
    cand(0, 1, 'B', 'stopped-early', 0),
    cand(0, 2, 'C', 'proxied', 0.2),
    cand(0, 3, 'D', 'not-top-k', null),
    cand(0, 4, 'K', 'stopped-early', 0),
    cand(1, 0, 'E', 'proxied', 0.35),
    cand(1, 1, 'F', 'stopped-early', 0),
    cand(1, 2, 'A2', 'proxied', 0.4, 'fpA'),
    cand(2, 0, 'G', 'proxied', 0.5),
    cand(2, 1, 'H', 'stopped-early', 0),
  ],
  proxySeconds: { fpA: 30, fpB: 12, fpC: 28, fpK: 11, fpE: 31, fpF: 14, fpG: 33, fpH: 15 },
};
// Without: the same generation 0 (B scores exactly the default, K below it), then another
// generation 1 (F is not trained), and only 2 generations so far.
const WITHOUT: MfRun = {
  runDir: 'without',
  status: 'running',
  defaultFitness: 0.3,
  defaultSeconds: 9,
  generations: [
    { gen: 0, elapsedMs: 130_000, proxyOrder: [0, 1, 2, 4] },
    { gen: 1, elapsedMs: 200_000, proxyOrder: [0, 1] },
  ],
  candidates: [
    cand(0, 0, 'A', 'proxied', 0.4),
    cand(0, 1, 'B', 'proxied', 0.3),
    cand(0, 2, 'C', 'proxied', 0.2),
    cand(0, 3, 'D', 'not-top-k', null),
    cand(0, 4, 'K', 'proxied', 0.25),
    cand(1, 0, 'E', 'proxied', 0.35),
    cand(1, 1, 'I', 'proxied', 0.45),
    cand(1, 2, 'J', 'not-top-k', null),
  ],
  proxySeconds: { fpA: 30, fpB: 29, fpC: 28, fpK: 26, fpE: 31, fpI: 27 },
};

test('compareEarlyStop on two hand-made runs: every number as computed by hand', () => {
  const mf = compareEarlyStop('S1', WITH, WITHOUT, 3, 2);
  assert.equal(mf.setting, 'S1');
  assert.equal(mf.generations, 3);
  assert.equal(mf.measuredGenerations, 2, 'the run without has 2 generations');
  assert.deepEqual(mf.notes, ['the run without early stopping has 2 of 3 generations; the comparison measures the first 2']);
  assert.deepEqual(mf.with.perGeneration, [
    { gen: 0, proxyEvaluations: 4, stoppedEarly: 2, proxySeconds: 30 + 12 + 28 + 11, wallSeconds: 100, bestFitness: 0.4, hofTop: 'A' },
    { gen: 1, proxyEvaluations: 2, stoppedEarly: 1, proxySeconds: 31 + 14, wallSeconds: 60, bestFitness: 0.4, hofTop: 'A' },
    { gen: 2, proxyEvaluations: 2, stoppedEarly: 1, proxySeconds: 33 + 15, wallSeconds: 40, bestFitness: 0.5, hofTop: 'G' },
  ]);
  assert.deepEqual(mf.without.perGeneration, [
    { gen: 0, proxyEvaluations: 4, stoppedEarly: 0, proxySeconds: 30 + 29 + 28 + 26, wallSeconds: 130, bestFitness: 0.4, hofTop: 'A' },
    { gen: 1, proxyEvaluations: 2, stoppedEarly: 0, proxySeconds: 31 + 27, wallSeconds: 70, bestFitness: 0.45, hofTop: 'I' },
  ]);
  // totals over the 2 measured generations (the with run's generation 2 is left out)
  const totals = (x: object) => Object.fromEntries(Object.entries(x).filter(([k]) => k !== 'perGeneration'));
  const w = totals(mf.with);
  const o = totals(mf.without);
  assert.deepEqual(w, {
    runDir: 'with',
    status: 'finished',
    generations: 3,
    defaultFitness: 0.3,
    defaultSeconds: 10,
    proxyEvaluations: 6,
    stoppedEarly: 3,
    proxySeconds: 126,
    best: { loss: 'A', fingerprint: 'fpA', fitness: 0.4, gen: 0 },
    top: ['A', 'E'],
  });
  assert.deepEqual(o, {
    runDir: 'without',
    status: 'running',
    generations: 2,
    defaultFitness: 0.3,
    defaultSeconds: 9,
    proxyEvaluations: 6,
    stoppedEarly: 0,
    proxySeconds: 171,
    best: { loss: 'I', fingerprint: 'fpI', fitness: 0.45, gen: 1 },
    top: ['I', 'A'],
  });
  assert.equal(mf.proxyTimeRatio, 126 / 171);
  assert.equal(mf.firstDivergentGeneration, 1);
  assert.equal(mf.bestDiffers, true);
  assert.deepEqual(mf.topOverlap, { k: 2, common: 1 });
  // B and K were trained without early stopping (F was not); B scored the default's 0.3 exactly: a false stop
  assert.equal(mf.stoppedMatched, 2);
  assert.deepEqual(mf.falseStops, [{ loss: 'B', fingerprint: 'fpB', gen: 0, fitnessWithout: 0.3, defaultFitnessWithout: 0.3 }]);
  // time per candidate both runs trained: B (12 s with, 29 s without) and K (11, 26) were stopped;
  // A (30, 30), C (28, 28) and E (31, 31) went through the check; F was not trained without, H is in generation 2
  assert.deepEqual(mf.pairCost, {
    stopped: { n: 2, medianWith: (11 + 12) / 2, medianWithout: (26 + 29) / 2 },
    completed: { n: 3, medianWith: 30, medianWithout: 30 },
  });
});

test('compareEarlyStop of a run with itself: no divergence, ratio 1, same best, a stop matched only by a training', () => {
  const mf = compareEarlyStop('S1', WITH, WITH, 3, 3);
  assert.equal(mf.measuredGenerations, 3);
  assert.deepEqual(mf.notes, []);
  assert.equal(mf.firstDivergentGeneration, null);
  assert.equal(mf.proxyTimeRatio, 1);
  assert.equal(mf.bestDiffers, false);
  assert.deepEqual(mf.topOverlap, { k: 3, common: 3 });
  assert.equal(mf.stoppedMatched, 0, 'a candidate stopped on both sides has no fitness without early stopping');
  assert.deepEqual(mf.falseStops, []);
  // a candidate stopped on both sides has no full training to compare with; A, C, E and G trained on both
  assert.deepEqual(mf.pairCost, {
    stopped: { n: 0, medianWith: null, medianWithout: null },
    completed: { n: 4, medianWith: (30 + 31) / 2, medianWithout: (30 + 31) / 2 },
  });
  assert.deepEqual(mf.with.best, { loss: 'G', fingerprint: 'fpG', fitness: 0.5, gen: 2 });
  // N beyond both runs: measured over what both have, said so for each
  const more = compareEarlyStop('S1', WITH, WITHOUT, 4);
  assert.equal(more.measuredGenerations, 2);
  assert.equal(more.notes.length, 2);
});

// ---- two real journals of the search loop

/** The stand-in's AP per loss and its AP at the check (not monotone in each other: false stops happen). */
const h = (s: string, salt: string) =>
  createHash('sha256')
    .update(salt + s)
    .digest()[0]! / 256;
const apOf = (loss: string) => 0.5 * h(loss, 'final');
const checkApOf = (loss: string) => 0.25 * h(loss, 'check');
const FULL = 2; // seconds of a full proxy training; a stopped one takes half

function standIn(task: StageTask): Promise<StageRecord> {
  if (task.stage !== 'proxy' && task.stage !== 'final') return runStage(task);
  const es = task.config.earlyStop;
  const checkAp = checkApOf(task.loss);
  if (es && es.reference !== null && checkAp < es.minRatio * es.reference)
    return Promise.resolve({
      status: 'stopped',
      pass: null,
      score: 0,
      metrics: { ap: 0, ap50: 0, checkAp },
      reason: 'stopped early',
      seconds: FULL / 2,
    });
  const ap = apOf(task.loss);
  return Promise.resolve({
    status: 'ok',
    pass: null,
    score: ap,
    metrics: { ap, ap50: ap, ...(es ? { checkAp } : {}) },
    reason: null,
    seconds: FULL,
  });
}

test('armMachines and the machine note: proxy trainings of the measured generations only, keys distinct, unrecorded counted', () => {
  // default fpD on machine 5; A, B on 5; C unrecorded; G (generation 2) on 7; D not trained
  const run: MfRun = {
    ...WITH,
    defaultFingerprint: 'fpD0',
    proxySeconds: { ...WITH.proxySeconds, fpD0: 10 },
    proxyMachine: { fpD0: 5, fpA: 5, fpB: 5, fpC: null, fpK: 5, fpE: 5, fpF: 5, fpG: 7, fpH: 5 },
  };
  assert.deepEqual(armMachines(run, 1), { keys: [5], unrecorded: 1 });
  assert.deepEqual(armMachines(run, 3), { keys: [5, 7], unrecorded: 1 });
  // a run without machines (a simulated proxy, or older code): its 8 trained fingerprints recorded none
  assert.deepEqual(armMachines(WITH, 3), { keys: [], unrecorded: 8 });
  // ... and two such runs get no note: nothing says they differ
  assert.equal(compareEarlyStop('S1', WITH, WITHOUT, 3, 2).notes.length, 1);
  const allOn5 = (r: MfRun): MfRun => ({
    ...r,
    proxyMachine: Object.fromEntries(Object.keys(r.proxySeconds).map((fp) => [fp, 5])),
  });
  assert.deepEqual(compareEarlyStop('S1', allOn5(WITH), allOn5(WITHOUT), 3, 2).notes, [
    'the run without early stopping has 2 of 3 generations; the comparison measures the first 2',
  ]);
  // one arm on machine 5, the other unrecorded (older code): said, with both arms' machines
  const mixed = compareEarlyStop('S1', allOn5(WITH), { ...WITHOUT, proxyMachine: {} }, 3, 2);
  assert.deepEqual(mixed.notes.slice(1), [
    "the two runs' proxy trainings are not all from one machine (with early stopping: machine 000000000005; without: 6 record(s) without a machine), so their times and fitnesses compare across machines too",
  ]);
});

test('readRun + compareEarlyStop on two search journals, same seed, with and without proxy.earlyStop', async () => {
  const task = { kind: 'detector', dataDir: '/nonexistent', iters: 10 };
  const base = { population: { size: 80 }, evolution: { generations: 3 }, final: { enabled: false } };
  const withDir = tmpDir();
  const withoutDir = tmpDir();
  const sWith = await runSearch({
    config: smallConfig({ ...base, proxy: { topK: 6, task, earlyStop: { fraction: 0.5, minRatio: 1 } } }),
    runDir: withDir,
    transport: new InProcessTransport(standIn),
  });
  const sWithout = await runSearch({
    config: smallConfig({ ...base, proxy: { topK: 6, task } }),
    runDir: withoutDir,
    transport: new InProcessTransport(standIn),
  });
  const mf = compareEarlyStop('S1', readRun(withDir), readRun(withoutDir), 3);
  assert.equal(mf.measuredGenerations, 3);
  assert.ok(mf.with.stoppedEarly > 0, 'the check stopped some');
  assert.equal(mf.without.stoppedEarly, 0);
  // each side's numbers per generation against the loop's own records
  for (const [side, s] of [
    [mf.with, sWith],
    [mf.without, sWithout],
  ] as const)
    s.generations.forEach((g, i) => {
      const m = side.perGeneration[i]!;
      assert.equal(m.proxyEvaluations, g.proxyNew);
      assert.equal(m.bestFitness, g.bestEverFitness, `gen ${i}: the loop's hall of fame`);
      assert.equal(m.hofTop, g.bestEverLoss);
      // the stored records' seconds against the loop's own sum (one session, nothing reused); the stand-in's times
      assert.ok(Math.abs(m.proxySeconds - g.stageSeconds.proxy!) < 1e-9);
      assert.ok(Math.abs(m.proxySeconds - (FULL * (m.proxyEvaluations - m.stoppedEarly) + (FULL / 2) * m.stoppedEarly)) < 1e-9);
    });
  assert.ok(mf.proxyTimeRatio! < 1);
  // generation 0 is drawn from the same seed: the same population on both sides
  assert.ok(mf.firstDivergentGeneration === null || mf.firstDivergentGeneration >= 1);
  // false stops: a stopped candidate whose fingerprint the run without trained, at or above its default's fitness (the stand-in's AP)
  const defWithout = sWithout.defaultFitness;
  assert.equal(defWithout, apOf(sWithout.defaultLoss));
  const without = readRun(withoutDir).candidates;
  const expected = readRun(withDir)
    .candidates.filter((c) => c.fate === 'stopped-early')
    .filter((c, i, a) => a.findIndex((x) => x.fingerprint === c.fingerprint) === i)
    .map((c) => ({ c, o: without.find((x) => x.fingerprint === c.fingerprint && x.fate === 'proxied') }))
    .filter((x) => x.o !== undefined);
  assert.equal(mf.stoppedMatched, expected.length);
  assert.deepEqual(
    mf.falseStops.map((f) => [f.loss, f.fitnessWithout]),
    expected.filter((x) => apOf(x.o!.loss) >= defWithout).map((x) => [x.c.loss, apOf(x.o!.loss)]),
  );
  assert.ok(mf.stoppedMatched > 0, 'generation 0 stops are trained without early stopping');
  assert.ok(mf.falseStops.length > 0, 'the stand-in check is not monotone in its AP: some stop is false');
  // the stand-in's times: a stopped candidate FULL / 2 with, FULL without; one through the check FULL on both sides
  assert.equal(mf.pairCost.stopped.n, mf.stoppedMatched, 'every matched stop is a pair');
  assert.deepEqual(
    [
      mf.pairCost.stopped.medianWith,
      mf.pairCost.stopped.medianWithout,
      mf.pairCost.completed.medianWith,
      mf.pairCost.completed.medianWithout,
    ],
    [FULL / 2, FULL, FULL, FULL],
  );
  assert.ok(mf.pairCost.completed.n > 0);
});

test("readRun: the default's baseline seconds are its own record's, not a later record of its fingerprint under another key", () => {
  const dir = tmpDir();
  const j = Journal.open(dir, { create: true });
  const rec = (key: string, status: string, score: number, seconds: number) => ({
    fingerprint: 'fpDef',
    stage: 'proxy' as const,
    key,
    loss: 'Neg(Dot(Y,Log(Softmax(X))))',
    status: status as 'ok',
    pass: null,
    score,
    metrics: { ap: score },
    reason: null,
    seconds,
  });
  j.setMeta('default', JSON.stringify({ loss: 'Neg(Dot(Y,Log(Softmax(X))))', fingerprint: 'fpDef', fitness: 0.083 }));
  // the baseline, then (code before the fix) a candidate of the same fingerprint trained again under the check and stopped
  j.putResult(rec('baseline', 'ok', 0.083, 155.3));
  j.putResult(rec('checked', 'stopped', 0, 66.6));
  j.close();
  assert.equal(readRun(dir).defaultSeconds, 155.3);
});
