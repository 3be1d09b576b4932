import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('compare')
    .description(
      'compare two search runs (e.g. cse vs vanilla): proxy evaluations and wall time to first reach the default loss fitness, and the ratio',
    )
    .argument('<run-a>', 'first run folder')
    .argument('<run-b>', 'second run folder')
    .option('--json', 'print the comparison as JSON')
    .action(async (a: string, b: string, flags: { json?: boolean }) => {
      const { compareRuns, formatComparison } = await import('../search/compare.js');
      const c = compareRuns(a, b);
      process.stdout.write((flags.json ? JSON.stringify(c, null, 1) : formatComparison(c)) + '\n');
    });
}
