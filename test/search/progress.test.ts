/**
 * The human display of a search (src/search/progress.ts): on a terminal the stage progress is a
 * status line rewritten in place; into a log or a pipe the trainings (proxy, MOS level 2, the final
 * evaluation) print a line each, so that hours of training are never silent, while the fast stages
 * stay quiet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Progress } from '../../src/search/progress.js';
import type { SearchEvent } from '../../src/search/evolution.js';

function sink(isTTY: boolean) {
  let text = '';
  const out = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  }) as Writable & { isTTY?: boolean };
  out.isTTY = isTTY;
  return { out, text: () => text };
}

const events: SearchEvent[] = [
  { type: 'stage', gen: 0, stage: 'cpv', done: 200, total: 300, passed: 200, reused: 0 },
  { type: 'stage', gen: 0, stage: 'mos1', done: 300, total: 300, passed: 9, reused: 0 },
  { type: 'stage', gen: 0, stage: 'proxy', done: 1, total: 6, passed: 1, reused: 0 },
  { type: 'stage', gen: 0, stage: 'proxy', done: 2, total: 6, passed: 2, reused: 0 },
  { type: 'final-progress', done: 3, total: 15 },
];

test('not a terminal: a line per proxy evaluation and per final run, none for the fast stages, no escape codes', () => {
  const s = sink(false);
  const p = new Progress({ json: false, out: s.out, generations: 10 });
  for (const e of events) p.onEvent(e);
  const lines = s.text().split('\n').filter(Boolean);
  assert.equal(lines.length, 3, s.text());
  assert.match(lines[0]!, /^gen 1\/10 proxy 1\/6 \(passed 1, reused 0\) {2}elapsed \d+s$/);
  assert.match(lines[1]!, /^gen 1\/10 proxy 2\/6 /);
  assert.match(lines[2]!, /^final evaluation 3\/15 {2}elapsed \d+s$/);
  assert.doesNotMatch(s.text(), /\x1b/);
});

test('a terminal: one status line rewritten in place, no new lines', () => {
  const s = sink(true);
  const p = new Progress({ json: false, out: s.out, generations: 10 });
  for (const e of events) p.onEvent(e);
  assert.equal(s.text().includes('\n'), false);
  assert.equal(s.text().split('\r\x1b[2K').filter(Boolean).length, events.length);
  assert.match(s.text(), /final evaluation 3\/15$/);
});

test("the ETA is the run's own time per generation: a resumed run's replayed generations do not shorten it", () => {
  const s = sink(false);
  const p = new Progress({ json: false, out: s.out, generations: 10 });
  const stats = {
    population: 300,
    cpvPass: 300,
    duplicates: 0,
    mosPass: 9,
    mosEvaluated: 300,
    proxyNew: 6,
    proxyReused: 0,
    proxyFailed: 0,
    proxyStopped: 0,
    kendallTau: null,
    bestEverFitness: 0.12,
    bestEverLoss: 'Softplus(X)',
  } as unknown as Extract<SearchEvent, { type: 'generation-end' }>['stats'];
  const min = 60_000;
  // generations 1-3 replayed from the journal in no time (their elapsed times as recorded), then generation 4 trained
  for (const gen of [0, 1, 2, 3]) p.onEvent({ type: 'generation-end', gen, stats, elapsedMs: 15 * min * (gen + 1) });
  const lines = s.text().split('\n').filter(Boolean);
  assert.equal(lines.length, 4);
  // 60 min for 4 generations: 15 min each, 6 to go
  assert.match(lines[3]!, /^gen 4\/10 .* elapsed 1h00m {2}ETA 1h30m$/);
  assert.match(lines[0]!, /elapsed 15m00s {2}ETA 2h15m$/);
});
