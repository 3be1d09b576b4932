/**
 * A small conv net (three 3x3 conv+ReLU layers with 2x2 max pooling, global average pooling and a
 * dense head) trained with SGD: the workload of `cse-autoloss demo`, the backend benchmark and
 * the memory test. The PyTorch twin is bench/backend.py.
 */
import { tf } from '../tf.js';
import { Rng } from '../util/rng.js';
import { DEFAULT_SMALLNET, type SmallNetConfig } from './config.js';

export { DEFAULT_SMALLNET, type SmallNetConfig };

export interface SmallNet {
  step(x: tf.Tensor4D, labels: tf.Tensor1D): number;
  /** one SGD step without reading the loss back (no host sync beyond the backend's own) */
  stepNoRead(x: tf.Tensor4D, labels: tf.Tensor1D): void;
  params: tf.Variable[];
  dispose(): void;
}

function heNormal(rng: Rng, shape: number[], fanIn: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const std = Math.sqrt(2 / fanIn);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.normal(0, std);
  return tf.tensor(v, shape);
}

let nets = 0;

export function makeSmallNet(cfg: SmallNetConfig = DEFAULT_SMALLNET): SmallNet {
  const netCounter = nets++;
  const rng = new Rng(cfg.seed);
  const [c1, c2, c3] = cfg.channels;
  const params: tf.Variable[] = [];
  const v = (t: tf.Tensor, name: string) => {
    const p = tf.variable(t, true, `smallnet${netCounter}/${name}`);
    t.dispose();
    params.push(p);
    return p;
  };
  const w1 = v(heNormal(rng, [3, 3, 3, c1], 27), 'w1');
  const b1 = v(tf.zeros([c1]), 'b1');
  const w2 = v(heNormal(rng, [3, 3, c1, c2], 9 * c1), 'w2');
  const b2 = v(tf.zeros([c2]), 'b2');
  const w3 = v(heNormal(rng, [3, 3, c2, c3], 9 * c2), 'w3');
  const b3 = v(tf.zeros([c3]), 'b3');
  const wd = v(heNormal(rng, [c3, cfg.classes], c3), 'wd');
  const bd = v(tf.zeros([cfg.classes]), 'bd');
  const opt = tf.train.sgd(cfg.lr);

  const forward = (x: tf.Tensor4D): tf.Tensor2D => {
    let h = tf.relu(tf.add(tf.conv2d(x, w1 as tf.Tensor4D, 1, 'same'), b1)) as tf.Tensor4D; // [B, S, S, c1]
    h = tf.maxPool(h, 2, 2, 'valid'); // [B, S/2, S/2, c1]
    h = tf.relu(tf.add(tf.conv2d(h, w2 as tf.Tensor4D, 1, 'same'), b2)) as tf.Tensor4D;
    h = tf.maxPool(h, 2, 2, 'valid'); // [B, S/4, S/4, c2]
    h = tf.relu(tf.add(tf.conv2d(h, w3 as tf.Tensor4D, 1, 'same'), b3)) as tf.Tensor4D; // [B, S/4, S/4, c3]
    const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D; // [B, c3]
    return tf.add(tf.matMul(pooled, wd as tf.Tensor2D), bd) as tf.Tensor2D; // [B, classes] logits
  };
  const lossFn = (x: tf.Tensor4D, labels: tf.Tensor1D) => () => {
    const logits = forward(x);
    const onehot = tf.oneHot(labels, cfg.classes);
    return tf.losses.softmaxCrossEntropy(onehot, logits) as tf.Scalar;
  };
  return {
    params,
    step(x, labels) {
      const loss = opt.minimize(lossFn(x, labels), true) as tf.Scalar;
      const value = loss.dataSync()[0] as number;
      loss.dispose();
      return value;
    },
    stepNoRead(x, labels) {
      opt.minimize(lossFn(x, labels), false);
    },
    dispose() {
      for (const p of params) p.dispose();
      opt.dispose();
    },
  };
}

/**
 * A learnable synthetic batch: each image is noise plus a square at a random place whose colour
 * encodes the class (the net pools globally, so colour, not position, must carry the class).
 */
export function syntheticBatch(cfg: SmallNetConfig, rng: Rng): { x: tf.Tensor4D; labels: tf.Tensor1D } {
  const { batch, size, classes } = cfg;
  const data = new Float32Array(batch * size * size * 3);
  const labels = new Int32Array(batch);
  const cell = Math.max(2, Math.floor(size / 4));
  for (let b = 0; b < batch; b++) {
    const cls = rng.int(0, classes - 1);
    labels[b] = cls;
    const cy = rng.int(0, size - cell);
    const cx = rng.int(0, size - cell);
    for (let i = 0; i < size * size * 3; i++) data[b * size * size * 3 + i] = rng.normal(0, 0.3);
    for (let y = cy; y < cy + cell; y++) {
      for (let x = cx; x < cx + cell; x++) {
        for (let c = 0; c < 3; c++) data[((b * size + y) * size + x) * 3 + c] += 1.5 * Math.sin(cls * 1.3 + c * 2.1);
      }
    }
  }
  return { x: tf.tensor4d(data, [batch, size, size, 3]), labels: tf.tensor1d(labels, 'int32') };
}
