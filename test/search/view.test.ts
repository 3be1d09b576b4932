/**
 * The dashboard's view models (src/search/view/): loss curves against closed forms, and the
 * funnel reading the optional `drawn` count (journals before and after it was recorded), the
 * lineage as the run page gets it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSearch } from '../../src/search/evolution.js';
import { Journal } from '../../src/search/journal.js';
import { reportFromJournal } from '../../src/search/report.js';
import { runStage } from '../../src/search/stages/index.js';
import { InProcessTransport } from '../../src/search/transport/index.js';
import { curveOf, lossCurves } from '../../src/search/view/curves.js';
import { candidateView, runView } from '../../src/search/view/model.js';
import { smallConfig, tmpDir } from './helpers.js';

const close = (a: number | null, b: number, what: string) =>
  assert.ok(a !== null && Math.abs(a - b) < 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('curves: cross-entropy, BCE and GIoU against their closed forms', () => {
  const ce = curveOf('cls', 'ce');
  ce.x.forEach((p, i) => {
    close(ce.loss[i]!, -Math.log(p), `ce loss at p=${p}`);
    close(ce.grad[i]!, -(1 - p), `ce d/dx at p=${p}`); // softmax CE: p - 1 for the target logit
  });
  const bce = curveOf('bcls', 'bce');
  bce.x.forEach((p, i) => {
    close(bce.loss[i]!, -Math.log(p), `bce loss at p=${p}`);
    close(bce.grad[i]!, p - 1, `bce d/dx at p=${p}`);
  });
  // the negative side: a background RoI (cls), NY = 1 (bcls); p is the class's probability
  for (const [mode, name] of [
    ['cls', 'ce'],
    ['bcls', 'bce'],
  ] as const) {
    const n = curveOf(mode, name, 'negative');
    n.x.forEach((p, i) => {
      close(n.loss[i]!, -Math.log(1 - p), `${name} negative loss at p=${p}`);
      close(n.grad[i]!, p, `${name} negative d/dx at p=${p}`);
    });
  }
  assert.throws(() => curveOf('reg', 'giou', 'negative'), /reg has no negative side/);
  // the candidate page's negative sample: this loss and the default (focal: p^2 * -log(1 - p) on a negative)
  const page = lossCurves('bcls', 'bce', 'focal');
  page.x.forEach((p, i) => {
    close(page.negative!.loss[i]!, -Math.log(1 - p), `page bce negative loss at p=${p}`);
    close(page.negative!.defaultLoss![i]!, p * p * -Math.log(1 - p), `page focal negative loss at p=${p}`);
  });
  assert.equal(lossCurves('reg', 'giou', 'iou').negative, null);
  const giou = curveOf('reg', 'giou');
  giou.x.forEach((iou, i) => {
    close(giou.loss[i]!, 1 - iou, `giou loss at IoU=${iou}`); // E = U: no enclosing-box term
    close(giou.grad[i]!, -1, `giou d/dIoU at IoU=${iou}`);
  });
  assert.ok(giou.x.every((v) => v > 0 && v < 1));
  // Non-finite (or beyond 1e300) values become gaps, not numbers.
  const x = 'Mul(E,Exp(Exp(Exp(2))))'; // E·e^88 = e^88 here (Exp clamps at 88); its 8th power is beyond 1e300
  const huge = lossCurves('reg', `Mul(Mul(Mul(${x},${x}),Mul(${x},${x})),Mul(Mul(${x},${x}),Mul(${x},${x})))`, 'giou');
  assert.ok(huge.loss.every((v) => v === null));
  assert.equal(huge.defaultLoss!.length, huge.x.length);
});

test('the funnel reads the optional drawn count, else the population', async () => {
  const dir = tmpDir('cse-view-');
  const cfg = smallConfig({
    population: { size: 150, maxSize: 25, minDepth: 2, maxDepth: 5 },
    evolution: { generations: 2, parents: 4, elites: 2 },
    final: { enabled: false },
  });
  await runSearch({ config: cfg, runDir: dir, transport: new InProcessTransport(runStage) });
  const w = Journal.open(dir);
  const g1 = w.generation(1)!;
  w.finishGeneration(1, [], { ...g1.stats, drawn: 777 }, g1.elapsedMs);
  // generation 0 as a journal of an older version writes it: no drawn count
  const g0 = w.generation(0)!;
  const { drawn: _drawn, ...old } = g0.stats as typeof g0.stats & { drawn?: number };
  void _drawn;
  w.finishGeneration(0, [], old, g0.elapsedMs);
  w.close();
  const j = Journal.open(dir, { readonly: true });
  try {
    const r = reportFromJournal(j, dir);
    const v = runView(j, r, 0);
    assert.deepEqual(
      v.generations.map((g) => g.gen),
      [1, 2],
    );
    assert.equal(v.generations[0]!.funnel.drawn, 150);
    assert.equal(v.generations[1]!.funnel.drawn, 777);
    for (const g of v.generations) {
      const f = g.funnel;
      assert.equal(f.cpvPass + f.cpvFail, f.population);
      assert.equal(
        Object.values(f.cpvFailBy).reduce((a, b) => a + b, 0),
        f.cpvFail,
      );
      assert.equal(f.proxy.ok + f.proxy.diverged + f.proxy.stoppedEarly + f.proxy.failed, f.proxyNew + f.proxyReused);
    }
    // Every candidate of the journal has a page; its fate has a reason unless it was proxied.
    for (const c of j.candidates().slice(0, 60)) {
      const cv = candidateView(j, r, 0, `${c.gen}:${c.idx}`)!;
      assert.equal(cv.loss, c.loss);
      assert.equal(cv.fate, c.fate);
      assert.equal(cv.fateReason === null, c.fate === 'proxied', `${c.fate}: ${cv.fateReason}`);
      assert.match(cv.latexHtml, /class="katex"/);
    }
    assert.equal(candidateView(j, r, 0, '99:0'), null);
    assert.equal(candidateView(j, r, 0, '../x'), null);
  } finally {
    j.close();
  }
});

test("the run view carries the report's lineage, generations 1-based, founders rendered", async () => {
  const dir = tmpDir('cse-view-lineage-');
  const cfg = smallConfig({
    population: { size: 150, maxSize: 25, minDepth: 2, maxDepth: 5 },
    evolution: { generations: 3, parents: 4, elites: 2 },
    final: { enabled: false },
  });
  await runSearch({ config: cfg, runDir: dir, transport: new InProcessTransport(runStage) });
  const j = Journal.open(dir, { readonly: true });
  try {
    const r = reportFromJournal(j, dir);
    const v = runView(j, r, 0);
    assert.ok(r.lineage.founders.length > 0 && r.lineage.generations.length === 3);
    assert.deepEqual(
      v.lineage.generations,
      r.lineage.generations.map((g) => ({ ...g, gen: g.gen + 1 })),
    );
    assert.deepEqual(
      v.lineage.founders.map(({ id, loss, origin, fitness, isDefault, fame }) => ({ id, loss, origin, fitness, isDefault, fame })),
      r.lineage.founders,
    );
    for (const f of v.lineage.founders) {
      assert.equal(f.gen, Number(f.id.split(':')[0]) + 1, f.id);
      assert.ok(f.known, `${f.id} is in the journal`);
      assert.match(f.latexHtml, /class="katex"/);
      assert.ok(f.infix.length > 0);
      // a founder's page is a candidate page like any other
      assert.equal(candidateView(j, r, 0, f.id)!.loss, f.loss);
    }
  } finally {
    j.close();
  }
});
