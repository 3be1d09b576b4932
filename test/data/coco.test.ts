import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { DataError, encodePng, inspectCoco, loadCoco, formatDatasetInfo } from '../../src/data/index.js';

function png(w: number, h: number, fill = 100): Buffer {
  return encodePng({ width: w, height: h, data: new Uint8Array(w * h * 3).fill(fill) });
}
function jpg(w: number, h: number): Buffer {
  return Buffer.from(jpeg.encode({ width: w, height: h, data: Buffer.alloc(w * h * 4, 200) }, 90).data);
}

function makeDir(doc: unknown, files: Record<string, Buffer | string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'coco-test-'));
  mkdirSync(join(dir, 'images'));
  writeFileSync(join(dir, 'annotations.json'), typeof doc === 'string' ? doc : JSON.stringify(doc, null, 1));
  for (const [name, buf] of Object.entries(files)) writeFileSync(join(dir, 'images', name), buf);
  return dir;
}

const good = {
  images: [
    { id: 1, file_name: 'a.png', width: 40, height: 30 },
    { id: 7, file_name: 'b.jpg', width: 32, height: 24 },
  ],
  categories: [
    { id: 3, name: 'cat' },
    { id: 10, name: 'dog' },
  ],
  annotations: [
    { id: 1, image_id: 1, category_id: 10, bbox: [1, 2, 10, 8], area: 80, iscrowd: 0 },
    { id: 2, image_id: 7, category_id: 3, bbox: [25, 20, 10, 8], area: 80, iscrowd: 0 }, // reaches outside: clipped
    { id: 3, image_id: 7, category_id: 3, bbox: [0, 0, 5, 5], area: 25, iscrowd: 1 },
  ],
};

test('loads PNG and JPEG datasets; non-contiguous category ids kept and mapped; clipping and crowds reported', async () => {
  const dir = makeDir(good, { 'a.png': png(40, 30), 'b.jpg': jpg(32, 24) });
  try {
    const ds = await loadCoco(dir);
    assert.deepEqual(ds.labelToCatId, [3, 10]);
    assert.equal(ds.catIdToLabel.get(10), 1);
    assert.deepEqual(ds.annotations[1]!.bbox, [25, 20, 7, 4]);
    assert.equal(ds.annotations[2]!.iscrowd, 1);
    const w = ds.warnings.map((p) => `${p.field}: ${p.message}`).join('\n');
    assert.match(w, /not contiguous/);
    assert.match(w, /annotations\[1\]\.bbox: .*clipped/);
    assert.match(w, /1 crowd annotations/);
    // With 'reject', the same box is an error.
    await assert.rejects(
      loadCoco(dir, { boxPolicy: 'reject' }),
      (e: unknown) => e instanceof DataError && /annotations\[1\]\.bbox.*outside/.test(e.message),
    );
    const info = formatDatasetInfo(dir, await inspectCoco(dir));
    assert.match(info, /images: 2/);
    assert.match(info, /small\s+2/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every problem is reported with file and field', async () => {
  const bad = {
    images: [
      { id: 1, file_name: 'a.png', width: 40, height: 30 },
      { id: 1, file_name: 'dup.png', width: 40, height: 30 },
      { id: 2, file_name: 'missing.png', width: 40, height: 30 },
      { id: 3, file_name: 'wrongsize.png', width: 40, height: 30 },
    ],
    categories: [{ id: 1, name: 'x' }],
    annotations: [
      { id: 1, image_id: 99, category_id: 1, bbox: [0, 0, 1, 1], area: 1 },
      { id: 2, image_id: 1, category_id: 5, bbox: [0, 0, 1, 1], area: 1 },
      { id: 3, image_id: 1, category_id: 1, bbox: [0, 0, 0, 4], area: 0 },
      { id: 3, image_id: 1, category_id: 1, bbox: [0, 0, 'x', 4], area: 1 },
    ],
  };
  const dir = makeDir(bad, { 'a.png': png(40, 30), 'wrongsize.png': png(20, 20) });
  try {
    const r = await inspectCoco(dir);
    assert.equal(r.dataset, undefined);
    const text = r.errors.map((p) => `${p.file} | ${p.field} | ${p.message}`).join('\n');
    assert.match(text, /images\[1\]\.id \| duplicate image id 1/);
    assert.match(text, /missing\.png \| image 2 \| image file missing/);
    assert.match(text, /wrongsize\.png \| image 3 \| file is 20x20/);
    assert.match(text, /annotations\[0\]\.image_id \| unknown image id 99/);
    assert.match(text, /annotations\[1\]\.category_id \| unknown category id 5/);
    assert.match(text, /annotations\[2\]\.bbox \| non-positive box size/);
    assert.match(text, /annotations\[3\]\.id \| duplicate annotation id 3/);
    assert.match(text, /annotations\[3\]\.bbox \| expected \[x, y, w, h\]/);
    assert.equal(r.errors.length, 8);
    await assert.rejects(loadCoco(dir), (e: unknown) => e instanceof DataError && e.problems.length === 8);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('malformed annotations.json: error with line and column', async () => {
  const dir = makeDir('{\n "images": [\n  {"id": 1,}\n ]\n}', {});
  try {
    await assert.rejects(loadCoco(dir), /annotations\.json: malformed JSON at line 3, column 12/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
