import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { loadCommands } from './commands.js';
import { UsageError } from './errors.js';

const require = createRequire(import.meta.url);
const pkg = require('../../package.json') as { version: string; description: string };

/** CSE_THREADS, when set, must be a positive integer (libtorch would silently ignore anything else). */
export function checkThreadsEnv(v: string | undefined): void {
  if (v === undefined || v === '') return;
  if (!/^\d+$/.test(v.trim()) || Number(v) < 1) throw new UsageError(`environment variable CSE_THREADS must be an integer ≥ 1 (libtorch threads), got '${v}'`);
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command();
  program
    .name('cse-autoloss')
    .description(pkg.description)
    .version(pkg.version)
    .showHelpAfterError()
    .exitOverride();
  for (const register of await loadCommands()) register(program);
  try {
    checkThreadsEnv(process.env.CSE_THREADS);
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version are "errors" to commander with exit code 0.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

main(process.argv).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const e = err as Error;
    process.stderr.write(`error: ${e?.message ?? String(err)}\n`);
    if (process.env.CSE_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
    process.exit(1);
  },
);
