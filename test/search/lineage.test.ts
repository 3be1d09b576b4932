import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runSearch } from '../../src/search/evolution.js';
import { Journal, type CandidateRow } from '../../src/search/journal.js';
import { foundersOf, lineageOf } from '../../src/search/lineage.js';
import { buildReport } from '../../src/search/report.js';
import { runStage } from '../../src/search/stages/index.js';
import type { GenerationStats } from '../../src/search/evolution.js';
import { InProcessTransport } from '../../src/search/transport/index.js';
import { smallConfig, tmpDir } from './helpers.js';

/** A candidate row with only what lineage reads filled in. */
const row = (id: string, parents: string[], extra: Partial<CandidateRow> = {}): CandidateRow => {
  const [gen, idx] = id.split(':').map(Number);
  return {
    gen: gen!,
    idx: idx!,
    loss: `L${id}`,
    fingerprint: `fp${id}`,
    parents,
    origin: parents.length ? (parents.length === 2 ? 'crossover' : 'mutation') : 'random',
    op: null,
    size: 3,
    depth: 2,
    fate: 'proxied',
    mosScore: null,
    fitness: null,
    ...extra,
  };
};
const stats = (gen: number, proxyOrder: number[]) => ({ gen, proxyOrder }) as unknown as GenerationStats;

// Generation 0: four random trees. Generation 1: 1:0 = mutation of 0:0, 1:1 = crossover of 0:0 and 0:1,
// 1:2 a fresh random tree (trains as the default), 1:3 = mutation of a parent id the journal lacks.
// Generation 2: 2:0 = crossover of 1:1 and 1:2, 2:1 = mutation of 0:1 (an elite two generations back),
// 2:2 = mutation of 2:0's parent 1:0.
const cands = [
  row('0:0', [], { fitness: 0.3 }),
  row('0:1', [], { fitness: 0.2 }),
  row('0:2', [], { fitness: 0.1 }),
  row('0:3', [], { fate: 'mos-fail' }),
  row('1:0', ['0:0']),
  row('1:1', ['0:0', '0:1']),
  row('1:2', [], { fingerprint: 'fpDEF', fitness: 0.25 }),
  row('1:3', ['9:9']),
  row('2:0', ['1:1', '1:2']),
  row('2:1', ['0:1']),
  row('2:2', ['1:0']),
];

test('founders: through any number of generations, crossover joins both parents', () => {
  const f = foundersOf(cands);
  const of = (id: string) => [...f.get(id)!].sort();
  assert.deepEqual(of('0:0'), ['0:0']);
  assert.deepEqual(of('1:1'), ['0:0', '0:1']);
  assert.deepEqual(of('2:0'), ['0:0', '0:1', '1:2']);
  assert.deepEqual(of('2:1'), ['0:1']);
  assert.deepEqual(of('2:2'), ['0:0']);
  // a parent the journal does not hold counts as a founder of its own, rather than being lost
  assert.deepEqual(of('1:3'), ['9:9']);
});

test('lineage: the hall of fame by founder, and the founders behind each generation', () => {
  const l = lineageOf(cands, [stats(0, [0, 1, 2]), stats(1, [0, 1, 2, 3]), stats(2, [0, 1, 2])], ['2:0', '1:1', '2:2', '0:2'], 'fpDEF');
  // 0:0 behind 2:0, 1:1, 2:2 (3); 0:1 behind 2:0, 1:1 (2); 1:2 behind 2:0 (1); 0:2 itself (1): ties by id
  assert.deepEqual(
    l.founders.map((f) => [f.id, f.fame, f.fitness, f.isDefault, f.origin, f.loss]),
    [
      ['0:0', 3, 0.3, false, 'random', 'L0:0'],
      ['0:1', 2, 0.2, false, 'random', 'L0:1'],
      ['0:2', 1, 0.1, false, 'random', 'L0:2'],
      ['1:2', 1, 0.25, true, 'random', 'L1:2'],
    ],
  );
  // gen 0: 0:0, 0:1, 0:2 (3); gen 1: {0:0}, {0:0,0:1}, {1:2}, {9:9} -> 4; gen 2: {0:0,0:1,1:2}, {0:1}, {0:0} -> 3
  assert.deepEqual(l.generations, [
    { gen: 0, proxied: 3, founders: 3 },
    { gen: 1, proxied: 4, founders: 4 },
    { gen: 2, proxied: 3, founders: 3 },
  ]);
  // without the default's fingerprint nothing is marked as the default
  assert.ok(lineageOf(cands, [], ['2:0'], null).founders.every((f) => !f.isDefault));
});

test("a search's report carries its lineage, the same as a walk over the journal's parents", async () => {
  const dir = join(tmpDir(), 'run');
  await runSearch({ config: smallConfig(), runDir: dir, transport: new InProcessTransport(runStage) });
  const r = buildReport(dir);
  const j = Journal.open(dir, { readonly: true });
  const all = j.candidates();
  j.close();
  // the reference: a plain recursive walk, written apart from src/search/lineage.ts
  const byId = new Map(all.map((c) => [`${c.gen}:${c.idx}`, c]));
  const roots = (id: string): string[] => {
    const c = byId.get(id);
    return !c || !c.parents.length ? [id] : [...new Set(c.parents.flatMap(roots))];
  };
  assert.ok(r.hallOfFame.length > 0);
  const fame = new Map<string, number>();
  for (const h of r.hallOfFame) for (const f of roots(h.id)) fame.set(f, (fame.get(f) ?? 0) + 1);
  assert.deepEqual(new Map(r.lineage.founders.map((f) => [f.id, f.fame])), fame);
  assert.equal(r.lineage.generations.length, r.generations.length);
  for (const [i, g] of r.lineage.generations.entries()) {
    const order = r.generations[i]!.proxyOrder;
    assert.equal(g.proxied, order.length);
    assert.equal(g.founders, new Set(order.flatMap((idx) => roots(`${g.gen}:${idx}`))).size);
  }
  // some offspring reached the proxy: the walk had parents to follow
  assert.ok(all.some((c) => c.parents.length && c.fate === 'proxied'));
});
