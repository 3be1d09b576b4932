/**
 * Queue benchmark: BullMQ on a local redis-server (started here on a free loopback port and
 * stopped after), `cse-autoloss worker` processes with the stand-in stage module.
 *
 *   1. overhead per job: submit → result, one job at a time, trivial stage work (SLEEP:0), one
 *      worker; the reference is the local process pool on the same work, measured in the same run
 *   2. pipelined trivial jobs: jobs per second through one worker (all submitted at once)
 *   3. throughput with 1, 2 and 4 workers on short sleep jobs (job time dominates): jobs per
 *      second and the scaling factor against one worker (ideal: N)
 *
 * Targets: overhead under 5 ms per job; scaling at least 0.9·N.
 *
 *   npm run bench:queue [-- --jobs 200 --sleep-ms 100 --per-worker 20]
 */
import { cpus } from 'node:os';
import { QueueTransport } from '../src/queue/index.js';
import { ProcessPool } from '../src/search/transport/pool.js';
import type { StageTask } from '../src/search/types.js';
import { RedisServer, STAND_IN, exited, killAll, startWorker, workerReady } from '../test/queue/helpers.js';

const args = process.argv.slice(2);
const flag = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const JOBS = flag('jobs', 200);
const SLEEP_MS = flag('sleep-ms', 100);
const PER_WORKER = flag('per-worker', 20);
const OVERHEAD_TARGET_MS = 5;
const SCALING_TARGET = 0.9;
const VERSION = { protocol: 1, code: 'bench', config: 'bench' };
process.env.CSE_CODE_VERSION = 'bench';

let seedCounter = 1;
const task = (ms: number): StageTask => ({
  stage: 'mos1',
  mode: 'cls',
  loss: `SLEEP:${ms}`,
  seed: seedCounter++,
  config: { samples: 1, classes: 1, steps: 1, lr: 1 },
});

function stats(xs: number[]): { median: number; p95: number; mean: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, p95: s[Math.floor(s.length * 0.95)]!, mean: s.reduce((a, b) => a + b, 0) / s.length };
}

async function sequential(run: (t: StageTask) => Promise<unknown>, n: number): Promise<number[]> {
  for (let i = 0; i < 20; i++) await run(task(0)); // warm-up: stage processes started, JIT warm
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await run(task(0));
    out.push(performance.now() - t0);
  }
  return out;
}

async function main(): Promise<void> {
  const redis = await RedisServer.start();
  const info = `node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), redis-server on 127.0.0.1`;
  console.log(`Queue benchmark: BullMQ over ${info}`);
  console.log('');
  let failures = 0;
  try {
    // 1. Overhead per job.
    const pool = new ProcessPool({ workers: 1, threadsPerWorker: 1, stageModule: STAND_IN });
    const poolLat = stats(await sequential((t) => pool.run(t, { timeoutSeconds: 30 }), JOBS));
    await pool.close();
    const w = startWorker(redis.url, { args: ['--quiet', '--queue-name', 'overhead'], env: { CSE_CODE_VERSION: 'bench' } });
    await workerReady(w);
    const notice = (m: string) => console.error(`   (queue: ${m})`);
    const q = await QueueTransport.open({ url: redis.url, queueName: 'overhead', version: VERSION, onNotice: notice });
    const queueLat = stats(await sequential((t) => q.run(t, { timeoutSeconds: 30 }), JOBS));
    // 2. Pipelined trivial jobs through the same worker.
    const n2 = JOBS * 2;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: n2 }, () => q.run(task(0), { timeoutSeconds: 60 })));
    const pipelined = n2 / ((performance.now() - t0) / 1000);
    await q.close();
    w.proc.kill('SIGTERM');
    await exited(w.proc);
    const over = queueLat.median - poolLat.median;
    console.log(`1. submit → result, one job at a time, trivial work (${JOBS} jobs, 1 worker)`);
    console.log(
      `   queue:       median ${queueLat.median.toFixed(2)} ms, p95 ${queueLat.p95.toFixed(2)} ms, mean ${queueLat.mean.toFixed(2)} ms`,
    );
    console.log(
      `   local pool:  median ${poolLat.median.toFixed(2)} ms, p95 ${poolLat.p95.toFixed(2)} ms, mean ${poolLat.mean.toFixed(2)} ms (reference, same run)`,
    );
    console.log(
      `   queue overhead per job: ${queueLat.median.toFixed(2)} ms (${over.toFixed(2)} ms more than the local pool); target < ${OVERHEAD_TARGET_MS} ms: ${queueLat.median < OVERHEAD_TARGET_MS ? 'met' : 'NOT met'}`,
    );
    if (queueLat.median >= OVERHEAD_TARGET_MS) failures++;
    console.log(`2. pipelined trivial jobs (${n2} submitted at once, 1 worker): ${pipelined.toFixed(0)} jobs/s`);
    console.log('');

    // 3. Throughput with 1, 2, 4 workers on sleep jobs.
    console.log(`3. throughput on ${SLEEP_MS} ms sleep jobs (${PER_WORKER} per worker, all submitted at once)`);
    console.log('   workers  jobs  wall s  jobs/s   ideal jobs/s  scaling  vs ideal');
    let base = 0;
    for (const n of [1, 2, 4]) {
      const name = `throughput-${n}`;
      const workers = Array.from({ length: n }, () =>
        startWorker(redis.url, { args: ['--quiet', '--queue-name', name], env: { CSE_CODE_VERSION: 'bench' } }),
      );
      await Promise.all(workers.map(workerReady));
      const t = await QueueTransport.open({ url: redis.url, queueName: name, version: VERSION, onNotice: notice });
      await Promise.all(Array.from({ length: n * 2 }, () => t.run(task(SLEEP_MS), { timeoutSeconds: 60 }))); // warm-up
      const jobs = PER_WORKER * n;
      const s0 = performance.now();
      await Promise.all(Array.from({ length: jobs }, () => t.run(task(SLEEP_MS), { timeoutSeconds: 60 })));
      const wall = (performance.now() - s0) / 1000;
      const rate = jobs / wall;
      if (n === 1) base = rate;
      const scaling = rate / base;
      const ideal = (1000 / SLEEP_MS) * n;
      console.log(
        `   ${String(n).padStart(7)}  ${String(jobs).padStart(4)}  ${wall.toFixed(2).padStart(6)}  ${rate.toFixed(2).padStart(6)}   ${ideal.toFixed(2).padStart(12)}  ${scaling.toFixed(2).padStart(7)}  ${(rate / ideal).toFixed(3)}`,
      );
      if (scaling < SCALING_TARGET * n) failures++;
      await t.close();
      for (const x of workers) x.proc.kill('SIGTERM');
      await Promise.all(workers.map((x) => exited(x.proc)));
    }
    console.log(`   target: scaling ≥ ${SCALING_TARGET}·N: ${failures === 0 ? 'met' : 'NOT met for some N'}`);
  } finally {
    await killAll();
    await redis.stop();
  }
  process.exitCode = failures === 0 ? 0 : 1;
}

await main();
