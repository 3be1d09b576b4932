import { readFile } from 'node:fs/promises';
import type { Problem } from './errors.js';
import { formatProblem } from './errors.js';
import { imagePath, type CocoDataset, type CocoInspection } from './coco.js';
import { decodeImage } from './image.js';

/**
 * What training refuses besides a malformed file (src/detect/train.ts checks the same before
 * training starts): no images, no annotations, a category without (non-crowd) annotations, no
 * image with an object.
 */
export function trainingProblems(ds: CocoDataset): { errors: Problem[]; warnings: Problem[] } {
  const file = `${ds.dir}/annotations.json`;
  const out: Problem[] = [];
  const warnings: Problem[] = [];
  // Training needs every category in its train split; a val split may lack some (AP skips them).
  const isVal = ds.info?.split === 'val' || /(^|[\\/])val[\\/]*$/.test(ds.dir);
  if (ds.images.length === 0) out.push({ file, field: 'images', message: 'the dataset has no images' });
  if (ds.annotations.length === 0) out.push({ file, field: 'annotations', message: 'the dataset has no annotations at all' });
  const perClass = new Map<number, number>();
  for (const a of ds.annotations) if (!a.iscrowd) perClass.set(a.category_id, (perClass.get(a.category_id) ?? 0) + 1);
  const empty = ds.categories.filter((c) => !perClass.get(c.id));
  if (ds.annotations.length > 0 && empty.length) {
    const list = empty
      .slice(0, 10)
      .map((c) => `${c.id} (${c.name})`)
      .join(', ');
    const what = `no (non-crowd) annotations for ${empty.length} categor${empty.length === 1 ? 'y' : 'ies'}: ${list}`;
    if (isVal)
      warnings.push({ file, field: 'categories', message: `${what} (fine for a val split; training refuses it in a train split)` });
    else out.push({ file, field: 'categories', message: `${what}; training refuses this: remove the category or add annotations` });
  }
  if (ds.images.length > 0 && ds.annotations.length > 0 && ds.images.every((im) => !(ds.annsByImage.get(im.id) ?? []).length)) {
    out.push({ file, field: 'images', message: 'none of the images has an object' });
  }
  return { errors: out, warnings };
}

/** Decodes every image file (the header check alone misses truncated data); one problem per image that fails. */
export async function decodeProblems(ds: CocoDataset, onProgress?: (done: number, total: number) => void): Promise<Problem[]> {
  const out: Problem[] = [];
  let done = 0;
  for (const im of ds.images) {
    const path = imagePath(ds.dir, im);
    try {
      const img = decodeImage(await readFile(path));
      if (img.width !== im.width || img.height !== im.height)
        out.push({
          file: path,
          field: `image ${im.id}`,
          message: `decodes to ${img.width}x${img.height}, the JSON says ${im.width}x${im.height}`,
        });
    } catch (e) {
      out.push({ file: path, field: `image ${im.id}`, message: `cannot be decoded: ${(e as Error).message}` });
    }
    onProgress?.(++done, ds.images.length);
  }
  return out;
}

/** COCO size classes by annotation area: small < 32^2 <= medium < 96^2 <= large. */
export function sizeClass(area: number): 'small' | 'medium' | 'large' {
  return area < 32 ** 2 ? 'small' : area < 96 ** 2 ? 'medium' : 'large';
}

export interface DatasetSummary {
  images: number;
  annotations: number;
  crowd: number;
  perClass: { id: number; label: number; name: string; count: number; crowd: number }[];
  sizes: { small: number; medium: number; large: number };
  imageSizes: { minW: number; maxW: number; minH: number; maxH: number };
  boxesPerImage: { min: number; mean: number; max: number };
  errors: Problem[];
  warnings: Problem[];
}

export function summarizeDataset(r: CocoInspection): DatasetSummary | null {
  const ds = r.dataset;
  if (!ds) return null;
  const perClass = ds.labelToCatId.map((id, label) => ({ id, label, name: ds.categories[label]!.name, count: 0, crowd: 0 }));
  const sizes = { small: 0, medium: 0, large: 0 };
  let crowd = 0;
  for (const a of ds.annotations) {
    const c = perClass[ds.catIdToLabel.get(a.category_id)!]!;
    if (a.iscrowd) {
      c.crowd++;
      crowd++;
      continue;
    }
    c.count++;
    sizes[sizeClass(a.area)]++;
  }
  const per = ds.images.map((im) => ds.annsByImage.get(im.id)!.length);
  if (per.length === 0) per.push(0); // no images: sizes and counts 0, not ±Infinity
  const sized = ds.images.length ? ds.images : [{ width: 0, height: 0 }];
  return {
    images: ds.images.length,
    annotations: ds.annotations.length,
    crowd,
    perClass,
    sizes,
    imageSizes: {
      minW: Math.min(...sized.map((i) => i.width)),
      maxW: Math.max(...sized.map((i) => i.width)),
      minH: Math.min(...sized.map((i) => i.height)),
      maxH: Math.max(...sized.map((i) => i.height)),
    },
    boxesPerImage: { min: Math.min(...per), mean: per.reduce((a, b) => a + b, 0) / Math.max(1, per.length), max: Math.max(...per) },
    errors: r.errors,
    warnings: r.warnings,
  };
}

function bar(n: number, max: number, width = 30): string {
  return '#'.repeat(max ? Math.round((n / max) * width) : 0);
}

/** The text `data info` prints. */
export function formatDatasetInfo(dir: string, r: CocoInspection): string {
  const lines: string[] = [`dataset ${dir}`];
  const s = summarizeDataset(r);
  if (s && s.images === 0) lines.push('images: 0');
  else if (s) {
    lines.push(`images: ${s.images} (${s.imageSizes.minW}-${s.imageSizes.maxW} x ${s.imageSizes.minH}-${s.imageSizes.maxH} px)`);
    lines.push(
      `annotations: ${s.annotations} (${s.crowd} crowd), per image min ${s.boxesPerImage.min} / mean ${s.boxesPerImage.mean.toFixed(2)} / max ${s.boxesPerImage.max}`,
    );
    lines.push('', 'annotations per class (non-crowd; crowd in brackets):');
    const w = Math.max(4, ...s.perClass.map((c) => c.name.length));
    const maxC = Math.max(...s.perClass.map((c) => c.count));
    for (const c of s.perClass) {
      lines.push(
        `  ${String(c.label).padStart(3)}  id ${String(c.id).padStart(4)}  ${c.name.padEnd(w)} ${String(c.count).padStart(7)}${c.crowd ? ` [${c.crowd}]` : ''}  ${bar(c.count, maxC)}`,
      );
    }
    lines.push('', 'box sizes by area (COCO: small < 32^2 <= medium < 96^2 <= large):');
    const maxS = Math.max(s.sizes.small, s.sizes.medium, s.sizes.large);
    const tot = s.sizes.small + s.sizes.medium + s.sizes.large;
    for (const k of ['small', 'medium', 'large'] as const) {
      const pct = tot ? ((100 * s.sizes[k]) / tot).toFixed(1) : '0.0';
      lines.push(`  ${k.padEnd(6)} ${String(s.sizes[k]).padStart(7)} (${pct.padStart(5)}%)  ${bar(s.sizes[k], maxS)}`);
    }
  }
  lines.push('', `problems: ${r.errors.length} error(s), ${r.warnings.length} warning(s)`);
  for (const p of r.errors.slice(0, 200)) lines.push(`  error: ${formatProblem(p)}`);
  if (r.errors.length > 200) lines.push(`  ... ${r.errors.length - 200} more errors`);
  for (const p of r.warnings.slice(0, 100)) lines.push(`  warning: ${formatProblem(p)}`);
  return lines.join('\n');
}
