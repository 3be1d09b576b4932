/**
 * ResNet-style backbone (basic blocks for depth 18/34, bottlenecks for 50) with a width
 * multiplier, and an FPN neck. NHWC throughout.
 */
import { tf } from '../tf.js';
import { conv2d, norm, type Layer, type NormKind, type ParamStore } from './layers.js';

export interface BackboneConfig {
  depth: 18 | 34 | 50;
  /** Base width 64 × widthMult (rounded, at least 4). */
  widthMult: number;
  norm: NormKind;
  gnGroups: number;
}

const STAGES: Record<18 | 34 | 50, { block: 'basic' | 'bottleneck'; blocks: number[] }> = {
  18: { block: 'basic', blocks: [2, 2, 2, 2] },
  34: { block: 'basic', blocks: [3, 4, 6, 3] },
  50: { block: 'bottleneck', blocks: [3, 4, 6, 3] },
};

export interface BackboneFeatures {
  /** C2..C5 maps (strides 4, 8, 16, 32). */
  maps: tf.Tensor4D[];
}

export interface Backbone {
  forward(x: tf.Tensor4D): tf.Tensor4D[];
  /** Output channels of C2..C5. */
  channels: number[];
  strides: number[];
}

export function buildBackbone(ps: ParamStore, cfg: BackboneConfig, prefix = 'backbone'): Backbone {
  const spec = STAGES[cfg.depth];
  if (!spec) throw new Error(`unsupported ResNet depth ${cfg.depth} (18, 34 or 50)`);
  const base = Math.max(4, Math.round(64 * cfg.widthMult));
  const expansion = spec.block === 'bottleneck' ? 4 : 1;
  const stem = conv2d(ps, `${prefix}.conv1`, 3, base, 7, { stride: 2, pad: 3, bias: false });
  const stemNorm = norm(ps, `${prefix}.bn1`, base, cfg.norm, cfg.gnGroups);
  const stages: Layer[] = [];
  const channels: number[] = [];
  let inC = base;
  for (let s = 0; s < 4; s++) {
    const planes = base * 2 ** s;
    const blocks: Layer[] = [];
    for (let b = 0; b < spec.blocks[s]!; b++) {
      const stride = b === 0 && s > 0 ? 2 : 1;
      const name = `${prefix}.layer${s + 1}.${b}`;
      blocks.push(spec.block === 'basic' ? basicBlock(ps, name, inC, planes, stride, cfg) : bottleneck(ps, name, inC, planes, stride, cfg));
      inC = planes * expansion;
    }
    stages.push((x) => blocks.reduce((h, blk) => blk(h), x));
    channels.push(inC);
  }
  return {
    channels,
    strides: [4, 8, 16, 32],
    forward(x) {
      let h = tf.relu(stemNorm(stem(x)));
      h = tf.maxPool(h, 3, 2, 1);
      const outs: tf.Tensor4D[] = [];
      for (const stage of stages) {
        h = stage(h);
        outs.push(h);
      }
      return outs;
    },
  };
}

function basicBlock(ps: ParamStore, name: string, inC: number, planes: number, stride: number, cfg: BackboneConfig): Layer {
  const c1 = conv2d(ps, `${name}.conv1`, inC, planes, 3, { stride, bias: false });
  const n1 = norm(ps, `${name}.bn1`, planes, cfg.norm, cfg.gnGroups);
  const c2 = conv2d(ps, `${name}.conv2`, planes, planes, 3, { bias: false });
  // zero-init of the last norm's scale is not used (matches torchvision's default).
  const n2 = norm(ps, `${name}.bn2`, planes, cfg.norm, cfg.gnGroups);
  const down = downsample(ps, name, inC, planes, stride, cfg);
  return (x) => {
    const y = n2(c2(tf.relu(n1(c1(x)))));
    return tf.relu(tf.add(y, down ? down(x) : x)) as tf.Tensor4D;
  };
}

function bottleneck(ps: ParamStore, name: string, inC: number, planes: number, stride: number, cfg: BackboneConfig): Layer {
  const out = planes * 4;
  const c1 = conv2d(ps, `${name}.conv1`, inC, planes, 1, { bias: false });
  const n1 = norm(ps, `${name}.bn1`, planes, cfg.norm, cfg.gnGroups);
  // stride on the 3x3 conv (torchvision's "ResNet v1.5", as mmdetection's pytorch style).
  const c2 = conv2d(ps, `${name}.conv2`, planes, planes, 3, { stride, bias: false });
  const n2 = norm(ps, `${name}.bn2`, planes, cfg.norm, cfg.gnGroups);
  const c3 = conv2d(ps, `${name}.conv3`, planes, out, 1, { bias: false });
  const n3 = norm(ps, `${name}.bn3`, out, cfg.norm, cfg.gnGroups);
  const down = downsample(ps, name, inC, out, stride, cfg);
  return (x) => {
    const y = n3(c3(tf.relu(n2(c2(tf.relu(n1(c1(x))))))));
    return tf.relu(tf.add(y, down ? down(x) : x)) as tf.Tensor4D;
  };
}

function downsample(ps: ParamStore, name: string, inC: number, outC: number, stride: number, cfg: BackboneConfig): Layer | null {
  if (stride === 1 && inC === outC) return null;
  const c = conv2d(ps, `${name}.downsample.0`, inC, outC, 1, { stride, bias: false });
  const n = norm(ps, `${name}.downsample.1`, outC, cfg.norm, cfg.gnGroups);
  return (x) => n(c(x));
}

export interface FpnConfig {
  channels: number;
  /** First and last pyramid level used (P2 = stride 4 ... P7 = stride 128). */
  minLevel: number;
  maxLevel: number;
  /** How levels above P5 are made: 'conv' (stride-2 3x3 conv on the previous output, FCOS) or 'pool' (subsample, Faster R-CNN). */
  extra: 'conv' | 'pool';
}

export interface Fpn {
  forward(c: tf.Tensor4D[]): tf.Tensor4D[];
  strides: number[];
}

/** Feature pyramid: lateral 1x1 convs on C_minLevel..C5, nearest top-down, 3x3 output convs. */
export function buildFpn(ps: ParamStore, inChannels: number[], cfg: FpnConfig, prefix = 'neck'): Fpn {
  if (cfg.minLevel < 2 || cfg.minLevel > 5 || cfg.maxLevel < cfg.minLevel || cfg.maxLevel > 7) {
    throw new Error(`FPN levels P${cfg.minLevel}..P${cfg.maxLevel} unsupported (minLevel 2..5, maxLevel up to 7)`);
  }
  const used: number[] = [];
  for (let l = cfg.minLevel; l <= 5; l++) used.push(l);
  const init = { kind: 'xavier-uniform' as const };
  const laterals = used.map((l, i) => conv2d(ps, `${prefix}.lateral_convs.${i}`, inChannels[l - 2]!, cfg.channels, 1, { init }));
  const outs = used
    .filter((l) => l <= cfg.maxLevel)
    .map((_, i) => conv2d(ps, `${prefix}.fpn_convs.${i}`, cfg.channels, cfg.channels, 3, { init }));
  const extras: Layer[] = [];
  for (let l = 6; l <= cfg.maxLevel; l++) {
    if (cfg.extra === 'conv') {
      extras.push(conv2d(ps, `${prefix}.fpn_convs.${outs.length + extras.length}`, cfg.channels, cfg.channels, 3, { stride: 2, init }));
    } else {
      extras.push((x) => tf.maxPool(x, 1, 2, 0));
    }
  }
  const strides: number[] = [];
  for (let l = cfg.minLevel; l <= cfg.maxLevel; l++) strides.push(2 ** l);
  return {
    strides,
    forward(c) {
      const lat = used.map((l, i) => laterals[i]!(c[l - 2]!));
      for (let i = lat.length - 1; i > 0; i--) {
        const [, h, w] = lat[i - 1]!.shape;
        lat[i - 1] = tf.add(lat[i - 1]!, tf.image.resizeNearestNeighbor(lat[i]!, [h, w]));
      }
      const p = outs.map((conv, i) => conv(lat[i]!));
      let prev = p[p.length - 1]!;
      for (let e = 0; e < extras.length; e++) {
        // mmdetection 'on_output' with relu before every extra conv after the first
        const input = cfg.extra === 'conv' && e > 0 ? tf.relu(prev) : prev;
        prev = extras[e]!(input);
        p.push(prev);
      }
      return p.slice(0, cfg.maxLevel - cfg.minLevel + 1);
    },
  };
}
