/**
 * Errors of the queue transport. Each message names what is wrong (the URL part, the Redis
 * address, the payload field, the version or dataset hash) so that the user can fix it.
 */
import { UserError } from '../util/errors.js';

/** Base class: every error of src/queue that is not a bug (exit code 1, the URL's 2). */
export class QueueError extends UserError {
  override name = 'QueueError';
  constructor(message: string, exitCode = 1) {
    super(message, exitCode);
  }
}

/** A malformed `--queue` URL; the message names the bad part. */
export class QueueUrlError extends QueueError {
  override name = 'QueueUrlError';
  constructor(message: string) {
    super(message, 2);
  }
}

/** Redis could not be reached at start, or was lost for longer than the transport waits. */
export class QueueUnavailableError extends QueueError {
  override name = 'QueueUnavailableError';
}

/** A job payload that fails validation; the message names the field. */
export class PayloadError extends QueueError {
  override name = 'PayloadError';
}

/** A job of another code/config version, or for a dataset this worker does not have. */
export class RefusedJobError extends QueueError {
  override name = 'RefusedJobError';
  constructor(
    message: string,
    readonly kind: 'version' | 'dataset',
  ) {
    super(message);
  }
}
