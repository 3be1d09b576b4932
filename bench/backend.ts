/**
 * npm run bench:backend — training-step time of the small conv net on the `torch` backend against
 * the identical model in PyTorch eager (bench/backend.py, Debian python3-torch), same threads and
 * batch, rounds alternating between the two; plus tfjs's `cpu` backend on a few steps for scale.
 * Prints the medians and the ratio torch/PyTorch (target ≤ 1.1).
 *
 * Options: --rounds N (default 5) --steps N per round (default 20) --threads N --batch N --size N
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '../src/tf.js';
import { getNumThreads, setNumThreads, useTorchBackend } from '../src/backend/index.js';
import { DEFAULT_SMALLNET, makeSmallNet, syntheticBatch } from '../src/demo/smallnet.js';
import { Rng } from '../src/util/rng.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}
const median = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

const rounds = arg('rounds', 5);
const steps = arg('steps', 20);
await useTorchBackend();
const threads = arg('threads', getNumThreads());
setNumThreads(threads);
const cfg = { ...DEFAULT_SMALLNET, batch: arg('batch', DEFAULT_SMALLNET.batch), size: arg('size', DEFAULT_SMALLNET.size) };
console.log(
  `bench:backend — conv net ${cfg.channels.join('/')}, batch ${cfg.batch}, ${cfg.size}x${cfg.size}x3, SGD; ${threads} threads; ${rounds} rounds x ${steps} steps`,
);

const rng = new Rng(1);
const batches = Array.from({ length: 4 }, () => syntheticBatch(cfg, rng));
const net = makeSmallNet(cfg);
const runTorch = (n: number): number[] => {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const b = batches[i % batches.length]!;
    const t0 = performance.now();
    net.step(b.x, b.labels);
    times.push(performance.now() - t0);
  }
  return times;
};

// PyTorch twin, kept alive across rounds.
const py = '/usr/bin/python3';
const here = dirname(fileURLToPath(import.meta.url));
let pyProc: ReturnType<typeof spawn> | null = null;
let pyLines: AsyncIterableIterator<string> | null = null;
let pyInfo = '';
if (existsSync(py)) {
  pyProc = spawn(py, [join(here, 'backend.py'), JSON.stringify({ ...cfg, threads, seed: 1 })], { stdio: ['pipe', 'pipe', 'inherit'] });
  pyLines = createInterface({ input: pyProc.stdout! })[Symbol.asyncIterator]();
  const first = await pyLines.next();
  if (first.done) {
    console.log('PyTorch reference: python3-torch is not installed (apt-get install python3-torch); skipped');
    pyProc = null;
  } else pyInfo = first.value;
} else {
  console.log('PyTorch reference: /usr/bin/python3 not found; skipped');
}
const runPy = async (n: number): Promise<number[]> => {
  pyProc!.stdin!.write(`${n}\n`);
  const line = await pyLines!.next();
  return (JSON.parse(line.value as string) as { times: number[] }).times;
};

runTorch(5); // warm-up
if (pyProc) await runPy(5);
const torchTimes: number[] = [];
const pyTimes: number[] = [];
for (let r = 0; r < rounds; r++) {
  torchTimes.push(...runTorch(steps));
  if (pyProc) pyTimes.push(...(await runPy(steps)));
}
const mt = median(torchTimes);
console.log(`torch backend:   median ${mt.toFixed(2)} ms/step`);
if (pyProc) {
  const mp = median(pyTimes);
  console.log(`PyTorch eager:   median ${mp.toFixed(2)} ms/step (${pyInfo})`);
  console.log(`ratio torch/PyTorch: ${(mt / mp).toFixed(3)} (target <= 1.1)`);
  pyProc.stdin!.end();
}

// tfjs's JavaScript CPU backend, few steps, for scale.
const cpuSteps = arg('cpu-steps', 2);
if (cpuSteps > 0) {
  await tf.setBackend('cpu');
  const cpuNet = makeSmallNet(cfg);
  const cb = syntheticBatch(cfg, new Rng(2));
  const t: number[] = [];
  for (let i = 0; i < cpuSteps; i++) {
    const t0 = performance.now();
    cpuNet.step(cb.x, cb.labels);
    t.push(performance.now() - t0);
  }
  const mc = median(t);
  console.log(`tfjs cpu backend: median ${mc.toFixed(0)} ms/step over ${cpuSteps} steps (${(mc / mt).toFixed(0)}x the torch backend)`);
}
process.exit(0);
