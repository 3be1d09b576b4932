/** The result scripts' progress for a long training: a line every tenth of the run. */
import type { TrainProgress } from '../src/detect/index.js';

export function tenthsProgress(indent = '    '): (p: TrainProgress) => void {
  let lastShown = -1;
  return (p) => {
    const step = Math.max(1, Math.round(p.iters / 10));
    if (p.phase !== 'train' || p.iter % step !== 0 || p.iter === lastShown) return;
    lastShown = p.iter;
    const total = p.losses.total;
    console.log(
      `${indent}iteration ${p.iter}/${p.iters}: loss ${total !== undefined ? total.toFixed(3) : '?'}, ${p.itPerSec.toFixed(2)} it/s, ETA ${(p.etaSec / 60).toFixed(1)} min`,
    );
  };
}
