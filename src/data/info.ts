import type { Problem } from './errors.js';
import { formatProblem } from './errors.js';
import type { CocoInspection } from './coco.js';

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
  return {
    images: ds.images.length,
    annotations: ds.annotations.length,
    crowd,
    perClass,
    sizes,
    imageSizes: {
      minW: Math.min(...ds.images.map((i) => i.width)),
      maxW: Math.max(...ds.images.map((i) => i.width)),
      minH: Math.min(...ds.images.map((i) => i.height)),
      maxH: Math.max(...ds.images.map((i) => i.height)),
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
  if (s) {
    lines.push(`images: ${s.images} (${s.imageSizes.minW}-${s.imageSizes.maxW} x ${s.imageSizes.minH}-${s.imageSizes.maxH} px)`);
    lines.push(`annotations: ${s.annotations} (${s.crowd} crowd), per image min ${s.boxesPerImage.min} / mean ${s.boxesPerImage.mean.toFixed(2)} / max ${s.boxesPerImage.max}`);
    lines.push('', 'annotations per class (non-crowd; crowd in brackets):');
    const w = Math.max(4, ...s.perClass.map((c) => c.name.length));
    const maxC = Math.max(...s.perClass.map((c) => c.count));
    for (const c of s.perClass) {
      lines.push(`  ${String(c.label).padStart(3)}  id ${String(c.id).padStart(4)}  ${c.name.padEnd(w)} ${String(c.count).padStart(7)}${c.crowd ? ` [${c.crowd}]` : ''}  ${bar(c.count, maxC)}`);
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
