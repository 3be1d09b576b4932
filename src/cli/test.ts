import type { Command } from 'commander';
import { UsageError } from './errors.js';
import { selectBackend } from './train.js';

export function register(program: Command): void {
  program
    .command('test')
    .description('evaluate a saved detector checkpoint on a COCO split (COCO metrics)')
    .requiredOption('--checkpoint <dir>', 'checkpoint folder (with model.json), e.g. RUN/checkpoints/latest')
    .requiredOption('--data <dir>', 'a COCO split folder (annotations.json + images/) or a dataset root with val/')
    .option('--out <dir>', 'write metrics.json and results.json here')
    .option('--batch <n>', 'images per batch', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--batch must be a positive integer, got '${v}'`);
      return n;
    })
    .option('--backend <name>', 'tensor backend: torch (default) or cpu')
    .action(async (f: { checkpoint: string; data: string; out?: string; batch?: number; backend?: string }) => {
      await selectBackend(f.backend);
      const { testDetector } = await import('../detect/index.js');
      const r = await testDetector({ checkpoint: f.checkpoint, data: f.data, batch: f.batch, out: f.out });
      const m = r.metrics;
      process.stdout.write(
        `${r.modelConfig.detector} on ${r.images} images: AP ${m.AP.toFixed(3)}  AP50 ${m.AP50.toFixed(3)}  AP75 ${m.AP75.toFixed(3)}  APs ${m.APs.toFixed(3)}  APm ${m.APm.toFixed(3)}  APl ${m.APl.toFixed(3)}  AR1 ${m.AR1.toFixed(3)}  AR10 ${m.AR10.toFixed(3)}  AR100 ${m.AR100.toFixed(3)}\n`,
      );
    });
}
