/**
 * Candidate fingerprints: src/loss's semantic fingerprint (outputs and gradients on fixed inputs
 * of the mode's domain), so trees computing the same function share stored results.
 * FINGERPRINT_VERSION enters every stored result key: bump it when the fingerprint changes.
 */
export { fingerprint } from '../loss/index.js';

export const FINGERPRINT_VERSION = 'loss-fp1';
