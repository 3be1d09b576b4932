import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import { batchedNms, decodeDeltas, encodeDeltas, iouMatrix, nms, RCNN_CODER, topKIndices } from '../../src/detect/boxes.js';

function randomBoxes(rng: Rng, n: number, size = 100): Float32Array {
  const b = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const x = rng.uniform(0, size),
      y = rng.uniform(0, size);
    b.set([x, y, x + rng.uniform(1, 40), y + rng.uniform(1, 40)], 4 * i);
  }
  return b;
}

/** IoU from the definition, by rasterising nothing: intersection rectangle and areas. */
function iou1(a: number[], b: number[]): number {
  const iw = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
  const ih = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
  const inter = iw * ih;
  return inter / ((a[2]! - a[0]!) * (a[3]! - a[1]!) + (b[2]! - b[0]!) * (b[3]! - b[1]!) - inter);
}
const box = (b: Float32Array, i: number) => Array.from(b.subarray(4 * i, 4 * i + 4));

test('iouMatrix matches the definition', () => {
  const rng = new Rng(1);
  const a = randomBoxes(rng, 13),
    b = randomBoxes(rng, 7);
  const m = iouMatrix(a, b);
  for (let i = 0; i < 13; i++) for (let j = 0; j < 7; j++) assert.ok(Math.abs(m[i * 7 + j]! - iou1(box(a, i), box(b, j))) < 1e-5);
  assert.ok(Math.abs(iouMatrix(Float32Array.from([0, 0, 2, 2]), Float32Array.from([1, 0, 3, 2]))[0]! - 1 / 3) < 1e-7);
});

test('delta coding round trip (means/stds) and known values', () => {
  const rng = new Rng(2);
  const anchors = randomBoxes(rng, 50),
    gt = randomBoxes(rng, 50);
  const d = encodeDeltas(anchors, gt, RCNN_CODER);
  const back = decodeDeltas(anchors, d, RCNN_CODER);
  for (let i = 0; i < gt.length; i++) assert.ok(Math.abs(back[i]! - gt[i]!) < 1e-3, `${i}: ${back[i]} vs ${gt[i]}`);
  // a box twice as wide, shifted by half a width: dx = 0.5/0.1, dw = log 2 / 0.2
  const e = encodeDeltas(Float32Array.from([0, 0, 10, 10]), Float32Array.from([0, 0, 20, 10]), RCNN_CODER);
  assert.ok(Math.abs(e[0]! - 5) < 1e-5 && Math.abs(e[1]!) < 1e-6 && Math.abs(e[2]! - Math.log(2) / 0.2) < 1e-5 && Math.abs(e[3]!) < 1e-6);
});

/** Brute-force NMS: repeatedly take the best remaining box and drop everything overlapping it. */
function bruteNms(boxes: Float32Array, scores: Float32Array, thr: number): number[] {
  const alive = new Set(Array.from(scores, (_, i) => i));
  const keep: number[] = [];
  while (alive.size) {
    let best = -1;
    for (const i of alive) if (best < 0 || scores[i]! > scores[best]! || (scores[i] === scores[best] && i < best)) best = i;
    keep.push(best);
    alive.delete(best);
    for (const j of [...alive]) if (iou1(box(boxes, best), box(boxes, j)) > thr) alive.delete(j);
  }
  return keep;
}

test('nms equals brute force on random clusters', () => {
  const rng = new Rng(3);
  for (let trial = 0; trial < 20; trial++) {
    const n = rng.int(0, 60);
    const boxes = randomBoxes(rng, n, 50);
    const scores = Float32Array.from({ length: n }, () => rng.next());
    for (const thr of [0.3, 0.5, 0.7]) assert.deepEqual(nms(boxes, scores, thr), bruteNms(boxes, scores, thr));
  }
});

test('batchedNms suppresses only within a class and keeps the top k by score', () => {
  const boxes = Float32Array.from([0, 0, 10, 10, 0, 0, 10, 10, 1, 1, 10, 10, 50, 50, 60, 60]);
  const scores = Float32Array.from([0.9, 0.8, 0.7, 0.6]);
  const labels = Int32Array.from([0, 1, 0, 0]);
  const d = batchedNms(boxes, scores, labels, 0.5, 10);
  assert.deepEqual(
    Array.from(d.scores).map((s) => Math.round(s * 10)),
    [9, 8, 6],
  );
  assert.deepEqual(Array.from(d.labels), [0, 1, 0]);
  assert.equal(batchedNms(boxes, scores, labels, 0.5, 2).scores.length, 2);
  assert.deepEqual(topKIndices(Float32Array.from([1, 3, 2, 3]), 3), [1, 3, 2]);
});
