/** The search's side of the queue: the transport a `search --queue URL` sends its stage evaluations through. */
import { UserError } from '../util/errors.js';
import { DEFAULT_QUEUE } from './connection.js';
import { QueueUnavailableError, QueueUrlError } from './errors.js';
import { QueueTransport } from './transport.js';

/**
 * A QueueTransport tagged with the run's config hash, its notices to `onNotice`. Environment:
 * CSE_QUEUE_NAME (default 'stages'), CSE_QUEUE_UNAVAILABLE_SECONDS (how long a lost Redis is
 * waited for before the search stops, resumable; default 60). A bad URL or an unreachable Redis
 * is a usage error (exit code 2) naming `--queue`.
 */
export async function openQueueForSearch(url: string, runTag: string, onNotice: (message: string) => void): Promise<QueueTransport> {
  const wait = process.env.CSE_QUEUE_UNAVAILABLE_SECONDS ? Number(process.env.CSE_QUEUE_UNAVAILABLE_SECONDS) : 60;
  if (!Number.isFinite(wait) || wait <= 0)
    throw new UserError(`CSE_QUEUE_UNAVAILABLE_SECONDS must be a positive number, got '${process.env.CSE_QUEUE_UNAVAILABLE_SECONDS}'`, 2);
  try {
    return await QueueTransport.open({
      url,
      queueName: process.env.CSE_QUEUE_NAME || DEFAULT_QUEUE,
      runTag,
      unavailableSeconds: wait,
      onNotice,
    });
  } catch (e) {
    if (e instanceof QueueUrlError || e instanceof QueueUnavailableError) throw new UserError(`--queue: ${e.message}`, 2);
    throw e;
  }
}
