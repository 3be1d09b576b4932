/**
 * tfjs-core kernel tests not run against `torch`, each with its reason (by full test name, in
 * tfjs_core_exclusions.json). docs/BACKEND.md summarises them by reason.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const file = join(dirname(fileURLToPath(import.meta.url)), 'tfjs_core_exclusions.json');
export const EXCLUSIONS: Record<string, string> = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;

export function exclusionFor(fullName: string): string | null {
  return EXCLUSIONS[fullName] ?? null;
}
