import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import {
  MODE_VARS,
  MUTATIONS,
  checkExpr,
  crossover,
  mutate,
  parseExpr,
  primitivesFor,
  printOfficial,
  randomTree,
  treeDepth,
  treeSize,
  type Expr,
  type Mode,
} from '../../src/loss/index.js';

function leavesAndOps(e: Expr, ops: Set<string>, vars: Set<string>, consts: Set<number>) {
  if (e.kind === 'var') vars.add(e.name);
  else if (e.kind === 'const') consts.add(e.value);
  else {
    ops.add(e.op);
    e.args.forEach((a) => leavesAndOps(a, ops, vars, consts));
  }
}

test('random trees: seeded, within bounds, in the mode primitive set, parse back', () => {
  for (const mode of ['cls', 'bcls', 'reg'] as const) {
    const a = Array.from(
      { length: 200 },
      (
        (r) => () =>
          randomTree(mode, r, { minDepth: 1, maxDepth: 5, maxSize: 40 })
      )(new Rng(1)),
    );
    const b = Array.from(
      { length: 200 },
      (
        (r) => () =>
          randomTree(mode, r, { minDepth: 1, maxDepth: 5, maxSize: 40 })
      )(new Rng(1)),
    );
    assert.deepEqual(a, b, 'same seed, same trees');
    const allowed = new Set(primitivesFor(mode).map((p) => p.name));
    const ops = new Set<string>();
    const vars = new Set<string>();
    const consts = new Set<number>();
    for (const e of a) {
      assert.ok(treeDepth(e) >= 1 && treeDepth(e) <= 5, `depth ${treeDepth(e)}`);
      assert.ok(treeSize(e) <= 40);
      assert.equal(checkExpr(mode, e), null);
      const back = parseExpr(mode, printOfficial(e));
      assert.equal(printOfficial(back), printOfficial(e));
      assert.equal(
        JSON.stringify(back, (k, v) => (k === 'text' ? undefined : v)),
        JSON.stringify(e),
      );
      leavesAndOps(e, ops, vars, consts);
    }
    for (const o of ops) assert.ok(allowed.has(o), `${o} in ${mode}`);
    for (const v of vars) assert.ok(MODE_VARS[mode].includes(v));
    for (const c of consts) assert.ok([1, 2, 3].includes(c));
    assert.ok(ops.size >= allowed.size - 2, `${mode}: only ${ops.size} of ${allowed.size} primitives drawn`);
  }
});

test('full trees have exactly the drawn height; grow trees vary', () => {
  const rng = new Rng(2);
  for (let i = 0; i < 50; i++) {
    const e = randomTree('reg', rng, { minDepth: 3, maxDepth: 3, method: 'full', maxSize: 1000 });
    assert.equal(treeDepth(e), 3);
  }
  const depths = new Set(
    Array.from({ length: 100 }, () => treeDepth(randomTree('bcls', rng, { minDepth: 0, maxDepth: 6, method: 'grow' }))),
  );
  assert.ok(depths.size >= 4);
});

test('mutations and crossover keep trees valid and within limits', () => {
  const rng = new Rng(3);
  for (const mode of ['cls', 'bcls', 'reg'] as const satisfies readonly Mode[]) {
    let changed = 0;
    for (let i = 0; i < 150; i++) {
      const a = randomTree(mode, rng, { maxDepth: 4, maxSize: 30 });
      const b = randomTree(mode, rng, { maxDepth: 4, maxSize: 30 });
      for (const [name, m] of Object.entries(MUTATIONS)) {
        const c = m(mode, a, rng, { maxSize: 40, maxDepth: 8 });
        assert.equal(checkExpr(mode, c), null, `${name}: ${printOfficial(c)}`);
        assert.ok(treeSize(c) <= 40 && treeDepth(c) <= 8, name);
        if (printOfficial(c) !== printOfficial(a)) changed++;
      }
      const [x, y] = crossover(mode, a, b, rng, { maxSize: 40, maxDepth: 8 });
      assert.equal(checkExpr(mode, x), null);
      assert.equal(checkExpr(mode, y), null);
      assert.equal(treeSize(x) + treeSize(y), treeSize(a) + treeSize(b));
      assert.equal(checkExpr(mode, mutate(mode, a, rng)), null);
    }
    assert.ok(changed > 150 * 5 * 0.7, `${mode}: mutations changed only ${changed}`);
  }
});
