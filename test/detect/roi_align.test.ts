import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/tf.js';
import { useTorchBackend } from '../../src/backend/index.js';
import { Rng } from '../../src/util/rng.js';
import { mapRoiLevels, multiLevelRoiAlign, roiAlign } from '../../src/detect/roi_align.js';

before(async () => {
  await useTorchBackend();
});

/**
 * Direct RoIAlign (torchvision's roi_align, aligned=True) written as the loop over bins and
 * samples with four-corner bilinear interpolation; also returns d(sum(out·G))/dF.
 */
function naiveRoiAlign(
  f: Float32Array,
  [B, H, W, C]: number[],
  rois: number[][],
  bidx: number[],
  scale: number,
  S: number,
  sr: number,
  G?: Float32Array,
) {
  const out = new Float32Array(rois.length * S * S * C);
  const grad = new Float32Array(B * H * W * C);
  rois.forEach((roi, r) => {
    const b = bidx[r]!;
    const x1 = roi[0]! * scale - 0.5,
      y1 = roi[1]! * scale - 0.5;
    const bw = (roi[2]! * scale - 0.5 - x1) / S,
      bh = (roi[3]! * scale - 0.5 - y1) / S;
    for (let py = 0; py < S; py++)
      for (let px = 0; px < S; px++) {
        for (let iy = 0; iy < sr; iy++)
          for (let ix = 0; ix < sr; ix++) {
            let y = y1 + py * bh + ((iy + 0.5) * bh) / sr;
            let x = x1 + px * bw + ((ix + 0.5) * bw) / sr;
            if (y < -1 || y > H || x < -1 || x > W) continue;
            y = Math.max(y, 0);
            x = Math.max(x, 0);
            let y0 = Math.floor(y),
              x0 = Math.floor(x),
              y1i = y0 + 1,
              x1i = x0 + 1;
            if (y0 >= H - 1) {
              y0 = y1i = H - 1;
              y = y0;
            }
            if (x0 >= W - 1) {
              x0 = x1i = W - 1;
              x = x0;
            }
            const ly = y - y0,
              lx = x - x0;
            const corners: [number, number, number][] = [
              [y0, x0, (1 - ly) * (1 - lx)],
              [y0, x1i, (1 - ly) * lx],
              [y1i, x0, ly * (1 - lx)],
              [y1i, x1i, ly * lx],
            ];
            for (const [yy, xx, w] of corners) {
              for (let c = 0; c < C; c++) {
                const o = ((r * S + py) * S + px) * C + c;
                const fi = ((b * H + yy) * W + xx) * C + c;
                out[o]! += (w * f[fi]!) / (sr * sr);
                if (G) grad[fi]! += (w * G[o]!) / (sr * sr);
              }
            }
          }
      }
  });
  return { out, grad };
}

test('roiAlign forward and feature gradient equal the direct computation', () => {
  const rng = new Rng(5);
  const shape = [2, 9, 11, 3];
  const f = Float32Array.from({ length: 2 * 9 * 11 * 3 }, () => rng.normal());
  const stride = 4;
  const rois: number[][] = [
    [3, 5, 20, 30],
    [0, 0, 44, 36], // the whole map
    [-6, -3, 10, 9], // partly outside (top-left)
    [38, 30, 52, 44], // partly outside (bottom-right)
    [12.3, 7.7, 13.1, 8.2], // smaller than a cell
  ];
  for (let k = 0; k < 6; k++) {
    const x = rng.uniform(-5, 40),
      y = rng.uniform(-5, 30);
    rois.push([x, y, x + rng.uniform(0.5, 30), y + rng.uniform(0.5, 30)]);
  }
  const bidx = rois.map((_, i) => i % 2);
  const S = 3;
  const G = Float32Array.from({ length: rois.length * S * S * 3 }, () => rng.normal());
  const ref = naiveRoiAlign(f, shape, rois, bidx, 1 / stride, S, 2, G);
  const F = tf.tensor4d(f, shape as [number, number, number, number]);
  const opt = { outputSize: S, samplingRatio: 2, aligned: true };
  const flat = Float32Array.from(rois.flat());
  const out = roiAlign(F, flat, Int32Array.from(bidx), 1 / stride, opt);
  assert.deepEqual(out.shape, [rois.length, S, S, 3]);
  const got = out.dataSync();
  for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i]! - ref.out[i]!) < 1e-4, `out[${i}] ${got[i]} vs ${ref.out[i]}`);
  const g = tf.grad((x: tf.Tensor) =>
    tf.sum(tf.mul(roiAlign(x as tf.Tensor4D, flat, Int32Array.from(bidx), 1 / stride, opt), tf.tensor4d(G, out.shape))),
  )(F);
  const gd = g.dataSync();
  for (let i = 0; i < gd.length; i++) assert.ok(Math.abs(gd[i]! - ref.grad[i]!) < 1e-4, `grad[${i}] ${gd[i]} vs ${ref.grad[i]}`);
  tf.dispose([F, out, g]);
});

test('multi-level RoIAlign pools each RoI from its mapped level, in the RoIs order', () => {
  const rng = new Rng(6);
  const f0 = tf.randomNormal([2, 16, 16, 4], 0, 1, 'float32', 1) as tf.Tensor4D;
  const f1 = tf.randomNormal([2, 8, 8, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
  const rois = [
    [2, 2, 12, 12],
    [0, 0, 60, 60],
    [10, 4, 30, 20],
    [5, 5, 65, 60],
  ];
  const flat = Float32Array.from(rois.flat());
  const bidx = Int32Array.from([1, 0, 0, 1]);
  const levels = mapRoiLevels(flat, 2, 28);
  assert.deepEqual(Array.from(levels), [0, 1, 0, 1]);
  const opt = { outputSize: 2, samplingRatio: 2, aligned: true };
  const multi = multiLevelRoiAlign([f0, f1], [4, 8], flat, bidx, 28, opt).arraySync();
  rois.forEach((roi, r) => {
    const one = roiAlign(
      levels[r] === 0 ? f0 : f1,
      Float32Array.from(roi),
      Int32Array.from([bidx[r]!]),
      levels[r] === 0 ? 1 / 4 : 1 / 8,
      opt,
    ).arraySync();
    assert.deepEqual(multi[r], one[0]);
  });
  void rng;
  tf.dispose([f0, f1]);
});
