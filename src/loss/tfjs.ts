/**
 * tfjs evaluator and the three wrappers of the public implementation (tools/get_loss.py):
 * multi_cls_loss (cls), binary_cls_loss (bcls), reg_loss (reg). Written against
 * @tensorflow/tfjs-core only, differentiable by the tape, on any backend.
 */
import { tf } from '../tf.js';
import type { Expr } from './expr.js';
import { checkExpr } from './expr.js';
import { PRIM_BY_NAME, type Mode } from './primitives.js';
import { resolveLoss, exprOf, type ResolvedLoss } from './presets.js';

/** Evaluates a tree on tensors (inputs by variable name). Constants are float32 scalars. */
export function evalTfjs(mode: Mode, e: Expr, inputs: Readonly<Record<string, tf.Tensor>>): tf.Tensor {
  const problem = checkExpr(mode, e);
  if (problem) throw new Error(`invalid ${mode} expression: ${problem.message}`);
  const walk = (x: Expr): tf.Tensor => {
    if (x.kind === 'var') {
      const t = inputs[x.name];
      if (!t) throw new Error(`missing input '${x.name}'`);
      return t;
    }
    if (x.kind === 'const') return tf.scalar(x.value, 'float32');
    const p = PRIM_BY_NAME.get(x.op)!;
    if (p.arity === 1) return p.tf(walk(x.args[0]!));
    return p.tf(walk(x.args[0]!), walk(x.args[1]!));
  };
  return walk(e);
}

/** Identity whose gradient is zero (torch's .detach()). */
const detach = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => ({
  value: tf.clone(inputs[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
}));

export interface ClsLossInput {
  /** [N, C+1] logits, background last. */
  logits: tf.Tensor2D;
  /** int32 [N]; C (the last column) is background. */
  labels: tf.Tensor1D;
  /** [N] IoU of each sample's (detached) predicted box with its ground truth; used for positives. */
  iou: tf.Tensor1D;
  weights?: tf.Tensor1D;
  avgFactor?: number;
}
export interface BclsLossInput {
  /** [N, C] logits, no background column. */
  logits: tf.Tensor2D;
  /** int32 [N]; C (= number of classes) means negative. */
  labels: tf.Tensor1D;
  /** [N] IoU for positives. */
  iou: tf.Tensor1D;
  weights?: tf.Tensor1D;
  avgFactor: number;
}
export interface RegLossInput {
  /** [N, 4] predicted boxes x1, y1, x2, y2. */
  pred: tf.Tensor2D;
  /** [N, 4] target boxes. */
  target: tf.Tensor2D;
  weights?: tf.Tensor1D;
  avgFactor?: number;
  /** [N, 4] predicted box deltas: only for the fixed 'l1' and 'smooth-l1' baselines. */
  predDeltas?: tf.Tensor2D;
  targetDeltas?: tf.Tensor2D;
}

/** mmdetection's weight_reduce_loss with reduction 'mean': mean, or sum / avgFactor. */
function weightReduce(loss: tf.Tensor, weights: tf.Tensor1D | undefined, avgFactor: number | undefined): tf.Scalar {
  let l = loss;
  if (weights) {
    const w = l.rank === 2 ? tf.reshape(weights, [-1, 1]) : weights;
    l = tf.mul(l, w);
  }
  return (avgFactor === undefined ? tf.mean(l) : tf.div(tf.sum(l), avgFactor)) as tf.Scalar;
}

/** Per-sample loss as the wrapper sees it: a scalar output is broadcast over the batch when weighted. */
function asBatch(out: tf.Tensor, n: number): tf.Tensor {
  return out.rank === 0 ? tf.mul(out, tf.ones([n])) : out;
}

function resolveFor(mode: Mode, spec: string | Expr): Expr {
  return exprOf(mode, spec);
}

/**
 * Multi-class softmax classification (two-stage box head). Z is the IoU on a positive's whole
 * row and 1 on negatives; Y the one-hot label. An [N, C+1] output is weighted per row
 * ([N, 1]); the public code would require [N] there (documented extension).
 */
export function buildClsLoss(spec: string | Expr): (x: ClsLossInput) => tf.Scalar {
  const e = resolveFor('cls', spec);
  return (x) =>
    tf.tidy(() => {
      const [n, k] = x.logits.shape;
      if (n === 0) return tf.mul(tf.sum(x.logits), 0) as tf.Scalar;
      const labels = tf.cast(x.labels, 'int32');
      const Y = tf.cast(tf.oneHot(labels, k), 'float32'); // [N, C+1]
      const isPos = tf.logicalAnd(tf.greaterEqual(labels, 0), tf.less(labels, k - 1)); // [N]
      const iou = detach(tf.cast(x.iou, 'float32')) as tf.Tensor1D;
      // Z = IoU on a positive's row, 1 elsewhere: 1 - p + p·iou with p ∈ {0, 1} (exact).
      const p = tf.reshape(tf.cast(isPos, 'float32'), [-1, 1]); // [N, 1]
      const Z = tf.add(tf.sub(tf.onesLike(Y), p), tf.mul(p, tf.reshape(iou, [-1, 1]))); // [N, C+1]
      const out = evalTfjs('cls', e, { X: x.logits, Y, Z });
      return weightReduce(x.weights ? asBatch(out, n) : out, x.weights, x.avgFactor);
    });
}

/**
 * Binary sigmoid classification (one-stage heads). Q: the IoU at a positive's class, PY the
 * one-hot target, NY = 1 - PY; the output is multiplied by alpha_t = 0.25·PY + 0.75·(1 - PY),
 * weighted per row and summed / avgFactor.
 */
export function buildBclsLoss(spec: string | Expr): (x: BclsLossInput) => tf.Scalar {
  const e = resolveFor('bcls', spec);
  const alpha = 0.25;
  return (x) =>
    tf.tidy(() => {
      const [n, c] = x.logits.shape;
      if (n === 0) return tf.mul(tf.sum(x.logits), 0) as tf.Scalar;
      const labels = tf.cast(x.labels, 'int32');
      // oneHot over C+1 columns drops the negative label C when the last column is sliced off.
      const PY = tf.slice(tf.cast(tf.oneHot(labels, c + 1), 'float32'), [0, 0], [n, c]); // [N, C]
      const NY = tf.sub(1, PY);
      const iou = detach(tf.cast(x.iou, 'float32'));
      const Q = tf.mul(PY, tf.reshape(iou, [-1, 1])); // [N, C]
      const out = evalTfjs('bcls', e, { X: x.logits, Q, PY, NY });
      const alphaT = tf.add(tf.mul(alpha, PY), tf.mul(1 - alpha, NY));
      const loss = tf.mul(alphaT, out); // [N, C]
      return weightReduce(loss, x.weights, x.avgFactor);
    });
}

/** I, U, E of predicted and target boxes as the public reg_loss computes them (eps 1e-7). */
export function boxAreas(pred: tf.Tensor2D, target: tf.Tensor2D, eps = 1e-7): { I: tf.Tensor1D; U: tf.Tensor1D; E: tf.Tensor1D } {
  const n = pred.shape[0];
  const p12 = tf.slice(pred, [0, 0], [n, 2]);
  const p34 = tf.slice(pred, [0, 2], [n, 2]);
  const t12 = tf.slice(target, [0, 0], [n, 2]);
  const t34 = tf.slice(target, [0, 2], [n, 2]);
  const wh = tf.maximum(tf.sub(tf.minimum(p34, t34), tf.maximum(p12, t12)), 0);
  const area = (t: tf.Tensor2D) => {
    const [w, h] = tf.split(t, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
    return tf.reshape(tf.mul(w, h), [-1]) as tf.Tensor1D;
  };
  const I = area(wh as tf.Tensor2D);
  const ap = area(tf.sub(p34, p12));
  const ag = area(tf.sub(t34, t12));
  const ewh = tf.maximum(tf.sub(tf.maximum(p34, t34), tf.minimum(p12, t12)), 0);
  const E = tf.add(area(ewh as tf.Tensor2D), eps) as tf.Tensor1D;
  const U = tf.add(tf.sub(tf.add(ap, ag), I), eps) as tf.Tensor1D;
  return { I, U, E };
}

/** Box regression from I, U, E; weighted, mean or sum / avgFactor. Also the fixed L1 / smooth-L1 baselines. */
export function buildRegLoss(spec: string | Expr): (x: RegLossInput) => tf.Scalar {
  let resolved: ResolvedLoss | null = null;
  let e: Expr | null = null;
  if (typeof spec === 'string') {
    resolved = resolveLoss('reg', spec);
    e = resolved.expr;
  } else e = exprOf('reg', spec);
  const fixed = resolved?.fixed ?? null;
  if (fixed) {
    return (x) =>
      tf.tidy(() => {
        if (!x.predDeltas || !x.targetDeltas) throw new Error(`the '${fixed}' baseline needs predDeltas and targetDeltas`);
        if (x.predDeltas.shape[0] === 0) return tf.mul(tf.sum(x.predDeltas), 0) as tf.Scalar;
        const d = tf.abs(tf.sub(x.predDeltas, x.targetDeltas)); // [N, 4]
        const loss = fixed === 'l1' ? d : smoothL1(d, 1.0);
        return weightReduce(loss, x.weights, x.avgFactor);
      });
  }
  const expr = e!;
  return (x) =>
    tf.tidy(() => {
      const n = x.pred.shape[0];
      if (n === 0) return tf.mul(tf.sum(x.pred), 0) as tf.Scalar;
      const { I, U, E } = boxAreas(x.pred, x.target);
      const out = evalTfjs('reg', expr, { U, I, E });
      return weightReduce(x.weights ? asBatch(out, n) : out, x.weights, x.avgFactor);
    });
}

/** mmdetection's smooth_l1_loss on |diff|: 0.5·d²/beta below beta, d - 0.5·beta above. */
function smoothL1(d: tf.Tensor, beta: number): tf.Tensor {
  return tf.where(tf.less(d, beta), tf.div(tf.mul(0.5, tf.square(d)), beta), tf.sub(d, 0.5 * beta));
}
