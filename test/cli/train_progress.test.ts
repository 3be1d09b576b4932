/** src/cli/train.ts: how often `train` writes its progress line to a log (stderr not a terminal). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nonTtyStep } from '../../src/cli/train.js';

/** The iterations whose progress line a log gets, for events every `every` iterations (then an evaluation at the end). */
function logged(iters: number, every: number): (number | string)[] {
  const out: (number | string)[] = [];
  let last = -1;
  const events = [
    ...Array.from({ length: Math.ceil(iters / every) }, (_, i) => ({
      phase: 'train' as const,
      iter: Math.min(iters, (i + 1) * every),
      iters,
    })),
    { phase: 'eval' as const, iter: iters, iters },
  ];
  for (const p of events) {
    const s = nonTtyStep(p, last);
    if (s === null) continue;
    last = s;
    out.push(p.phase === 'eval' ? `eval ${p.iter}` : p.iter);
  }
  return out;
}

test('a log gets a progress line per 5% of the iterations, the last iteration and each evaluation', () => {
  // the cpu-small schedule: an event every 10 of 4000 iterations -> 21 training lines, not 400
  const lines = logged(4000, 10);
  assert.deepEqual(lines, [10, ...Array.from({ length: 19 }, (_, i) => (i + 1) * 200), 4000, 'eval 4000']);
  // a short run logs every event: 10 iterations, one event each
  assert.deepEqual(logged(10, 1), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 'eval 10']);
  // an evaluation midway is always logged, and the next training line still comes at the next twentieth
  let last = nonTtyStep({ phase: 'train', iter: 10, iters: 1000 }, -1)!;
  assert.equal(last, 0);
  assert.equal(nonTtyStep({ phase: 'train', iter: 20, iters: 1000 }, last), null);
  last = nonTtyStep({ phase: 'eval', iter: 20, iters: 1000 }, last)!;
  assert.equal(last, 0);
  assert.equal(nonTtyStep({ phase: 'train', iter: 40, iters: 1000 }, last), null);
  assert.equal(nonTtyStep({ phase: 'train', iter: 50, iters: 1000 }, last), 1);
});
