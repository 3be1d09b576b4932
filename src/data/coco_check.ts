/**
 * The checks of COCO structures shared by the training loader (data/coco.ts) and the evaluator's
 * validation (eval/validate.ts): the top-level arrays, unique ids, references to images and
 * categories, `iscrowd` and `bbox`. Each check reports through the caller's `report`, which owns
 * the file name and the cap on problems, and returns the checked value or null.
 */

/** Records one problem at a field path such as `annotations[3].bbox`. */
export type Report = (field: string, message: string) => void;

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** A value as an error message shows it (JSON, shortened to 40 characters). */
export function describe(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (v === undefined) return 'missing';
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

export interface CocoArrays {
  images: unknown[];
  annotations: unknown[];
  categories: unknown[];
}

/** A COCO instances object: `images`, `annotations` and `categories` arrays. */
export function cocoArrays(raw: unknown, report: Report): CocoArrays | null {
  if (!isObject(raw)) {
    report('', 'expected a JSON object with images, annotations, categories');
    return null;
  }
  let ok = true;
  for (const key of ['images', 'annotations', 'categories']) {
    if (!Array.isArray(raw[key])) {
      report(key, `expected an array, got ${describe(raw[key])}`);
      ok = false;
    }
  }
  return ok
    ? { images: raw.images as unknown[], annotations: raw.annotations as unknown[], categories: raw.categories as unknown[] }
    : null;
}

/** A finite number at `field`. */
export function numberAt(v: unknown, field: string, report: Report): number | null {
  if (finite(v)) return v;
  report(field, `expected a number, got ${describe(v)}`);
  return null;
}

/** The entry's `id`: a number not seen before among the ids of this kind (added to `seen`). */
export function uniqueId(
  entry: Record<string, unknown>,
  f: string,
  kind: 'image' | 'category' | 'annotation',
  seen: Set<number>,
  report: Report,
): number | null {
  const id = numberAt(entry.id, `${f}.id`, report);
  if (id === null) return null;
  if (seen.has(id)) {
    report(`${f}.id`, `duplicate ${kind} id ${id}`);
    return null;
  }
  seen.add(id);
  return id;
}

/** A number at `field` that names a known image or category. */
export function knownId(
  v: unknown,
  field: string,
  kind: 'image' | 'category',
  known: { has(id: number): boolean },
  report: Report,
): number | null {
  const id = numberAt(v, field, report);
  if (id === null) return null;
  if (!known.has(id)) {
    report(field, `unknown ${kind} id ${id}`);
    return null;
  }
  return id;
}

/** `iscrowd`: absent (0), 0, 1, false or true. */
export function crowdFlag(v: unknown, field: string, report: Report): 0 | 1 | null {
  if (v === undefined || v === 0 || v === false) return 0;
  if (v === 1 || v === true) return 1;
  report(field, `expected 0 or 1, got ${describe(v)}`);
  return null;
}

/**
 * A box [x, y, w, h] of four finite numbers. Ground truth and detections for evaluation may
 * have zero width or height (`empty: 'allowed'`, as in COCO); training targets may not
 * (`empty: 'rejected'`).
 */
export function boxAt(v: unknown, field: string, empty: 'allowed' | 'rejected', report: Report): [number, number, number, number] | null {
  if (!Array.isArray(v) || v.length !== 4) {
    report(field, `expected [x, y, w, h] of finite numbers, got ${describe(v)}`);
    return null;
  }
  if (!v.every(finite)) {
    report(field, `expected [x, y, w, h] of finite numbers; non-numeric or non-finite value in ${describe(v)}`);
    return null;
  }
  const [x, y, w, h] = v as [number, number, number, number];
  if (empty === 'allowed' ? w < 0 || h < 0 : w <= 0 || h <= 0) {
    report(field, `${empty === 'allowed' ? 'negative' : 'non-positive'} box size w=${w}, h=${h}`);
    return null;
  }
  return [x, y, w, h];
}
