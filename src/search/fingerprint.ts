/**
 * Candidate fingerprints: src/loss's semantic fingerprint (outputs and gradients on fixed inputs
 * of the mode's domain), so trees computing the same function share stored results.
 * FINGERPRINT_VERSION enters every stored result key: bump it when the fingerprint changes.
 */
import { fingerprint, gradientFingerprint, type Expr, type Mode } from '../loss/index.js';

export { fingerprint };

/** A candidate's identity under the config's `population.identity` (absent: the function's fingerprint). */
export function candidateFingerprint(cfg: { population: { identity?: 'gradient' } }, mode: Mode, e: Expr): string {
  return cfg.population.identity === 'gradient' ? gradientFingerprint(mode, e) : fingerprint(mode, e);
}

export const FINGERPRINT_VERSION = 'loss-fp1';
