/**
 * Agreement with pycocotools on committed fixtures: test/fixtures/coco/<case>/{gt,dt}.json with
 * expected.json recorded by the real pycocotools (scripts/coco-fixtures/record-pycocotools.py):
 * its summary, its per-class AP and the category and image ids it evaluated. The per-class check
 * walks pycocotools' classes, so a class we drop or add fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateCoco, validateDetections, validateGroundTruth, METRIC_KEYS } from '../../src/eval/index.js';

const root = join(import.meta.dirname, '..', 'fixtures', 'coco');
const cases = readdirSync(root).filter((d) => existsSync(join(root, d, 'expected.json')));

test('there are pycocotools fixtures', () => {
  assert.ok(cases.length >= 10, `found ${cases.length}`);
});

for (const name of cases) {
  test(`agrees with pycocotools to 1e-6: ${name}`, () => {
    const dir = join(root, name);
    const gt = validateGroundTruth(JSON.parse(readFileSync(join(dir, 'gt.json'), 'utf8')), 'gt.json');
    // pycocotools silently skips detections of categories absent from the ground truth.
    const { dets } = validateDetections(JSON.parse(readFileSync(join(dir, 'dt.json'), 'utf8')), 'dt.json', gt, { dropUnknown: true });
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as {
      metrics: Record<string, number>;
      perClass: Record<string, { AP: number; AP50: number }>;
      catIds: number[];
      imgIds: number[];
    };
    const res = evaluateCoco(gt, dets, { perClass: true });
    // the images and categories as pycocotools loaded and evaluated them are ours too
    assert.deepEqual(
      [...new Set(gt.images.map((im) => im.id))].sort((a, b) => a - b),
      expected.imgIds,
      `${name}: evaluated images`,
    );
    assert.deepEqual(res.catIds, expected.catIds, `${name}: evaluated categories (the K axis)`);
    for (const k of METRIC_KEYS) {
      const diff = Math.abs(res.metrics[k] - expected.metrics[k]!);
      assert.ok(diff <= 1e-6, `${name} ${k}: ours ${res.metrics[k]} vs pycocotools ${expected.metrics[k]}`);
    }
    // walk pycocotools' classes: each must have our per-class result, with the same AP and AP50
    assert.deepEqual(
      Object.keys(expected.perClass),
      expected.catIds.map(String),
      `${name}: expected.json's perClass follows pycocotools' catIds`,
    );
    assert.equal(res.perClass!.length, expected.catIds.length, `${name}: number of classes`);
    for (const catId of expected.catIds) {
      const e = expected.perClass[String(catId)]!;
      const c = res.perClass!.find((p) => p.categoryId === catId);
      assert.ok(c, `${name}: pycocotools' class ${catId} is missing from our per-class results`);
      assert.ok(Math.abs(c.AP - e.AP) <= 1e-6, `${name} class ${catId} AP ${c.AP} vs ${e.AP}`);
      assert.ok(Math.abs(c.AP50 - e.AP50) <= 1e-6, `${name} class ${catId} AP50 ${c.AP50} vs ${e.AP50}`);
    }
  });
}
