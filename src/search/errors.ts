/** The search's errors: what the CLI maps to exit codes, and what stops a run resumably. */
import { UserError } from '../util/errors.js';

export class SearchError extends UserError {
  override name = 'SearchError';
}
/** The filters left nothing to search (no candidate passed CPV within the caps, or none reached the proxy). */
export class SearchEmptyError extends SearchError {
  override name = 'SearchEmptyError';
}
export class SearchInterrupted extends Error {
  override name = 'SearchInterrupted';
}
/**
 * An evaluation could not run because of the environment (missing dataset or addon, I/O error, a
 * bug in stage code), not because of the loss: the run stops, nothing is recorded for it, and
 * `--resume` runs it again.
 */
export class StageEnvironmentError extends Error {
  override name = 'StageEnvironmentError';
}

/** A loss for a message: long ones (a 100 kB constant) shortened to their start and length. */
export function abbreviate(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}
