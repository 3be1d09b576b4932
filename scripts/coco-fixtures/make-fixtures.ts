/**
 * Writes the COCO evaluation agreement fixtures: test/fixtures/coco/<case>/{gt.json,dt.json}.
 * Deterministic (seeded). The reference numbers beside them (expected.json) are recorded
 * separately with record-pycocotools.py, which needs an installed pycocotools.
 *
 *   node --import tsx scripts/coco-fixtures/make-fixtures.ts [outDir]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../../src/util/rng.js';

interface Gt {
  id: number;
  image_id: number;
  category_id: number;
  bbox: number[];
  area: number;
  iscrowd: 0 | 1;
  ignore?: 0 | 1;
}
interface Dt {
  image_id: number;
  category_id: number;
  bbox: number[];
  score: number;
}

interface CaseOptions {
  images: number;
  catIds: number[];
  /** Mean GT boxes per image (Poisson-ish). */
  gtPerImage: number;
  /** Extra false-positive detections per image. */
  fpPerImage: number;
  crowdRate?: number;
  ignoreFieldRate?: number;
  /** Scores drawn from this many levels (ties) instead of continuous. */
  scoreLevels?: number;
  /** Probability that a GT gets duplicated detections. */
  duplicateRate?: number;
  /** Fraction of GT with area field different from w*h (like segmentation areas). */
  areaJitterRate?: number;
  /** Fraction of images with no GT. */
  emptyImageRate?: number;
  /** Size distribution: min and max box side in px (log-uniform). */
  minSide?: number;
  maxSide?: number;
  /** Detections for a category that appears in no GT. */
  orphanCategory?: number;
  /** Make some detection groups exceed 100 per (image, category). */
  floodImages?: number;
  /** Put some GT exactly on the COCO area boundaries (32^2, 96^2). */
  boundaryAreas?: boolean;
  /** Give one annotation the id 0. */
  zeroId?: boolean;
  imageIdBase?: number;
  imageIdStride?: number;
}

const r2 = (v: number): number => Math.round(v * 100) / 100;

export function makeCase(seed: number, o: CaseOptions): { gt: object; dt: Dt[] } {
  const rng = new Rng(seed);
  const W = 640;
  const H = 480;
  const images: { id: number; file_name: string; width: number; height: number }[] = [];
  const annotations: Gt[] = [];
  const dets: Dt[] = [];
  let annId = o.zeroId ? 0 : 1;
  const score = (base: number): number => {
    const s = Math.min(0.999, Math.max(0.001, base));
    if (o.scoreLevels) return Math.round(s * o.scoreLevels) / o.scoreLevels;
    return Math.round(s * 1e4) / 1e4;
  };
  const side = (): number => {
    const lo = Math.log(o.minSide ?? 4);
    const hi = Math.log(o.maxSide ?? 300);
    return Math.exp(rng.uniform(lo, hi));
  };
  for (let n = 0; n < o.images; n++) {
    const id = (o.imageIdBase ?? 1) + n * (o.imageIdStride ?? 1);
    images.push({ id, file_name: `${id}.png`, width: W, height: H });
    const empty = rng.chance(o.emptyImageRate ?? 0);
    const nGt = empty ? 0 : Math.max(0, Math.round(o.gtPerImage * rng.uniform(0.3, 1.7)));
    for (let g = 0; g < nGt; g++) {
      let w = r2(side() * rng.uniform(0.6, 1.4));
      let h = r2(side() * rng.uniform(0.6, 1.4));
      if (o.boundaryAreas && rng.chance(0.3)) {
        const s = rng.pick([32, 96]);
        w = s;
        h = s;
      }
      w = Math.min(w, W - 1);
      h = Math.min(h, H - 1);
      const x = r2(rng.uniform(0, W - w));
      const y = r2(rng.uniform(0, H - h));
      const crowd = rng.chance(o.crowdRate ?? 0) ? 1 : 0;
      let area = r2(w * h);
      if (rng.chance(o.areaJitterRate ?? 0)) area = r2(area * rng.uniform(0.5, 1.0));
      const a: Gt = { id: annId++, image_id: id, category_id: rng.pick(o.catIds), bbox: [x, y, w, h], area, iscrowd: crowd as 0 | 1 };
      if (rng.chance(o.ignoreFieldRate ?? 0)) a.ignore = rng.chance(0.5) ? 1 : 0;
      annotations.push(a);
      // Detections of this GT: most are found, with box noise; crowds get several hits.
      const hits = crowd ? rng.int(0, 3) : rng.chance(0.85) ? 1 : 0;
      for (let k = 0; k < hits + (rng.chance(o.duplicateRate ?? 0) ? 1 : 0); k++) {
        const noise = rng.uniform(0.02, 0.35);
        const dx = rng.normal(0, noise * w * 0.5);
        const dy = rng.normal(0, noise * h * 0.5);
        const dw = w * Math.exp(rng.normal(0, noise * 0.6));
        const dh = h * Math.exp(rng.normal(0, noise * 0.6));
        const catId = rng.chance(0.08) ? rng.pick(o.catIds) : a.category_id;
        dets.push({
          image_id: id,
          category_id: catId,
          bbox: [r2(Math.max(0, x + dx)), r2(Math.max(0, y + dy)), r2(dw), r2(dh)],
          score: score(rng.uniform(0.2, 1.0) - noise),
        });
      }
    }
    const nFp = Math.round(o.fpPerImage * rng.uniform(0, 2));
    for (let f = 0; f < nFp; f++) {
      const w = r2(side());
      const h = r2(side());
      dets.push({
        image_id: id,
        category_id: rng.pick(o.catIds),
        bbox: [r2(rng.uniform(0, W - Math.min(w, W - 1))), r2(rng.uniform(0, H - Math.min(h, H - 1))), w, h],
        score: score(rng.uniform(0, 0.7)),
      });
    }
    if (o.orphanCategory !== undefined && rng.chance(0.3)) {
      dets.push({ image_id: id, category_id: o.orphanCategory, bbox: [10, 10, 50, 50], score: score(rng.next()) });
    }
  }
  for (let f = 0; f < (o.floodImages ?? 0); f++) {
    const id = images[f % images.length]!.id;
    const catId = o.catIds[0]!;
    const hasGt = annotations.filter((a) => a.image_id === id && a.category_id === catId);
    for (let k = 0; k < 130; k++) {
      const base =
        hasGt.length && rng.chance(0.3)
          ? rng.pick(hasGt).bbox
          : [rng.uniform(0, 500), rng.uniform(0, 400), rng.uniform(5, 120), rng.uniform(5, 80)];
      dets.push({
        image_id: id,
        category_id: catId,
        bbox: [
          r2(base[0]! + rng.normal(0, 3)),
          r2(base[1]! + rng.normal(0, 3)),
          r2(Math.abs(base[2]! + rng.normal(0, 3))),
          r2(Math.abs(base[3]! + rng.normal(0, 3))),
        ],
        score: score(rng.next()),
      });
    }
  }
  rng.shuffle(dets); // input order matters for ties: make it arbitrary but fixed
  const categories = [...o.catIds, ...(o.orphanCategory !== undefined ? [] : [])].map((id) => ({ id, name: `class${id}` }));
  return { gt: { images, annotations, categories }, dt: dets };
}

export type { CaseOptions };
export const CASES: Record<string, [number, CaseOptions]> = {
  basic: [11, { images: 25, catIds: [1, 3, 7], gtPerImage: 4, fpPerImage: 2 }],
  crowds: [12, { images: 30, catIds: [2, 5], gtPerImage: 5, fpPerImage: 2, crowdRate: 0.25 }],
  'ignore-fields-and-areas': [
    13,
    { images: 30, catIds: [1, 2, 3, 4], gtPerImage: 4, fpPerImage: 2, ignoreFieldRate: 0.3, areaJitterRate: 0.4 },
  ],
  ties: [14, { images: 30, catIds: [10, 20, 30], gtPerImage: 5, fpPerImage: 3, scoreLevels: 5, duplicateRate: 0.4 }],
  'max-dets': [15, { images: 12, catIds: [1, 2], gtPerImage: 8, fpPerImage: 10, floodImages: 6 }],
  'empty-images-and-categories': [
    16,
    { images: 30, catIds: [1, 4, 9, 16], gtPerImage: 2, fpPerImage: 1, emptyImageRate: 0.4, orphanCategory: 99 },
  ],
  'area-boundaries': [17, { images: 30, catIds: [1, 2], gtPerImage: 5, fpPerImage: 2, boundaryAreas: true, minSide: 20, maxSide: 120 }],
  'zero-annotation-id': [18, { images: 15, catIds: [1, 2], gtPerImage: 4, fpPerImage: 1, zeroId: true }],
  'sparse-ids': [
    19,
    { images: 20, catIds: [3, 17, 42, 90], gtPerImage: 4, fpPerImage: 3, imageIdBase: 1000, imageIdStride: 37, crowdRate: 0.1 },
  ],
  'small-objects': [20, { images: 30, catIds: [1, 2, 3], gtPerImage: 6, fpPerImage: 4, minSide: 2, maxSide: 40, crowdRate: 0.05 }],
  'mixed-large': [
    21,
    {
      images: 250,
      catIds: [1, 2, 3, 5, 8, 13, 21, 34],
      gtPerImage: 6,
      fpPerImage: 6,
      crowdRate: 0.05,
      ignoreFieldRate: 0.05,
      areaJitterRate: 0.2,
      duplicateRate: 0.1,
      emptyImageRate: 0.05,
      scoreLevels: 50,
      floodImages: 3,
    },
  ],
};
for (let s = 0; s < 6; s++) {
  CASES[`random-${s}`] = [
    100 + s,
    {
      images: 10 + 8 * s,
      catIds: [1, 2, 4, 7, 11].slice(0, 2 + (s % 4)),
      gtPerImage: 1 + s,
      fpPerImage: 1 + (s % 3) * 3,
      crowdRate: (s % 3) * 0.1,
      ignoreFieldRate: 0.1,
      areaJitterRate: 0.3,
      scoreLevels: s % 2 ? 8 : undefined,
      duplicateRate: 0.2,
      emptyImageRate: 0.15,
      minSide: 3,
      maxSide: 250,
    },
  ];
}

function main(): void {
  const out = process.argv[2] ?? join('test', 'fixtures', 'coco');
  for (const [name, [seed, opts]] of Object.entries(CASES)) {
    const { gt, dt } = makeCase(seed, opts);
    const dir = join(out, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'gt.json'), JSON.stringify(gt) + '\n');
    writeFileSync(join(dir, 'dt.json'), JSON.stringify(dt) + '\n');
    process.stdout.write(`${name}: ${(gt as { annotations: unknown[] }).annotations.length} gt, ${dt.length} dets\n`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
