/**
 * The two-stage detector's target assignment and sampling (shared by the RPN and the RoI head):
 * mmdetection's MaxIoUAssigner and RandomSampler, on boxes held as flat x1y1x2y2 arrays.
 */
import type { Rng } from '../util/rng.js';
import { iouMatrix } from './boxes.js';

export interface MaxIouAssignment {
  /** Per candidate: GT index (≥ 0), -1 negative, -2 ignored. */
  assigned: Int32Array;
  /** Per candidate: its max IoU over GTs. */
  maxIou: Float32Array;
}

/**
 * mmdetection's MaxIoUAssigner: negative below negIou, positive at or above posIou, then every
 * GT also claims the candidates of its highest IoU when that IoU ≥ minPosIou (low-quality
 * matches, when `matchLowQuality`).
 */
export function maxIouAssign(
  candidates: Float32Array,
  gt: Float32Array,
  posIou: number,
  negIou: number,
  minPosIou: number,
  matchLowQuality: boolean,
): MaxIouAssignment {
  const N = candidates.length / 4;
  const G = gt.length / 4;
  const assigned = new Int32Array(N).fill(-1);
  const maxIou = new Float32Array(N);
  if (G === 0) return { assigned, maxIou };
  const iou = iouMatrix(candidates, gt); // [N, G]
  const argmax = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    let m = -1,
      a = 0;
    for (let g = 0; g < G; g++) {
      const v = iou[i * G + g]!;
      if (v > m) {
        m = v;
        a = g;
      }
    }
    maxIou[i] = m;
    argmax[i] = a;
    assigned[i] = m >= posIou ? a : m < negIou ? -1 : -2;
  }
  if (matchLowQuality) {
    for (let g = 0; g < G; g++) {
      let best = 0;
      for (let i = 0; i < N; i++) best = Math.max(best, iou[i * G + g]!);
      if (best < minPosIou) continue;
      for (let i = 0; i < N; i++) if (iou[i * G + g] === best) assigned[i] = g;
    }
  }
  return { assigned, maxIou };
}

/** Random sampler: up to num·posFraction positives, negatives fill the rest. Returns indices. */
export function randomSample(assigned: Int32Array, num: number, posFraction: number, rng: Rng): { pos: number[]; neg: number[] } {
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < assigned.length; i++) {
    if (assigned[i]! >= 0) pos.push(i);
    else if (assigned[i] === -1) neg.push(i);
  }
  const nPos = Math.min(pos.length, Math.floor(num * posFraction));
  const p = pos.length > nPos ? rng.shuffle(pos).slice(0, nPos) : pos;
  const nNeg = Math.min(neg.length, num - p.length);
  const n = neg.length > nNeg ? rng.shuffle(neg).slice(0, nNeg) : neg;
  return { pos: p.sort((a, b) => a - b), neg: n.sort((a, b) => a - b) };
}
