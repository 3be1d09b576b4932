import { UserError } from '../util/errors.js';

export { UserError };

/** An error in what the user asked for (bad flag, bad file, bad expression): exit code 2. */
export class UsageError extends UserError {
  override name = 'UsageError';
  constructor(message: string) {
    super(message, 2);
  }
}

function exitCodeOf(err: unknown): number | undefined {
  return err instanceof UserError ? err.exitCode : undefined;
}

/**
 * The CLI's one error handler, for whatever a command throws: prints `error: MESSAGE` and
 * returns the exit code. A UserError gives its own code; anything else is a bug: code 1, and
 * its stack too with CSE_DEBUG=1.
 */
export async function handleError(err: unknown): Promise<number> {
  const code = exitCodeOf(err);
  const e = err as Error | undefined;
  process.stderr.write(`error: ${e?.message ?? String(err)}\n`);
  if (code === undefined && process.env.CSE_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
  return code ?? 1;
}
