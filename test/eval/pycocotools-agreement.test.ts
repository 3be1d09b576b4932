/**
 * Agreement with pycocotools on committed fixtures: test/fixtures/coco/<case>/{gt,dt}.json with
 * expected.json recorded by the real pycocotools (scripts/coco-fixtures/record-pycocotools.py).
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
    };
    const res = evaluateCoco(gt, dets, { perClass: true });
    for (const k of METRIC_KEYS) {
      const diff = Math.abs(res.metrics[k] - expected.metrics[k]!);
      assert.ok(diff <= 1e-6, `${name} ${k}: ours ${res.metrics[k]} vs pycocotools ${expected.metrics[k]}`);
    }
    for (const c of res.perClass!) {
      const e = expected.perClass[String(c.categoryId)]!;
      assert.ok(Math.abs(c.AP - e.AP) <= 1e-6, `${name} class ${c.categoryId} AP ${c.AP} vs ${e.AP}`);
      assert.ok(Math.abs(c.AP50 - e.AP50) <= 1e-6, `${name} class ${c.categoryId} AP50 ${c.AP50} vs ${e.AP50}`);
    }
  });
}
