import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/tf.js';
import { useTorchBackend } from '../../src/backend/index.js';
import { Rng } from '../../src/util/rng.js';
import { fcosTargets, levelPoints, centerness } from '../../src/detect/fcos.js';
import { levelAnchors, maxIouAssign, randomSample } from '../../src/detect/faster_rcnn.js';
import { buildBackbone, buildFpn } from '../../src/detect/backbone.js';
import { groupNorm, ParamStore, priorProbBias } from '../../src/detect/layers.js';

before(async () => {
  await useTorchBackend();
});

test('FCOS assignment: regression ranges, center sampling, smallest box wins', () => {
  const strides = [8, 16];
  const p0 = levelPoints(4, 4, 8); // points at 4, 12, 20, 28
  const p1 = levelPoints(2, 2, 16); // points at 8, 24
  const points = new Float32Array([...p0, ...p1]);
  const pointLevel = Int32Array.from([...Array(16).fill(0), ...Array(4).fill(1)]);
  assert.deepEqual(Array.from(p0.subarray(0, 4)), [4, 4, 12, 4]);
  const cfg = {
    numClasses: 3,
    regressRanges: [
      [-1, 12],
      [12, 1e8],
    ] as [number, number][],
    centerSampling: false,
    centerSampleRadius: 1.5,
  };
  // a small box around (12, 12) and a large box covering everything
  const gt = Float32Array.from([6, 6, 18, 18, 0, 0, 32, 32]);
  const t = fcosTargets(points, pointLevel, strides, gt, Int32Array.from([2, 1]), cfg);
  // level-0 point (12,12): inside both, max ltrb 6 for the small box (in range), 20 for the large (out of range) -> small
  const i1212 = 1 * 4 + 1;
  assert.equal(t.labels[i1212], 2);
  assert.deepEqual(Array.from(t.ltrb.subarray(4 * i1212, 4 * i1212 + 4)), [6, 6, 6, 6]);
  // level-1 point (8, 8): small box gives max 10 (not in (12, inf]); the large box gives 24 -> large
  assert.equal(t.labels[16], 1);
  assert.equal(t.gtIndex[16], 1);
  // level-0 point (4, 4) is outside the small box, and the large box's max 28 is out of range -> negative
  assert.equal(t.labels[0], 3);
  // center sampling with radius 0.5·stride: only points within 4 px of the centre remain positive
  const c = fcosTargets(points, pointLevel, strides, Float32Array.from([0, 0, 30, 30]), Int32Array.from([0]), {
    ...cfg,
    regressRanges: [
      [-1, 1e8],
      [-1, 1e8],
    ],
    centerSampling: true,
    centerSampleRadius: 0.5,
  });
  const pos = Array.from(c.labels.keys()).filter((i) => c.labels[i] === 0);
  for (const i of pos) assert.ok(Math.abs(points[2 * i]! - 15) < 8 * 0.5 + 1e-6 || pointLevel[i] === 1);
  assert.ok(pos.length > 0 && pos.length < 20);
  assert.ok(Math.abs(centerness(Float32Array.from([1, 2, 3, 2]))[0]! - Math.sqrt(1 / 3)) < 1e-6);
});

test('anchors: side scale·stride, ratio h/w, centred on cells', () => {
  const a = levelAnchors(2, 3, 8, 4, [0.5, 1, 2]);
  assert.equal(a.length, 2 * 3 * 3 * 4);
  for (let i = 0; i < 18; i++) {
    const w = a[4 * i + 2]! - a[4 * i]!,
      h = a[4 * i + 3]! - a[4 * i + 1]!;
    assert.ok(Math.abs(Math.sqrt(w * h) - 32) < 1e-3);
    assert.ok(Math.abs(h / w - [0.5, 1, 2][i % 3]!) < 1e-5);
  }
  // anchor of location (y=1, x=2): centre (20, 12)
  const k = (1 * 3 + 2) * 3 + 1;
  assert.deepEqual([(a[4 * k]! + a[4 * k + 2]!) / 2, (a[4 * k + 1]! + a[4 * k + 3]!) / 2], [20, 12]);
});

test('max-IoU assignment with low-quality matches and the random sampler', () => {
  const cand = Float32Array.from([0, 0, 10, 10, 0, 0, 9, 10, 20, 20, 30, 30, 100, 100, 110, 110, 0, 0, 4, 4]);
  const gt = Float32Array.from([0, 0, 10, 10, 21, 21, 40, 40]);
  const a = maxIouAssign(cand, gt, 0.7, 0.3, 0.1, true);
  // cand 0: IoU 1 -> gt 0; cand 1: 0.9 -> gt 0; cand 2: IoU with gt1 = 81/(100+361-81) = 0.213 -> gt1's best -> positive
  assert.deepEqual(Array.from(a.assigned), [0, 0, 1, -1, -1]);
  const b = maxIouAssign(cand, gt, 0.7, 0.1, 0.5, false);
  assert.equal(b.assigned[2], -2); // 0.213: between the thresholds, ignored
  const many = new Int32Array(100).map((_, i) => (i < 30 ? 0 : -1));
  const s = randomSample(many, 40, 0.25, new Rng(1));
  assert.equal(s.pos.length, 10);
  assert.equal(s.neg.length, 30);
  assert.ok(s.pos.every((i) => i < 30) && s.neg.every((i) => i >= 30));
});

test('GroupNorm equals the direct per-group normalisation', () => {
  const ps = new ParamStore(new Rng(1));
  const gn = groupNorm(ps, 'gn', 6, 3);
  const rng = new Rng(2);
  const data = Float32Array.from({ length: 2 * 3 * 2 * 6 }, () => rng.normal(1, 2));
  const y = gn(tf.tensor4d(data, [2, 3, 2, 6])).dataSync();
  for (let b = 0; b < 2; b++) {
    for (let g = 0; g < 3; g++) {
      const idx: number[] = [];
      for (let p = 0; p < 6; p++) for (let c = 2 * g; c < 2 * g + 2; c++) idx.push(b * 36 + p * 6 + c);
      const m = idx.reduce((s, i) => s + data[i]!, 0) / idx.length;
      const v = idx.reduce((s, i) => s + (data[i]! - m) ** 2, 0) / idx.length;
      for (const i of idx) assert.ok(Math.abs(y[i]! - (data[i]! - m) / Math.sqrt(v + 1e-5)) < 1e-4);
    }
  }
  ps.dispose();
  assert.ok(Math.abs(1 / (1 + Math.exp(-priorProbBias(0.01))) - 0.01) < 1e-12);
});

test('backbones 18/34/50 and the FPN give the documented shapes and channels', () => {
  for (const depth of [18, 34, 50] as const) {
    const ps = new ParamStore(new Rng(depth));
    const bb = buildBackbone(ps, { depth, widthMult: 0.0625, norm: 'gn', gnGroups: 2 });
    const fpn = buildFpn(ps, bb.channels, { channels: 8, minLevel: 3, maxLevel: 7, extra: 'conv' });
    const out = tf.tidy(() => fpn.forward(bb.forward(tf.zeros([1, 64, 64, 3]) as tf.Tensor4D)).map((t) => t.shape));
    assert.deepEqual(out, [
      [1, 8, 8, 8],
      [1, 4, 4, 8],
      [1, 2, 2, 8],
      [1, 1, 1, 8],
      [1, 1, 1, 8],
    ]);
    const exp = depth === 50 ? 4 : 1;
    assert.deepEqual(bb.channels, [4 * exp, 8 * exp, 16 * exp, 32 * exp]);
    ps.dispose();
  }
  // standard ResNet-50 parameter count without the fc layer (BatchNorm affine in place of GN): 23.5M
  const ps = new ParamStore(new Rng(0));
  buildBackbone(ps, { depth: 50, widthMult: 1, norm: 'gn', gnGroups: 32 });
  assert.equal(ps.count(), 23_508_032);
  ps.dispose();
});

test('FCOS starts with every ltrb distance alive (positive), for several seeds', async () => {
  const { buildFcos } = await import('../../src/detect/fcos.js');
  const { fcosPreset } = await import('../../src/detect/config.js');
  for (const seed of [0, 1, 2]) {
    const ps = new ParamStore(new Rng(seed));
    const model = buildFcos(ps, fcosPreset('tiny', 10));
    const x = tf.randomNormal([2, 64, 64, 3], 0, 1, 'float32', seed) as tf.Tensor4D;
    const outs = model.forwardLevels(x);
    for (const o of outs) {
      const v = o.reg.dataSync();
      // ReLU(scale·conv): a zero distance has no gradient, so none may start there
      assert.ok(
        v.every((d) => d > 0.5 && d < 1.5),
        `seed ${seed}: ltrb in [${Math.min(...v)}, ${Math.max(...v)}] at init`,
      );
    }
    tf.dispose([x, ...outs.flatMap((o) => [o.cls, o.reg, o.quality])]);
    ps.dispose();
  }
});
