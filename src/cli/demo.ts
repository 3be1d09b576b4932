import type { Command } from 'commander';
import { DEFAULT_SMALLNET } from '../demo/config.js';
import { UsageError } from './errors.js';

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer, got '${v}'`);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('train a small conv net on the libtorch-backed `torch` backend and print step times')
    .option('--steps <n>', 'training steps', positiveInt('steps'), 200)
    .option('--batch <n>', 'batch size', positiveInt('batch'), DEFAULT_SMALLNET.batch)
    .option('--size <n>', 'input side in pixels', positiveInt('size'), DEFAULT_SMALLNET.size)
    .option('--threads <n>', 'libtorch intra-op threads (default: CSE_THREADS or all cores)', positiveInt('threads'))
    .option('--seed <n>', 'random seed', positiveInt('seed'), 1)
    .action(async (opts: { steps: number; batch: number; size: number; threads?: number; seed: number }) => {
      const [{ tf }, { getNumThreads, setNumThreads, useTorchBackend }, { makeSmallNet, syntheticBatch }, { ProgressBar }, { Rng }] =
        await Promise.all([
          import('../tf.js'),
          import('../backend/index.js'),
          import('../demo/smallnet.js'),
          import('../util/progress.js'),
          import('../util/rng.js'),
        ]);
      await useTorchBackend();
      if (opts.threads) setNumThreads(opts.threads);
      const cfg = { ...DEFAULT_SMALLNET, batch: opts.batch, size: opts.size, seed: opts.seed };
      process.stdout.write(
        `demo: small conv net (${cfg.channels.join('/')} channels), batch ${cfg.batch}, ${cfg.size}x${cfg.size}x3, ` +
          `SGD lr ${cfg.lr}; backend ${tf.getBackend()}, ${getNumThreads()} libtorch threads\n`,
      );
      const net = makeSmallNet(cfg);
      const rng = new Rng(opts.seed);
      const bar = new ProgressBar({ total: opts.steps, label: 'train' });
      const times: number[] = [];
      let loss = NaN;
      let firstLoss = NaN;
      for (let i = 0; i < opts.steps; i++) {
        const { x, labels } = syntheticBatch(cfg, rng);
        const t0 = performance.now();
        loss = net.step(x, labels);
        times.push(performance.now() - t0);
        if (i === 0) firstLoss = loss;
        tf.dispose([x, labels]);
        bar.update(i + 1, `loss ${loss.toFixed(3)}`);
      }
      bar.finish();
      const sorted = times.slice(Math.min(5, times.length - 1)).sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)] ?? NaN;
      const p90 = sorted[Math.floor(sorted.length * 0.9)] ?? NaN;
      process.stdout.write(
        `step time: median ${median.toFixed(1)} ms, p90 ${p90.toFixed(1)} ms (first ${times[0]?.toFixed(1)} ms); ` +
          `loss ${firstLoss.toFixed(3)} -> ${loss.toFixed(3)}; ${tf.memory().numTensors} live tensors\n`,
      );
      net.dispose();
    });
}
