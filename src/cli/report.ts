import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('report')
    .description('write report.json and report.html (inline SVG plots) of a search run from its journal')
    .argument('<run-dir>', 'run folder of `cse-autoloss search`')
    .option('--json', 'also print the report data on stdout')
    .action(async (runDir: string, flags: { json?: boolean }) => {
      const { writeReport } = await import('../search/report.js');
      const r = writeReport(runDir);
      if (flags.json) process.stdout.write(JSON.stringify(r.data, null, 1) + '\n');
      else process.stdout.write(`wrote ${r.html} and ${r.json}\n`);
    });
}
