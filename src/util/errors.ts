/**
 * The base class of every error that is the user's to fix or to know about: a bad flag, file,
 * expression or config, an unreachable service, a full disk. Each layer derives its own errors
 * from it; the CLI's one handler (src/cli/errors.ts `handleError`) prints the message without a
 * stack trace and exits with `exitCode`. Any other error is a bug: exit code 1 with its message
 * (and its stack under CSE_DEBUG=1).
 *
 * Exit codes: 2 = what the user asked for or gave is wrong (the default); 1 = the environment
 * failed (Redis lost, disk full): the same command may work later.
 */
export class UserError extends Error {
  override name = 'UserError';
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.exitCode = exitCode;
  }
}
