import { DataError, type Problem } from '../data/errors.js';
import type { CocoDetection, CocoGroundTruth, CocoGtAnnotation } from './cocoeval.js';

const MAX_PROBLEMS = 1000;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function describe(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (v === undefined) return 'missing';
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

/** Checks a bbox [x, y, w, h]: four finite numbers, w and h not negative. */
function checkBox(v: unknown, file: string, field: string, problems: Problem[]): boolean {
  if (!Array.isArray(v) || v.length !== 4) {
    problems.push({ file, field, message: `expected [x, y, w, h], got ${describe(v)}` });
    return false;
  }
  if (!v.every(finite)) {
    problems.push({ file, field, message: `non-numeric or non-finite value in ${describe(v)}` });
    return false;
  }
  if (v[2] < 0 || v[3] < 0) {
    problems.push({ file, field, message: `negative box size w=${v[2]}, h=${v[3]}` });
    return false;
  }
  return true;
}

/**
 * Validates a COCO instances object for evaluation. Reports every problem (field paths such
 * as `annotations[3].area`) in one DataError. `iscrowd` may be absent (taken as 0).
 */
export function validateGroundTruth(raw: unknown, file: string): CocoGroundTruth {
  const problems: Problem[] = [];
  const push = (field: string, message: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push({ file, field, message });
  };
  if (!isObject(raw)) throw new DataError([{ file, field: '', message: 'expected a JSON object with images, annotations, categories' }]);
  for (const key of ['images', 'annotations', 'categories']) {
    if (!Array.isArray(raw[key])) push(key, `expected an array, got ${describe(raw[key])}`);
  }
  if (problems.length) throw new DataError(problems, `invalid ground truth ${file}`);
  const images = raw.images as unknown[];
  const categories = raw.categories as unknown[];
  const annotations = raw.annotations as unknown[];

  const imgIds = new Set<number>();
  images.forEach((im, i) => {
    if (!isObject(im) || !finite(im.id)) return push(`images[${i}].id`, `expected a number, got ${describe(isObject(im) ? im.id : im)}`);
    if (imgIds.has(im.id)) push(`images[${i}].id`, `duplicate image id ${im.id}`);
    imgIds.add(im.id);
  });
  const catIds = new Set<number>();
  categories.forEach((c, i) => {
    if (!isObject(c) || !finite(c.id)) return push(`categories[${i}].id`, `expected a number, got ${describe(isObject(c) ? c.id : c)}`);
    if (catIds.has(c.id)) push(`categories[${i}].id`, `duplicate category id ${c.id}`);
    catIds.add(c.id);
  });
  const annIds = new Set<number>();
  annotations.forEach((a, i) => {
    const f = `annotations[${i}]`;
    if (!isObject(a)) return push(f, 'expected an object');
    if (!finite(a.id)) push(`${f}.id`, `expected a number, got ${describe(a.id)}`);
    else if (annIds.has(a.id)) push(`${f}.id`, `duplicate annotation id ${a.id}`);
    else annIds.add(a.id);
    if (!finite(a.image_id)) push(`${f}.image_id`, `expected a number, got ${describe(a.image_id)}`);
    else if (!imgIds.has(a.image_id)) push(`${f}.image_id`, `unknown image id ${a.image_id}`);
    if (!finite(a.category_id)) push(`${f}.category_id`, `expected a number, got ${describe(a.category_id)}`);
    else if (!catIds.has(a.category_id)) push(`${f}.category_id`, `unknown category id ${a.category_id}`);
    if (problems.length < MAX_PROBLEMS) checkBox(a.bbox, file, `${f}.bbox`, problems);
    if (!finite(a.area)) push(`${f}.area`, `expected a number, got ${describe(a.area)}`);
    if (a.iscrowd !== undefined && a.iscrowd !== 0 && a.iscrowd !== 1 && typeof a.iscrowd !== 'boolean') {
      push(`${f}.iscrowd`, `expected 0 or 1, got ${describe(a.iscrowd)}`);
    }
  });
  if (problems.length) throw new DataError(problems, `invalid ground truth ${file}`);
  return {
    images: images as { id: number }[],
    categories: categories as { id: number; name?: string }[],
    annotations: annotations as CocoGtAnnotation[],
  };
}

export interface DetectionCheck {
  dets: CocoDetection[];
  /** Detections dropped because of an unknown image or category (only with dropUnknown). */
  droppedUnknownImage: number;
  droppedUnknownCategory: number;
}

/**
 * Validates detections in COCO results form against the ground truth. Unknown image or
 * category ids are errors naming them, unless `dropUnknown` (then they are dropped and
 * counted). Non-numeric or negative box sizes and non-finite scores are always errors.
 */
export function validateDetections(
  raw: unknown,
  file: string,
  gt: CocoGroundTruth,
  opts: { dropUnknown?: boolean } = {},
): DetectionCheck {
  if (!Array.isArray(raw)) {
    throw new DataError([{ file, field: '', message: `expected an array of detections, got ${describe(isObject(raw) ? '{...}' : raw)}` }]);
  }
  const imgIds = new Set(gt.images.map((i) => i.id));
  const catIds = new Set(gt.categories.map((c) => c.id));
  const problems: Problem[] = [];
  const push = (field: string, message: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push({ file, field, message });
  };
  const unknownImages = new Map<number, number>();
  const unknownCats = new Map<number, number>();
  const dets: CocoDetection[] = [];
  let droppedUnknownImage = 0;
  let droppedUnknownCategory = 0;
  raw.forEach((d: unknown, i) => {
    const f = `[${i}]`;
    if (!isObject(d)) return push(f, 'expected an object');
    let ok = true;
    if (!finite(d.image_id)) {
      push(`${f}.image_id`, `expected a number, got ${describe(d.image_id)}`);
      ok = false;
    }
    if (!finite(d.category_id)) {
      push(`${f}.category_id`, `expected a number, got ${describe(d.category_id)}`);
      ok = false;
    }
    if (problems.length < MAX_PROBLEMS) ok = checkBox(d.bbox, file, `${f}.bbox`, problems) && ok;
    if (!finite(d.score)) {
      push(`${f}.score`, `expected a finite number, got ${describe(d.score)}`);
      ok = false;
    }
    if (!ok) return;
    const imageId = d.image_id as number;
    const catId = d.category_id as number;
    if (!imgIds.has(imageId)) {
      unknownImages.set(imageId, (unknownImages.get(imageId) ?? 0) + 1);
      droppedUnknownImage++;
      return;
    }
    if (!catIds.has(catId)) {
      unknownCats.set(catId, (unknownCats.get(catId) ?? 0) + 1);
      droppedUnknownCategory++;
      return;
    }
    dets.push(d as unknown as CocoDetection);
  });
  if (!opts.dropUnknown) {
    const list = (m: Map<number, number>): string =>
      [...m.entries()]
        .slice(0, 20)
        .map(([id, n]) => `${id} (${n} detection${n === 1 ? '' : 's'})`)
        .join(', ') + (m.size > 20 ? `, ... ${m.size - 20} more` : '');
    if (unknownImages.size) push('image_id', `detections for image ids not in the ground truth: ${list(unknownImages)}`);
    if (unknownCats.size) push('category_id', `detections for category ids not in the ground truth: ${list(unknownCats)}`);
  }
  if (problems.length) {
    const hint = unknownImages.size || unknownCats.size ? ' (drop unknown ids with --drop-unknown)' : '';
    throw new DataError(problems, `invalid detections ${file}${hint}`);
  }
  return { dets, droppedUnknownImage, droppedUnknownCategory };
}
