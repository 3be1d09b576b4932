/**
 * npm run bench:detectors — training-iteration time of the cpu-small detectors (batch 8, 128 px,
 * 10 classes, synthetic batches) on the `torch` backend against the identical model in PyTorch
 * eager (bench/detectors.py, Debian python3-torch), same threads, rounds alternating between the
 * two. The twin is built from the same `resolveTrainConfig` result (sent as JSON: model, losses,
 * loss weights, schedule; see bench/twin.ts), so it cannot drift from the preset;
 * test/bench/twin.test.ts checks that its loss terms and gradients equal ours. Both twins exist: FCOS, and Faster R-CNN (RPN with MaxIoU assignment and 256 sampled
 * anchors, per-level NMS proposals, 64 sampled RoIs with the GT added, RoIAlign 7x7, 2-fc head,
 * CE + L1; RoIAlign and NMS written in torch ops since torchvision is not installed). Prints the
 * parameter count of each side (the bench fails if they differ), images/s of each, the ratio of
 * iteration times (target ≤ 1.25) and the last loss of each side as a sanity check.
 *
 * Options: --detectors fcos,faster-rcnn (default: both) --rounds N (5) --steps N per round (10)
 * --threads N --batch N --profile N (after timing: N more steps of each side under an operator
 * profiler, the addon's on ours and torch.autograd.profiler on the twin; prints the ATen
 * operators side by side, inclusive ms per step, so a gap can be traced to operators)
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { tf } from '../src/tf.js';
import { getNumThreads, setNumThreads, useTorchBackend } from '../src/backend/index.js';
import { native } from '../src/backend/native.js';
import {
  applyUpdate,
  buildDetector,
  buildHeadLosses,
  resolveTrainConfig,
  type DetectorKind,
  type TrainBatch,
} from '../src/detect/index.js';
import { Rng } from '../src/util/rng.js';
import { PYTHON, TWIN_SCRIPT, twinTrainConfig } from './twin.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
}
const median = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};
const rounds = Number(arg('rounds', '5'));
const steps = Number(arg('steps', '10'));
const batch = Number(arg('batch', '8'));
const profileSteps = Number(arg('profile', '0'));
const classes = 10;
const lr = 0.01;
await useTorchBackend();
const threads = Number(arg('threads', String(getNumThreads())));
setNumThreads(threads);

function syntheticBatch(rng: Rng, size: number): TrainBatch {
  const images = tf.tensor4d(
    Float32Array.from({ length: batch * size * size * 3 }, () => rng.normal()),
    [batch, size, size, 3],
  );
  const boxes: Float32Array[] = [];
  const labels: Int32Array[] = [];
  for (let b = 0; b < batch; b++) {
    const n = rng.int(1, 5);
    const bx = new Float32Array(n * 4);
    const lb = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const x = rng.uniform(0, size - 64),
        y = rng.uniform(0, size - 64);
      bx.set([x, y, x + rng.uniform(12, 64), y + rng.uniform(12, 64)], 4 * k);
      lb[k] = rng.int(0, classes - 1);
    }
    boxes.push(bx);
    labels.push(lb);
  }
  return { images, boxes, labels, contentSizes: Array.from({ length: batch }, () => [size, size] as [number, number]) };
}

/** The twin, built from the same resolved training config (its model, losses, weights and schedule). */
async function pythonTwin(cfg: ReturnType<typeof resolveTrainConfig>) {
  const py = spawn(PYTHON, [TWIN_SCRIPT, JSON.stringify({ threads, lr, train: twinTrainConfig(cfg) })], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  py.on('error', (e) => console.error(`bench/detectors.py: ${e.message}`));
  const lines = createInterface({ input: py.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) return null;
  const ready = JSON.parse(first.value as string) as { ready: boolean; params: number };
  let lastLoss = NaN;
  return {
    params: ready.params,
    lastLoss: () => lastLoss,
    async run(n: number): Promise<number[]> {
      py.stdin!.write(`${n}\n`);
      const l = await lines.next();
      const r = JSON.parse(l.value as string) as { times: number[]; loss: number };
      lastLoss = r.loss;
      return r.times;
    },
    /** [ATen operator, calls per step, inclusive ms per step] over n profiled steps. */
    async profile(n: number): Promise<[string, number, number][]> {
      py.stdin!.write(`profile ${n}\n`);
      const l = await lines.next();
      return (JSON.parse(l.value as string) as { profile: [string, number, number][] }).profile;
    },
    close() {
      py.stdin!.end();
    },
  };
}

for (const detector of arg('detectors', 'fcos,faster-rcnn').split(',') as DetectorKind[]) {
  const cfg = resolveTrainConfig({ detector, data: '-', preset: 'cpu-small', batch }, classes);
  const model = buildDetector(cfg.model, 0);
  model.setLosses(buildHeadLosses(detector, cfg.clsLoss, cfg.regLoss, cfg.clsWeight, cfg.regWeight));
  const rng = new Rng(1);
  const size = cfg.model.inputSize;
  const batches = Array.from({ length: 4 }, () => syntheticBatch(rng, size));
  const opt = tf.train.momentum(lr, cfg.schedule.momentum);
  const trainable = model.ps.trainable();
  let k = 0;
  let lastLoss = NaN;
  const runTs = (n: number): number[] => {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const { value, grads } = tf.variableGrads(
        () => model.losses(batches[k++ % batches.length]!, rng).total,
        trainable.map(([, v]) => v),
      );
      lastLoss = value.dataSync()[0]!;
      value.dispose();
      applyUpdate(opt, trainable, grads, cfg.schedule);
      times.push(performance.now() - t0);
    }
    return times;
  };
  const py = await pythonTwin(cfg).catch(() => null);
  const params = model.ps.count();
  if (py && py.params !== params) {
    py.close();
    throw new Error(
      `${detector}: the PyTorch twin has ${py.params} parameters, the torch-backend model ${params}; the two models are not the same`,
    );
  }
  runTs(2); // warm-up
  if (py) await py.run(2);
  const ts: number[] = [];
  const pt: number[] = [];
  for (let r = 0; r < rounds; r++) {
    ts.push(...runTs(steps));
    if (py) pt.push(...(await py.run(steps).catch(() => [])));
  }
  let profiles: { ours: [string, number, number][]; twin: [string, number, number][] } | null = null;
  if (profileSteps > 0) {
    native().profileStart();
    runTs(profileSteps);
    const flat = native().profileStop();
    const ours: [string, number, number][] = [];
    for (let i = 0; i < flat.length; i += 3)
      ours.push([flat[i] as string, (flat[i + 1] as number) / profileSteps, (flat[i + 2] as number) / 1000 / profileSteps]);
    profiles = { ours, twin: py ? await py.profile(profileSteps).catch(() => []) : [] };
  }
  py?.close();
  const mts = median(ts);
  const line = `${detector}: torch backend ${mts.toFixed(0)} ms/it (${((1000 * batch) / mts).toFixed(1)} img/s)`;
  const omp = process.env.OMP_WAIT_POLICY
    ? `OMP_WAIT_POLICY=${process.env.OMP_WAIT_POLICY}`
    : `GOMP_SPINCOUNT=${process.env.GOMP_SPINCOUNT ?? '(libgomp default)'}`;
  const setup = `${threads} threads, batch ${batch}, ${size} px, both sides ${omp}`;
  if (pt.length) {
    const mpt = median(pt);
    console.log(
      `${line}; PyTorch eager ${mpt.toFixed(0)} ms/it (${((1000 * batch) / mpt).toFixed(1)} img/s); ratio ${(mts / mpt).toFixed(2)} (target <= 1.25); ${setup}`,
    );
    console.log(
      `  parameters: torch backend ${params}, PyTorch ${py!.params} (equal); last loss: torch backend ${lastLoss.toFixed(3)}, PyTorch ${py!.lastLoss().toFixed(3)}`,
    );
  } else {
    console.log(`${line}; the PyTorch twin did not run (see its stderr above); ${setup}; ${params} parameters`);
  }
  if (profiles) {
    const twin = new Map(profiles.twin.map((r) => [r[0], r]));
    const ours = new Map(profiles.ours.map((r) => [r[0], r]));
    const names = [...new Set([...ours.keys(), ...twin.keys()])].filter((n) => n.startsWith('aten::'));
    names.sort((a, b) => Math.max(ours.get(b)?.[2] ?? 0, twin.get(b)?.[2] ?? 0) - Math.max(ours.get(a)?.[2] ?? 0, twin.get(a)?.[2] ?? 0));
    console.log(`  ATen operators over ${profileSteps} steps (inclusive: nested operators count in their callers too), per step:`);
    console.log(`  ${'operator'.padEnd(40)} ${'torch backend'.padStart(20)} ${'PyTorch'.padStart(20)}`);
    const cell = (r?: [string, number, number]) => (r ? `${r[2].toFixed(2)} ms ×${r[1].toFixed(0)}` : '—').padStart(20);
    for (const n of names.slice(0, 25)) console.log(`  ${n.padEnd(40)} ${cell(ours.get(n))} ${cell(twin.get(n))}`);
  }
  opt.dispose();
  model.ps.dispose();
  tf.dispose(batches.map((b) => b.images));
}
