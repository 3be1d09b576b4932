import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCoco, makeDataset, SHAPE_CLASSES } from '../../src/data/index.js';
import { evaluateCoco } from '../../src/eval/index.js';
import { trainFlip } from '../../src/detect/train_data.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'gen-test-'));
}

test('mnist-det: valid COCO on disk, deterministic by seed, train and val from disjoint source digits', async () => {
  const a = tmp();
  const b = tmp();
  try {
    const s = await makeDataset('mnist-det', { images: 30, size: 96, seed: 9, out: a });
    assert.deepEqual([s.train.images, s.val.images], [24, 6]);
    await makeDataset('mnist-det', { images: 30, size: 96, seed: 9, out: b });
    for (const split of ['train', 'val']) {
      assert.equal(readFileSync(join(a, split, 'annotations.json'), 'utf8'), readFileSync(join(b, split, 'annotations.json'), 'utf8'));
      for (const f of readdirSync(join(a, split, 'images'))) {
        assert.ok(readFileSync(join(a, split, 'images', f)).equals(readFileSync(join(b, split, 'images', f))), `${split}/${f} differs`);
      }
    }
    const train = await loadCoco(join(a, 'train'), { boxPolicy: 'reject' });
    const val = await loadCoco(join(a, 'val'), { boxPolicy: 'reject' });
    assert.equal(train.categories.length, 10);
    assert.deepEqual(
      train.categories.map((c) => c.name),
      ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    );
    assert.deepEqual(train.warnings, []);
    // digits are not mirror-symmetric: the dataset asks for no flips, training follows unless told
    assert.equal(train.info?.horizontal_flip, false);
    assert.equal(trainFlip(undefined, train), false);
    assert.equal(trainFlip(true, train), true);
    const sources = (dir: string): Set<string> => {
      const doc = JSON.parse(readFileSync(join(dir, 'annotations.json'), 'utf8')) as {
        annotations: { category_id: number; mnist_index: number }[];
      };
      return new Set(doc.annotations.map((x) => `${x.category_id}:${x.mnist_index}`));
    };
    const tr = sources(join(a, 'train'));
    for (const k of sources(join(a, 'val'))) assert.ok(!tr.has(k), `digit ${k} in both splits`);
    for (const im of train.images) {
      const n = train.annsByImage.get(im.id)!.length;
      assert.ok(n >= 1 && n <= 6, `image ${im.id} has ${n} digits`);
    }
    for (const x of [...train.annotations, ...val.annotations]) {
      assert.ok(x.bbox[3] >= 8 && x.bbox[3] <= 66, `digit height ${x.bbox[3]}`);
    }
    const other = tmp();
    try {
      await makeDataset('mnist-det', { images: 30, size: 96, seed: 10, out: other });
      assert.notEqual(
        readFileSync(join(a, 'train', 'annotations.json'), 'utf8'),
        readFileSync(join(other, 'train', 'annotations.json'), 'utf8'),
      );
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});

test('shapes: six classes, imbalanced, wide scale range, occlusion bounded', async () => {
  const dir = tmp();
  try {
    await makeDataset('shapes', { images: 120, size: 128, seed: 4, out: dir });
    const ds = await loadCoco(join(dir, 'train'), { boxPolicy: 'reject' });
    assert.deepEqual(
      ds.categories.map((c) => c.name),
      [...SHAPE_CLASSES],
    );
    assert.equal(ds.info?.horizontal_flip, true);
    assert.equal(trainFlip(undefined, ds), true);
    assert.equal(trainFlip(false, ds), false);
    const counts = ds.labelToCatId.map((id) => ds.annotations.filter((x) => x.category_id === id).length);
    assert.ok(
      counts.every((c) => c > 0),
      `counts ${counts}`,
    );
    assert.ok(counts[0]! > 3 * counts[5]!, `imbalance expected, counts ${counts}`);
    const sides = ds.annotations.map((x) => Math.max(x.bbox[2], x.bbox[3]));
    assert.ok(Math.min(...sides) <= 8 && Math.max(...sides) >= 64, `sides ${Math.min(...sides)}..${Math.max(...sides)}`);
    // A CocoDataset is evaluation ground truth as it is: its own boxes score AP 1.
    const perfect = ds.annotations.map((x) => ({ image_id: x.image_id, category_id: x.category_id, bbox: x.bbox, score: 1 }));
    const m = evaluateCoco(ds, perfect).metrics;
    assert.ok(Math.abs(m.AP - 1) < 1e-9 && Math.abs(m.AR100 - 1) < 1e-9, `AP ${m.AP}`);
    const doc = JSON.parse(readFileSync(join(dir, 'train', 'annotations.json'), 'utf8')) as { annotations: { visible_fraction: number }[] };
    const vis = doc.annotations.map((x) => x.visible_fraction);
    assert.ok(vis.every((v) => v >= 0.4 - 1e-9));
    assert.ok(
      vis.some((v) => v < 0.95),
      'some shapes are partly occluded',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
