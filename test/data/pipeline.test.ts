import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {
  BatchLoader,
  loadCoco,
  makeDataset,
  planResize,
  renderInput,
  transformBoxes,
  type Batch,
  type CocoDataset,
} from '../../src/data/index.js';

let root: string;
let ds: CocoDataset;

before(async () => {
  await tf.setBackend('cpu');
  root = mkdtempSync(join(tmpdir(), 'pipeline-test-'));
  await makeDataset('mnist-det', { images: 14, size: 64, seed: 5, out: root, valFraction: 0.15 });
  ds = await loadCoco(join(root, 'train'));
});
after(() => rmSync(root, { recursive: true, force: true }));

test('resize plan keeps the aspect ratio; boxes scale and mirror with the content', () => {
  const plan = planResize(4, 2, 8, 8); // scale 2, content 8x4
  assert.deepEqual(plan, { scale: 2, width: 8, height: 4 });
  assert.deepEqual(Array.from(transformBoxes([[0, 0, 1, 2]], plan, false)), [0, 0, 2, 4]);
  assert.deepEqual(Array.from(transformBoxes([[0, 0, 1, 2]], plan, true)), [6, 0, 8, 4]);
  assert.deepEqual(planResize(30, 60, 32, 32), { scale: 32 / 60, width: 16, height: 32 });
});

test('renderInput: normalises, mirrors, leaves padding at zero', () => {
  // 2x1 image: left pixel black, right pixel white; upscale x2 into a 4x4 padded input.
  const rgb = new Uint8Array([0, 0, 0, 255, 255, 255]);
  const norm = { mean: [100, 100, 100] as [number, number, number], std: [50, 50, 50] as [number, number, number] };
  const plan = planResize(2, 1, 4, 4); // scale 2, content 4x2
  const out = new Float32Array(4 * 4 * 3);
  renderInput(rgb, 2, 1, plan, false, norm, out, 4);
  const at = (o: Float32Array, x: number, y: number): number => o[(y * 4 + x) * 3]!;
  // Half-pixel centres: output x=0 samples source 0 (black), x=3 samples source 1 (white),
  // x=1 samples 0.25 of the way to white.
  const near = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-5, `${a} != ${b}`);
  near(at(out, 0, 0), -2);
  near(at(out, 3, 1), (255 - 100) / 50);
  assert.ok(Math.abs(at(out, 1, 0) - (0.25 * 255 - 100) / 50) < 1e-5);
  assert.equal(at(out, 0, 2), 0); // padding row
  const flipped = new Float32Array(4 * 4 * 3);
  renderInput(rgb, 2, 1, plan, true, norm, flipped, 4);
  near(at(flipped, 0, 0), (255 - 100) / 50);
  near(at(flipped, 3, 0), -2);
});

function digest(b: Batch): { ids: number[]; flips: boolean[]; sum: number; first: number[]; boxes: number[][] } {
  const data = b.images.dataSync();
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i]! * ((i % 97) + 1);
  return { ids: b.imageIds, flips: b.flipped, sum, first: Array.from(data.slice(5000, 5010)), boxes: b.boxes.map((x) => Array.from(x)) };
}

async function take(loader: BatchLoader, n: number): Promise<ReturnType<typeof digest>[]> {
  const out = [];
  for (let i = 0; i < n; i++) {
    const b = (await loader.next())!;
    out.push(digest(b));
    b.images.dispose();
  }
  await loader.close();
  return out;
}

test('one pass without shuffle: every image once, in order, last batch smaller, then null', async () => {
  const loader = new BatchLoader(ds, { batchSize: 5, size: 64, seed: 1 });
  const seen: number[] = [];
  const sizes: number[] = [];
  for (;;) {
    const b = await loader.next();
    if (!b) break;
    assert.deepEqual(b.images.shape.slice(1), [64, 64, 3]);
    assert.equal(b.images.dtype, 'float32');
    b.boxes.forEach((bx, i) => {
      assert.equal(bx.length, b.labels[i]!.length * 4);
      for (let k = 0; k < bx.length; k += 4) {
        assert.ok(bx[k]! >= 0 && bx[k + 2]! <= 64 && bx[k]! < bx[k + 2]! && bx[k + 1]! < bx[k + 3]!);
      }
      for (const l of b.labels[i]!) assert.ok(l >= 0 && l < 10);
    });
    seen.push(...b.imageIds);
    sizes.push(b.imageIds.length);
    b.images.dispose();
  }
  await loader.close();
  assert.deepEqual(
    seen,
    ds.images.map((im) => im.id),
  );
  assert.deepEqual(sizes, [5, 5, 2]);
});

test('labels and boxes follow the annotations (scale 1, no flip)', async () => {
  const loader = new BatchLoader(ds, { batchSize: 2, size: 64, seed: 1, readAhead: 0 });
  const b = (await loader.next())!;
  const anns = ds.annsByImage.get(b.imageIds[0]!)!;
  assert.equal(b.scales[0], 1);
  assert.deepEqual(
    Array.from(b.labels[0]!),
    anns.map((a) => ds.catIdToLabel.get(a.category_id)),
  );
  assert.deepEqual(
    Array.from(b.boxes[0]!),
    anns.flatMap((a) => [a.bbox[0], a.bbox[1], a.bbox[0] + a.bbox[2], a.bbox[1] + a.bbox[3]]),
  );
  b.images.dispose();
  await loader.close();
});

test('deterministic by seed, identical with and without the read-ahead worker', async () => {
  const opts = { batchSize: 4, size: 48, seed: 42, shuffle: true, flip: true };
  const a = await take(new BatchLoader(ds, { ...opts, readAhead: 2 }), 6); // crosses epochs (12 images)
  const b = await take(new BatchLoader(ds, { ...opts, readAhead: 0 }), 6);
  const c = await take(new BatchLoader(ds, { ...opts, seed: 43, readAhead: 2 }), 6);
  assert.deepEqual(a, b);
  assert.notDeepEqual(
    a.map((x) => x.ids),
    c.map((x) => x.ids),
  );
  assert.ok(a.some((x) => x.flips.includes(true)) && a.some((x) => x.flips.includes(false)));
  // Each epoch is a permutation of all images.
  const epoch1 = a
    .slice(0, 3)
    .flatMap((x) => x.ids)
    .sort((p, q) => p - q);
  assert.deepEqual(
    epoch1,
    ds.images.map((im) => im.id).sort((p, q) => p - q),
  );
});

test("pad 'stride' pads a batch to a stride multiple; subset selects images; tensors do not leak", async () => {
  const before = tf.memory().numTensors;
  const subset = ds.images.slice(0, 3).map((im) => im.id);
  const loader = new BatchLoader(ds, { batchSize: 3, size: 40, pad: 'stride', stride: 16, seed: 0, subset });
  const b = (await loader.next())!;
  assert.deepEqual(b.images.shape, [3, 48, 48, 3]); // content 40x40 -> padded to 48
  assert.deepEqual(b.imageIds, subset);
  assert.equal(await loader.next(), null);
  b.images.dispose();
  await loader.close();
  assert.equal(tf.memory().numTensors, before);
});

test('a corrupt image file fails next() with the file named', async () => {
  const { writeFileSync } = await import('node:fs');
  const dir = join(root, 'val');
  const vds = await loadCoco(dir);
  const victim = join(dir, 'images', vds.images[0]!.file_name);
  const saved = readFileSync(victim);
  writeFileSync(victim, saved.subarray(0, 40));
  try {
    const loader = new BatchLoader(vds, { batchSize: 1, size: 64, seed: 0 });
    await assert.rejects(loader.next(), new RegExp(vds.images[0]!.file_name));
    await loader.close();
  } finally {
    writeFileSync(victim, saved);
  }
});
