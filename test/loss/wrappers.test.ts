import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/tf.js';
import '@tensorflow/tfjs-backend-cpu';
import { Rng } from '../../src/util/rng.js';
import { LossModeError, PRESETS, buildBclsLoss, buildClsLoss, buildRegLoss, parseExpr, resolveLoss } from '../../src/loss/index.js';
import { close } from './helpers.js';

before(async () => {
  await tf.setBackend('cpu');
});

const sig = (x: number) => 1 / (1 + Math.exp(-x));
const logSoftmax = (row: number[], j: number) => {
  const m = Math.max(...row);
  const s = row.reduce((a, v) => a + Math.exp(v - m), 0);
  return row[j]! - m - Math.log(s);
};

function clsData(rng: Rng, n: number, c: number) {
  const logits = Array.from({ length: n }, () => Array.from({ length: c + 1 }, () => rng.normal(0, 2)));
  const labels = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? c : rng.int(0, c - 1)));
  const iou = Array.from({ length: n }, () => rng.uniform(0.1, 1));
  const weights = Array.from({ length: n }, () => rng.uniform(0, 2));
  return { logits, labels, iou, weights };
}
const scalar = (t: tf.Scalar) => {
  const v = t.dataSync()[0]!;
  t.dispose();
  return v;
};

test('cls wrapper: ce and CSE-A cls against closed forms (mean, weights, avgFactor)', () => {
  const rng = new Rng(3);
  const n = 7;
  const c = 3;
  const d = clsData(rng, n, c);
  const per = (name: 'ce' | 'cse-a-cls') =>
    d.logits.map((row, i) => {
      const pos = d.labels[i]! < c;
      const z = pos ? d.iou[i]! : 1;
      const w = name === 'ce' ? 1 : 1 + Math.sin(z);
      // Log(p + 1e-20) ≈ log p for these logits.
      return -w * logSoftmax(row, d.labels[i]!);
    });
  for (const name of ['ce', 'cse-a-cls'] as const) {
    const f = buildClsLoss(name);
    const inputs = {
      logits: tf.tensor2d(d.logits),
      labels: tf.tensor1d(d.labels, 'int32'),
      iou: tf.tensor1d(d.iou),
      weights: tf.tensor1d(d.weights),
    };
    const p = per(name);
    const mean = p.reduce((a, v) => a + v, 0) / n;
    assert.ok(close(scalar(f({ ...inputs, weights: undefined })), mean, 1e-5, 1e-6), `${name} mean`);
    const wsum = p.reduce((a, v, i) => a + v * d.weights[i]!, 0);
    assert.ok(close(scalar(f(inputs)), wsum / n, 1e-5, 1e-6), `${name} weighted mean`);
    assert.ok(close(scalar(f({ ...inputs, avgFactor: 3.5 })), wsum / 3.5, 1e-5, 1e-6), `${name} avgFactor`);
    tf.dispose(Object.values(inputs));
  }
});

test('cls wrapper: gradient of CE is softmax - onehot (the tape reaches the logits, not the IoU)', () => {
  const rng = new Rng(4);
  const d = clsData(rng, 5, 2);
  const f = buildClsLoss('cse-a-cls');
  const labels = tf.tensor1d(d.labels, 'int32');
  const iou = tf.tensor1d(d.iou);
  const [gx, giou] = tf.grads((x: tf.Tensor, q: tf.Tensor) => f({ logits: x as tf.Tensor2D, labels, iou: q as tf.Tensor1D }))([
    tf.tensor2d(d.logits),
    iou,
  ]);
  const g = gx!.arraySync() as number[][];
  d.logits.forEach((row, i) => {
    const z = d.labels[i]! < 2 ? d.iou[i]! : 1;
    row.forEach((_, j) => {
      const p = Math.exp(logSoftmax(row, j));
      const want = ((1 + Math.sin(z)) * (p - (j === d.labels[i] ? 1 : 0))) / 5;
      assert.ok(close(g[i]![j]!, want, 1e-4, 1e-6), `grad ${i},${j}: ${g[i]![j]} vs ${want}`);
    });
  });
  assert.ok(
    (giou!.arraySync() as number[]).every((v) => v === 0),
    'IoU is detached',
  );
  tf.dispose([gx!, giou!, labels, iou]);
});

test('bcls wrapper: focal, bce and CSE-B cls against closed forms with alpha_t and avgFactor', () => {
  const rng = new Rng(5);
  const n = 6;
  const c = 3;
  const logits = Array.from({ length: n }, () => Array.from({ length: c }, () => rng.normal(0, 2)));
  const labels = Array.from({ length: n }, (_, i) => (i % 2 ? c : rng.int(0, c - 1)));
  const iou = Array.from({ length: n }, () => rng.uniform(0.1, 1));
  const weights = Array.from({ length: n }, () => rng.uniform(0.5, 1.5));
  const erf = (x: number) => {
    // erf by its Taylor series (|x| ≤ 1 here: Serf(Sig(NY)) has x ≤ 0.5): an independent reference.
    let s = 0;
    let term = x;
    for (let k = 0; k < 40; k++) {
      s += term / (2 * k + 1);
      term *= (-x * x) / (k + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * s;
  };
  const elem = (name: string, x: number, y: number, q: number) => {
    const p = sig(x);
    if (name === 'bce') return -(y * Math.log(p) + (1 - y) * Math.log(1 - p));
    if (name === 'focal') return -(y * (1 - p) ** 2 * Math.log(p) + (1 - y) * p ** 2 * Math.log(1 - p));
    // CSE-B cls, term by term from the published string.
    const ny = 1 - y;
    const serf = (erf((Math.sqrt(Math.PI) / 4) * sig(ny)) + 1) / 2;
    const sgdf = ((2 * Math.atan(Math.tanh((x * Math.PI) / 8)) * 2) / Math.PI + 1) / 2;
    return -(q * (1 + serf) * Math.log(p + 1e-20) + (sgdf - q) * (1 - q - (1 - p)) * Math.log(1 - p + 1e-20));
  };
  for (const name of ['focal', 'bce', 'cse-b-cls']) {
    let want = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < c; j++) {
        const y = labels[i] === j ? 1 : 0;
        const alpha = y ? 0.25 : 0.75;
        want += weights[i]! * alpha * elem(name, logits[i]![j]!, y, y ? iou[i]! : 0);
      }
    }
    const inputs = {
      logits: tf.tensor2d(logits),
      labels: tf.tensor1d(labels, 'int32'),
      iou: tf.tensor1d(iou),
      weights: tf.tensor1d(weights),
    };
    const got = scalar(buildBclsLoss(name)({ ...inputs, avgFactor: 3 }));
    assert.ok(close(got, want / 3, 1e-4, 1e-6), `${name}: ${got} vs ${want / 3}`);
    tf.dispose(Object.values(inputs));
  }
});

test('reg wrapper: IoU, log-IoU, GIoU and CSE-A reg from boxes; L1 and smooth L1 on deltas', () => {
  const rng = new Rng(6);
  const n = 8;
  const boxes = () => {
    const x = rng.uniform(0, 50);
    const y = rng.uniform(0, 50);
    return [x, y, x + rng.uniform(5, 40), y + rng.uniform(5, 40)];
  };
  const pred = Array.from({ length: n }, boxes);
  const target = pred.map((b) => [
    b[0]! + rng.uniform(-8, 8),
    b[1]! + rng.uniform(-8, 8),
    b[2]! + rng.uniform(-8, 8),
    b[3]! + rng.uniform(-8, 8),
  ]);
  target[0] = [200, 200, 230, 240]; // no overlap
  const weights = Array.from({ length: n }, () => rng.uniform(0.5, 1.5));
  const geo = pred.map((p, i) => {
    const t = target[i]!;
    const iw = Math.max(0, Math.min(p[2]!, t[2]!) - Math.max(p[0]!, t[0]!));
    const ih = Math.max(0, Math.min(p[3]!, t[3]!) - Math.max(p[1]!, t[1]!));
    const I = iw * ih;
    const U = (p[2]! - p[0]!) * (p[3]! - p[1]!) + (t[2]! - t[0]!) * (t[3]! - t[1]!) - I + 1e-7;
    const E = (Math.max(p[2]!, t[2]!) - Math.min(p[0]!, t[0]!)) * (Math.max(p[3]!, t[3]!) - Math.min(p[1]!, t[1]!)) + 1e-7;
    return { I, U, E };
  });
  const refs: Record<string, (g: { I: number; U: number; E: number }) => number> = {
    iou: (g) => 1 - g.I / g.U,
    'log-iou': (g) => -Math.log(g.I / g.U + 1e-20),
    giou: (g) => 1 - g.I / g.U + (g.E - g.U) / g.E,
    'cse-a-reg': (g) => 1 - g.I / g.U + (g.E - g.I - 2) / g.E,
  };
  for (const [name, ref] of Object.entries(refs)) {
    const inputs = { pred: tf.tensor2d(pred), target: tf.tensor2d(target), weights: tf.tensor1d(weights) };
    const per = geo.map(ref);
    const wmean = per.reduce((a, v, i) => a + v * weights[i]!, 0) / n;
    const got = scalar(buildRegLoss(name)(inputs));
    assert.ok(close(got, wmean, 1e-4, 1e-5), `${name}: ${got} vs ${wmean}`);
    const got2 = scalar(buildRegLoss(name)({ ...inputs, weights: undefined, avgFactor: 2 }));
    assert.ok(close(got2, per.reduce((a, v) => a + v, 0) / 2, 1e-4, 1e-5), `${name} avgFactor`);
    tf.dispose(Object.values(inputs));
  }
  const dp = Array.from({ length: n }, () => Array.from({ length: 4 }, () => rng.normal(0, 1)));
  const dt = Array.from({ length: n }, () => Array.from({ length: 4 }, () => rng.normal(0, 1)));
  const absd = dp.map((r, i) => r.map((v, j) => Math.abs(v - dt[i]![j]!)));
  const l1 = absd.flat().reduce((a, v) => a + v, 0) / (n * 4);
  const sl1 = absd.flat().reduce((a, v) => a + (v < 1 ? 0.5 * v * v : v - 0.5), 0) / (n * 4);
  const inputs = { pred: tf.tensor2d(pred), target: tf.tensor2d(target), predDeltas: tf.tensor2d(dp), targetDeltas: tf.tensor2d(dt) };
  assert.ok(close(scalar(buildRegLoss('l1')(inputs)), l1, 1e-5, 1e-6));
  assert.ok(close(scalar(buildRegLoss('smooth-l1')(inputs)), sl1, 1e-5, 1e-6));
  assert.throws(() => buildRegLoss('l1')({ pred: inputs.pred, target: inputs.target }), /predDeltas/);
  tf.dispose(Object.values(inputs));
});

test('resolveLoss: presets, expressions, and a preset of another mode names both modes', () => {
  assert.equal(resolveLoss('cls', 'ce').text, PRESETS.ce!.text);
  assert.equal(resolveLoss('reg', 'l1').fixed, 'l1');
  assert.equal(resolveLoss('reg', ' Sub(1, Div(I,U)) ').text, 'Sub(1,Div(I,U))');
  assert.throws(
    () => resolveLoss('cls', 'giou'),
    (e: unknown) => e instanceof LossModeError && /reg/.test(e.message) && /cls/.test(e.message),
  );
  assert.throws(() => buildClsLoss('focal'), /bcls.*cls/);
  assert.throws(() => buildClsLoss(parseExpr('reg', 'I')), /invalid cls expression/);
});

test('wrappers leak no tensors across iterations', () => {
  const rng = new Rng(8);
  const d = clsData(rng, 6, 3);
  const f = buildClsLoss('cse-a-cls');
  const g = buildBclsLoss('cse-b-cls');
  const r = buildRegLoss('cse-b-reg');
  const logits = tf.tensor2d(d.logits);
  const labels = tf.tensor1d(d.labels, 'int32');
  const iou = tf.tensor1d(d.iou);
  const boxes = tf.tensor2d([
    [0, 0, 10, 10],
    [5, 5, 20, 30],
  ]);
  const tboxes = tf.tensor2d([
    [1, 1, 11, 12],
    [6, 4, 18, 33],
  ]);
  const step = () => {
    const [ga] = tf.grads((x: tf.Tensor) =>
      tf.add(f({ logits: x as tf.Tensor2D, labels, iou }), g({ logits: x as tf.Tensor2D, labels, iou, avgFactor: 2 })),
    )([logits]);
    const [gb] = tf.grads((p: tf.Tensor) => r({ pred: p as tf.Tensor2D, target: tboxes }))([boxes]);
    tf.dispose([ga!, gb!]);
  };
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) step();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([logits, labels, iou, boxes, tboxes]);
});
