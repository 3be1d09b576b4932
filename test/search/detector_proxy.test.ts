/**
 * End to end: `cse-autoloss search` with the real detector proxy (tiny FCOS on a generated
 * mnist-det), as the demo runs it, but a few iterations only: the proxy stage trains in a pool
 * worker on the torch backend and the report records each final run's status and AP (no floor
 * after a few iterations; test/detect/train.test.ts asserts one). The final runs reproduce: the
 * `cse-autoloss train` command that docs/DISCOVERY.md prints for a run (retrainArgs) gives the
 * same AP to the last bit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/search/config.js';
import { retrainArgs } from '../../src/search/final.js';
import { makeTinyMnistDet } from './helpers.js';
import { Journal } from '../../src/search/journal.js';
import { machineId, machineKey, machineKeyText } from '../../src/util/provenance.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'cse-autoloss.js');

test('search with the detector proxy trains FCOS in a pool worker; the report has the default final run ok with an AP in [0, 1]; cse-autoloss train with the retrain command reproduces the final APs bit for bit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cse-detproxy-'));
  try {
    const data = join(dir, 'data');
    makeTinyMnistDet(data);
    const task = `{ kind: detector, detector: fcos, preset: tiny, dataDir: ${data}, iters: 3, trainSubset: 24, valSubset: 8, batch: 4, lr: 0.01, timeoutSeconds: 300 }`;
    writeFileSync(
      join(dir, 'search.yaml'),
      [
        'mode: reg',
        'seed: 0',
        'population: { size: 150, maxSize: 16, minDepth: 2, maxDepth: 4 }',
        'evolution: { generations: 1, parents: 2, elites: 1 }',
        `proxy: { topK: 1, task: ${task} }`,
        `final: { top: 1, seeds: [0], task: ${task.replace('trainSubset: 24, valSubset: 8', 'trainSubset: 24, valSubset: 0').replace('iters: 3', 'iters: 40')} }`,
        'pool: { workers: 1, threadsPerWorker: 2 }',
      ].join('\n'),
    );
    const out = join(dir, 'run');
    const r = spawnSync(process.execPath, [cli, 'search', '--config', join(dir, 'search.yaml'), '--out', out, '--json-log'], {
      encoding: 'utf8',
      timeout: 600_000,
    });
    assert.equal(r.status, 0, `${r.stderr.slice(-2000)}\n${r.stdout.slice(-2000)}`);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
      status: string;
      proxyEvaluations: number;
      final: { loss: string; isDefault: boolean; statuses: string[]; aps: number[] }[];
    };
    assert.equal(report.status, 'finished');
    assert.ok(report.proxyEvaluations >= 1);
    const def = report.final.find((f) => f.isDefault);
    assert.ok(def, 'the final evaluation includes the default loss');
    assert.deepEqual(def.statuses, ['ok']);
    assert.ok(def.aps[0]! >= 0 && def.aps[0]! <= 1);
    // each detector training records its thread count (the pool's worker had 2)
    const j = Journal.open(out, { readonly: true });
    const trainings = j.allResults().filter((r) => r.stage === 'final' || r.stage === 'proxy');
    j.close();
    assert.ok(trainings.length >= 4);
    for (const r of trainings) assert.equal(r.metrics.threads, 2, `${r.stage} ${r.loss}`);
    // and the machine it ran on (this one, identified by the CPU and OpenBLAS's core)
    const here = machineId();
    if (here !== null) for (const r of trainings) assert.equal(r.metrics.machine, machineKey(here), `${r.stage} ${r.loss}`);
    const verdictMachines = (JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { verdict: { machines?: string[] } | null })
      .verdict?.machines;
    if (here !== null && verdictMachines) assert.deepEqual(verdictMachines, [machineKeyText(machineKey(here))]);
    // every final run again through `cse-autoloss train` with that thread count; checkpoints on the
    // way (as a 4000-iteration run writes them; the search's trainings write none) change nothing
    const cfg = loadConfig({ file: join(dir, 'search.yaml') });
    for (const [i, row] of report.final.entries()) {
      const runDir = join(dir, `retrain-${i}`);
      const args = [...retrainArgs(cfg, row.loss, 0, 2, runDir)!, '--checkpoint-every', '10'];
      const t = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 600_000 });
      assert.equal(t.status, 0, t.stderr.slice(-2000));
      const m = JSON.parse(readFileSync(join(runDir, 'metrics.json'), 'utf8')) as { metrics: { AP: number } };
      assert.ok(m.metrics.AP > 0, `${row.loss}: AP ${m.metrics.AP} after 40 iterations (a zero AP would prove nothing)`);
      assert.equal(m.metrics.AP, row.aps[0], `${row.loss}: retrained AP equals the final evaluation's`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
