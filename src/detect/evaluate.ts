/**
 * Evaluation of a detector: one pass over a COCO split (or a subset of its images), detections
 * mapped back to the images' pixels, COCO metrics; and `testDetector`, which loads a checkpoint
 * folder and evaluates it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../tf.js';
import { BatchLoader, loadCoco, type CocoDataset } from '../data/index.js';
import { evaluateCoco, type CocoDetection, type CocoMetrics } from '../eval/index.js';
import { createDetector } from './build.js';
import { loadWeightsInto, readCheckpoint, CheckpointError } from './checkpoint.js';
import type { ModelConfig } from './config.js';
import { DETECTOR_KINDS } from './kinds.js';
import type { DetectorModel } from './model.js';

/** The first N images of a split, or explicit ids (undefined: all). */
export function subsetIds(ds: CocoDataset, subset: number | number[] | undefined): number[] | undefined {
  if (subset === undefined) return undefined;
  if (typeof subset === 'number') return ds.images.slice(0, subset).map((im) => im.id);
  return subset;
}

export interface EvalOutput {
  metrics: CocoMetrics;
  detections: CocoDetection[];
  images: number;
}

/** Runs the detector over a dataset (one pass) and scores it with COCO metrics. */
export async function evaluateDetector(
  model: DetectorModel,
  ds: CocoDataset,
  opts: { size: number; batch: number; subset?: number[]; readAhead?: number },
): Promise<EvalOutput> {
  const loader = new BatchLoader(ds, {
    batchSize: opts.batch,
    size: opts.size,
    shuffle: false,
    flip: false,
    seed: 0,
    readAhead: opts.readAhead ?? 2,
    subset: opts.subset,
  });
  const detections: CocoDetection[] = [];
  let images = 0;
  try {
    for (;;) {
      const b = await loader.next();
      if (!b) break;
      const dets = model.predict(b.images, b.contentSizes);
      b.images.dispose();
      dets.forEach((d, i) => {
        const s = b.scales[i]!;
        for (let k = 0; k < d.scores.length; k++) {
          const x1 = d.boxes[4 * k]! / s,
            y1 = d.boxes[4 * k + 1]! / s;
          const x2 = d.boxes[4 * k + 2]! / s,
            y2 = d.boxes[4 * k + 3]! / s;
          detections.push({
            image_id: b.imageIds[i]!,
            category_id: ds.labelToCatId[d.labels[k]!]!,
            bbox: [round3(x1), round3(y1), round3(x2 - x1), round3(y2 - y1)],
            score: round5(d.scores[k]!),
          });
        }
      });
      images += b.imageIds.length;
    }
  } finally {
    await loader.close();
  }
  const gt = opts.subset ? restrictGt(ds, opts.subset) : ds;
  return { metrics: evaluateCoco(gt, detections).metrics, detections, images };
}

function restrictGt(ds: CocoDataset, ids: number[]) {
  const set = new Set(ids);
  return {
    images: ds.images.filter((im) => set.has(im.id)),
    annotations: ds.annotations.filter((a) => set.has(a.image_id)),
    categories: ds.categories,
  };
}

export const round3 = (x: number) => Math.round(x * 1000) / 1000;
const round5 = (x: number) => Math.round(x * 100000) / 100000;

/** Loads a checkpoint folder and evaluates it on a COCO split folder. */
export async function testDetector(opts: {
  checkpoint: string;
  data: string;
  batch?: number;
  subset?: number;
  out?: string;
}): Promise<EvalOutput & { modelConfig: ModelConfig }> {
  const ck = await readCheckpoint(opts.checkpoint);
  const mc = ck.meta.modelConfig as ModelConfig;
  if (!mc || !DETECTOR_KINDS.includes(mc.detector)) {
    tf.dispose(Object.values(ck.weights));
    throw new CheckpointError(`${opts.checkpoint}: no detector model config in model.json`);
  }
  const split = existsSync(join(opts.data, 'annotations.json')) ? opts.data : join(opts.data, 'val');
  const ds = await loadCoco(split);
  const model = await createDetector(mc, 0);
  try {
    loadWeightsInto(model.ps, ck.weights, opts.checkpoint, true);
    const nc = mc.detector === 'fcos' ? mc.fcos.numClasses : mc.rcnn.numClasses;
    if (nc !== ds.categories.length)
      throw new CheckpointError(`the checkpoint has ${nc} classes, the dataset ${split} has ${ds.categories.length}`);
    const r = await evaluateDetector(model, ds, { size: mc.inputSize, batch: opts.batch ?? 8, subset: subsetIds(ds, opts.subset) });
    if (opts.out) {
      await mkdir(opts.out, { recursive: true });
      await writeFile(join(opts.out, 'results.json'), JSON.stringify(r.detections));
      await writeFile(
        join(opts.out, 'metrics.json'),
        JSON.stringify({ checkpoint: opts.checkpoint, data: split, metrics: r.metrics, images: r.images }, null, 1),
      );
    }
    return { ...r, modelConfig: mc };
  } finally {
    model.ps.dispose();
  }
}
