import type { Command } from 'commander';
import { UsageError } from './errors.js';
import { int } from './flags.js';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DatasetKind } from '../data/make.js';
import { ProgressBar } from '../util/progress.js';

export function register(program: Command): void {
  const data = program.command('data').description('COCO detection datasets: generate and inspect');

  data
    .command('info')
    .description('validate a COCO dataset folder (annotations.json + images/) and summarise it')
    .argument('<dir>', 'dataset folder')
    .option('--box-policy <policy>', "boxes reaching outside the image: 'clip' or 'reject'", 'clip')
    .option('--json', 'print the summary as JSON')
    .action(async (dir: string, flags: { boxPolicy: string; json?: boolean }) => {
      if (flags.boxPolicy !== 'clip' && flags.boxPolicy !== 'reject')
        throw new UsageError(`--box-policy must be clip or reject, got ${flags.boxPolicy}`);
      const [{ inspectCoco }, { decodeProblems, formatDatasetInfo, summarizeDataset, trainingProblems }] = await Promise.all([
        import('../data/coco.js'),
        import('../data/info.js'),
      ]);
      const r = await inspectCoco(dir, { boxPolicy: flags.boxPolicy });
      if (r.dataset) {
        // What training would refuse: every image decoded, and the checks train makes first.
        const bar = r.dataset.images.length
          ? new ProgressBar({ total: r.dataset.images.length, label: 'decoding images', stream: process.stderr })
          : null;
        const undecodable = await decodeProblems(r.dataset, (done) => bar?.update(done));
        bar?.finish();
        const t = trainingProblems(r.dataset);
        r.errors.push(...undecodable, ...t.errors);
        r.warnings.push(...t.warnings);
      }
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
    .option('--force', 'write into a non-empty --out (its train/ and val/ are replaced)')
    .action(
      async (flags: { kind: string; out: string; images: string; size: string; seed: string; valFraction: string; force?: boolean }) => {
        if (flags.kind !== 'mnist-det' && flags.kind !== 'shapes')
          throw new UsageError(`--kind must be mnist-det or shapes, got ${flags.kind}`);
        let present: string[] = [];
        try {
          present = readdirSync(flags.out);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new UsageError(`--out ${flags.out}: ${(e as Error).message}`);
        }
        if (present.length && !flags.force) {
          throw new UsageError(
            `--out ${flags.out} is not empty (${present.slice(0, 5).join(', ')}${present.length > 5 ? ', …' : ''}); choose an empty or new folder, or add --force to replace its train/ and val/`,
          );
        }
        const ratio = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(flags.valFraction);
        const valFraction = ratio ? Number(ratio[1]) / Number(ratio[2]) : Number(flags.valFraction);
        if (!(valFraction > 0 && valFraction < 1)) throw new UsageError(`--val-fraction must be in (0, 1), got ${flags.valFraction}`);
        const opts = {
          images: int('images', 2)(flags.images),
          size: int('size', 16)(flags.size),
          seed: int('seed', 0)(flags.seed),
          out: flags.out,
          valFraction,
        };
        const { makeDataset } = await import('../data/make.js');
        // --force: no stale images of an earlier dataset stay behind.
        if (present.length) for (const split of ['train', 'val']) rmSync(join(flags.out, split), { recursive: true, force: true });
        const s = await makeDataset(flags.kind as DatasetKind, opts);
        process.stdout.write(
          `wrote ${flags.kind} to ${flags.out}: train ${s.train.images} images / ${s.train.annotations} boxes, val ${s.val.images} images / ${s.val.annotations} boxes\n`,
        );
      },
    );
}
