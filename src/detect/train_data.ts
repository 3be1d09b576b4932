/**
 * The data a detector's training feeds on: the checks that would make a run pointless (reported
 * before training starts), whether images are flipped, and the targets of a batch as the model
 * sees them (boxes under MIN_BOX_SIDE dropped). The loader itself is src/data's.
 */
import type { Batch, CocoDataset } from '../data/index.js';
import { DetectConfigError } from './config.js';
import type { TrainBatch } from './model.js';

/** Boxes in a batch smaller than this (input px) are dropped from the targets. */
export const MIN_BOX_SIDE = 1;

/** The batch as the model trains on it: target boxes under MIN_BOX_SIDE on either side dropped. */
export function toTrainBatch(b: Batch): TrainBatch {
  const boxes: Float32Array[] = [];
  const labels: Int32Array[] = [];
  b.boxes.forEach((bx, i) => {
    const keep: number[] = [];
    for (let k = 0; k < bx.length / 4; k++) {
      if (bx[4 * k + 2]! - bx[4 * k]! >= MIN_BOX_SIDE && bx[4 * k + 3]! - bx[4 * k + 1]! >= MIN_BOX_SIDE) keep.push(k);
    }
    const nb = new Float32Array(keep.length * 4);
    const nl = new Int32Array(keep.length);
    keep.forEach((k, j) => {
      nb.set(bx.subarray(4 * k, 4 * k + 4), 4 * j);
      nl[j] = b.labels[i]![k]!;
    });
    boxes.push(nb);
    labels.push(nl);
  });
  return { images: b.images, boxes, labels, contentSizes: b.contentSizes };
}

/** Checks on the data that would make a run pointless, reported before training starts. */
export function checkData(train: CocoDataset, val: CocoDataset, trainIds: number[] | undefined): string[] {
  const warnings: string[] = [];
  const perClass = new Map<number, number>();
  for (const a of train.annotations) if (!a.iscrowd) perClass.set(a.category_id, (perClass.get(a.category_id) ?? 0) + 1);
  const empty = train.categories.filter((c) => !perClass.get(c.id));
  if (train.annotations.length === 0) throw new DetectConfigError(`${train.dir}: the training split has no annotations at all`);
  if (empty.length) {
    throw new DetectConfigError(
      `${train.dir}: no training annotations for ${empty.length} categor${empty.length === 1 ? 'y' : 'ies'}: ${empty
        .slice(0, 10)
        .map((c) => `${c.id} (${c.name})`)
        .join(', ')}; remove the category or add annotations`,
    );
  }
  const trainCats = train.categories.map((c) => c.id).join(',');
  const valCats = val.categories.map((c) => c.id).join(',');
  if (trainCats !== valCats) throw new DetectConfigError(`train and val splits have different categories ([${trainCats}] vs [${valCats}])`);
  const pool = trainIds ? new Set(trainIds) : null;
  const images = pool ? train.images.filter((im) => pool.has(im.id)) : train.images;
  const noObj = images.filter((im) => !(train.annsByImage.get(im.id) ?? []).length).length;
  if (noObj === images.length) throw new DetectConfigError(`${train.dir}: none of the ${images.length} training images has an object`);
  if (noObj) warnings.push(`${noObj} of ${images.length} training images have no objects (trained as background only)`);
  for (const w of train.warnings.slice(0, 5)) warnings.push(`${train.dir}: ${w.field ? `${w.field}: ` : ''}${w.message}`);
  return warnings;
}

/** Horizontal flips: as configured, else as the training set's info asks (`horizontal_flip`), else on. */
export function trainFlip(configured: boolean | undefined, ds: CocoDataset): boolean {
  if (configured !== undefined) return configured;
  return ds.info?.horizontal_flip !== false;
}
