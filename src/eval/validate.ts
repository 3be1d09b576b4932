import { boxAt, cocoArrays, crowdFlag, describe, finite, isObject, knownId, numberAt, uniqueId } from '../data/coco_check.js';
import { DataError, type Problem } from '../data/errors.js';
import type { CocoDetection, CocoGroundTruth, CocoGtAnnotation } from './cocoeval.js';

const MAX_PROBLEMS = 1000;

/**
 * Validates a COCO instances object for evaluation. Reports every problem (field paths such
 * as `annotations[3].area`) in one DataError. `iscrowd` may be absent (taken as 0).
 */
export function validateGroundTruth(raw: unknown, file: string): CocoGroundTruth {
  const problems: Problem[] = [];
  const push = (field: string, message: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push({ file, field, message });
  };
  const arrays = cocoArrays(raw, push);
  if (!arrays) throw new DataError(problems, isObject(raw) ? `invalid ground truth ${file}` : undefined);
  const { images, categories, annotations } = arrays;

  const imgIds = new Set<number>();
  images.forEach((im, i) => {
    if (!isObject(im)) return push(`images[${i}]`, 'expected an object');
    uniqueId(im, `images[${i}]`, 'image', imgIds, push);
  });
  const catIds = new Set<number>();
  categories.forEach((c, i) => {
    if (!isObject(c)) return push(`categories[${i}]`, 'expected an object');
    uniqueId(c, `categories[${i}]`, 'category', catIds, push);
  });
  const annIds = new Set<number>();
  annotations.forEach((a, i) => {
    const f = `annotations[${i}]`;
    if (!isObject(a)) return push(f, 'expected an object');
    uniqueId(a, f, 'annotation', annIds, push);
    knownId(a.image_id, `${f}.image_id`, 'image', imgIds, push);
    knownId(a.category_id, `${f}.category_id`, 'category', catIds, push);
    boxAt(a.bbox, `${f}.bbox`, 'allowed', push);
    numberAt(a.area, `${f}.area`, push);
    crowdFlag(a.iscrowd, `${f}.iscrowd`, push);
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
export function validateDetections(raw: unknown, file: string, gt: CocoGroundTruth, opts: { dropUnknown?: boolean } = {}): DetectionCheck {
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
    let ok = numberAt(d.image_id, `${f}.image_id`, push) !== null;
    ok = numberAt(d.category_id, `${f}.category_id`, push) !== null && ok;
    ok = boxAt(d.bbox, `${f}.bbox`, 'allowed', push) !== null && ok;
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
