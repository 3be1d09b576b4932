/**
 * Named parameters and the few layers the detectors are built from (NHWC, tfjs conv filters
 * [kh, kw, in, out]). Every layer registers its weights in a ParamStore under a dotted name
 * ("backbone.layer1.0.conv1.weight"); the store is what checkpoints save and load.
 */
import { tf } from '../tf.js';
import type { Rng } from '../util/rng.js';
import { groupNorm as groupNormOp } from '../backend/ops/group_norm.js';
import { convFilterStorage } from '../backend/ops/filter_storage.js';

export type Init =
  | { kind: 'kaiming-normal-fan-out' }
  | { kind: 'kaiming-uniform-a1' } // "caffe2 xavier": uniform(±sqrt(3/fan_in))
  | { kind: 'xavier-uniform' }
  | { kind: 'normal'; std: number }
  | { kind: 'constant'; value: number };

/** 4-D weights are convolution filters: stored in the order the backend's convolutions read (filter_storage.ts). */
export function filterStorage(t: tf.Tensor): tf.Tensor {
  if (t.rank !== 4) return t;
  const s = convFilterStorage(t as tf.Tensor4D);
  t.dispose();
  return s;
}

export class ParamStore {
  readonly vars = new Map<string, tf.Variable>();
  /** Names whose variables are not trained (frozen BatchNorm statistics and affine). */
  readonly frozen = new Set<string>();

  constructor(readonly rng: Rng) {}

  add(name: string, shape: number[], init: Init, fanIn: number, fanOut: number, trainable = true): tf.Variable {
    if (this.vars.has(name)) throw new Error(`parameter ${name} defined twice`);
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    const rng = this.rng;
    switch (init.kind) {
      case 'kaiming-normal-fan-out': {
        const std = Math.sqrt(2 / fanOut);
        for (let i = 0; i < size; i++) data[i] = rng.normal(0, std);
        break;
      }
      case 'kaiming-uniform-a1': {
        const b = Math.sqrt(3 / fanIn);
        for (let i = 0; i < size; i++) data[i] = rng.uniform(-b, b);
        break;
      }
      case 'xavier-uniform': {
        const b = Math.sqrt(6 / (fanIn + fanOut));
        for (let i = 0; i < size; i++) data[i] = rng.uniform(-b, b);
        break;
      }
      case 'normal':
        for (let i = 0; i < size; i++) data[i] = rng.normal(0, init.std);
        break;
      case 'constant':
        data.fill(init.value);
        break;
    }
    const init0 = filterStorage(tf.tensor(data, shape));
    const v = tf.variable(init0, trainable);
    init0.dispose(); // the variable then owns its data alone (the fused optimizer step needs that)
    this.vars.set(name, v);
    if (!trainable) this.frozen.add(name);
    return v;
  }

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`no parameter ${name}`);
    return v;
  }

  /** Trainable variables in a fixed order (the optimizer relies on it). */
  trainable(): [string, tf.Variable][] {
    return [...this.vars.entries()].filter(([n]) => !this.frozen.has(n));
  }

  count(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

export type Layer<I = tf.Tensor4D, O = tf.Tensor4D> = (x: I) => O;

export interface ConvOptions {
  stride?: number;
  pad?: number;
  bias?: boolean;
  init?: Init;
  biasInit?: number;
}

/** 2-D convolution with symmetric explicit padding (PyTorch's convention; default pad = k//2). */
export function conv2d(ps: ParamStore, name: string, inC: number, outC: number, k: number, opt: ConvOptions = {}): Layer {
  const stride = opt.stride ?? 1;
  const pad = opt.pad ?? Math.floor(k / 2);
  const w = ps.add(`${name}.weight`, [k, k, inC, outC], opt.init ?? { kind: 'kaiming-normal-fan-out' }, k * k * inC, k * k * outC);
  const b = opt.bias === false ? null : ps.add(`${name}.bias`, [outC], { kind: 'constant', value: opt.biasInit ?? 0 }, 1, 1);
  return (x) => {
    const y = tf.conv2d(x, w as tf.Tensor4D, stride, pad);
    return b ? tf.add(y, b) : y;
  };
}

/** Fully connected layer on [N, in] → [N, out]. */
export function linear(ps: ParamStore, name: string, inF: number, outF: number, init: Init, biasInit = 0): Layer<tf.Tensor2D, tf.Tensor2D> {
  const w = ps.add(`${name}.weight`, [inF, outF], init, inF, outF);
  const b = ps.add(`${name}.bias`, [outF], { kind: 'constant', value: biasInit }, 1, 1);
  return (x) => tf.add(tf.matMul(x, w as tf.Tensor2D), b);
}

/** Largest divisor of `channels` not above `groups`. */
export function groupCount(channels: number, groups: number): number {
  let g = Math.min(groups, channels);
  while (channels % g !== 0) g--;
  return g;
}

/** GroupNorm over [B, H, W, C] with learned affine (eps 1e-5, as PyTorch). */
export function groupNorm(ps: ParamStore, name: string, channels: number, groups: number): Layer {
  const g = groupCount(channels, groups);
  const gamma = ps.add(`${name}.weight`, [channels], { kind: 'constant', value: 1 }, 1, 1);
  const beta = ps.add(`${name}.bias`, [channels], { kind: 'constant', value: 0 }, 1, 1);
  // One fused ATen kernel forward and backward on the torch backend; tfjs ops elsewhere.
  return (x) => groupNormOp(x as tf.Tensor4D, gamma as unknown as tf.Tensor1D, beta as unknown as tf.Tensor1D, g, 1e-5);
}

/** Frozen BatchNorm: a fixed per-channel affine from stored statistics (none trained). */
export function frozenBatchNorm(ps: ParamStore, name: string, channels: number): Layer {
  const gamma = ps.add(`${name}.weight`, [channels], { kind: 'constant', value: 1 }, 1, 1, false);
  const beta = ps.add(`${name}.bias`, [channels], { kind: 'constant', value: 0 }, 1, 1, false);
  const mean = ps.add(`${name}.running_mean`, [channels], { kind: 'constant', value: 0 }, 1, 1, false);
  const vari = ps.add(`${name}.running_var`, [channels], { kind: 'constant', value: 1 }, 1, 1, false);
  return (x) =>
    tf.tidy(() => {
      const scale = tf.mul(gamma, tf.rsqrt(tf.add(vari, 1e-5)));
      const shift = tf.sub(beta, tf.mul(mean, scale));
      return tf.add(tf.mul(x, scale), shift) as tf.Tensor4D;
    });
}

export type NormKind = 'gn' | 'frozen-bn' | 'none';

export function norm(ps: ParamStore, name: string, channels: number, kind: NormKind, groups: number): Layer {
  if (kind === 'gn') return groupNorm(ps, name, channels, groups);
  if (kind === 'frozen-bn') return frozenBatchNorm(ps, name, channels);
  return (x) => x;
}

/** Prior-probability bias for sigmoid classifiers: -log((1 - p) / p). */
export function priorProbBias(p: number): number {
  return -Math.log((1 - p) / p);
}
