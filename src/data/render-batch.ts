import { readFileSync } from 'node:fs';
import { decodeImage } from './image.js';
import { renderInput, type Normalization, type ResizePlan } from './transform.js';

/** Everything needed to turn image files into one batch of input pixels (serialisable). */
export interface RenderJob {
  padW: number;
  padH: number;
  norm: Normalization;
  items: { path: string; width: number; height: number; plan: ResizePlan; flip: boolean }[];
}

/** Reads, decodes and renders every image of the job: [B, padH, padW, 3] float32. */
export function renderBatch(job: RenderJob): Float32Array {
  const per = job.padH * job.padW * 3;
  const out = new Float32Array(job.items.length * per);
  job.items.forEach((it, b) => {
    let img;
    try {
      img = decodeImage(readFileSync(it.path));
    } catch (e) {
      throw new Error(`${it.path}: cannot decode image: ${(e as Error).message}`);
    }
    if (img.width !== it.width || img.height !== it.height) {
      throw new Error(`${it.path}: image is ${img.width}x${img.height}, annotations say ${it.width}x${it.height}`);
    }
    renderInput(img.data, img.width, img.height, it.plan, it.flip, job.norm, out.subarray(b * per, (b + 1) * per), job.padW);
  });
  return out;
}
