/**
 * The optimisation step of a detector's training: the learning-rate schedule (linear warm-up,
 * step decay) and one update (weight decay, clipping by global norm, SGD with momentum, fused
 * into a few native calls on the torch backend). The loop that calls them is train.ts.
 */
import { tf } from '../tf.js';
import { fusedMomentumStep } from '../backend/fused_sgd.js';
import type { ScheduleConfig } from './config.js';

/** Learning rate at an iteration (0-based): linear warm-up from lr·warmupRatio, then step decay. */
export function learningRate(s: ScheduleConfig, iter: number): number {
  let lr = s.lr;
  for (const step of s.steps) if (iter >= step) lr *= s.gamma;
  if (iter < s.warmupIters) {
    const k = (1 - iter / s.warmupIters) * (1 - s.warmupRatio);
    lr *= 1 - k;
  }
  return lr;
}

/** Weight decay, clipping by global norm, one momentum step. Disposes the gradients; returns the (pre-clip) norm. */
export function applyUpdate(
  optimizer: tf.MomentumOptimizer,
  allTrainable: [string, tf.Variable][],
  grads: tf.NamedTensorMap,
  s: ScheduleConfig,
): number {
  // a weight that did not reach the loss this step (e.g. no RoI on a level) gets a zero gradient
  const trainable = allTrainable;
  const fused = fusedMomentumStep(
    optimizer,
    trainable.map(([, v]) => v),
    grads,
    {
      lr: (optimizer as unknown as { learningRate: number }).learningRate,
      momentum: (optimizer as unknown as { momentum: number }).momentum,
      weightDecay: s.weightDecay,
      gradClip: s.gradClip,
    },
  );
  if (fused !== null) {
    tf.dispose(Object.values(grads));
    return fused;
  }
  const list = trainable.map(([, v]) => grads[v.name] ?? tf.zerosLike(v));
  const normSq = tf.tidy(() => tf.addN(list.map((g) => tf.sum(tf.square(g)))).dataSync()[0]!);
  const norm = Math.sqrt(normSq);
  if (!Number.isFinite(norm)) {
    tf.dispose(list);
    return norm;
  }
  const clip = s.gradClip !== null && norm > s.gradClip ? s.gradClip / (norm + 1e-6) : 1;
  const named = tf.tidy(() =>
    trainable.map(([, v], i) => {
      let g = list[i]!;
      if (clip !== 1) g = tf.mul(g, clip);
      if (s.weightDecay > 0) g = tf.add(g, tf.mul(v, s.weightDecay));
      return { name: v.name, tensor: g };
    }),
  );
  tf.dispose(list);
  optimizer.applyGradients(named);
  tf.dispose(named.map((n) => n.tensor));
  return norm;
}
