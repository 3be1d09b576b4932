import { Command, CommanderError } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCommands } from './commands.js';
import { handleError, UsageError } from './errors.js';

/** The package's package.json: the nearest one above this file (src/cli/ or dist/src/cli/). */
function packageInfo(): { version: string; description: string } {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cse-autoloss: package.json not found');
    dir = up;
  }
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string; description: string };
}

/** CSE_THREADS, when set, must be a positive integer (libtorch would silently ignore anything else). */
export function checkThreadsEnv(v: string | undefined): void {
  if (v === undefined || v === '') return;
  if (!/^\d+$/.test(v.trim()) || Number(v) < 1)
    throw new UsageError(`environment variable CSE_THREADS must be an integer ≥ 1 (libtorch threads), got '${v}'`);
}

export async function main(argv: string[]): Promise<number> {
  const pkg = packageInfo();
  const program = new Command();
  program.name('cse-autoloss').description(pkg.description).version(pkg.version).showHelpAfterError().exitOverride();
  // The program's own options take no values, so the first word that is not an option names the command.
  const command = argv.slice(2).find((a) => !a.startsWith('-'));
  for (const register of await loadCommands(command)) register(program);
  try {
    checkThreadsEnv(process.env.CSE_THREADS);
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    // --help and --version are "errors" to commander with exit code 0; it printed the rest.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    return handleError(err);
  }
}

/**
 * Exits once stdout and stderr have flushed: writes to a pipe are asynchronous, and
 * process.exit() would drop the last lines (e.g. --json-log's final error event).
 */
async function exitFlushed(code: number): Promise<never> {
  const flushed = (s: NodeJS.WriteStream) =>
    new Promise<void>((resolve) => (s.writableLength === 0 ? resolve() : s.write('', () => resolve())));
  await Promise.race([Promise.all([flushed(process.stdout), flushed(process.stderr)]), new Promise((r) => setTimeout(r, 5000).unref())]);
  process.exit(code);
}

main(process.argv).then(
  (code) => exitFlushed(code),
  async (err: unknown) => exitFlushed(await handleError(err)),
);
