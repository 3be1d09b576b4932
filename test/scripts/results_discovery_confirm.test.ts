/**
 * scripts/results-discovery.ts `confirm` (configs/discovery.yaml): after a search, its winner and
 * its default trained at more seeds on the final evaluation's own task. A tiny search (simulated
 * proxy, a tiny FCOS final on a generated mnist-det, 40 iterations): the confirm rows join the
 * final's seed with the new one; the new seed's run is the one the final evaluation would have
 * trained (`cse-autoloss train` with the retrain command of that seed gives the same AP to the
 * last bit); the docs compare the two by compareMeans; a confirm seed among the final's seeds and
 * another thread count are refused, nothing trained.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/search/config.js';
import { retrainArgs } from '../../src/search/final.js';
import { makeTinyMnistDet } from '../search/helpers.js';
import { compareMeans } from '../../src/search/stats.js';
import { machineId, machineIdOf, machineKey, machineKeyText, type Provenance } from '../../src/util/provenance.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'cse-autoloss.js');

test('results-discovery confirm: more seeds of the winner and the default on the final task, bit-identical to a final run of that seed; misuse refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cse-confirm-'));
  try {
    const data = join(dir, 'data');
    makeTinyMnistDet(data);
    const cfgDir = join(dir, 'cfg');
    mkdirSync(cfgDir);
    const task = `{ kind: detector, detector: fcos, preset: tiny, dataDir: ${data}, iters: 40, trainSubset: 24, valSubset: 0, batch: 4, lr: 0.01, timeoutSeconds: 300 }`;
    writeFileSync(
      join(cfgDir, 'search.yaml'),
      [
        'mode: bcls',
        'seed: 0',
        'population: { size: 12, maxSize: 20, minDepth: 2, maxDepth: 4, maxDraws: 20000, maxOffspringTries: 400, seedWith: [bce] }',
        'evolution: { generations: 1, parents: 3, elites: 1 }',
        'mos: { level1: { samples: 16, steps: 20, threshold: 0 } }',
        'proxy: { topK: 3, task: { kind: simulated, iters: 30 } }',
        `final: { top: 1, published: false, seeds: [0], task: ${task} }`,
        'pool: { workers: 0 }',
        // the dataset makeTinyMnistDet made, as the config's own (made on first use): --retrain makes it on a fresh clone
        'dataset: { kind: mnist-det, images: 48, size: 64, seed: 3, valFraction: 0.2 }',
      ].join('\n'),
    );
    const driverYaml = (seeds: string, rivals = '{ S1: [bce] }') => `transfer:
  settings: []
  dataset: { kind: mnist-det, images: 48, size: 64, seed: 3, valFraction: 0.25 }
  dataDir: ${data}
  preset: tiny
  seeds: [0]
efficiency:
  seeds: [0]
  budget: 3
confirm:
  settings: [S1]
  seeds: [${seeds}]
  rivals: ${rivals}
`;
    const root = join(dir, 'results');
    const docs = join(dir, 'DISCOVERY.md');
    // scripts/results-discovery.ts on this test's configs, results and docs, setting S1
    const script = (threads: string, ...extra: string[]) =>
      spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          'scripts/results-discovery.ts',
          '--config-dir',
          cfgDir,
          '--root',
          root,
          '--out',
          docs,
          '--settings',
          'S1',
          ...extra,
        ],
        { encoding: 'utf8', env: { ...process.env, CSE_THREADS: threads }, timeout: 600_000 },
      );
    const driver = (threads: string) => script(threads);

    // a rival that is no loss of the mode: refused before anything runs, naming it
    writeFileSync(join(cfgDir, 'discovery.yaml'), driverYaml('1', '{ S1: [ce] }'));
    const badRival = driver('2');
    assert.equal(badRival.status, 2, `${badRival.stdout}${badRival.stderr}`);
    assert.match(badRival.stderr, /discovery\.yaml: confirm\.rivals\.S1: 'ce'/);
    assert.ok(!existsSync(join(root, 'discovery', 'S1')));

    // a confirm seed that is one of the final's: refused before anything runs
    writeFileSync(join(cfgDir, 'discovery.yaml'), driverYaml('1, 0'));
    const bad = driver('2');
    assert.equal(bad.status, 2, `${bad.stdout}${bad.stderr}`);
    assert.match(bad.stderr, /confirm\.seeds 0 is among S1's final seeds \(0\); confirm adds other seeds/);
    assert.ok(!existsSync(join(root, 'discovery', 'S1')));

    writeFileSync(join(cfgDir, 'discovery.yaml'), driverYaml('1'));
    const r = driver('2');
    assert.equal(r.status, 0, `${r.stdout.slice(-3000)}${r.stderr.slice(-3000)}`);
    assert.match(r.stdout, /\[confirm 1\/4\] S1 winner on the final task \(fcos, tiny, 40 iterations\) seed 1/);
    assert.match(r.stdout, /\[confirm 3\/4\] S1 rival bce on the final task \(fcos, tiny, 40 iterations\) seed 0: bce/);
    type Row = { loss: string; role: string; seeds: number[]; AP: (number | null)[]; AP50: (number | null)[] };
    const summary = JSON.parse(readFileSync(join(root, 'discovery', 'summary.json'), 'utf8')) as {
      searches: { name: string; winner: string; final: Row[]; confirm: Row[] }[];
    };
    const s1 = summary.searches[0]!;
    assert.equal(s1.name, 'S1');
    assert.deepEqual(
      s1.confirm.map((x) => [x.role, x.loss, x.seeds]),
      [
        ['winner', s1.final.find((f) => f.role === 'winner')!.loss, [0, 1]],
        ['default', 'focal', [0, 1]],
        ['rival', 'bce', [0, 1]],
      ],
    );
    // the rival's APs are its own runs' (the final's seed 0 included: the final evaluation did not train it)
    const rival = s1.confirm[2]!;
    const rivalAp = [0, 1].map(
      (k) =>
        (
          JSON.parse(readFileSync(join(root, 'discovery', 'S1', 'confirm', 'rival-bce', `seed${k}`, 'metrics.json'), 'utf8')) as {
            metrics: { AP: number };
          }
        ).metrics.AP,
    );
    assert.deepEqual(rival.AP, rivalAp);
    const confirmAp: Record<string, number> = {};
    for (const row of s1.confirm.filter((x) => x.role !== 'rival')) {
      const fin = s1.final.find((f) => f.role === row.role)!;
      assert.equal(row.AP[0], fin.AP[0], `${row.role}: seed 0 is the final evaluation's`);
      const m = JSON.parse(readFileSync(join(root, 'discovery', 'S1', 'confirm', row.role, 'seed1', 'metrics.json'), 'utf8')) as {
        status: string;
        metrics: { AP: number; AP50: number };
      };
      assert.equal(m.status, 'ok');
      assert.deepEqual([row.AP[1], row.AP50[1]], [m.metrics.AP, m.metrics.AP50]);
      assert.ok(existsSync(join(root, 'discovery', 'S1', 'confirm', row.role, 'seed1', 'provenance.json')));
      confirmAp[row.role] = m.metrics.AP;
    }
    // the winner's seed-1 run is the final evaluation's seed-1 run: its retrain command gives the same AP
    const cfg = loadConfig({ file: join(cfgDir, 'search.yaml') });
    const again = join(dir, 'retrain');
    const t = spawnSync(process.execPath, [cli, ...retrainArgs(cfg, s1.winner, 1, 2, again)!], { encoding: 'utf8', timeout: 600_000 });
    assert.equal(t.status, 0, t.stderr.slice(-2000));
    const m = JSON.parse(readFileSync(join(again, 'metrics.json'), 'utf8')) as { metrics: { AP: number } };
    assert.ok(m.metrics.AP > 0, `AP ${m.metrics.AP} after 40 iterations (a zero AP would prove nothing)`);
    assert.equal(m.metrics.AP, confirmAp.winner);
    // the docs: the table and the comparison over both seeds
    const md = readFileSync(docs, 'utf8');
    const w = s1.confirm[0]!.AP as number[];
    const d = s1.confirm[1]!.AP as number[];
    const c = compareMeans(w, d);
    const signed = (x: number) => `${x < 0 ? '−' : '+'}${Math.abs(100 * x).toFixed(1)}`;
    assert.ok(md.includes('More seeds for the winner and the default'), md);
    assert.ok(
      md.includes(`With seeds 1 added (the final's task, machine and thread count; 2 and 2 finished seeds)`) &&
        md.includes(`, ${signed(c.diff)} AP (difference / s.e. ${(c.diff / c.se!).toFixed(2)}, Welch t ${c.t!.toFixed(2)}`),
      md,
    );
    const cr = compareMeans(w, rival.AP as number[]);
    assert.ok(
      md.includes(
        `  Against bce (configs/discovery.yaml \`confirm.rivals\`: a preset of the mode trained at the same 2 seeds, 2 finished): bce `,
      ) && md.includes(`the winner ${signed(cr.diff)} AP`),
      md,
    );
    // the winner's plot shows the rival's loss and gradient beside the default's
    const svg = readFileSync(join(dir, 'img', 'discovery', 'S1-winner.svg'), 'utf8');
    assert.equal([...svg.matchAll(/>rival \(bce\)</g)].length, 2, 'the rival in the loss plot and in the gradient plot');
    assert.ok(md.includes('S1 winner: loss and gradient against the default and the rivals]'), md);
    // and what the comparison says, by the verdict's alpha
    assert.ok(cr.p !== null, 'two seeds each with a spread give a p-value');
    const says =
      cr.p < 0.05 ? (cr.diff > 0 ? 'the winner beats bce (p < 0.05)' : 'bce beats the winner (p < 0.05)') : 'the winner ties bce';
    assert.ok(md.includes(says), `${says}\n${md}`);

    // --retrain: the docs' retrain command run for real (the winner's seed 0, its run folder in S1/retrain/winner-seed0),
    // then compared to the last bit
    const r0 = join(root, 'discovery', 'S1', 'retrain', 'winner-seed0');
    const retrain = (...extra: string[]) => script('1', '--retrain', ...extra);
    // as on a fresh clone, the dataset is not there: the retrain makes it first, with the command the docs print
    rmSync(data, { recursive: true });
    const t0 = retrain();
    assert.equal(t0.status, 0, `${t0.stdout.slice(-2000)}${t0.stderr.slice(-2000)}`);
    const makeLine = `cse-autoloss data make --kind mnist-det --images 48 --size 64 --seed 3 --val-fraction 0.2 --out ${data}`;
    assert.ok(t0.stdout.includes(`retrain S1: its dataset first, as docs/DISCOVERY.md prints it\n  $ ${makeLine}\n`), t0.stdout);
    assert.ok(readFileSync(docs, 'utf8').includes(`(its dataset first, as the search made it on first use: \`${makeLine}\`)`));
    // the docs' command (its --out aside), with the final's thread count (2), not this process's CSE_THREADS
    const printed = /Retrain the winner's seed-0 run [^`]*`cse-autoloss (train [^`]*) --out runs\/S1-winner-seed0`/.exec(
      readFileSync(docs, 'utf8'),
    );
    assert.ok(printed, readFileSync(docs, 'utf8'));
    assert.ok(t0.stdout.includes(`$ cse-autoloss ${printed[1]} --out ${r0}\n`), t0.stdout);
    assert.match(t0.stdout, /; 1 step\(s\) run in this call/);
    assert.ok(existsSync(join(r0, 'metrics.json')) && existsSync(join(r0, 'config.json')));
    // nothing else ran: no confirm seed 2, no transfer
    assert.ok(!/\[confirm|\[transfer|S1: search finished/.test(t0.stdout), t0.stdout);
    // a second call trains nothing
    const again0 = retrain();
    assert.equal(again0.status, 0, again0.stderr);
    assert.match(again0.stdout, /retrain S1: done \(/);
    assert.match(again0.stdout, /; 0 step\(s\) run in this call/);
    // misuse: with --collect-only, or with another measurement
    for (const extra of [['--collect-only'], ['--efficiency', 'S1']]) {
      const bad = retrain(...extra);
      assert.equal(bad.status, 2, bad.stdout);
      assert.match(bad.stderr, /^error: --retrain /);
    }
    const collect = () => {
      const x = script('2', '--collect-only');
      assert.equal(x.status, 0, x.stderr);
      return readFileSync(docs, 'utf8');
    };
    const fin0 = s1.final.find((f) => f.role === 'winner')!.AP[0]!;
    // both trained here: the final's record and the retrain's provenance name this machine
    const here = machineKeyText(machineKey(machineId()!));
    assert.ok(
      collect().includes(
        `(${join(root, 'discovery', 'S1', 'retrain', 'winner-seed0', 'metrics.json')}): AP ${fin0}, the final's to the last bit, on the same machine (${here}).`,
      ),
    );
    // an AP a bit apart is reported as such, with both values
    const mf = join(r0, 'metrics.json');
    const rec = JSON.parse(readFileSync(mf, 'utf8')) as { metrics: { AP: number }; provenance: Provenance };
    rec.metrics.AP = fin0 + 1e-12;
    writeFileSync(mf, JSON.stringify(rec));
    assert.ok(collect().includes(`AP ${fin0 + 1e-12} against the final's ${fin0}, on the same machine (${here}): not the same bits.`));
    // retrained on another machine (another CPU model in its provenance): not bits, the seeds' spread is the test
    rec.provenance.env.cpuId = { ...rec.provenance.env.cpuId!, model: 'another model' };
    writeFileSync(mf, JSON.stringify(rec));
    const there = machineKeyText(machineKey(machineIdOf(rec.provenance.env)!));
    assert.notEqual(there, here);
    const pct = (x: number) => (100 * x).toFixed(1);
    assert.ok(
      collect().includes(
        ` on another machine (${mf}; machine ${there}, the final's ${here}): AP ${pct(fin0 + 1e-12)} against the final's ${pct(fin0)}, with one final seed, no spread to compare with.`,
      ),
      readFileSync(docs, 'utf8'),
    );

    // another thread count than the final evaluation's: refused, nothing trained, the rest kept
    rmSync(join(root, 'discovery', 'S1', 'confirm', 'default'), { recursive: true });
    const other = driver('1');
    assert.equal(other.status, 1, `${other.stdout}${other.stderr}`);
    assert.match(
      other.stdout,
      /\[confirm\] error: S1: more seeds are comparable with the final evaluation's only in its environment: 1 threads here, 2 in the final evaluation \(set CSE_THREADS=2\)/,
    );
    assert.ok(!existsSync(join(root, 'discovery', 'S1', 'confirm', 'default', 'seed1')));
    assert.match(readFileSync(docs, 'utf8'), /More seeds \(1\) for the winner and the default on the final task: 1 run\(s\) pending/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
