/**
 * npm run bench:memory — 1,000 training steps of the small conv net on the torch backend; prints
 * tfjs tensor count, native tensor count and process RSS after warm-up and every 250 steps.
 * A leak shows as a growing count or an RSS that keeps climbing.
 */
import { tf } from '../src/tf.js';
import { numNativeTensors, useTorchBackend } from '../src/backend/index.js';
import { DEFAULT_SMALLNET, makeSmallNet, syntheticBatch } from '../src/demo/smallnet.js';
import { Rng } from '../src/util/rng.js';

const si = process.argv.indexOf('--steps');
const steps = si > 0 ? Number(process.argv[si + 1]) : 1000;
await useTorchBackend();
const cfg = { ...DEFAULT_SMALLNET, batch: 8, size: 48 };
const net = makeSmallNet(cfg);
const rng = new Rng(1);
const batches = Array.from({ length: 4 }, () => syntheticBatch(cfg, rng));
const mb = () => (process.memoryUsage().rss / 1048576).toFixed(1);
const report = (label: string) =>
  console.log(`${label.padEnd(14)} tfjs tensors ${tf.memory().numTensors}, native tensors ${numNativeTensors()}, RSS ${mb()} MB`);
for (let i = 0; i < 250; i++) net.step(batches[i % 4]!.x, batches[i % 4]!.labels);
report('after warm-up');
const rss0 = process.memoryUsage().rss;
for (let i = 1; i <= steps; i++) {
  net.step(batches[i % 4]!.x, batches[i % 4]!.labels);
  if (i % 250 === 0) report(`step ${i}`);
}
console.log(`RSS change over ${steps} steps after warm-up: ${((process.memoryUsage().rss - rss0) / 1048576).toFixed(1)} MB`);
