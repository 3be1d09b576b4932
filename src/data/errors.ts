/** One problem found in a dataset or an input file: where it is and what is wrong. */
import { UserError } from '../util/errors.js';
export interface Problem {
  /** File the problem is in (path as given). */
  file: string;
  /** Field path inside the file, e.g. `annotations[12].bbox`, or '' for the file itself. */
  field: string;
  message: string;
}

export function formatProblem(p: Problem): string {
  return `${p.file}${p.field ? `: ${p.field}` : ''}: ${p.message}`;
}

/**
 * Invalid input data. `problems` lists every problem found (not just the first); the
 * message shows up to `shown` of them.
 */
export class DataError extends UserError {
  override name = 'DataError';
  readonly problems: Problem[];
  constructor(problems: Problem[], summary?: string, shown = 20) {
    const head = summary ?? `${problems.length} problem${problems.length === 1 ? '' : 's'} in the data`;
    const lines = problems.slice(0, shown).map((p) => `  ${formatProblem(p)}`);
    if (problems.length > shown) lines.push(`  ... and ${problems.length - shown} more`);
    super([head + ':', ...lines].join('\n'));
    this.problems = problems;
  }
}
