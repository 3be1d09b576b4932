/**
 * An error in what the user asked for (bad flag, bad file, bad expression). The CLI prints
 * its message without a stack trace and exits with code 2.
 */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(message: string) {
    super(message);
  }
}
