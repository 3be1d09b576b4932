/**
 * The PyTorch twin of the detectors (bench/detectors.py, which bench:detectors times against)
 * computes the same loss as src/detect: the Python model is built from `resolveTrainConfig`'s
 * JSON (cpu-small at 64 px, 3 classes), the TS model's weights are copied into it by name, one
 * fixed batch goes through both, and every loss term (`self.parts` on the Python side, the
 * record `losses()` returns here), the total and the gradient norm of every parameter after one
 * backward must agree.
 *
 * FCOS: the whole loss (cls focal, reg GIoU, quality BCE) and all gradients.
 * Faster R-CNN: the whole loss too (rpn_cls, rpn_reg, cls, reg) and all gradients, with the
 * random sampling made identical by taking every candidate: rpnBatch and roiBatch above any
 * candidate count, posFraction 1, pre/post-NMS counts above the anchor count (so randomSample
 * draws nothing and no top-k cut falls between near-equal scores). Proposals then come from
 * each side's own NMS; what this does not cover is the sampler's random draws themselves.
 *
 * Tolerances: float32 values, the same ATen kernels underneath both sides but different
 * operator sequences (NHWC vs NCHW, fused vs composed GroupNorm, summation orders), and CPU
 * reductions over ~10^4 terms. Measured (CSE_THREADS=1): FCOS loss terms equal to the last bit,
 * Faster R-CNN's within 2e-7 relative; per-parameter gradient norms within 3.4e-5 relative, the
 * global norm within 3e-6. Loss terms and the global gradient norm must agree to 1e-4 relative,
 * per-parameter gradient norms to 1e-3 (they pass through up to ~20 more layers of rounding):
 * margins of 100x and more, while a changed hyperparameter or term moves them by 1e-2 or more
 * (on the Python side alone: focal alpha 0.25 -> 0.26 moves cls by 3.9e-2, the centre-sampling
 * radius 1.5 -> 1.25 by 4.0e-3, the RoI deltas' dh std 0.2 -> 0.21 reg by 1.2e-2, regWeight
 * x1.01 the Faster R-CNN total by 5.1e-4; a renamed module fails the weight copy by name).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '../../src/tf.js';
import { useTorchBackend } from '../../src/backend/index.js';
import { buildDetector, buildHeadLosses, resolveTrainConfig, type DetectorKind, type TrainBatch } from '../../src/detect/index.js';
import { Rng } from '../../src/util/rng.js';
import { runTwinCheck, torchMissing, writeTwinBatch, writeTwinWeights } from '../../bench/twin.js';

const SIZE = 64;
const CLASSES = 3;

before(async () => {
  await useTorchBackend();
});

/** Two images of SIZE px with 3 and 4 boxes of 10..60 px (every FCOS regression range gets positives). */
function fixedBatch(): TrainBatch {
  const rng = new Rng(7);
  const B = 2;
  const images = tf.tensor4d(
    Float32Array.from({ length: B * SIZE * SIZE * 3 }, () => rng.normal()),
    [B, SIZE, SIZE, 3],
  );
  const boxes: Float32Array[] = [];
  const labels: Int32Array[] = [];
  for (let b = 0; b < B; b++) {
    const n = 3 + b;
    const bx = new Float32Array(n * 4);
    const lb = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const w = rng.uniform(10, 60),
        h = rng.uniform(10, 60);
      const x = rng.uniform(0, SIZE - w),
        y = rng.uniform(0, SIZE - h);
      bx.set([x, y, x + w, y + h], 4 * k);
      lb[k] = rng.int(0, CLASSES - 1);
    }
    boxes.push(bx);
    labels.push(lb);
  }
  return {
    images,
    boxes,
    labels,
    contentSizes: [
      [SIZE, SIZE],
      [SIZE, SIZE - 8],
    ],
  };
}

function relDiff(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-12);
}

function compare(detector: DetectorKind, model: Record<string, unknown>) {
  const missing = torchMissing();
  if (missing) assert.fail(`PyTorch is required for this test: ${missing}. Run scripts/setup.sh (it installs Debian's python3-torch).`);
  const cfg = resolveTrainConfig({ detector, data: '-', preset: 'cpu-small', inputSize: SIZE, batch: 2, model }, CLASSES);
  const det = buildDetector(cfg.model, 3);
  det.setLosses(buildHeadLosses(detector, cfg.clsLoss, cfg.regLoss, cfg.clsWeight, cfg.regWeight));
  const batch = fixedBatch();
  const dir = mkdtempSync(join(tmpdir(), 'cse-twin-'));
  try {
    writeTwinWeights(det.ps, join(dir, 'weights.json'));
    writeTwinBatch(batch, join(dir, 'batch.json'));
    // TS: the loss terms and the gradients of the total
    const parts: Record<string, number> = {};
    const trainable = det.ps.trainable();
    const { value, grads } = tf.variableGrads(
      () => {
        const l = det.losses(batch, new Rng(0));
        for (const [k, v] of Object.entries(l)) if (k !== 'total') parts[k] = v.dataSync()[0]!;
        return l.total;
      },
      trainable.map(([, v]) => v),
    );
    const total = value.dataSync()[0]!;
    const gradNorm = new Map(
      trainable.map(([name, v]) => [name, grads[v.name] ? Math.sqrt(tf.tidy(() => tf.sum(tf.square(grads[v.name]!)).dataSync()[0]!)) : 0]),
    );
    tf.dispose([value, ...Object.values(grads)]);

    const py = runTwinCheck(cfg, join(dir, 'weights.json'), join(dir, 'batch.json'));
    assert.deepEqual(Object.keys(py.parts).sort(), Object.keys(parts).sort(), 'the twin names other loss terms');
    for (const [k, v] of Object.entries(parts)) {
      assert.ok(Number.isFinite(v) && v > 0, `${detector} ${k}: TS loss term ${v} (a zero term would compare nothing)`);
      const d = relDiff(v, py.parts[k]!);
      assert.ok(
        d <= 1e-4,
        `${detector} loss term ${k}: TS ${v}, PyTorch ${py.parts[k]} (relative difference ${d.toExponential(2)} > 1e-4)`,
      );
    }
    const dt = relDiff(total, py.total);
    assert.ok(dt <= 1e-4, `${detector} total loss: TS ${total}, PyTorch ${py.total} (relative ${dt.toExponential(2)})`);
    assert.deepEqual(Object.keys(py.grads).sort(), [...gradNorm.keys()].sort(), 'the twin has other trainable parameters');
    let worst = 0;
    let sq = 0,
      sqPy = 0;
    for (const [name, g] of gradNorm) {
      const gp = py.grads[name]!;
      sq += g * g;
      sqPy += gp * gp;
      // a parameter whose gradient is tiny next to the others' (relative error there is rounding alone) is checked in the global norm only
      if (Math.max(g, gp) < 1e-6) continue;
      const d = relDiff(g, gp);
      worst = Math.max(worst, d);
      assert.ok(d <= 1e-3, `${detector} gradient of ${name}: norm TS ${g}, PyTorch ${gp} (relative ${d.toExponential(2)} > 1e-3)`);
    }
    const dg = relDiff(Math.sqrt(sq), Math.sqrt(sqPy));
    assert.ok(dg <= 1e-4, `${detector} global gradient norm: TS ${Math.sqrt(sq)}, PyTorch ${Math.sqrt(sqPy)}`);
    return { parts, py: py.parts, worstGrad: worst, globalGrad: dg };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    batch.images.dispose();
    det.ps.dispose();
  }
}

test('FCOS twin (bench/detectors.py): same loss terms and gradients as src/detect on one batch, TS weights copied in', () => {
  const r = compare('fcos', {});
  console.log(`fcos: ${JSON.stringify(r)}`);
});

test('Faster R-CNN twin: same RPN and RoI loss terms and gradients, every candidate sampled on both sides', () => {
  const all = 1_000_000;
  const r = compare('faster-rcnn', {
    rpnBatch: all,
    rpnPosFraction: 1,
    roiBatch: all,
    roiPosFraction: 1,
    rpnPreNmsTrain: all,
    rpnPostNmsTrain: all,
  });
  console.log(`faster-rcnn: ${JSON.stringify(r)}`);
});
