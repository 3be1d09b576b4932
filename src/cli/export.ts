import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from './errors.js';

interface ExportFlags {
  run: string;
  rank: string;
  to: string;
  out?: string;
}

export function register(program: Command): void {
  program
    .command('export')
    .description('export a found loss as a standalone PyTorch module (mmdetection loss interface)')
    .requiredOption('--run <dir>', 'run folder of `cse-autoloss search`')
    .option('--rank <n>', 'rank in the hall of fame (1 = best)', '1')
    .option('--to <target>', 'export target (pytorch)', 'pytorch')
    .option('--out <file>', 'write here instead of stdout')
    .action(async (f: ExportFlags) => {
      if (f.to !== 'pytorch') throw new UsageError(`--to: unknown target '${f.to}' (known: pytorch)`);
      const rank = Number(f.rank);
      if (!Number.isInteger(rank) || rank < 1) throw new UsageError(`--rank must be a positive integer, got '${f.rank}'`);
      const [{ buildReport }, { exportPytorch }] = await Promise.all([import('../search/report.js'), import('../search/export.js')]);
      const data = buildReport(f.run);
      const h = data.hallOfFame[rank - 1];
      if (!h) throw new UsageError(`${f.run} has ${data.hallOfFame.length} loss(es) in its hall of fame; --rank ${rank} does not exist`);
      const text = exportPytorch(data.mode, h.loss, { source: `${f.run} rank ${rank}`, fitness: h.fitness });
      if (f.out) {
        writeFileSync(f.out, text);
        process.stderr.write(`wrote ${f.out} (${h.loss})\n`);
      } else process.stdout.write(text);
    });
}
