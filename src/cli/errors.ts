import { UserError } from '../util/errors.js';

export { UserError };

/** An error in what the user asked for (bad flag, bad file, bad expression): exit code 2. */
export class UsageError extends UserError {
  override name = 'UsageError';
  constructor(message: string) {
    super(message, 2);
  }
}

/**
 * User-facing errors of modules that do not derive from UserError yet (their files were being
 * changed by others when UserError came): class name → module and exit code. Remove an entry
 * once its class extends UserError.
 */
const NOT_YET_USER_ERRORS: Record<string, { load: () => Promise<Record<string, unknown>>; exitCode: number }> = {
  CheckpointError: { load: () => import('../detect/checkpoint.js'), exitCode: 2 },
  SearchError: { load: () => import('../search/evolution.js'), exitCode: 2 },
};

async function exitCodeOf(err: unknown): Promise<number | undefined> {
  if (err instanceof UserError) return err.exitCode;
  if (!(err instanceof Error) || !Object.prototype.hasOwnProperty.call(NOT_YET_USER_ERRORS, err.name)) return undefined;
  // The module that threw is loaded already; the class, not the name alone, decides.
  const known = NOT_YET_USER_ERRORS[err.name]!;
  const cls = (await known.load())[err.name];
  return typeof cls === 'function' && err instanceof cls ? known.exitCode : undefined;
}

/**
 * The CLI's one error handler, for whatever a command throws: prints `error: MESSAGE` and
 * returns the exit code. A UserError gives its own code; anything else is a bug: code 1, and
 * its stack too with CSE_DEBUG=1.
 */
export async function handleError(err: unknown): Promise<number> {
  const code = await exitCodeOf(err);
  const e = err as Error | undefined;
  process.stderr.write(`error: ${e?.message ?? String(err)}\n`);
  if (code === undefined && process.env.CSE_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
  return code ?? 1;
}
