/**
 * scripts/results-proxy.ts (issue 15, items 2 and 6): the job lists of S1 and S2 are frozen (a long
 * run resumes on them: the fixture is the plan that the script printed before the `demo` setting
 * was added, into an empty results root), and the `demo` setting runs end to end on the demo's own
 * dataset and proxy task, read from configs/search-demo.yaml, with every training cut to 2
 * iterations (--smoke-iters, for tests): its dataset is made on first use, its records are written,
 * and summary.json gives it an identity that the search's lookup (src/search/fidelity.ts) matches
 * for the demo's config. Seeds 1-2 of a full-schedule run are taken from the setting's search's
 * final evaluation (its journal under <root>/discovery/<setting>/run) only when the seed-0 runs
 * are bit-identical: shown on the demo setting (the same code path as S1 and S2, whose panels take
 * ~25 s to draw), with a journal written through the Journal API and stand-in files for the other
 * runs, so that nothing trains.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseExpr, PRESETS, printOfficial } from '../../src/loss/index.js';
import { hashOf, loadConfig } from '../../src/search/config.js';
import { proxyFidelityOf, proxyIdentityOf } from '../../src/search/fidelity.js';
import { FINGERPRINT_VERSION } from '../../src/search/fingerprint.js';
import { Journal } from '../../src/search/journal.js';
import { machineId, machineKey, machineKeyText } from '../../src/util/provenance.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));

function script(...args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/results-proxy.ts', ...args], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, CSE_THREADS: '1' },
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

test('the plans of S1 and S2 are the ones the long run resumes on', () => {
  const root = mkdtempSync(join(tmpdir(), 'cse-proxy-plan-'));
  const r = script('--plan', '--settings', 'S1,S2', '--root', root);
  assert.equal(r.code, 0, r.out);
  assert.equal(r.out, readFileSync(join(repo, 'test', 'scripts', 'fixtures', 'proxy-plan-S1-S2.txt'), 'utf8'));
});

test('usage errors exit 2', () => {
  assert.equal(script('--plan', '--settings', 'S1,S9').code, 2);
  const noRoot = script('--settings', 'demo', '--smoke-iters', '2');
  assert.equal(noRoot.code, 2);
  assert.match(noRoot.out, /--smoke-iters: .*--root/);
});

test('the demo setting end to end: its dataset, a proxy run and a full run, summary.json with its identity', { timeout: 300_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'cse-proxy-demo-'));
  const out = join(root, 'PROXY.md');
  const r = script('--settings', 'demo', '--root', root, '--out', out, '--smoke-iters', '2', '--max-jobs', '3');
  assert.equal(r.code, 0, r.out);
  const cfg = loadConfig({ demo: true });
  const d = cfg.dataset!;
  // the dataset is the demo's, made under the results root
  const ann = (split: string) =>
    (JSON.parse(readFileSync(join(root, 'data', 'mnist-det-demo', split, 'annotations.json'), 'utf8')) as { images: unknown[] }).images
      .length;
  assert.equal(ann('train') + ann('val'), d.images);
  assert.equal(ann('val'), Math.round(d.images * d.valFraction));
  // the first loss of the panel (the first preset of reg mode with an expression): its proxy run, then its full run
  const t = cfg.proxy.task;
  const name = `p${t.iters}-${t.inputSize}-n${t.trainSubset}`;
  const proxyRec = JSON.parse(readFileSync(join(root, 'proxy', 'demo', name, 'iou-seed0.json'), 'utf8')) as Record<string, unknown>;
  const fullRec = JSON.parse(readFileSync(join(root, 'proxy', 'demo', 'full', 'iou-seed0.json'), 'utf8')) as Record<string, unknown>;
  for (const rec of [proxyRec, fullRec]) {
    assert.equal(rec.status, 'ok');
    assert.equal(rec.smoke, true);
    assert.equal(rec.detector, t.detector);
    assert.equal(rec.mode, cfg.mode);
    assert.equal(rec.loss, 'Sub(1,Div(I,U))');
  }
  assert.deepEqual(proxyRec.proxy, {
    name,
    inputSize: t.inputSize,
    iters: t.iters,
    trainSubset: t.trainSubset,
    preset: t.preset,
    valSubset: t.valSubset,
    warmupIters: t.warmupIters,
    batch: t.batch,
    lr: t.lr,
  });
  assert.match(r.out, /0 of 34 runs done; 34 to go \(3 in this call: --max-jobs\)/);
  // the time left, from the runs on disk: unknown before any; then the proxy's run is timed and the
  // full one not yet (a lower bound); then both
  const run3 = [...r.out.matchAll(/^\[(\d)\/3\] demo (\S+) (\S+) \(\w+\) seed 0 \(\d+\.\d min so far, (.*)\)$/gm)].map((m) => m.slice(1));
  assert.deepEqual(
    run3.map((m) => m.slice(0, 2)),
    [
      ['1', name],
      ['2', 'full'],
      ['3', name],
    ],
    r.out,
  );
  assert.equal(run3[0]![3], 'ETA not known yet: no run of these kinds timed');
  assert.match(run3[1]![3]!, /^ETA at least \d+ min: 1 run\(s\) of a kind not timed yet left out$/);
  assert.match(run3[2]![3]!, /^ETA \d+ min$/);
  assert.ok(existsSync(out));
  const md = readFileSync(out, 'utf8');
  assert.match(md, /### demo: fcos, reg mode \(default giou, published cse-b-reg\)/);
  // each run records its machine (the provenance's CPU identification and BLAS kernels): this one
  assert.ok(
    md.includes(`Machines: the 3 run(s) that recorded one trained on one machine (${machineKeyText(machineKey(machineId()!))}).`),
    md,
  );
  // the full schedule against itself: τ 1 only from two losses on; one loss (demo), none (S1, S2): no τ
  const fullRows = md.split('\n').filter((l) => l.startsWith('| full schedule (cpu-small, val) |'));
  assert.deepEqual(
    fullRows.map((l) => l.split(' | ').slice(1, 3)),
    [
      ['0', '—'],
      ['0', '—'],
      ['1', '—'],
    ],
  );
  // summary.json: the demo's proxy with its identity, which the search's lookup finds for the demo config
  const summaryFile = join(root, 'proxy', 'summary.json');
  const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as Record<string, { proxies: { name: string; identity: unknown }[] }>;
  // every setting is reported, whatever --settings trains; S1 and S2 have no runs in this root
  assert.deepEqual(Object.keys(summary), ['S1', 'S2', 'demo']);
  assert.ok(summary.S1!.proxies.every((p) => (p as unknown as { n: number }).n === 0));
  assert.deepEqual(summary.demo!.proxies[0]!.identity, proxyIdentityOf(cfg));
  assert.deepEqual(proxyFidelityOf(cfg, summaryFile), {
    setting: 'demo',
    proxy: name,
    tau: null, // one loss at both fidelities: no τ yet
    ci95: null,
    n: 1,
    nWorking: 0,
    tauWorking: null,
  });
});

test(
  'a run the environment fails is not recorded: the study stops (exit 1) naming it, and goes on once fixed',
  { timeout: 300_000 },
  () => {
    const root = mkdtempSync(join(tmpdir(), 'cse-proxy-env-'));
    const out = join(root, 'PROXY.md');
    const args = ['--settings', 'demo', '--root', root, '--out', out, '--smoke-iters', '2', '--max-jobs', '1'];
    const first = script(...args); // the dataset, then the first proxy run
    assert.equal(first.code, 0, first.out);
    const t = loadConfig({ demo: true }).proxy.task;
    const proxyFile = join(root, 'proxy', 'demo', `p${t.iters}-${t.inputSize}-n${t.trainSubset}`, 'iou-seed0.json');
    const fullFile = join(root, 'proxy', 'demo', 'full', 'iou-seed0.json');
    assert.ok(existsSync(proxyFile));
    // the training images disappear (a disk that went away): the environment's failure, not the loss's
    const images = join(root, 'data', 'mnist-det-demo', 'train', 'images');
    const moved = `${images}.away`;
    renameSync(images, moved);
    const full = script(...args); // the full-schedule run of the same loss
    assert.equal(full.code, 1, full.out);
    assert.match(
      full.out,
      /demo full iou seed 0: the environment failed, not the loss \(.*\); nothing was recorded for this run and the study stops here/,
    );
    assert.ok(!existsSync(fullFile), 'no run file for a run the environment failed');
    rmSync(proxyFile); // and a proxy run
    const proxy = script(...args);
    assert.equal(proxy.code, 1, proxy.out);
    assert.match(proxy.out, /demo p\S+ iou seed 0: the environment failed, not the loss/);
    assert.ok(!existsSync(proxyFile));
    // fixed: the same command goes on with the runs the failures left
    renameSync(moved, images);
    const again = script(...args);
    assert.equal(again.code, 0, again.out);
    assert.equal((JSON.parse(readFileSync(proxyFile, 'utf8')) as { status: string }).status, 'ok');
  },
);

// ---------------------------------------------------------------- reuse of a search's final evaluation

const AP0 = { giou: 0.46305213560924785, 'cse-b-reg': 0.4567326908425073 };
/** The journal's final APs at seeds 1 and 2 (seed 2 of cse-b-reg diverged). */
const AP_K = { giou: [0.4712, 0.4588], 'cse-b-reg': [0.4601, null] };
type Name = keyof typeof AP0;

/** The search's environment in its journal (src/util/provenance.ts's format): the machine of this study's seed-0 files. */
const lib = (version: string, path: string, pkg: string) => ({ version, path, from: `dpkg ${pkg}` });
const SEARCH_ENV = {
  cpu: 'AMD EPYC',
  cores: 2,
  node: 'v20.20.2',
  platform: 'linux-x64',
  threads: null as number | null, // the search's coordinator does not load libtorch
  libtorch: lib('1.13.1+dfsg-4', '/usr/lib/x86_64-linux-gnu/libtorch_cpu.so.1.13.0', 'libtorch1.13'),
  blas: lib('0.3.21+ds-4', '/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3', 'libopenblas0-openmp'),
};
/** The search's provenance at its start, and at a resume (another commit and command). */
const searchProv = (env = SEARCH_ENV) => ({
  commit: 'a'.repeat(40),
  dirty: false,
  srcHash: '0',
  command: 'cse-autoloss search --config configs/search-demo.yaml --out results/discovery/demo/run',
  env,
});
const resumedProv = (env = SEARCH_ENV) => ({
  ...searchProv(env),
  commit: 'b'.repeat(40),
  command: 'cse-autoloss search --resume --out results/discovery/demo/run',
});

/**
 * A results root for the demo setting in which only the four extra full-schedule seeds are pending:
 * this study's seed-0 full runs of the default (giou) and the published half (cse-b-reg), written
 * in the provenance format of the first S1 files (strings), stand-ins for every other run, a
 * stand-in dataset, and the search's journal (src/util/provenance.ts's format) with the final runs
 * of both losses at seeds 0-2 at the cpu-small schedule. `searchAp0` and `searchThreads` change
 * what the search measured at seed 0; `searchEnv` its environment; `task` its final task;
 * `failed` turns a seed-k run into a timeout ('failed'); `records: false` writes no final record
 * (the search has not reached its final evaluation); `resumed` records a resumed session and
 * writes the records so that giou's seed 1 predates every session (its session cannot be told),
 * giou's seed 2 falls in the start session and cse-b-reg's seeds 1-2 in the resumed one.
 * Before the journal exists, the plan says nothing of reuse (asserted here when stand-ins are made).
 */
function reuseRoot(
  opts: {
    searchAp0?: Partial<typeof AP0>;
    searchThreads?: Partial<Record<Name, number>>;
    searchEnv?: Partial<typeof SEARCH_ENV>;
    task?: Record<string, unknown>;
    failed?: { name: Name; seed: 1 | 2 };
    records?: boolean;
    resumed?: boolean;
    standIns?: boolean;
  } = {},
) {
  const root = mkdtempSync(join(tmpdir(), 'cse-proxy-reuse-'));
  const write = (file: string, v: unknown) => {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(v, null, 1)}\n`);
  };
  const studyEnv = {
    cpu: 'AMD EPYC',
    cores: 2,
    libtorch: '1.13.1+dfsg-4',
    blas: 'libopenblas0-openmp 0.3.21+ds-4 (/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3)',
    node: 'v20.20.2',
    platform: 'linux-x64',
    threads: 2,
  };
  for (const [name, role] of [
    ['giou', 'default'],
    ['cse-b-reg', 'published'],
  ] as const)
    write(join(root, 'proxy', 'demo', 'full', `${name}-seed0.json`), {
      setting: 'demo',
      detector: 'fcos',
      mode: 'reg',
      kind: 'full',
      proxy: null,
      lossName: name,
      loss: PRESETS[name]!.text,
      role,
      mos1: 1,
      seed: 0,
      status: 'ok',
      AP: AP0[name],
      AP50: 0.65,
      seconds: 1200,
      provenance: { commit: null, dirty: false, env: studyEnv, command: 'test' },
    });
  // stand-ins for the other runs (another loss text: the report leaves them out) and the dataset;
  // the plan, without a journal yet, says nothing of reuse
  const plan = opts.standIns === false ? { code: 0, out: '' } : script('--plan', '--settings', 'demo', '--root', root);
  assert.equal(plan.code, 0, plan.out);
  assert.doesNotMatch(plan.out, /reusable|not taken|the search/);
  for (const m of plan.out.matchAll(/^ {2}pending (\S+) (\S+) \(\w+\) seed (\d)/gm)) {
    const [, kind, name, seed] = m;
    if (kind === 'full' && seed !== '0') continue;
    write(join(root, 'proxy', 'demo', kind!, `${name}-seed${seed}.json`), {
      setting: 'demo',
      kind: kind === 'full' ? 'full' : 'proxy',
      proxy: kind === 'full' ? null : { name: kind },
      lossName: name,
      loss: 'stand-in',
      seed: Number(seed),
      status: 'ok',
      AP: 0.1,
      AP50: 0.2,
      seconds: 1,
    });
  }
  write(join(root, 'data', 'mnist-det-demo', 'train', 'annotations.json'), {});
  // the search's journal: its config's final task is the cpu-small schedule with seeds 0-2
  const cfg = loadConfig({ demo: true });
  const task = { kind: 'detector', detector: 'fcos', preset: 'cpu-small', dataDir: 'data/mnist-det-demo' };
  Object.assign(task, { iters: 4000, trainSubset: 0, valSubset: 0, batch: 8, lr: 0.02, timeoutSeconds: 7200 }, opts.task);
  const config = { ...cfg, final: { ...cfg.final, enabled: true, published: true, seeds: [0, 1, 2], task } };
  const env = { ...SEARCH_ENV, ...opts.searchEnv };
  const prov = searchProv(env);
  const j = Journal.open(join(root, 'discovery', 'demo', 'run'), { create: true });
  j.setMeta('config', JSON.stringify(config));
  j.setMeta('provenance', JSON.stringify(prov));
  j.setMeta('sessions', JSON.stringify([{ startedAt: '', resumed: false, allowCodeChange: false, provenance: prov }]));
  const keys = [0, 1, 2].map((seed) => hashOf({ stage: 'final', mode: 'reg', seed, config: task, fp: FINGERPRINT_VERSION }));
  const put = (name: Name, seed: number) => {
    const ap = seed === 0 ? (opts.searchAp0?.[name] ?? AP0[name]) : AP_K[name][seed - 1]!;
    const failed = opts.failed?.name === name && opts.failed.seed === seed;
    j.putResult({
      fingerprint: `reg:${name}`,
      stage: 'final',
      key: keys[seed]!,
      loss: printOfficial(parseExpr('reg', PRESETS[name]!.text!)),
      status: failed ? 'failed' : ap === null ? 'diverged' : 'ok',
      pass: null,
      score: failed ? 0 : (ap ?? 0),
      metrics: {
        ap: failed ? 0 : (ap ?? 0),
        ap50: failed || ap === null ? 0 : ap + 0.2,
        threads: seed === 0 ? (opts.searchThreads?.[name] ?? 2) : 2,
      },
      reason: failed ? 'timed out after 7200 s' : ap === null ? 'loss NaN at iteration 10' : null,
      seconds: 1000 + seed,
    });
  };
  if (opts.records !== false && !opts.resumed)
    for (const name of ['giou', 'cse-b-reg'] as const) for (const seed of [0, 1, 2]) put(name, seed);
  if (opts.records !== false && opts.resumed) {
    // finishedAt is the write's Date.now(): each phase starts after the previous one's last millisecond
    const tick = () => {
      const t = Date.now();
      while (Date.now() <= t);
      return new Date().toISOString();
    };
    for (const [name, seed] of [
      ['giou', 0],
      ['cse-b-reg', 0],
      ['giou', 1],
    ] as const)
      put(name, seed);
    const started = tick();
    tick();
    put('giou', 2);
    const resumedAt = tick();
    tick();
    put('cse-b-reg', 1);
    put('cse-b-reg', 2);
    j.setMeta(
      'sessions',
      JSON.stringify([
        { startedAt: started, resumed: false, allowCodeChange: false, provenance: prov },
        { startedAt: resumedAt, resumed: true, allowCodeChange: false, provenance: resumedProv(env) },
      ]),
    );
  }
  j.close();
  return { root, keys, journal: join(root, 'discovery', 'demo', 'run', 'journal.sqlite') };
}

const fullLines = (out: string) => out.split('\n').filter((l) => /^ {2}pending full \S+ \(\w+\) seed [12]/.test(l));

test('seeds 1-2 of the default and the published half are taken from the search when seed 0 is bit-identical', { timeout: 120_000 }, () => {
  const { root, keys, journal: shown } = reuseRoot({ resumed: true });
  const journal = join('discovery', 'demo', 'run', 'journal.sqlite');
  const plan = script('--plan', '--settings', 'demo', '--root', root);
  assert.equal(plan.code, 0, plan.out);
  const lines = fullLines(plan.out);
  assert.equal(lines.length, 4, plan.out);
  for (const l of lines) assert.ok(l.endsWith(`: reusable from ${shown} (seed-0 AP bit-identical)`), l);
  // --no-reuse: the plan as without a journal
  const off = script('--plan', '--settings', 'demo', '--root', root, '--no-reuse');
  assert.equal(off.code, 0, off.out);
  assert.deepEqual(
    fullLines(off.out),
    lines.map((l) => l.slice(0, l.indexOf(': reusable'))),
  );
  assert.doesNotMatch(off.out, /reusable|not taken/);
  // the run: nothing trains (a training would fail on the stand-in dataset), the four files come from the journal
  const out = join(root, 'PROXY.md');
  const r = script('--settings', 'demo', '--root', root, '--out', out, '--smoke-iters', '2', '--max-jobs', '4');
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /30 of 34 runs done; 4 to go/);
  const taken = [
    ...r.out.matchAll(
      /taken from the demo search's final evaluation \((\S+), key \w+\), not trained here: valid because the seed-0 runs of \S+ here and in the search have the same AP, \S+, bit for bit/g,
    ),
  ];
  assert.equal(taken.length, 4, r.out);
  for (const m of taken) assert.equal(m[1], shown);
  assert.doesNotMatch(r.out, /not taken from/);
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' });
  const commit = head.status === 0 ? head.stdout.trim() : null;
  for (const name of ['giou', 'cse-b-reg'] as const)
    for (const seed of [1, 2]) {
      const rec = JSON.parse(readFileSync(join(root, 'proxy', 'demo', 'full', `${name}-seed${seed}.json`), 'utf8')) as Record<
        string,
        unknown
      >;
      const ap = AP_K[name][seed - 1]!;
      assert.equal(rec.loss, PRESETS[name]!.text);
      assert.equal(rec.seed, seed);
      assert.equal(rec.status, ap === null ? 'diverged' : 'ok');
      assert.equal(rec.AP, ap);
      assert.equal(rec.AP50, ap === null ? null : ap + 0.2);
      assert.equal(rec.seconds, 1000 + seed);
      assert.equal(rec.smoke, undefined);
      // its provenance: the search process that trained it (giou seed 1 predates every session: the start's, with
      // every session's commit; giou seed 2: the start session; cse-b-reg: the resumed session), not this process
      const reused = rec.reusedFrom as Record<string, unknown>;
      const { copiedBy, session, sessions, ...rest } = reused;
      assert.deepEqual(rest, { journal, key: keys[seed], seed0AP: AP0[name], threads: 2 });
      assert.equal((copiedBy as { commit: unknown }).commit, commit);
      assert.match((copiedBy as { command: string }).command, /results-proxy\.ts/);
      assert.deepEqual(Object.keys(copiedBy as object).sort(), ['command', 'commit']);
      const resumed = name === 'cse-b-reg';
      assert.deepEqual(rec.provenance, resumed ? resumedProv() : searchProv());
      if (name === 'giou' && seed === 1) {
        assert.equal(session, undefined);
        assert.deepEqual(
          (sessions as { commit: string }[]).map((x) => x.commit),
          ['a'.repeat(40), 'b'.repeat(40)],
        );
      } else {
        assert.equal(sessions, undefined);
        assert.deepEqual(
          { index: (session as { index: number }).index, resumed: (session as { resumed: boolean }).resumed },
          { index: resumed ? 1 : 0, resumed },
        );
      }
    }
  // the report, written from the files read back (as --collect-only does), counts them (the stand-ins, of another loss text, are left out)
  const md = readFileSync(out, 'utf8');
  assert.match(md, /6 of 34 runs finished/);
  // the full schedule's default → published gap: the means over the seeds that finished (cse-b-reg's seed 2
  // diverged), and the gap in the root mean square of the two losses' seed s.d.s
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  const sd = (a: number[]) => Math.sqrt(a.reduce((x, y) => x + (y - mean(a)) ** 2, 0) / (a.length - 1));
  const giou = [AP0.giou, ...(AP_K.giou as number[])];
  const pub = [AP0['cse-b-reg'], AP_K['cse-b-reg'][0]!];
  const gap = mean(pub) - mean(giou);
  const rms = Math.sqrt((sd(giou) ** 2 + sd(pub) ** 2) / 2);
  const row = md
    .split('\n')
    .filter((l) => l.startsWith('| full schedule (cpu-small, val) |'))
    .at(-1)!; // the demo's
  const sign = (x: number) => (x < 0 ? '−' : '');
  assert.equal(
    row.split(' | ')[7],
    `${gap < 0 ? '−' : '+'}${Math.abs(100 * gap).toFixed(1)} (${sign(gap)}${Math.abs(gap / rms).toFixed(1)})`,
    row,
  );
});

test('a seed-0 AP 1e-12 apart, or another thread count: nothing is reused', { timeout: 120_000 }, () => {
  const { root, journal } = reuseRoot({ searchAp0: { giou: AP0.giou + 1e-12 }, searchThreads: { 'cse-b-reg': 1 }, standIns: false });
  const plan = script('--plan', '--settings', 'demo', '--root', root);
  assert.equal(plan.code, 0, plan.out);
  const lines = fullLines(plan.out);
  assert.equal(lines.length, 4, plan.out);
  for (const l of lines) {
    assert.doesNotMatch(l, /reusable/);
    assert.ok(l.includes(`: not taken from ${journal}: seed-0 AP `), l);
    assert.match(l, /seed-0 AP .* here, .* in the search .*; trained here$/);
  }
  const giou = lines.filter((l) => l.includes(' giou '));
  for (const l of giou) assert.ok(l.includes(`seed-0 AP ${AP0.giou} here, ${AP0.giou + 1e-12} in the search (not bit-identical)`), l);
  for (const l of lines.filter((x) => x.includes(' cse-b-reg '))) assert.match(l, /seed 0 trained with 2 threads here, 1 in the search/);
});

test('another CPU, libtorch, BLAS or final schedule, or a timed-out seed-k run: nothing is reused', { timeout: 120_000 }, () => {
  const cases: { opts: Parameters<typeof reuseRoot>[0]; why: RegExp; only?: string }[] = [
    { opts: { searchEnv: { cpu: 'Intel Xeon' } }, why: /\(CPU 'AMD EPYC' here, 'Intel Xeon' in the search\); trained here$/ },
    {
      opts: { searchEnv: { libtorch: lib('2.1.2+dfsg-1', '/usr/lib/x86_64-linux-gnu/libtorch_cpu.so.2.1', 'libtorch2.1') } },
      why: /\(libtorch 1\.13\.1\+dfsg-4 here, 2\.1\.2\+dfsg-1 in the search\); trained here$/,
    },
    {
      opts: { searchEnv: { blas: lib('0.3.21+ds-4', '/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3', 'libopenblas0-pthread') } },
      why: /\(blas libopenblas0-openmp 0\.3\.21\+ds-4 here, libopenblas0-pthread 0\.3\.21\+ds-4 in the search\); trained here$/,
    },
    {
      opts: { searchEnv: { blas: lib('0.3.26+ds-1', '/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3', 'libopenblas0-openmp') } },
      why: /\(blas libopenblas0-openmp 0\.3\.21\+ds-4 here, libopenblas0-openmp 0\.3\.26\+ds-1 in the search\); trained here$/,
    },
    {
      opts: { task: { iters: 3000 } },
      why: /: its final task is not this study's full schedule \(fcos cpu-small, reg\): \{.*"iters":3000.*\}; trained here$/,
    },
    {
      // only that run: the other three are taken
      opts: { failed: { name: 'giou', seed: 1 } },
      why: /the seed-0 runs of giou here and in the search have the same AP, \S+, bit for bit, but its seed-1 run ended 'failed' \(timed out after 7200 s\) \(only ok or diverged runs are taken\); trained here$/,
      only: ' giou (default) seed 1',
    },
  ];
  for (const c of cases) {
    const { root, journal } = reuseRoot({ ...c.opts, standIns: false });
    const plan = script('--plan', '--settings', 'demo', '--root', root);
    assert.equal(plan.code, 0, plan.out);
    const lines = fullLines(plan.out);
    assert.equal(lines.length, 4, plan.out);
    for (const l of lines)
      if (!c.only || l.includes(c.only)) {
        assert.ok(l.includes(`: not taken from ${journal}: `), l);
        assert.match(l, c.why);
      } else assert.ok(l.endsWith(`: reusable from ${journal} (seed-0 AP bit-identical)`), l);
  }
});

test('a search that has not trained its final seed 0 yet: the plan says the run may come from it', { timeout: 60_000 }, () => {
  const { root, journal } = reuseRoot({ records: false, standIns: false });
  const plan = script('--plan', '--settings', 'demo', '--root', root);
  assert.equal(plan.code, 0, plan.out);
  const lines = fullLines(plan.out);
  assert.equal(lines.length, 4, plan.out);
  for (const l of lines) {
    const name = / full (\S+) /.exec(l)![1];
    assert.ok(
      l.endsWith(
        ` (the search ${journal} has not trained its final seed 0 of ${name} yet: once it has, this run may be taken from it; running now trains it here)`,
      ),
      l,
    );
  }
});

test(
  '--defer-to-search: the default and published seeds 1-2 the search has not trained are left to it, nothing trained; refused with --no-reuse',
  { timeout: 120_000 },
  () => {
    const { root, journal } = reuseRoot({ records: false, standIns: true });
    const out = join(root, 'PROXY.md');
    const plan = script('--plan', '--settings', 'demo', '--root', root, '--defer-to-search');
    assert.equal(plan.code, 0, plan.out);
    const lines = fullLines(plan.out);
    assert.equal(lines.length, 4, plan.out);
    for (const l of lines) assert.ok(l.endsWith(" (deferred to the demo search's final evaluation: --defer-to-search)"), l);
    // the run: the four are not trained (a training would fail on the stand-in dataset) and no file is written
    const r = script('--settings', 'demo', '--root', root, '--out', out, '--smoke-iters', '2', '--max-jobs', '4', '--defer-to-search');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /30 of 34 runs done; 4 to go/);
    const said = [
      ...r.out.matchAll(
        /deferred to the demo search's final evaluation, which trains it \(--defer-to-search\): the search (\S+) has not trained its final seed 0/g,
      ),
    ];
    assert.equal(said.length, 4, r.out);
    for (const m of said) assert.equal(m[1], journal);
    assert.match(r.out, /4 run\(s\) deferred to the search's final evaluation/);
    assert.doesNotMatch(r.out, /-> /);
    for (const name of ['giou', 'cse-b-reg'])
      for (const seed of [1, 2]) assert.ok(!existsSync(join(root, 'proxy', 'demo', 'full', `${name}-seed${seed}.json`)));
    // without a journal at all: deferred too, naming where the journal would be
    rmSync(join(root, 'discovery'), { recursive: true });
    const r2 = script('--settings', 'demo', '--root', root, '--out', out, '--smoke-iters', '2', '--max-jobs', '4', '--defer-to-search');
    assert.equal(r2.code, 0, r2.out);
    assert.equal([...r2.out.matchAll(/there is no search journal \S+discovery\/demo\/run\/journal\.sqlite yet/g)].length, 4, r2.out);
    // with --no-reuse it means nothing: refused
    const bad = script('--settings', 'demo', '--root', root, '--defer-to-search', '--no-reuse');
    assert.equal(bad.code, 2, bad.out);
    assert.match(bad.out, /--defer-to-search .* needs reuse/);
  },
);
