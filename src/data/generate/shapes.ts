/**
 * shapes: coloured geometric shapes (6 classes) with strong scale variance (about 6 px to
 * 70% of the canvas, log-uniform), class imbalance (frequencies SHAPE_FREQUENCIES) and
 * partial occlusion (later shapes cover earlier ones; each keeps at least MIN_VISIBLE of its
 * pixels). Boxes and areas are those of the visible pixels, as COCO derives them from masks.
 */
import type { Rng } from '../../util/rng.js';
import type { GeneratedImage, SceneGenerator } from './types.js';

export const SHAPE_CLASSES = ['circle', 'square', 'triangle', 'star', 'cross', 'ring'] as const;
export const SHAPE_FREQUENCIES = [0.34, 0.24, 0.16, 0.12, 0.08, 0.06];
export const MIN_VISIBLE = 0.4;

type Inside = (u: number, v: number) => boolean; // u, v in the shape's frame, radius 1

function polygonInside(pts: [number, number][]): Inside {
  return (u, v) => {
    let c = false;
    for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
      const [xi, yi] = pts[i]!;
      const [xj, yj] = pts[j]!;
      if (yi > v !== yj > v && u < ((xj - xi) * (v - yi)) / (yj - yi) + xi) c = !c;
    }
    return c;
  };
}

const star: [number, number][] = Array.from({ length: 10 }, (_, i) => {
  const r = i % 2 ? 0.45 : 1;
  const a = -Math.PI / 2 + (i * Math.PI) / 5;
  return [r * Math.cos(a), r * Math.sin(a)];
});
const triangle: [number, number][] = [0, 1, 2].map((i) => {
  const a = -Math.PI / 2 + (i * 2 * Math.PI) / 3;
  return [Math.cos(a), Math.sin(a)];
});

const INSIDE: Record<(typeof SHAPE_CLASSES)[number], Inside> = {
  circle: (u, v) => u * u + v * v <= 1,
  square: (u, v) => Math.abs(u) <= 0.8 && Math.abs(v) <= 0.8,
  triangle: polygonInside(triangle),
  star: polygonInside(star),
  cross: (u, v) => (Math.abs(u) <= 1 && Math.abs(v) <= 0.3) || (Math.abs(v) <= 1 && Math.abs(u) <= 0.3),
  ring: (u, v) => {
    const d = u * u + v * v;
    return d <= 1 && d >= 0.36;
  },
};

function pickClass(rng: Rng): number {
  const u = rng.next();
  let acc = 0;
  for (let k = 0; k < SHAPE_FREQUENCIES.length; k++) {
    acc += SHAPE_FREQUENCIES[k]!;
    if (u < acc) return k;
  }
  return SHAPE_FREQUENCIES.length - 1;
}

export function shapesGenerator(): SceneGenerator {
  return {
    categories: SHAPE_CLASSES.map((name, k) => ({ id: k + 1, name })),
    render(rng: Rng, size: number): GeneratedImage {
      const W = size;
      const H = size;
      const rgb = new Float32Array(W * H * 3);
      const owner = new Int16Array(W * H).fill(-1); // which shape a pixel shows
      const bg0 = [rng.uniform(0, 255), rng.uniform(0, 255), rng.uniform(0, 255)];
      const bg1 = [rng.uniform(0, 255), rng.uniform(0, 255), rng.uniform(0, 255)];
      const noise = rng.uniform(2, 12);
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const t = (x + y) / (W + H);
          for (let c = 0; c < 3; c++) rgb[(y * W + x) * 3 + c] = bg0[c]! * (1 - t) + bg1[c]! * t + rng.normal(0, noise);
        }
      }
      const classes: number[] = [];
      const fullArea: number[] = [];
      const want = rng.int(1, 8);
      const minR = 3;
      const maxR = Math.max(minR + 1, size * 0.35);
      for (let n = 0; n < want; n++) {
        const k = pickClass(rng);
        const r = Math.exp(rng.uniform(Math.log(minR), Math.log(maxR)));
        const cx = rng.uniform(r * 0.5, W - r * 0.5);
        const cy = rng.uniform(r * 0.5, H - r * 0.5);
        const rot = rng.uniform(-Math.PI, Math.PI);
        const aspect = k === 0 || k === 5 ? 1 : Math.exp(rng.normal(0, 0.15));
        const cos = Math.cos(rot);
        const sin = Math.sin(rot);
        const inside = INSIDE[SHAPE_CLASSES[k]!];
        // Colour far enough from the local background.
        let col = [0, 0, 0];
        const ref = [
          rgb[(Math.floor(cy) * W + Math.floor(cx)) * 3]!,
          rgb[(Math.floor(cy) * W + Math.floor(cx)) * 3 + 1]!,
          rgb[(Math.floor(cy) * W + Math.floor(cx)) * 3 + 2]!,
        ];
        for (let t = 0; t < 20; t++) {
          col = [rng.uniform(0, 255), rng.uniform(0, 255), rng.uniform(0, 255)];
          if (Math.hypot(col[0]! - ref[0]!, col[1]! - ref[1]!, col[2]! - ref[2]!) > 120) break;
        }
        // Coverage with 2x2 supersampling.
        const x0 = Math.max(0, Math.floor(cx - r * 1.3));
        const x1 = Math.min(W - 1, Math.ceil(cx + r * 1.3));
        const y0 = Math.max(0, Math.floor(cy - r * 1.3));
        const y1 = Math.min(H - 1, Math.ceil(cy + r * 1.3));
        const cover: { o: number; a: number }[] = [];
        for (let y = y0; y <= y1; y++) {
          for (let x = x0; x <= x1; x++) {
            let hits = 0;
            for (const [ddx, ddy] of [
              [0.25, 0.25],
              [0.75, 0.25],
              [0.25, 0.75],
              [0.75, 0.75],
            ] as const) {
              const px = x + ddx - cx;
              const py = y + ddy - cy;
              const u = (px * cos + py * sin) / (r * aspect);
              const v = (-px * sin + py * cos) / (r / aspect);
              if (inside(u, v)) hits++;
            }
            if (hits) cover.push({ o: y * W + x, a: hits / 4 });
          }
        }
        const mine = cover.filter((c) => c.a >= 0.5);
        if (mine.length < 4) continue;
        // Occlusion bound: every earlier shape keeps at least MIN_VISIBLE of its full area.
        const lost = new Map<number, number>();
        for (const c of mine) {
          const prev = owner[c.o]!;
          if (prev >= 0) lost.set(prev, (lost.get(prev) ?? 0) + 1);
        }
        let ok = true;
        for (const [prev, l] of lost) {
          let visible = 0;
          for (let p = 0; p < W * H; p++) if (owner[p] === prev) visible++;
          if (visible - l < MIN_VISIBLE * fullArea[prev]!) ok = false;
        }
        if (!ok) continue;
        const id = classes.length;
        classes.push(k);
        fullArea.push(mine.length);
        const shade = rng.uniform(0.75, 1);
        for (const c of cover) {
          for (let ch = 0; ch < 3; ch++) {
            const o = c.o * 3 + ch;
            rgb[o] = rgb[o]! * (1 - c.a) + col[ch]! * shade * c.a;
          }
          if (c.a >= 0.5) owner[c.o] = id;
        }
      }
      // Visible extents from the owner map.
      const ext = classes.map(() => [W, H, -1, -1, 0]);
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const id = owner[y * W + x]!;
          if (id < 0) continue;
          const e = ext[id]!;
          if (x < e[0]!) e[0] = x;
          if (y < e[1]!) e[1] = y;
          if (x > e[2]!) e[2] = x;
          if (y > e[3]!) e[3] = y;
          e[4]!++;
        }
      }
      const annotations: GeneratedImage['annotations'] = [];
      classes.forEach((k, id) => {
        const e = ext[id]!;
        if (e[2]! < e[0]!) return;
        annotations.push({
          category_id: k + 1,
          bbox: [e[0]!, e[1]!, e[2]! + 1 - e[0]!, e[3]! + 1 - e[1]!],
          area: e[4]!,
          extra: { visible_fraction: Math.round((e[4]! / fullArea[id]!) * 1000) / 1000 },
        });
      });
      const data = new Uint8Array(W * H * 3);
      for (let i = 0; i < data.length; i++) data[i] = Math.max(0, Math.min(255, Math.round(rgb[i]!)));
      return { image: { width: W, height: H, data }, annotations };
    },
  };
}
