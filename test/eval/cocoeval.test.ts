/** Hand-worked COCO evaluation cases (values derived on paper from the COCO definitions). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  evaluateCoco,
  formatSummary,
  formatFixed3,
  validateDetections,
  validateGroundTruth,
  type CocoDetection,
  type CocoGroundTruth,
  type CocoGtAnnotation,
} from '../../src/eval/index.js';
import { DataError } from '../../src/data/errors.js';
import { parseJsonText } from '../../src/data/json.js';

type Box = [number, number, number, number];
let nextId = 1;
function ann(image_id: number, bbox: Box, extra: Partial<CocoGtAnnotation> = {}): CocoGtAnnotation {
  return { id: nextId++, image_id, category_id: 1, bbox, area: bbox[2] * bbox[3], iscrowd: 0, ...extra };
}
function det(image_id: number, bbox: Box, score: number, category_id = 1): CocoDetection {
  return { image_id, category_id, bbox, score };
}
function gtOf(annotations: CocoGtAnnotation[], images = [1, 2], categories = [1]): CocoGroundTruth {
  return { images: images.map((id) => ({ id })), categories: categories.map((id) => ({ id, name: `c${id}` })), annotations };
}
const close = (a: number, b: number, msg?: string): void => assert.ok(Math.abs(a - b) < 1e-12, `${msg ?? ''} ${a} != ${b}`);

test('one perfect detection: AP = AR = 1; unused area ranges are -1', () => {
  const r = evaluateCoco(gtOf([ann(1, [10, 10, 10, 10])]), [det(1, [10, 10, 10, 10], 0.9)]).metrics;
  for (const k of ['AP', 'AP50', 'AP75', 'APs', 'AR1', 'AR10', 'AR100', 'ARs'] as const) close(r[k], 1, k);
  for (const k of ['APm', 'APl', 'ARm', 'ARl'] as const) close(r[k], -1, k);
});

test('IoU 0.6 matches at thresholds 0.50, 0.55, 0.60 only: AP = AR = 0.3', () => {
  // GT 10x10, detection 6x10 inside it: IoU = 60 / 100.
  const r = evaluateCoco(gtOf([ann(1, [0, 0, 10, 10])]), [det(1, [0, 0, 6, 10], 0.5)]).metrics;
  close(r.AP, 0.3);
  close(r.AP50, 1);
  close(r.AP75, 0);
  close(r.AR100, 0.3);
});

test('a false positive ranked above the true positive: precision 0.5 up to recall 0.5', () => {
  // Two GT, dets: FP (0.9), TP (0.8). Cumulative: rc = [0, .5], pr = [0, .5] -> interpolated
  // [.5, .5]; recall thresholds 0..0.50 (51 of 101) get 0.5, the rest 0.
  const gt = gtOf([ann(1, [0, 0, 20, 20]), ann(1, [50, 50, 20, 20])]);
  const r = evaluateCoco(gt, [det(1, [100, 100, 20, 20], 0.9), det(1, [0, 0, 20, 20], 0.8)]).metrics;
  close(r.AP, (51 * 0.5) / 101);
  close(r.AR100, 0.5);
  close(r.AR1, 0); // the best-scored detection per image is the false positive
});

test('score ties keep input order (stable sort), as pycocotools does', () => {
  const gt = gtOf([ann(1, [0, 0, 20, 20]), ann(1, [50, 50, 20, 20])]);
  const fp = det(1, [100, 100, 20, 20], 0.7);
  const tp = det(1, [0, 0, 20, 20], 0.7);
  // FP first: as above.
  close(evaluateCoco(gt, [fp, tp]).metrics.AP, (51 * 0.5) / 101);
  // TP first: rc = [.5, .5], pr = [1, .5] -> thresholds 0..0.50 get precision 1.
  close(evaluateCoco(gt, [tp, fp]).metrics.AP, 51 / 101);
  // Across images: ties broken by ascending image id, whatever the input order.
  const gt2 = gtOf([ann(1, [0, 0, 20, 20]), ann(2, [0, 0, 20, 20])]);
  const a = evaluateCoco(gt2, [det(2, [0, 0, 20, 20], 0.5), det(1, [200, 200, 9, 9], 0.5)]).metrics.AP;
  const b = evaluateCoco(gt2, [det(1, [200, 200, 9, 9], 0.5), det(2, [0, 0, 20, 20], 0.5)]).metrics.AP;
  close(a, b);
  close(a, (51 * 0.5) / 101); // image 1's FP comes first
});

test('crowd regions: IoU is intersection over detection area, matches are ignored, many may match', () => {
  const crowd = ann(1, [0, 0, 100, 100], { iscrowd: 1 });
  const person = ann(1, [200, 200, 20, 20]);
  // Two small detections inside the crowd (IoU 1 with it): ignored, not false positives.
  const dets = [det(1, [10, 10, 20, 20], 0.9), det(1, [50, 50, 20, 20], 0.8), det(1, [200, 200, 20, 20], 0.7)];
  const r = evaluateCoco(gtOf([crowd, person]), dets).metrics;
  close(r.AP, 1);
  close(r.AR100, 1);
  // Only a crowd: no non-ignored GT, so every value is -1.
  const onlyCrowd = evaluateCoco(gtOf([ann(1, [0, 0, 100, 100], { iscrowd: 1 })]), dets.slice(0, 2)).metrics;
  for (const v of Object.values(onlyCrowd)) close(v, -1);
});

test('detections on an image without ground truth are false positives', () => {
  const gt = gtOf([ann(1, [0, 0, 30, 30])]);
  const r = evaluateCoco(gt, [det(1, [0, 0, 30, 30], 0.8), det(2, [5, 5, 30, 30], 0.9)]).metrics;
  // rc = [0, 1], pr = [0, .5] -> interpolated .5 at every recall threshold.
  close(r.AP, 0.5);
  close(r.AR100, 1);
});

test('categories without ground truth are left out (-1), their detections do not count', () => {
  const gt = gtOf([ann(1, [0, 0, 30, 30])], [1, 2], [1, 2]);
  const res = evaluateCoco(gt, [det(1, [0, 0, 30, 30], 0.8), det(1, [0, 0, 30, 30], 0.9, 2)], { perClass: true });
  close(res.metrics.AP, 1);
  const [c1, c2] = res.perClass!;
  assert.deepEqual([c1!.categoryId, c1!.numGt, c1!.numDets, c2!.categoryId, c2!.AP, c2!.numGt, c2!.numDets], [1, 1, 1, 2, -1, 0, 1]);
  close(c1!.AP, 1); // 1 / (1 + eps) in pycocotools' precision formula: equal to 1 within 1e-12
});

test('no detections at all: AP and AR are 0 where ground truth exists', () => {
  const r = evaluateCoco(gtOf([ann(1, [0, 0, 30, 30]), ann(2, [0, 0, 300, 300])]), []).metrics;
  for (const k of ['AP', 'AP50', 'AP75', 'APs', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARl'] as const) close(r[k], 0, k);
  close(r.APm, -1);
  close(r.ARm, -1);
});

test('no ground truth at all: every metric is -1', () => {
  const r = evaluateCoco(gtOf([]), [det(1, [0, 0, 3, 3], 0.5)]).metrics;
  for (const v of Object.values(r)) close(v, -1);
});

test('maxDets: AR@1 sees only the best detection per image and category', () => {
  const gt = gtOf([ann(1, [0, 0, 30, 30]), ann(1, [100, 100, 30, 30])]);
  const r = evaluateCoco(gt, [det(1, [0, 0, 30, 30], 0.9), det(1, [100, 100, 30, 30], 0.8)]).metrics;
  close(r.AR1, 0.5);
  close(r.AR10, 1);
  close(r.AP, 1);
});

test('more than 100 detections per image and category: the rest are cut before matching', () => {
  const gt = gtOf([ann(1, [0, 0, 30, 30])]);
  const dets = Array.from({ length: 100 }, (_, i) => det(1, [300 + i, 300, 10, 10], 0.9 - i * 0.001));
  dets.push(det(1, [0, 0, 30, 30], 0.01)); // the only hit, 101st by score
  const r = evaluateCoco(gt, dets).metrics;
  close(r.AP, 0);
  close(r.AR100, 0);
});

test("area ranges use the annotation's area field; the annotation's ignore field has no effect", () => {
  // A 10x10 box with area 5000 is "medium"; ignore: 1 is overwritten by iscrowd in pycocotools.
  const gt = gtOf([ann(1, [0, 0, 10, 10], { area: 5000, ignore: 1 } as Partial<CocoGtAnnotation>)]);
  const r = evaluateCoco(gt, [det(1, [0, 0, 10, 10], 0.9)]).metrics;
  close(r.APm, 1);
  close(r.APs, -1);
  close(r.AP, 1);
  // Boundary: area exactly 32^2 is both small and medium (inclusive ranges).
  const b = evaluateCoco(gtOf([ann(1, [0, 0, 32, 32])]), [det(1, [0, 0, 32, 32], 0.9)]).metrics;
  close(b.APs, 1);
  close(b.APm, 1);
});

test('an unmatched detection outside the area range is ignored in that range', () => {
  // Small GT found; a large false positive does not hurt AP_small but hurts AP (all).
  const gt = gtOf([ann(1, [0, 0, 20, 20])]);
  const r = evaluateCoco(gt, [det(1, [200, 200, 150, 150], 0.9), det(1, [0, 0, 20, 20], 0.8)]).metrics;
  close(r.APs, 1);
  close(r.AP, 0.5);
});

test('the 12-line summary is formatted like pycocotools', () => {
  const r = evaluateCoco(gtOf([ann(1, [0, 0, 10, 10])]), [det(1, [0, 0, 6, 10], 0.5)]).metrics;
  const lines = formatSummary(r).split('\n');
  assert.equal(lines.length, 12);
  assert.equal(lines[0], ' Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.300');
  assert.equal(lines[4], ' Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = -1.000');
  assert.equal(lines[6], ' Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.300');
  // Python rounds exact ties to even; JavaScript's toFixed would print 0.063.
  assert.equal(formatFixed3(0.0625), '0.062');
  assert.equal(formatFixed3(0.1875), '0.188');
  assert.equal(formatFixed3(0.5), '0.500');
});

test('bad detections: unknown ids named, NaN scores and negative sizes rejected, drop flag counts', () => {
  const gt = validateGroundTruth({ images: [{ id: 1 }], categories: [{ id: 1 }], annotations: [ann(1, [0, 0, 5, 5])] }, 'gt.json');
  assert.throws(
    () => validateDetections([det(7, [0, 0, 1, 1], 0.5), det(1, [0, 0, 1, 1], 0.5, 9)], 'dt.json', gt),
    (e: unknown) =>
      e instanceof DataError &&
      /image ids not in the ground truth: 7/.test(e.message) &&
      /category ids not in the ground truth: 9/.test(e.message),
  );
  const dropped = validateDetections([det(7, [0, 0, 1, 1], 0.5), det(1, [0, 0, 1, 1], 0.5, 9), det(1, [0, 0, 1, 1], 0.5)], 'dt.json', gt, {
    dropUnknown: true,
  });
  assert.equal(dropped.dets.length, 1);
  assert.equal(dropped.droppedUnknownImage, 1);
  assert.equal(dropped.droppedUnknownCategory, 1);
  assert.throws(() => validateDetections([det(1, [0, 0, 1, 1], NaN)], 'dt.json', gt), /\[0\]\.score/);
  assert.throws(() => validateDetections([det(1, [0, 0, -1, 1], 0.5)], 'dt.json', gt), /negative box size/);
  assert.throws(
    () => validateDetections([{ image_id: 1, category_id: 1, bbox: [0, 0, '3', 1], score: 0.5 }], 'dt.json', gt),
    /non-numeric/,
  );
  assert.throws(
    () =>
      validateGroundTruth(
        {
          images: [{ id: 1 }, { id: 1 }],
          categories: [{ id: 1 }],
          annotations: [{ id: 1, image_id: 2, category_id: 1, bbox: [0, 0, 1, 1] }],
        },
        'gt.json',
      ),
    (e: unknown) => e instanceof DataError && e.problems.length === 3, // duplicate image, unknown image, missing area
  );
});

test('malformed JSON reports line and column', () => {
  assert.throws(() => parseJsonText('{\n  "a": 1,\n  "b": [1, 2,, 3]\n}', 'x.json'), /x\.json.*line 3, column 14/s);
  assert.throws(() => parseJsonText('[1, 2', 'y.json'), /line 1, column 6.*end of input/s);
  assert.throws(() => parseJsonText('{"a": 1} x', 'z.json'), /line 1, column 10/);
});
