import { Rng } from '../../src/util/rng.js';
import { boxIUE, type Mode } from '../../src/loss/index.js';

export interface Batch {
  n: number;
  k: number;
  inputs: Record<string, Float64Array>;
}

/** Random inputs from the mode's real domain: one-hot Y, IoU rows Z, Q/PY/NY from labels, U/I/E from boxes. */
export function randomBatch(mode: Mode, rng: Rng, n = 5, k = 4, xScale = 1.5): Batch {
  if (mode === 'reg') {
    const U = new Float64Array(n);
    const I = new Float64Array(n);
    const E = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const tw = rng.uniform(2, 50);
      const th = rng.uniform(2, 50);
      const px = rng.uniform(-0.8, 0.8) * tw;
      const py = rng.uniform(-0.8, 0.8) * th;
      const a = boxIUE([px, py, px + tw * rng.uniform(0.5, 1.5), py + th * rng.uniform(0.5, 1.5)], [0, 0, tw, th]);
      U[i] = a.U;
      I[i] = a.I;
      E[i] = a.E;
    }
    return { n, k: 1, inputs: { U, I, E } };
  }
  const X = new Float64Array(n * k);
  for (let i = 0; i < X.length; i++) X[i] = rng.normal(0, xScale);
  if (mode === 'cls') {
    const Y = new Float64Array(n * k);
    const Z = new Float64Array(n * k);
    for (let r = 0; r < n; r++) {
      const label = rng.int(0, k - 1);
      const iou = rng.uniform(0.1, 1);
      Y[r * k + label] = 1;
      for (let j = 0; j < k; j++) Z[r * k + j] = label < k - 1 ? iou : 1;
    }
    return { n, k, inputs: { X, Y, Z } };
  }
  const Q = new Float64Array(n * k);
  const PY = new Float64Array(n * k);
  const NY = new Float64Array(n * k).fill(1);
  for (let r = 0; r < n; r++) {
    const label = rng.int(0, k); // k: negative
    if (label < k) {
      PY[r * k + label] = 1;
      NY[r * k + label] = 0;
      Q[r * k + label] = rng.uniform(0.1, 1);
    }
  }
  return { n, k, inputs: { X, Q, PY, NY } };
}

/** |a - b| ≤ atol + rtol·max(|a|, |b|). */
export function close(a: number, b: number, rtol: number, atol: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= atol + rtol * Math.max(Math.abs(a), Math.abs(b));
}
