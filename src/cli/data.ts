import type { Command } from 'commander';
import { UsageError } from './errors.js';
import type { DatasetKind } from '../data/make.js';

function int(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got ${v}`);
  return n;
}

export function register(program: Command): void {
  const data = program.command('data').description('COCO detection datasets: generate and inspect');

  data
    .command('info')
    .description('validate a COCO dataset folder (annotations.json + images/) and summarise it')
    .argument('<dir>', 'dataset folder')
    .option('--box-policy <policy>', "boxes reaching outside the image: 'clip' or 'reject'", 'clip')
    .option('--json', 'print the summary as JSON')
    .action(async (dir: string, flags: { boxPolicy: string; json?: boolean }) => {
      if (flags.boxPolicy !== 'clip' && flags.boxPolicy !== 'reject') throw new UsageError(`--box-policy must be clip or reject, got ${flags.boxPolicy}`);
      const [{ inspectCoco }, { formatDatasetInfo, summarizeDataset }] = await Promise.all([import('../data/coco.js'), import('../data/info.js')]);
      const r = await inspectCoco(dir, { boxPolicy: flags.boxPolicy });
      if (flags.json) {
        const s = summarizeDataset(r);
        process.stdout.write(JSON.stringify(s ?? { errors: r.errors, warnings: r.warnings }, null, 1) + '\n');
      } else {
        process.stdout.write(formatDatasetInfo(dir, r) + '\n');
      }
      if (r.errors.length) throw new UsageError(`${dir}: ${r.errors.length} problem(s) found`);
    });

  data
    .command('make')
    .description('generate a COCO dataset on disk: DIR/train and DIR/val with annotations.json and images/')
    .requiredOption('--kind <kind>', 'mnist-det or shapes')
    .requiredOption('--out <dir>', 'output folder')
    .option('--images <n>', 'images in all (train + val)', '1000')
    .option('--size <px>', 'square canvas side', '128')
    .option('--seed <k>', 'random seed', '0')
    .option('--val-fraction <f>', 'fraction of images in val, a number or a ratio such as 1/6', '0.2')
    .action(async (flags: { kind: string; out: string; images: string; size: string; seed: string; valFraction: string }) => {
      if (flags.kind !== 'mnist-det' && flags.kind !== 'shapes') throw new UsageError(`--kind must be mnist-det or shapes, got ${flags.kind}`);
      const ratio = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(flags.valFraction);
      const valFraction = ratio ? Number(ratio[1]) / Number(ratio[2]) : Number(flags.valFraction);
      if (!(valFraction > 0 && valFraction < 1)) throw new UsageError(`--val-fraction must be in (0, 1), got ${flags.valFraction}`);
      const opts = {
        images: int('images', flags.images, 2),
        size: int('size', flags.size, 16),
        seed: int('seed', flags.seed, 0),
        out: flags.out,
        valFraction,
      };
      const { makeDataset } = await import('../data/make.js');
      const s = await makeDataset(flags.kind as DatasetKind, opts);
      process.stdout.write(
        `wrote ${flags.kind} to ${flags.out}: train ${s.train.images} images / ${s.train.annotations} boxes, val ${s.val.images} images / ${s.val.annotations} boxes\n`,
      );
    });
}
