import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError, type Problem } from './errors.js';
import { readJsonFile } from './json.js';
import { boxAt, cocoArrays, crowdFlag, describe as show, finite, isObject, knownId, uniqueId } from './coco_check.js';
import { imageSize } from './image.js';

export interface CocoImage {
  id: number;
  file_name: string;
  width: number;
  height: number;
}
export interface CocoCategory {
  id: number;
  name: string;
}
export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  /** [x, y, w, h] in original image pixels (clipped to the image under boxPolicy 'clip'). */
  bbox: [number, number, number, number];
  area: number;
  iscrowd: 0 | 1;
}

/** A validated COCO detection dataset on disk: `dir/annotations.json` and `dir/images/`. */
export interface CocoDataset {
  dir: string;
  images: CocoImage[];
  categories: CocoCategory[];
  annotations: CocoAnnotation[];
  /** Category id -> contiguous class index 0..C-1 (categories in ascending id order). */
  catIdToLabel: Map<number, number>;
  /** Class index -> category id. */
  labelToCatId: number[];
  /** Annotations per image id, in file order. */
  annsByImage: Map<number, CocoAnnotation[]>;
  /** Things worth knowing that did not stop loading (clipped boxes, crowds, id gaps). */
  warnings: Problem[];
  /** The file's `info` object (free-form in COCO; `cse-autoloss data make` records its settings there). */
  info: Record<string, unknown> | null;
}

export interface LoadCocoOptions {
  /**
   * Boxes reaching outside their image: 'clip' (default) clips them to the image and warns;
   * 'reject' reports them as errors.
   */
  boxPolicy?: 'clip' | 'reject';
  /** Check that every image file exists and its header matches width/height (default true). */
  checkImages?: boolean;
}

export interface CocoInspection {
  /** Present when there are no errors. */
  dataset?: CocoDataset;
  errors: Problem[];
  warnings: Problem[];
}

const ANNOTATIONS = 'annotations.json';
const MAX_REPORTED = 5000;

const positiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;

/** Loads and validates a COCO dataset folder; throws a DataError listing every problem. */
export async function loadCoco(dir: string, opts: LoadCocoOptions = {}): Promise<CocoDataset> {
  const r = await inspectCoco(dir, opts);
  if (!r.dataset)
    throw new DataError(r.errors, `invalid COCO dataset ${dir} (${r.errors.length} problem${r.errors.length === 1 ? '' : 's'})`);
  return r.dataset;
}

/** Like loadCoco, but returns errors and warnings instead of throwing (for `data info`). */
export async function inspectCoco(dir: string, opts: LoadCocoOptions = {}): Promise<CocoInspection> {
  const policy = opts.boxPolicy ?? 'clip';
  const file = join(dir, ANNOTATIONS);
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  const err = (field: string, message: string, f = file): void => {
    if (errors.length < MAX_REPORTED) errors.push({ file: f, field, message });
  };
  const warn = (field: string, message: string, f = file): void => {
    if (warnings.length < MAX_REPORTED) warnings.push({ file: f, field, message });
  };

  let raw: unknown;
  try {
    raw = await readJsonFile(file);
  } catch (e) {
    if (e instanceof DataError) return { errors: e.problems, warnings };
    throw e;
  }
  const arrays = cocoArrays(raw, err);
  if (!arrays || !isObject(raw)) return { errors, warnings };

  // ---- images
  const images: CocoImage[] = [];
  const imageById = new Map<number, CocoImage>();
  const imageIds = new Set<number>();
  arrays.images.forEach((im, i) => {
    const f = `images[${i}]`;
    if (!isObject(im)) return err(f, 'expected an object');
    let ok = uniqueId(im, f, 'image', imageIds, err) !== null;
    if (typeof im.file_name !== 'string' || im.file_name === '') {
      err(`${f}.file_name`, `expected a file name, got ${show(im.file_name)}`);
      ok = false;
    }
    for (const k of ['width', 'height'] as const) {
      if (!positiveInt(im[k])) {
        err(`${f}.${k}`, `expected a positive integer, got ${show(im[k])}`);
        ok = false;
      }
    }
    if (!ok) return;
    const img: CocoImage = {
      id: im.id as number,
      file_name: im.file_name as string,
      width: im.width as number,
      height: im.height as number,
    };
    images.push(img);
    imageById.set(img.id, img);
  });

  // ---- categories
  const categories: CocoCategory[] = [];
  const catIds = new Set<number>();
  arrays.categories.forEach((c, i) => {
    const f = `categories[${i}]`;
    if (!isObject(c)) return err(f, 'expected an object');
    const id = uniqueId(c, f, 'category', catIds, err);
    if (id === null) return;
    if (typeof c.name !== 'string') err(`${f}.name`, `expected a string, got ${show(c.name)}`);
    categories.push({ id, name: typeof c.name === 'string' ? c.name : String(id) });
  });
  if (categories.length === 0) err('categories', 'no categories');
  const sortedCats = [...categories].sort((a, b) => a.id - b.id);
  const labelToCatId = sortedCats.map((c) => c.id);
  const catIdToLabel = new Map(labelToCatId.map((id, label) => [id, label]));
  if (labelToCatId.some((id, k) => id !== labelToCatId[0]! + k)) {
    warn(
      'categories',
      `category ids are not contiguous (${summariseIds(labelToCatId)}); kept as they are, class index k maps to labelToCatId[k]`,
    );
  }

  // ---- annotations
  const annotations: CocoAnnotation[] = [];
  const annIds = new Set<number>();
  let clipped = 0;
  let crowds = 0;
  let missingArea = 0;
  arrays.annotations.forEach((a, i) => {
    const f = `annotations[${i}]`;
    if (!isObject(a)) return err(f, 'expected an object');
    const id = uniqueId(a, f, 'annotation', annIds, err);
    const imageId = knownId(a.image_id, `${f}.image_id`, 'image', imageById, err);
    const catId = knownId(a.category_id, `${f}.category_id`, 'category', catIds, err);
    const iscrowd = crowdFlag(a.iscrowd, `${f}.iscrowd`, err);
    const b = a.bbox;
    const box = boxAt(b, `${f}.bbox`, 'rejected', err);
    if (!box) return;
    let [x, y, w, h] = box;
    const img = imageId === null ? undefined : imageById.get(imageId);
    if (id === null || catId === null || iscrowd === null || !img) return;
    const outside = x < 0 || y < 0 || x + w > img.width || y + h > img.height;
    if (outside) {
      if (policy === 'reject') {
        err(`${f}.bbox`, `box [${x}, ${y}, ${w}, ${h}] reaches outside image ${img.id} (${img.width}x${img.height})`);
        return;
      }
      const x2 = Math.min(x + w, img.width);
      const y2 = Math.min(y + h, img.height);
      x = Math.max(x, 0);
      y = Math.max(y, 0);
      w = x2 - x;
      h = y2 - y;
      if (w <= 0 || h <= 0) {
        err(`${f}.bbox`, `box ${show(b)} lies entirely outside image ${img.id} (${img.width}x${img.height})`);
        return;
      }
      clipped++;
      if (clipped <= 20) warn(`${f}.bbox`, `box ${show(b)} clipped to image ${img.id} (${img.width}x${img.height})`);
    }
    let area: number;
    if (a.area === undefined) {
      area = w * h;
      missingArea++;
    } else if (!finite(a.area) || a.area < 0) {
      err(`${f}.area`, `expected a non-negative number, got ${show(a.area)}`);
      return;
    } else area = a.area;
    if (iscrowd) crowds++;
    annotations.push({ id, image_id: img.id, category_id: catId, bbox: [x, y, w, h], area, iscrowd });
  });
  if (clipped > 20) warn('annotations', `${clipped} boxes clipped to their image in all (first 20 listed)`);
  if (missingArea) warn('annotations', `${missingArea} annotations without area: taken as w*h`);
  if (crowds) warn('annotations', `${crowds} crowd annotations (iscrowd=1): kept for evaluation, left out of training targets`);

  // ---- image files
  if (opts.checkImages !== false) {
    const problems = await checkImageFiles(dir, images);
    for (const p of problems) if (errors.length < MAX_REPORTED) errors.push(p);
  }
  if (errors.length) return { errors, warnings };

  const annsByImage = new Map<number, CocoAnnotation[]>();
  for (const im of images) annsByImage.set(im.id, []);
  for (const a of annotations) annsByImage.get(a.image_id)!.push(a);
  const empty = images.filter((im) => annsByImage.get(im.id)!.length === 0).length;
  if (empty) warn('images', `${empty} image(s) without annotations`);
  const info = isObject(raw.info) ? (raw.info as Record<string, unknown>) : null;
  const dataset: CocoDataset = {
    dir,
    images,
    categories: sortedCats,
    annotations,
    catIdToLabel,
    labelToCatId,
    annsByImage,
    warnings,
    info,
  };
  return { dataset, errors, warnings };
}

function summariseIds(ids: number[]): string {
  return ids.length <= 12 ? ids.join(', ') : `${ids.slice(0, 10).join(', ')}, ..., ${ids[ids.length - 1]}`;
}

export function imagePath(dir: string, img: { file_name: string }): string {
  return join(dir, 'images', img.file_name);
}

/** Every image file exists, is PNG or JPEG, and its header size matches the JSON. */
async function checkImageFiles(dir: string, images: CocoImage[]): Promise<Problem[]> {
  const problems: Problem[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < images.length) {
      const img = images[next++]!;
      const path = imagePath(dir, img);
      const p = await checkOne(path, img);
      if (p) problems.push(p);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return problems;
}

async function checkOne(path: string, img: CocoImage): Promise<Problem | null> {
  const field = `image ${img.id}`;
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) return { file: path, field, message: 'not a file' };
    size = s.size;
  } catch {
    return { file: path, field, message: 'image file missing' };
  }
  const fh = await open(path, 'r');
  try {
    let len = Math.min(size, 65536);
    let buf = new Uint8Array(len);
    await fh.read(buf, 0, len, 0);
    let dims = imageSize(buf);
    if (!dims && len < size) {
      len = size;
      buf = new Uint8Array(len);
      await fh.read(buf, 0, len, 0);
      dims = imageSize(buf);
    }
    if (!dims) return { file: path, field, message: 'not a readable PNG or JPEG file' };
    if (dims.width !== img.width || dims.height !== img.height) {
      return { file: path, field, message: `file is ${dims.width}x${dims.height} but annotations.json says ${img.width}x${img.height}` };
    }
    return null;
  } finally {
    await fh.close();
  }
}
