import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../util/rng.js';
import { imagePath, type CocoDataset, type CocoImage } from './coco.js';
import { DataError } from './errors.js';
import { renderBatch, type RenderJob } from './render-batch.js';
import { IMAGENET_NORMALIZATION, planResize, transformBoxes, type Normalization, type ResizePlan } from './transform.js';

/** One training or evaluation batch. */
export interface Batch {
  /** [B, H, W, 3] float32, normalised, zero-padded at the right and bottom. */
  images: tf.Tensor4D;
  /** Per image: n*4 x1y1x2y2 in network-input pixels (crowd annotations left out). */
  boxes: Float32Array[];
  /** Per image: n class indices 0..C-1 (dataset.catIdToLabel). */
  labels: Int32Array[];
  imageIds: number[];
  /** input px = original px * scale. */
  scales: number[];
  /** Whether each image was mirrored left-right. */
  flipped: boolean[];
  /** Size of each image's resized content inside the padded input: [width, height]. */
  contentSizes: [number, number][];
}

export interface BatchLoaderOptions {
  batchSize: number;
  /** Input side: images are resized to fit size x size, keeping the aspect ratio. */
  size: number;
  /**
   * 'square' (default): every batch is padded to size x size. 'stride': a batch is padded
   * only to its largest image, rounded up to a multiple of `stride`.
   */
  pad?: 'square' | 'stride';
  stride?: number;
  /** Random horizontal flip with probability 1/2 (default false). */
  flip?: boolean;
  /**
   * Shuffle: a fresh permutation each epoch and an endless stream of batches. Without it,
   * one pass in dataset order, then next() resolves to null (last batch may be smaller).
   */
  shuffle?: boolean;
  seed: number;
  /** Batches decoded ahead in a worker thread (default 2; 0 = decode in next()). */
  readAhead?: number;
  /** Only these image ids (in the dataset's order). */
  subset?: number[];
  normalization?: Normalization;
}

interface Planned {
  seq: number;
  images: CocoImage[];
  plans: ResizePlan[];
  flips: boolean[];
  job: RenderJob;
}

/**
 * Batches from a CocoDataset with read-ahead in a worker thread. Deterministic by seed: the
 * order, flips and geometry are drawn in the main thread as batches are planned, so the
 * output does not depend on timing or on readAhead.
 */
export class BatchLoader {
  private readonly ds: CocoDataset;
  private readonly opts: Required<Omit<BatchLoaderOptions, 'subset' | 'normalization'>> & { normalization: Normalization };
  private readonly pool: CocoImage[];
  private readonly rng: Rng;
  private order: number[] = [];
  private cursor = 0;
  private epoch = 0;
  private planned = 0;
  private finished = false;
  private closed = false;
  private readonly pending: { planned: Planned; pixels: Promise<Float32Array> }[] = [];
  private worker: Worker | null = null;
  private workerReady: Promise<void> | null = null;
  private readonly waiting = new Map<number, { resolve: (p: Float32Array) => void; reject: (e: Error) => void }>();

  constructor(ds: CocoDataset, opts: BatchLoaderOptions) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1)
      throw new RangeError(`batchSize must be a positive integer, got ${opts.batchSize}`);
    if (!Number.isInteger(opts.size) || opts.size < 1) throw new RangeError(`size must be a positive integer, got ${opts.size}`);
    this.ds = ds;
    this.opts = {
      batchSize: opts.batchSize,
      size: opts.size,
      pad: opts.pad ?? 'square',
      stride: opts.stride ?? 32,
      flip: opts.flip ?? false,
      shuffle: opts.shuffle ?? false,
      seed: opts.seed,
      readAhead: opts.readAhead ?? 2,
      normalization: opts.normalization ?? IMAGENET_NORMALIZATION,
    };
    if (opts.subset) {
      const want = new Set(opts.subset);
      const known = new Set(ds.images.map((im) => im.id));
      const unknown = opts.subset.filter((id) => !known.has(id));
      if (unknown.length) throw new RangeError(`subset has image ids not in the dataset: ${unknown.slice(0, 10).join(', ')}`);
      this.pool = ds.images.filter((im) => want.has(im.id));
    } else {
      this.pool = ds.images.slice();
    }
    if (this.pool.length === 0) throw new RangeError('no images to load');
    this.rng = new Rng(opts.seed);
    this.startEpoch();
  }

  /** The number of batches in one pass over the images. */
  get batchesPerEpoch(): number {
    return Math.ceil(this.pool.length / this.opts.batchSize);
  }

  /**
   * Advances the stream by `n` batches without decoding them, as if next() had been called n
   * times (a resumed training continues the uninterrupted run's order, flips and geometry).
   * Only before the first next().
   */
  skip(n: number): void {
    if (this.planned > 0) throw new Error('BatchLoader.skip: only before the first batch is read');
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`skip: n must be a non-negative integer, got ${n}`);
    for (let i = 0; i < n; i++) if (!this.plan()) break;
  }

  /** The next batch, or null after one pass when not shuffling. */
  async next(): Promise<Batch | null> {
    if (this.closed) throw new Error('BatchLoader is closed');
    this.fill();
    const head = this.pending.shift();
    if (!head) return null;
    this.fill(); // keep the read-ahead queue full while we wait
    let pixels: Float32Array;
    try {
      pixels = await head.pixels;
    } catch (e) {
      throw new DataError([{ file: this.ds.dir, field: '', message: (e as Error).message }], 'cannot load batch');
    }
    return this.assemble(head.planned, pixels);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.values()) w.reject(new Error('BatchLoader closed'));
    this.waiting.clear();
    // Swallow rejections of batches nobody will await.
    for (const p of this.pending) p.pixels.catch(() => undefined);
    this.pending.length = 0;
    if (this.worker) {
      const w = this.worker;
      this.worker = null;
      await w.terminate();
    }
  }

  private startEpoch(): void {
    this.order = this.pool.map((_, i) => i);
    if (this.opts.shuffle) this.rng.shuffle(this.order);
    this.cursor = 0;
    this.epoch++;
  }

  /** Plans the next batch (order, flips, geometry), or null at the end of a single pass. */
  private plan(): Planned | null {
    if (this.finished) return null;
    const images: CocoImage[] = [];
    while (images.length < this.opts.batchSize) {
      if (this.cursor >= this.order.length) {
        if (!this.opts.shuffle) break;
        this.startEpoch();
      }
      images.push(this.pool[this.order[this.cursor++]!]!);
    }
    if (!this.opts.shuffle && this.cursor >= this.order.length) this.finished = true;
    if (images.length === 0) return null;
    const { size, pad, stride } = this.opts;
    const plans = images.map((im) => planResize(im.width, im.height, size, size));
    const flips = images.map(() => (this.opts.flip ? this.rng.chance(0.5) : false));
    let padW = size;
    let padH = size;
    if (pad === 'stride') {
      padW = Math.ceil(Math.max(...plans.map((p) => p.width)) / stride) * stride;
      padH = Math.ceil(Math.max(...plans.map((p) => p.height)) / stride) * stride;
    }
    const job: RenderJob = {
      padW,
      padH,
      norm: this.opts.normalization,
      items: images.map((im, b) => ({
        path: imagePath(this.ds.dir, im),
        width: im.width,
        height: im.height,
        plan: plans[b]!,
        flip: flips[b]!,
      })),
    };
    return { seq: this.planned++, images, plans, flips, job };
  }

  private fill(): void {
    const depth = Math.max(1, this.opts.readAhead);
    while (this.pending.length < depth) {
      const p = this.plan();
      if (!p) return;
      const pixels = this.opts.readAhead > 0 ? this.renderInWorker(p) : Promise.resolve().then(() => renderBatch(p.job));
      pixels.catch(() => undefined); // handled when awaited in next()
      this.pending.push({ planned: p, pixels });
    }
  }

  private startWorker(): void {
    const here = import.meta.url;
    const fromSource = here.endsWith('.ts');
    const entry = new URL(fromSource ? './decode-worker.ts' : './decode-worker.js', here);
    const w = fromSource ? new Worker(new URL('./worker-boot.mjs', here), { workerData: { entry: entry.href } }) : new Worker(entry);
    w.unref();
    this.workerReady = new Promise((resolve, reject) => {
      const onMessage = (msg: { ready?: boolean; id?: number; pixels?: Float32Array; error?: string }): void => {
        if (msg.ready) return resolve();
        const waiter = this.waiting.get(msg.id!);
        if (!waiter) return;
        this.waiting.delete(msg.id!);
        if (msg.error !== undefined) waiter.reject(new Error(msg.error));
        else waiter.resolve(msg.pixels!);
      };
      w.on('message', onMessage);
      w.on('error', (e) => {
        reject(e);
        for (const x of this.waiting.values()) x.reject(e);
        this.waiting.clear();
      });
    });
    this.workerReady.catch(() => undefined);
    this.worker = w;
  }

  private renderInWorker(p: Planned): Promise<Float32Array> {
    if (!this.worker) this.startWorker();
    const w = this.worker!;
    return new Promise<Float32Array>((resolve, reject) => {
      this.waiting.set(p.seq, { resolve, reject });
      w.ref();
      w.postMessage({ id: p.seq, job: p.job });
    }).finally(() => {
      if (this.waiting.size === 0 && this.worker) this.worker.unref();
    });
  }

  private assemble(p: Planned, pixels: Float32Array): Batch {
    const B = p.images.length;
    const images = tf.tensor4d(pixels, [B, p.job.padH, p.job.padW, 3], 'float32');
    const boxes: Float32Array[] = [];
    const labels: Int32Array[] = [];
    p.images.forEach((im, b) => {
      const anns = (this.ds.annsByImage.get(im.id) ?? []).filter((a) => !a.iscrowd);
      boxes.push(
        transformBoxes(
          anns.map((a) => a.bbox),
          p.plans[b]!,
          p.flips[b]!,
        ),
      );
      labels.push(Int32Array.from(anns, (a) => this.ds.catIdToLabel.get(a.category_id)!));
    });
    return {
      images,
      boxes,
      labels,
      imageIds: p.images.map((im) => im.id),
      scales: p.plans.map((pl) => pl.scale),
      flipped: p.flips.slice(),
      contentSizes: p.plans.map((pl) => [pl.width, pl.height] as [number, number]),
    };
  }
}
