/** What both detectors share: the batch they train on, their loss hooks, their interface. */
import type { tf } from '../tf.js';
import type { ClsLossInput, BclsLossInput, RegLossInput } from '../loss/index.js';
import type { Rng } from '../util/rng.js';
import type { Detections } from './boxes.js';
import type { ParamStore } from './layers.js';

export interface TrainBatch {
  /** [B, H, W, 3] normalised input. */
  images: tf.Tensor4D;
  /** Per image n*4 boxes x1y1x2y2 (input px). */
  boxes: Float32Array[];
  /** Per image n labels 0..C-1. */
  labels: Int32Array[];
  /** Per image [width, height] of the real content (the rest is padding). */
  contentSizes: [number, number][];
}

/** The searched losses of a head, built from strings by the loss layer. */
export interface HeadLosses {
  /** Multi-class (two-stage) or binary (one-stage) classification. */
  cls: ((x: ClsLossInput) => tf.Scalar) | ((x: BclsLossInput) => tf.Scalar);
  reg: (x: RegLossInput) => tf.Scalar;
  /** The reg loss is a fixed baseline on deltas ('l1' / 'smooth-l1') rather than on decoded boxes. */
  regOnDeltas: boolean;
  clsWeight: number;
  regWeight: number;
}

export interface DetectorModel {
  readonly kind: 'fcos' | 'faster-rcnn';
  readonly ps: ParamStore;
  /** Sets the head's searched losses (before training). */
  setLosses(l: HeadLosses): void;
  /** Loss terms for one batch (call inside a gradient tape); `total` is their weighted sum. */
  losses(batch: TrainBatch, rng: Rng): Record<string, tf.Scalar> & { total: tf.Scalar };
  /** Detections per image (boxes in input px, labels 0..C-1). No gradient. */
  predict(images: tf.Tensor4D, contentSizes: [number, number][]): Detections[];
}
