// Training runs that never lose or fake work: bit-identical resume (after a hard abort, Ctrl-C
// and kill -9 at random points, checkpoint writes included), atomic checkpoint sets with
// checksums, refusals that protect a run folder, and final writes that are only reported after
// they succeeded. The reference is always the same training run uninterrupted.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useTorchBackend } from '../../src/backend/index.js';
import { makeDataset } from '../../src/data/index.js';
import { CheckpointError, DetectConfigError, trainDetector } from '../../src/detect/index.js';
import { Rng } from '../../src/util/rng.js';

const root = mkdtempSync(join(tmpdir(), 'resume-'));
const data = join(root, 'mnist');
const bin = fileURLToPath(new URL('../../bin/cse-autoloss.js', import.meta.url));
const env = { ...process.env, CSE_THREADS: '1' };

// logEvery 3 and checkpoints every 2: a checkpoint often falls inside a logging window
const base = {
  detector: 'fcos',
  data,
  preset: 'tiny',
  iters: 10,
  batch: 2,
  logEvery: 3,
  checkpointEvery: 2,
  readAhead: 0,
  seed: 5,
} as const;
// the CLI runs log every iteration (a config file sets what has no flag)
const cliConfig = join(root, 'cli.json');
const cliArgs = (out: string, extra: string[] = [], config = cliConfig) => [
  bin,
  'train',
  '--config',
  config,
  '--detector',
  'fcos',
  '--data',
  data,
  '--out',
  out,
  '--preset',
  'tiny',
  '--iters',
  '10',
  '--batch',
  '2',
  '--checkpoint-every',
  '1',
  '--seed',
  '5',
  '--threads',
  '1',
  ...extra,
];

interface LogLine {
  iter?: number;
  losses?: Record<string, number>;
  eval?: Record<string, number>;
  warning?: string;
}
const readLog = (out: string): LogLine[] =>
  readFileSync(join(out, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogLine);
/** The log without its timing fields: what must be identical between runs. */
const logContent = (out: string) => readLog(out).map((l) => ({ iter: l.iter, losses: l.losses, eval: l.eval, warning: l.warning }));
const weightsOf = (out: string) => readFileSync(join(out, 'checkpoints', 'latest', 'weights.bin'));
const metricsOf = (out: string) =>
  JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { status: string; metrics: Record<string, number>; iters: number };

let reference: string;
let cliReference: string;

before(async () => {
  await useTorchBackend();
  writeFileSync(cliConfig, JSON.stringify({ logEvery: 1, readAhead: 0 }));
  writeFileSync(join(root, 'cli-base.json'), JSON.stringify({ logEvery: base.logEvery, readAhead: 0 }));
  await makeDataset('mnist-det', { images: 20, size: 64, seed: 3, out: data, valFraction: 0.2 });
  reference = join(root, 'reference');
  const r = await trainDetector({ ...base, out: reference });
  assert.equal(r.status, 'ok', r.reason);
  cliReference = join(root, 'cli-reference');
  const c = spawnSync(process.execPath, cliArgs(cliReference), { encoding: 'utf8', env });
  assert.equal(c.status, 0, c.stderr);
});

test('Rng state round-trips: a restored generator continues the same stream', () => {
  const a = new Rng(42);
  for (let i = 0; i < 7; i++) a.normal();
  const saved = JSON.parse(JSON.stringify(a.getState()));
  const want = Array.from({ length: 9 }, () => a.normal());
  const b = new Rng(1);
  b.setState(saved);
  assert.deepEqual(
    Array.from({ length: 9 }, () => b.normal()),
    want,
  );
  assert.throws(() => b.setState({ s: [0, 0, 0, 0], spareNormal: null }), /not a saved Rng state/);
});

test('a run stopped by a hard abort inside a logging window resumes bit-identically', async () => {
  const out = join(root, 'aborted');
  const ac = new AbortController();
  const r1 = await trainDetector({ ...base, out }, { signal: ac.signal, onProgress: (p) => p.iter === 6 && ac.abort() });
  assert.equal(r1.status, 'failed'); // stopped at iteration 6; the last checkpoint is at 6
  const r2 = await trainDetector({ ...base, out, resume: true });
  assert.equal(r2.status, 'ok', r2.reason);
  assert.deepEqual(r2.metrics, metricsOf(reference).metrics);
  assert.deepEqual(logContent(out), logContent(reference));
  assert.ok(weightsOf(out).equals(weightsOf(reference)), 'final weights differ from the uninterrupted run');
});

test('an interrupt finishes the iteration, saves a checkpoint, and the resume equals the uninterrupted run', async () => {
  const out = join(root, 'interrupted');
  const ac = new AbortController();
  // interrupt right after iteration 3's log line: iteration 4 is not started
  const r1 = await trainDetector(
    { ...base, out, checkpointEvery: 100 },
    { interrupt: ac.signal, onProgress: (p) => p.iter === 3 && ac.abort() },
  );
  assert.equal(r1.status, 'interrupted');
  assert.equal(r1.iters, 3);
  assert.deepEqual(r1.written, ['checkpoints/iter-0000003']);
  assert.ok(!existsSync(join(out, 'metrics.json')), 'an interrupted run writes no metrics');
  const notices: string[] = [];
  const r2 = await trainDetector({ ...base, out, checkpointEvery: 100, resume: true }, { onNotice: (m) => notices.push(m) });
  assert.match(notices.join('\n'), /resuming from .* at iteration 3/);
  assert.equal(r2.status, 'ok');
  assert.deepEqual(r2.metrics, metricsOf(reference).metrics);
  assert.deepEqual(logContent(out), logContent(reference));
});

test('kill -9 at random points (checkpoint writes included) and --resume reach the uninterrupted result', async (t) => {
  const out = join(root, 'killed');
  const rng = new Rng(2024);
  // the kill moment scales with this machine's speed: the uninterrupted CLI run's iteration time
  // (checkpoint writes included), so kills land before the run ends on a fast machine as on a slow one
  const refLog = readFileSync(join(cliReference, 'log.jsonl'), 'utf8').trim().split('\n');
  const msPerIter = 1000 / (JSON.parse(refLog[refLog.length - 1]) as { itPerSec: number }).itPerSec;
  const lastIter = () => {
    // the last complete line's iteration (the process may be writing the next one)
    const m = [...readFileSync(join(out, 'log.jsonl'), 'utf8').matchAll(/"iter":(\d+)[^\n]*\n/g)];
    return m.length ? Number(m[m.length - 1][1]) : 0;
  };
  let kills = 0;
  let first = true;
  for (let attempt = 0; attempt < 20; attempt++) {
    const child = spawn(process.execPath, cliArgs(out, first ? [] : ['--resume']), { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // wait until this process trains (its log grows past where it started), then kill at a random moment
    const startLen = existsSync(join(out, 'log.jsonl')) ? statSync(join(out, 'log.jsonl')).size : 0;
    let done = false;
    void exited.then(() => (done = true));
    const killing = kills < 5; // after 5 kills, let it finish
    const u = rng.uniform(0, 1);
    while (!done) {
      await new Promise((r) => setTimeout(r, 5));
      const len = existsSync(join(out, 'log.jsonl')) ? statSync(join(out, 'log.jsonl')).size : 0;
      if (len > startLen && killing) {
        // a random moment among the iterations this process still has to train (but the last)
        const remaining = Math.max(0.5, 10 - lastIter() - 1);
        await new Promise((r) => setTimeout(r, u * remaining * msPerIter));
        if (!done) {
          child.kill('SIGKILL');
          kills++;
        }
        break;
      }
    }
    const code = await exited;
    first = first && !existsSync(join(out, 'config.json'));
    if (code === 0) break;
    assert.equal(code, null, `the training process failed on its own (exit ${code}): ${stderr}`);
  }
  assert.ok(kills >= 3, `only ${kills} kills landed`);
  t.diagnostic(`${kills} kills landed`);
  assert.equal(metricsOf(out).status, 'ok');
  assert.deepEqual(metricsOf(out).metrics, metricsOf(cliReference).metrics);
  assert.deepEqual(logContent(out), logContent(cliReference));
  assert.ok(weightsOf(out).equals(weightsOf(cliReference)), 'final weights differ from the uninterrupted run');
  // no leftovers of interrupted writes; latest is a link to a complete set
  const left = readdirSync(join(out, 'checkpoints'));
  assert.ok(
    left.every((e) => e === 'latest' || /^iter-\d{7}$/.test(e)),
    left.join(' '),
  );
  assert.match(readlinkSync(join(out, 'checkpoints', 'latest')), /^iter-0000010$/);
});

test('Ctrl-C on train: saves a checkpoint, prints the resume command, exits 130; the resume equals the uninterrupted run', async () => {
  const out = join(root, 'ctrl-c');
  const child = spawn(process.execPath, cliArgs(out, ['--checkpoint-every', '100']), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // 'close', not 'exit': the exit can be seen before the last stderr lines (checked below) are read
  let ended = false;
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => ((ended = true), resolve(code))));
  // the signal once training is under way (its first log line), with 9 of the 10 iterations left;
  // a child that ends first fails the test here instead of leaving this loop polling forever
  while (!(existsSync(join(out, 'log.jsonl')) && readFileSync(join(out, 'log.jsonl'), 'utf8').includes('"losses"'))) {
    assert.ok(!ended, `the training ended before its first log line (exit ${child.exitCode}): ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(!ended, `the training ended before the interrupt could be sent: ${stderr}`);
  child.kill('SIGINT');
  assert.equal(await exited, 130, stderr);
  assert.match(stderr, /interrupted at iteration \d+; checkpoint saved/);
  const cmd = /resume with: cse-autoloss (.*)\n/.exec(stderr)?.[1];
  assert.ok(cmd?.includes('--resume'), stderr);
  const resumed = spawnSync(process.execPath, [bin, ...cmd!.split(' ')], { encoding: 'utf8', env });
  assert.equal(resumed.status, 0, resumed.stderr);
  // --checkpoint-every differs from the reference's only in when checkpoints are taken
  assert.deepEqual(metricsOf(out).metrics, metricsOf(cliReference).metrics);
  assert.deepEqual(logContent(out), logContent(cliReference));
});

test('reruns never destroy work: a run folder needs --resume, a resume needs a run and the same config', async () => {
  const out = join(root, 'guarded');
  const r = await trainDetector({ ...base, out, iters: 4 });
  assert.equal(r.status, 'ok');
  const before = readFileSync(join(out, 'metrics.json'), 'utf8');
  const c1 = spawnSync(
    process.execPath,
    [bin, 'train', '--detector', 'fcos', '--data', data, '--out', out, '--preset', 'tiny', '--iters', '5'],
    { encoding: 'utf8', env },
  );
  assert.equal(c1.status, 2);
  assert.match(c1.stderr, /already holds a training run; use --resume/);
  assert.equal(readFileSync(join(out, 'metrics.json'), 'utf8'), before);
  const c2 = spawnSync(
    process.execPath,
    [bin, 'train', '--detector', 'fcos', '--data', data, '--out', join(root, 'empty'), '--preset', 'tiny', '--resume'],
    { encoding: 'utf8', env },
  );
  assert.equal(c2.status, 2);
  assert.match(c2.stderr, /holds no training run to resume; drop --resume/);
  await assert.rejects(
    trainDetector({ ...base, out, iters: 4, lr: 0.5, clsLoss: 'cse-b-cls', resume: true }),
    (e: Error) =>
      e instanceof DetectConfigError && /lr: (undefined|\(unset\)) → 0.5/.test(e.message) && /clsLoss: .* → "cse-b-cls"/.test(e.message),
  );
  assert.equal(readFileSync(join(out, 'metrics.json'), 'utf8'), before);
  assert.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).clsLoss, undefined, 'config.json was rewritten');
});

test('a damaged checkpoint is refused by name with the previous intact one offered; --resume-from uses it', async () => {
  const out = join(root, 'damaged');
  const ac = new AbortController();
  const r1 = await trainDetector({ ...base, out }, { signal: ac.signal, onProgress: (p) => p.iter === 6 && ac.abort() });
  assert.equal(r1.status, 'failed');
  const latest = join(out, 'checkpoints', 'latest');
  assert.equal(readlinkSync(latest), 'iter-0000006');
  truncateSync(join(latest, 'weights.bin'), 100);
  const c = spawnSync(process.execPath, cliArgs(out, ['--resume', '--checkpoint-every', '2'], join(root, 'cli-base.json')), {
    encoding: 'utf8',
    env,
  });
  assert.equal(c.status, 2, c.stderr);
  assert.match(c.stderr, /checkpoint .*iter-0000006.* is damaged: weights\.bin has 100 bytes/);
  assert.match(c.stderr, /previous intact checkpoint is .*iter-0000004 \(iteration 4\): resume from it with --resume-from/);
  // a missing optimizer file is named too
  unlinkSync(join(out, 'checkpoints', 'iter-0000004', 'optimizer.bin'));
  await assert.rejects(
    trainDetector({ ...base, out, resume: true }, { resumeFrom: join(out, 'checkpoints', 'iter-0000004') }),
    (e: Error) => e instanceof CheckpointError && /iter-0000004 is damaged: optimizer\.bin is missing/.test(e.message),
  );
});

test('--resume-from an intact older checkpoint continues bit-identically', async () => {
  const out = join(root, 'older');
  const ac = new AbortController();
  await trainDetector({ ...base, out }, { signal: ac.signal, onProgress: (p) => p.iter === 6 && ac.abort() });
  const r = await trainDetector({ ...base, out, resume: true }, { resumeFrom: join(out, 'checkpoints', 'iter-0000004') });
  assert.equal(r.status, 'ok');
  assert.deepEqual(r.metrics, metricsOf(reference).metrics);
  assert.deepEqual(logContent(out), logContent(reference));
});

test('an unwritable output is found before training; a failed final write is never reported as written', async () => {
  const out = join(root, 'blocked');
  mkdirSync(join(out, 'checkpoints'), { recursive: true });
  writeFileSync(join(out, 'checkpoints', 'latest'), 'not a checkpoint');
  const c = spawnSync(process.execPath, cliArgs(out), { encoding: 'utf8', env });
  assert.equal(c.status, 2);
  assert.match(c.stderr, /checkpoints\/latest is a file/);
  assert.doesNotMatch(c.stderr, /train \[/, 'training started before the check');
  // results.json cannot be written (a folder stands there): status failed, and the summary lists only what was written
  const out2 = join(root, 'final-write');
  mkdirSync(join(out2, 'results.json'), { recursive: true });
  const c2 = spawnSync(process.execPath, cliArgs(out2, ['--iters', '2']), { encoding: 'utf8', env });
  assert.equal(c2.status, 1, c2.stderr);
  assert.match(c2.stdout, /status failed \(cannot write the run's results: .*results\.json/);
  assert.doesNotMatch(c2.stdout, /wrote .*metrics\.json/);
  assert.ok(!existsSync(join(out2, 'metrics.json')));
  rmSync(join(out2, 'results.json'), { recursive: true });
});
