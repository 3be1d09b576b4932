/**
 * One SGD-with-momentum step for a whole list of weights in a handful of native calls, for the
 * `torch` backend: global-norm gradient clipping, weight decay, momentum (tfjs's
 * MomentumOptimizer semantics: acc = m·acc + g; w = w − lr·acc, non-Nesterov) with libtorch's
 * `_foreach_*` operators. Done through tfjs ops, the same step costs ~10 kernel launches per
 * weight (~1,900 per FCOS iteration).
 *
 * The weights are updated in place in their native storage and each momentum buffer gets the
 * freshly computed new buffer as its storage. That is only safe while nothing else refers to that
 * storage, so every weight and buffer must own its data (tfjs
 * reference count 1, the variable's own shape); otherwise `null` is returned and the caller
 * takes the generic path. Training disposes every intermediate tensor before the update, so no
 * view of a weight is alive at that point.
 */
import { tf } from '../tf.js';
import { TorchBackend } from './backend_torch.js';
import { aten, dbl } from './native.js';
import type { NativeTensor } from './native.js';

export interface FusedSgdOptions {
  lr: number;
  momentum: number;
  weightDecay: number;
  /** Max global gradient norm, null for none. */
  gradClip: number | null;
}

interface Accumulation {
  originalName: string;
  variable: tf.Variable;
}

/**
 * Applies the step to `vars` (gradients in `grads` by variable name; a missing gradient counts as
 * zero) using and filling the momentum buffers of `optimizer`, so that its getWeights/setWeights
 * (checkpoints) keep working. Returns the global gradient norm before clipping (the weights are
 * left untouched when it is not finite), or null when the fused path does not apply.
 */
export function fusedMomentumStep(
  optimizer: tf.MomentumOptimizer,
  vars: tf.Variable[],
  grads: tf.NamedTensorMap,
  o: FusedSgdOptions,
): number | null {
  const be = tf.backend();
  if (!(be instanceof TorchBackend) || vars.length === 0) return null;
  const opt = optimizer as unknown as { accumulations: (Accumulation | undefined)[]; useNesterov: boolean; incrementIterations(): void };
  if (opt.useNesterov || !Array.isArray(opt.accumulations)) return null;
  for (const v of vars) {
    const e = be.entry(v.dataId);
    if (e.refCount !== 1 || e.shape.length !== v.shape.length || e.shape.some((d, i) => d !== v.shape[i]) || v.dtype !== 'float32')
      return null;
  }
  // momentum buffers as tfjs creates them (positional, named `<weight>/momentum`)
  const accs = vars.map((v, i) => {
    let a = opt.accumulations[i];
    if (a == null) {
      a = { originalName: `${v.name}/momentum`, variable: tf.tidy(() => tf.zerosLike(v).variable(false)) };
      opt.accumulations[i] = a;
    }
    return a.variable;
  });
  for (const a of accs) if (be.entry(a.dataId).refCount !== 1) return null;

  const norm = be.runKernel(() => {
    const pids = vars.map((v) => be.entry(v.dataId).id);
    const bids = accs.map((a) => be.entry(a.dataId).id);
    const gids = vars.map((v, i) => {
      const g = grads[v.name];
      return g ? be.input(g).id : be.call(aten('zeros_like'), pids[i]).id;
    });
    const norms = be.callAll(aten('_foreach_norm', 'Scalar'), gids, 2);
    const total = be.call(
      aten('linalg_vector_norm'),
      be.call(
        aten('stack'),
        norms.map((t) => t.id),
      ).id,
      2,
    );
    const n = Number(be.n.toBuffer(total.id)[0]);
    if (!Number.isFinite(n)) return n;
    const clip = o.gradClip !== null && n > o.gradClip ? o.gradClip / (n + 1e-6) : 1;
    // The new momentum buffers, computed into fresh tensors (the gradients may share storage with
    // each other): acc' = clip·g + wd·w + m·acc. Without clipping the first term and the weight
    // decay come from one out-of-place pass; acc' then replaces acc's storage, so each step makes
    // three passes over the weights' size (four when clipping) instead of five.
    let next: NativeTensor[];
    if (clip !== 1) {
      next = be.callAll(aten('_foreach_mul', 'Scalar'), gids, dbl(clip));
      if (o.weightDecay > 0)
        be.callAll(
          aten('_foreach_add_', 'List'),
          next.map((t) => t.id),
          pids,
          dbl(o.weightDecay),
        );
      if (o.momentum !== 0)
        be.callAll(
          aten('_foreach_add_', 'List'),
          next.map((t) => t.id),
          bids,
          dbl(o.momentum),
        );
    } else if (o.weightDecay > 0) {
      next = be.callAll(aten('_foreach_add', 'List'), gids, pids, dbl(o.weightDecay));
      if (o.momentum !== 0)
        be.callAll(
          aten('_foreach_add_', 'List'),
          next.map((t) => t.id),
          bids,
          dbl(o.momentum),
        );
    } else {
      next = be.callAll(aten('_foreach_add', 'List'), gids, bids, dbl(o.momentum));
    }
    accs.forEach((a, i) => be.replaceStorage(a.dataId, next[i]!));
    be.callAll(
      aten('_foreach_add_', 'List'),
      pids,
      next.map((t) => t.id),
      dbl(-o.lr),
    );
    return n;
  });
  if (Number.isFinite(norm)) opt.incrementIterations();
  return norm;
}
