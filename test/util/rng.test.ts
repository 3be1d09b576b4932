import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';

test('same seed gives the same stream, different seeds differ', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const sa = Array.from({ length: 20 }, () => a.nextUint32());
  const sb = Array.from({ length: 20 }, () => b.nextUint32());
  const sc = Array.from({ length: 20 }, () => c.nextUint32());
  assert.deepEqual(sa, sb);
  assert.notDeepEqual(sa, sc);
});

test('uniform draws have mean 1/2 and variance 1/12; normals mean 0 variance 1', () => {
  const r = new Rng(7);
  const n = 200000;
  let s = 0;
  let s2 = 0;
  let ns = 0;
  let ns2 = 0;
  for (let i = 0; i < n; i++) {
    const u = r.next();
    assert.ok(u >= 0 && u < 1);
    s += u;
    s2 += u * u;
    const z = r.normal();
    ns += z;
    ns2 += z * z;
  }
  assert.ok(Math.abs(s / n - 0.5) < 0.005);
  assert.ok(Math.abs(s2 / n - (s / n) ** 2 - 1 / 12) < 0.002);
  assert.ok(Math.abs(ns / n) < 0.01);
  assert.ok(Math.abs(ns2 / n - 1) < 0.02);
});

test('int covers its inclusive range; shuffle is a permutation', () => {
  const r = new Rng(1);
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) seen.add(r.int(3, 7));
  assert.deepEqual([...seen].sort(), [3, 4, 5, 6, 7]);
  const xs = Array.from({ length: 50 }, (_, i) => i);
  const ys = r.shuffle([...xs]);
  assert.deepEqual(
    [...ys].sort((p, q) => p - q),
    xs,
  );
  assert.notDeepEqual(ys, xs);
});
