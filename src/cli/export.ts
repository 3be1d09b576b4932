import type { Command } from 'commander';
import { UsageError } from './errors.js';

interface ExportFlags {
  run: string;
  rank: string;
  id?: string;
  to: string;
  out?: string;
}

export function register(program: Command): void {
  program
    .command('export')
    .description('export a found loss as a standalone PyTorch module (mmdetection loss interface); any expression: `loss export`')
    .requiredOption('--run <dir>', 'run folder of `cse-autoloss search`')
    .option('--rank <n>', 'rank in the hall of fame (1 = best)', '1')
    .option('--id <gen:idx>', 'any candidate of the run by its id (as the dashboard shows it) instead of --rank')
    .option('--to <target>', 'export target (pytorch)', 'pytorch')
    .option('--out <file>', 'write here instead of stdout')
    .action(async (f: ExportFlags) => {
      const [{ exportTarget, writeExport }, { Journal }, { buildReport }] = await Promise.all([
        import('./export_output.js'),
        import('../search/journal.js'),
        import('../search/report.js'),
      ]);
      const to = exportTarget(f.to);
      const rank = Number(f.rank);
      if (!Number.isInteger(rank) || rank < 1) throw new UsageError(`--rank must be a positive integer, got '${f.rank}'`);
      const data = buildReport(f.run);
      let h: { loss: string; fitness: number | null } | undefined = data.hallOfFame[rank - 1];
      let source = `${f.run} rank ${rank}`;
      if (f.id !== undefined) {
        const m = /^(\d+):(\d+)$/.exec(f.id);
        if (!m) throw new UsageError(`--id must be GEN:IDX (as the dashboard shows it), got '${f.id}'`);
        const j = Journal.open(f.run, { readonly: true });
        try {
          h = j.candidates(Number(m[1])).find((c) => c.idx === Number(m[2]));
        } finally {
          j.close();
        }
        if (!h) throw new UsageError(`${f.run} has no candidate ${f.id}`);
        source = `${f.run} candidate ${f.id}`;
      }
      if (!h) throw new UsageError(`${f.run} has ${data.hallOfFame.length} loss(es) in its hall of fame; --rank ${rank} does not exist`);
      writeExport(to, data.mode, h.loss, { source, fitness: h.fitness ?? undefined }, f.out);
    });
}
