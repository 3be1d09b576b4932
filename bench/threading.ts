/**
 * npm run bench:threading — the two environment effects docs/BACKEND.md describes:
 *  1. BLAS: median time of a [2100x32]·[32x2048] matrix product on the torch backend (Debian's
 *     libtorch calls libblas.so.3: OpenBLAS when installed, else the reference BLAS; compare by
 *     switching `update-alternatives --config libblas.so.3-x86_64-linux-gnu`).
 *  2. OpenMP waiting: 20 training iterations of the tiny FCOS (2 threads) in a child process
 *     with OMP_WAIT_POLICY=ACTIVE, =PASSIVE and libgomp's spin count bounded (GOMP_SPINCOUNT,
 *     the backend's default), while two busy-looping processes compete for the cores (as in a
 *     search pool or on a shared machine).
 * Options: --iters N (20) --no-load (no competing processes) --settings A,B,... (each
 *          ACTIVE, PASSIVE or a spin count; default ACTIVE,PASSIVE,<the backend's default>)
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '../src/tf.js';
import { useTorchBackend } from '../src/backend/index.js';
import { DEFAULT_GOMP_SPINCOUNT } from '../src/backend/native.js';

const argIndex = process.argv.indexOf('--iters');
const iters = argIndex > 0 ? Number(process.argv[argIndex + 1]) : 20;
const withLoad = !process.argv.includes('--no-load');
const settingsIndex = process.argv.indexOf('--settings');
const settings = settingsIndex > 0 ? process.argv[settingsIndex + 1]!.split(',') : ['ACTIVE', 'PASSIVE', String(DEFAULT_GOMP_SPINCOUNT)];

if (process.env.CSE_BENCH_CHILD) {
  // Child: train the tiny FCOS and print the training seconds.
  const { trainDetector } = await import('../src/detect/index.js');
  await useTorchBackend();
  const r = await trainDetector({
    detector: 'fcos',
    data: process.env.CSE_BENCH_CHILD,
    preset: 'tiny',
    iters,
    batch: 8,
    valSubset: 4,
    seed: 1,
    logEvery: 1000,
  });
  console.log(JSON.stringify({ trainSeconds: r.trainSeconds }));
  process.exit(0);
}

await useTorchBackend();
const a = tf.randomNormal([2100, 32]);
const b = tf.randomNormal([32, 2048]);
const times: number[] = [];
for (let i = 0; i < 13; i++) {
  const t0 = performance.now();
  tf.tidy(() => {
    tf.matMul(a, b).dataSync(); // (returning a big typed array from tidy would make tfjs walk it)
  });
  if (i >= 3) times.push(performance.now() - t0);
}
times.sort((x, y) => x - y);
const blas =
  spawnSync('update-alternatives', ['--query', 'libblas.so.3-x86_64-linux-gnu'], { encoding: 'utf8' }).stdout.match(
    /^Value: (.*)$/m,
  )?.[1] ?? 'unknown';
console.log(`matmul [2100x32]x[32x2048]: median ${times[5]!.toFixed(1)} ms (libblas.so.3 -> ${blas})`);

const dir = mkdtempSync(join(tmpdir(), 'cse-threading-'));
const cli = join(import.meta.dirname, '..', 'bin', 'cse-autoloss.js');
spawnSync(process.execPath, [cli, 'data', 'make', '--kind', 'mnist-det', '--images', '120', '--size', '64', '--seed', '0', '--out', dir], {
  stdio: 'ignore',
});
const hogs = withLoad ? [0, 1].map(() => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' })) : [];
try {
  for (const setting of settings) {
    const env: NodeJS.ProcessEnv = { ...process.env, CSE_BENCH_CHILD: dir, CSE_THREADS: '2' };
    delete env.OMP_WAIT_POLICY;
    delete env.GOMP_SPINCOUNT;
    const name = /^\d+$/.test(setting) ? 'GOMP_SPINCOUNT' : 'OMP_WAIT_POLICY';
    env[name] = setting;
    const policy = `${name}=${setting}`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', import.meta.filename, '--iters', String(iters)], { encoding: 'utf8', env });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    const secs = (JSON.parse(line) as { trainSeconds: number }).trainSeconds;
    console.log(
      `tiny FCOS, ${iters} iterations, 2 threads, ${policy}${withLoad ? ', 2 competing busy processes' : ''}: ${secs.toFixed(1)} s`,
    );
  }
} finally {
  for (const h of hogs) h.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
