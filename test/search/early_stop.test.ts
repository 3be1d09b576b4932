// Multi-fidelity in the search loop: with proxy.earlyStop, the default loss's proxy run measures
// the AP at the check (reference null), every candidate's run gets that reference, and a run the
// proxy stops becomes the fate 'stopped-early' with fitness 0, counted per generation. The
// stopping itself is the detector proxy's (test/detect/train.test.ts "proxy early stop"); here a
// stand-in proxy applies the same rule to fixed AP values so that the loop's wiring is checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { runSearch } from '../../src/search/evolution.js';
import { runStage } from '../../src/search/stages/index.js';
import { InProcessTransport } from '../../src/search/transport/index.js';
import { Journal } from '../../src/search/journal.js';
import type { StageRecord, StageTask } from '../../src/search/types.js';
import { ConfigError } from '../../src/search/config.js';
import { smallConfig, tmpDir } from './helpers.js';

/** A deterministic stand-in AP per loss: final AP in [0, 0.5), AP at the check half of it. */
const apOf = (loss: string) => (createHash('sha256').update(loss).digest()[0]! / 256) * 0.5;

function standIn(seen: { loss: string; reference: number | null | undefined }[]) {
  return async (task: StageTask): Promise<StageRecord> => {
    if (task.stage !== 'proxy' && task.stage !== 'final') return runStage(task);
    const es = task.config.earlyStop;
    if (task.stage === 'proxy') seen.push({ loss: task.loss, reference: es?.reference });
    const ap = apOf(task.loss);
    const checkAp = ap / 2;
    if (es && es.reference !== null && checkAp < es.minRatio * es.reference) {
      return { status: 'stopped', pass: null, score: 0, metrics: { ap: 0, ap50: 0, checkAp }, reason: 'stopped early', seconds: 0.01 };
    }
    return { status: 'ok', pass: null, score: ap, metrics: { ap, ap50: ap, ...(es ? { checkAp } : {}) }, reason: null, seconds: 0.01 };
  };
}

const detectorTask = { kind: 'detector', dataDir: '/nonexistent', iters: 10 };

test('proxy.earlyStop: the default measures the reference, candidates behind it stop early as their own fate', async () => {
  const seen: { loss: string; reference: number | null | undefined }[] = [];
  const cfg = smallConfig({
    evolution: { generations: 2 },
    proxy: { topK: 6, task: detectorTask, earlyStop: { fraction: 0.5, minRatio: 1 } },
    final: { enabled: false },
  });
  const dir = tmpDir();
  const summary = await runSearch({ config: cfg, runDir: dir, transport: new InProcessTransport(standIn(seen)) });
  const j = Journal.open(dir, { readonly: true });
  try {
    const def = JSON.parse(j.getMeta('default')!) as { loss: string; checkAp: number; fitness: number };
    assert.equal(seen[0]!.loss, def.loss);
    assert.equal(seen[0]!.reference, null, 'the baseline run measures, it is not compared');
    assert.equal(def.checkAp, apOf(def.loss) / 2);
    assert.ok(seen.length > 1);
    for (const s of seen.slice(1)) assert.equal(s.reference, def.checkAp);
    const cands = j.candidates().filter((c) => c.fate === 'stopped-early' || c.fate === 'proxied');
    const stopped = cands.filter((c) => c.fate === 'stopped-early');
    const proxied = cands.filter((c) => c.fate === 'proxied');
    assert.ok(stopped.length > 0 && proxied.length > 0, `stopped ${stopped.length}, proxied ${proxied.length}`);
    // each fate follows its proxy record (a fingerprint seen again reuses its record)
    const statusOf = new Map(
      j
        .allResults()
        .filter((r) => r.stage === 'proxy')
        .map((r) => [r.fingerprint, r.status]),
    );
    for (const c of stopped) {
      assert.equal(statusOf.get(c.fingerprint), 'stopped', c.loss);
      assert.equal(c.fitness, 0);
    }
    for (const c of proxied) assert.equal(statusOf.get(c.fingerprint), 'ok', c.loss);
    const gens = summary.generations;
    // proxyStopped counts new evaluations: each stopped fingerprint once, however often it comes back
    assert.equal(
      gens.reduce((n, g) => n + (g.proxyStopped ?? 0), 0),
      new Set(stopped.map((c) => c.fingerprint)).size,
    );
    assert.equal(
      gens.reduce((n, g) => n + g.proxyFailed, 0),
      0,
      'a stopped run is not counted as failed',
    );
  } finally {
    j.close();
  }
});

test('without proxy.earlyStop the proxy gets no check and no stops are reported', async () => {
  const seen: { loss: string; reference: number | null | undefined }[] = [];
  const cfg = smallConfig({ evolution: { generations: 1 }, proxy: { topK: 4, task: detectorTask }, final: { enabled: false } });
  const summary = await runSearch({ config: cfg, runDir: tmpDir(), transport: new InProcessTransport(standIn(seen)) });
  assert.ok(seen.every((s) => s.reference === undefined));
  assert.ok(summary.generations.every((g) => g.proxyStopped === undefined));
});

test('earlyStop inside a task is refused: the loop sets it', () => {
  assert.throws(
    () => smallConfig({ proxy: { task: { ...detectorTask, earlyStop: { fraction: 0.5, minRatio: 1, reference: 0.1 } } } }),
    (e: Error) => e instanceof ConfigError && /proxy\.task\.earlyStop/.test(e.message),
  );
});

test('proxyStopped counts new evaluations only: a stopped candidate seen again keeps its fate but is not a new stop', async () => {
  const { proxyStage } = await import('../../src/search/filters.js');
  const stoppedRec = { status: 'stopped', pass: null, score: 0, metrics: { ap: 0, ap50: 0 }, reason: 'stopped early', seconds: 1 };
  const okRec = { status: 'ok', pass: null, score: 0.3, metrics: { ap: 0.3, ap50: 0.5 }, reason: null, seconds: 2 };
  // fingerprint -> (record, reused): a, b stopped (a known from an earlier generation), c ok
  const table: Record<string, { record: typeof stoppedRec | typeof okRec; reused: boolean }> = {
    a: { record: stoppedRec, reused: true },
    b: { record: stoppedRec, reused: false },
    c: { record: okRec, reused: false },
  };
  const ctx = {
    g: 1,
    evaluate: async (fp: string) => table[fp]!,
    stageSeconds: { proxy: 0 },
    reused: { proxy: 0 },
    emit: () => {},
  } as unknown as Parameters<typeof proxyStage>[0];
  const cands = ['a', 'b', 'c'].map((fp, idx) => ({ idx, gen: 1, loss: `L${fp}`, fingerprint: fp }));
  const task = () => ({ config: { timeoutSeconds: 10 } }) as unknown as ReturnType<Parameters<typeof proxyStage>[2]>;
  const r = await proxyStage(ctx, cands as unknown as Parameters<typeof proxyStage>[1], task, new Map());
  assert.equal(r.stopped, 1);
  assert.equal(r.failed, 0);
  assert.deepEqual(
    r.fates.map(([, f]) => f.fate),
    ['stopped-early', 'stopped-early', 'proxied'],
  );
});

test("proxy.earlyStop: a candidate equivalent to the default takes the default's own proxy run, never stopped against itself", async () => {
  // spellings of CE (the cls default) with its gradients, so its fingerprint; the stand-in gives each
  // spelling its own AP, so one below the default's would be stopped if it were trained as a candidate
  const def = 'Neg(Dot(Y,Log(Softmax(X))))';
  const spellings = [`Mul(1,${def})`, `Div(${def},1)`, `Neg(Neg(${def}))`, `Add(${def},Mul(0,${def}))`, `Mul(${def},1)`];
  const low = spellings.find((s) => apOf(s) < apOf(def));
  assert.ok(low, 'a spelling the stand-in scores below the default');
  const seen: { loss: string; reference: number | null | undefined }[] = [];
  const cfg = smallConfig({
    mode: 'cls',
    population: { size: 40, maxSize: 25, minDepth: 2, maxDepth: 4, seedWith: [low] },
    evolution: { generations: 1 },
    proxy: { topK: 3, task: { ...detectorTask, detector: 'faster-rcnn' }, earlyStop: { fraction: 0.5, minRatio: 1 } },
    final: { enabled: false },
  });
  const dir = tmpDir();
  await runSearch({ config: cfg, runDir: dir, transport: new InProcessTransport(standIn(seen)) });
  const j = Journal.open(dir, { readonly: true });
  try {
    const d = JSON.parse(j.getMeta('default')!) as { fingerprint: string; fitness: number };
    const twin = j.candidates().find((c) => c.loss === low)!;
    assert.ok(twin, `${low} is in generation 0`);
    assert.equal(twin.fingerprint, d.fingerprint, 'the same fingerprint as the default');
    assert.equal(twin.fate, 'proxied');
    assert.equal(twin.fitness, d.fitness, "the default's fitness");
    // one proxy record for the default's fingerprint (the baseline), and the stand-in never ran the twin
    assert.equal(j.allResults().filter((r) => r.stage === 'proxy' && r.fingerprint === d.fingerprint).length, 1);
    assert.ok(!seen.some((s) => s.loss === low));
  } finally {
    j.close();
  }
});
