import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/tf.js';
import { numNativeTensors, useTorchBackend } from '../../src/backend/index.js';
import { fusedMomentumStep } from '../../src/backend/fused_sgd.js';
import { applyUpdate } from '../../src/detect/index.js';
import { Rng } from '../../src/util/rng.js';

// Independent reference in float64: g' = clip·g + wd·w; acc = m·acc + g'; w −= lr·acc.
function referenceSteps(w0: number[][], gs: (number[] | null)[][], lrs: number[], m: number, wd: number, clipAt: number | null) {
  const w = w0.map((a) => a.slice());
  const acc = w0.map((a) => a.map(() => 0));
  const norms: number[] = [];
  gs.forEach((step, t) => {
    const g = step.map((gi, i) => gi ?? w[i]!.map(() => 0));
    const norm = Math.sqrt(g.flat().reduce((s, x) => s + x * x, 0));
    norms.push(norm);
    const c = clipAt !== null && norm > clipAt ? clipAt / (norm + 1e-6) : 1;
    for (let i = 0; i < w.length; i++) {
      for (let j = 0; j < w[i]!.length; j++) {
        const gg = c * g[i]![j]! + wd * w[i]![j]!;
        acc[i]![j] = m * acc[i]![j]! + gg;
        w[i]![j]! -= lrs[t]! * acc[i]![j]!;
      }
    }
  });
  return { w, acc, norms };
}

const close = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

test('fused momentum step on torch equals the float64 reference (clipping, weight decay, missing and shared gradients)', async () => {
  await useTorchBackend();
  const rng = new Rng(3);
  const shapes = [[3, 4], [5], [2, 2, 3], [5]];
  for (const clipAt of [null, 1.5]) {
    const w0 = shapes.map((s) => Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rng.normal(0, 1)));
    const vars = w0.map((v, i) => tf.tidy(() => tf.variable(tf.tensor(v, shapes[i]), true, `fs${clipAt}_${i}`)));
    const opt = tf.train.momentum(0.1, 0.9);
    const lrs = [0.1, 0.05, 0.2];
    const gsteps: (number[] | null)[][] = [];
    for (let t = 0; t < lrs.length; t++) {
      const gs = w0.map((v, i) => (t === 1 && i === 1 ? null : v.map(() => rng.normal(0, 2))));
      if (t === 2) gs[3] = gs[1]!; // the same gradient tensor for two weights (tapes can share one)
      gsteps.push(gs);
      opt.setLearningRate(lrs[t]!);
      const grads: tf.NamedTensorMap = {};
      gs.forEach((g, i) => {
        if (g) grads[vars[i]!.name] = tf.tensor(g, shapes[i]);
      });
      if (t === 2) grads[vars[3]!.name] = grads[vars[1]!.name]!;
      const norm = fusedMomentumStep(opt, vars, grads, { lr: lrs[t]!, momentum: 0.9, weightDecay: 1e-2, gradClip: clipAt });
      tf.dispose(Object.values(grads));
      assert.ok(norm !== null, 'the fused path applies on torch');
      const ref = referenceSteps(w0, gsteps, lrs.slice(0, t + 1), 0.9, 1e-2, clipAt);
      assert.ok(close(norm!, ref.norms[t]!, 1e-5), `norm ${norm} vs ${ref.norms[t]}`);
      vars.forEach((v, i) =>
        Array.from(v.dataSync()).forEach((x, j) =>
          assert.ok(close(x, ref.w[i]![j]!, 1e-5), `clip ${clipAt} step ${t} w${i}[${j}] ${x} vs ${ref.w[i]![j]}`),
        ),
      );
    }
    // the optimizer's state (checkpoints) holds the same buffers, named as tfjs names them
    const ref = referenceSteps(w0, gsteps, lrs, 0.9, 1e-2, clipAt);
    const state = await opt.getWeights();
    assert.equal(state[0]!.name, 'iter');
    assert.equal(state[0]!.tensor.dataSync()[0], lrs.length);
    state.slice(1).forEach((s, i) => {
      assert.equal(s.name, `${vars[i]!.name}/momentum`);
      Array.from(s.tensor.dataSync()).forEach((x, j) => assert.ok(close(x, ref.acc[i]![j]!, 1e-5), `acc ${i}[${j}]`));
    });
    opt.dispose();
    tf.dispose(vars);
  }
});

test('fused step agrees with the generic tfjs path of applyUpdate and leaks nothing', async () => {
  await useTorchBackend();
  const rng = new Rng(5);
  const mk = (tag: string) =>
    tf.tidy(() => [
      tf.variable(tf.randomNormal([4, 3], 0, 1, 'float32', 1), true, `${tag}a`),
      tf.variable(tf.randomNormal([3], 0, 1, 'float32', 2), true, `${tag}b`),
    ]);
  const fusedVars = mk('f');
  const plainVars = mk('p');
  const fusedOpt = tf.train.momentum(0.05, 0.9);
  const plainOpt = tf.train.momentum(0.05, 0.9);
  const sched = {
    iters: 1,
    batch: 1,
    lr: 0.05,
    momentum: 0.9,
    weightDecay: 1e-4,
    warmupIters: 0,
    warmupRatio: 0.001,
    steps: [],
    gamma: 0.1,
    gradClip: 2,
  };
  // warm-up so the buffers exist, then count tensors
  const step = (vars: tf.Variable[], opt: tf.MomentumOptimizer, gv: number[][], generic: boolean) => {
    const grads: tf.NamedTensorMap = { [vars[0]!.name]: tf.tensor(gv[0]!, [4, 3]), [vars[1]!.name]: tf.tensor(gv[1]!, [3]) };
    if (generic) {
      // the generic path: pin one weight so the fused path refuses (reference count 2)
      const pin = tf.reshape(vars[0]!, [12]);
      const n = applyUpdate(
        opt,
        vars.map((v) => [v.name, v] as [string, tf.Variable]),
        grads,
        sched,
      );
      pin.dispose();
      return n;
    }
    const n = fusedMomentumStep(opt, vars, grads, sched);
    tf.dispose(Object.values(grads));
    assert.ok(n !== null, 'the fused path applies to weights that own their data');
    return n;
  };
  let before = -1;
  let nativeBefore = -1;
  for (let t = 0; t < 6; t++) {
    if (t === 1) {
      before = tf.memory().numTensors;
      nativeBefore = numNativeTensors();
    }
    const gv = [Array.from({ length: 12 }, () => rng.normal(0, 1)), Array.from({ length: 3 }, () => rng.normal(0, 1))];
    const a = step(fusedVars, fusedOpt, gv, false);
    const b = step(plainVars, plainOpt, gv, true);
    assert.ok(close(a, b, 1e-5), `norm ${a} vs ${b}`);
  }
  fusedVars.forEach((v, i) => {
    const x = v.dataSync();
    const y = plainVars[i]!.dataSync();
    x.forEach((xv, j) => assert.ok(close(xv, y[j]!, 1e-5), `w${i}[${j}] ${xv} vs ${y[j]}`));
  });
  assert.equal(tf.memory().numTensors, before, 'tfjs tensors constant');
  assert.equal(numNativeTensors(), nativeBefore, 'native tensors constant');
  // a non-finite gradient leaves the weights alone and reports the norm
  const keep = Array.from(fusedVars[0]!.dataSync());
  const bad: tf.NamedTensorMap = { [fusedVars[0]!.name]: tf.fill([4, 3], NaN) };
  const n = fusedMomentumStep(fusedOpt, fusedVars, bad, { lr: 0.1, momentum: 0.9, weightDecay: 0, gradClip: null });
  tf.dispose(Object.values(bad));
  assert.ok(n !== null && Number.isNaN(n));
  assert.deepEqual(Array.from(fusedVars[0]!.dataSync()), keep);
  // a weight whose data is shared with another tensor is refused (null), not modified
  const alias = tf.reshape(fusedVars[1]!, [3, 1]);
  assert.equal(fusedMomentumStep(fusedOpt, fusedVars, {}, { lr: 0.1, momentum: 0.9, weightDecay: 0, gradClip: null }), null);
  alias.dispose();
  tf.dispose([...fusedVars, ...plainVars]);
  fusedOpt.dispose();
  plainOpt.dispose();
});
