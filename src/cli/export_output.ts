/**
 * The one code path of `cse-autoloss export --run` and `cse-autoloss loss export`: check the
 * target, generate the module (src/search/export.ts) and write it to --out or stdout.
 */
import { writeFileAtomicSync } from '../util/atomic.js';
import { UsageError } from './errors.js';
import { EXPORT_TARGETS, exportLoss, type ExportMeta, type ExportTarget } from '../search/export.js';
import type { Mode } from '../loss/index.js';

/** Validates --to before any work is done. */
export function exportTarget(to: string): ExportTarget {
  if (!(EXPORT_TARGETS as readonly string[]).includes(to))
    throw new UsageError(`--to: unknown target '${to}' (known: ${EXPORT_TARGETS.join(', ')})`);
  return to as ExportTarget;
}

/** Writes the exported module of `loss` to `out` (a note on stderr) or to stdout. */
export function writeExport(to: ExportTarget, mode: Mode, loss: string, meta: ExportMeta, out: string | undefined): void {
  const text = exportLoss(to, mode, loss, meta);
  if (!out) {
    process.stdout.write(text);
    return;
  }
  try {
    writeFileAtomicSync(out, text);
  } catch (e) {
    throw new UsageError(`cannot write --out ${out}: ${(e as Error).message}`);
  }
  process.stderr.write(`wrote ${out} (${loss})\n`);
}
