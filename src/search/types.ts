/**
 * Serialisable records that cross process (and later machine) boundaries: a stage task is a
 * pure function input, a stage record its output. Nothing here holds functions or classes.
 */
import type { Mode } from '../loss/index.js';
import type { ProxyTaskConfig } from './config.js';

export type StageName = 'cpv' | 'mos1' | 'mos2' | 'proxy' | 'final';

export interface Mos1Config {
  samples: number;
  classes: number;
  steps: number;
  lr: number;
  /**
   * cls and bcls: 'balanced' (absent: the original free-logit problem) or 'detection' (a linear
   * classifier on imbalanced rows, FCOS-like locations in bcls, RoI-head-like in cls, scored by
   * average precision; stages/mos.ts).
   */
  problem?: Mos1Problem;
}

/** MOS level 1's cls / bcls problems (stages/mos.ts). */
export const MOS1_PROBLEMS = ['balanced', 'detection'] as const;
export type Mos1Problem = (typeof MOS1_PROBLEMS)[number];

/** One stage evaluation: everything the stage needs, nothing else. */
export type StageTask =
  | { stage: 'cpv'; mode: Mode; loss: string; seed: number; saturating?: true }
  | { stage: 'mos1'; mode: Mode; loss: string; seed: number; config: Mos1Config }
  | { stage: 'mos2' | 'proxy' | 'final'; mode: Mode; loss: string; seed: number; config: ProxyTaskConfig };

/**
 * What a stage returns. status: 'ok' (the stage ran; `pass` says whether the candidate passed
 * when the stage decides it, `score` the measured quantity), 'diverged' (NaN/inf in training:
 * score 0), 'failed' (the candidate itself is invalid: its loss does not parse or build),
 * 'timeout' and 'crashed' (the worker was killed or died; set by the transport): these are the
 * candidate's fate and are journalled. 'error': the evaluation could not run because of the
 * environment (missing dataset or addon, I/O error, a bug in stage code); never journalled, the
 * run stops and `--resume` retries it.
 */
export interface StageRecord {
  status: 'ok' | 'diverged' | 'failed' | 'timeout' | 'crashed' | 'stopped' | 'error';
  /** Verdict for stages that decide it themselves (cpv); null when the loop decides from the score. */
  pass: boolean | null;
  score: number | null;
  /** Extra numbers (ap50, accuracy, ...; a detector training adds threads, and machine: machineKey of the machine it ran on, src/util/provenance.ts). */
  metrics: Record<string, number>;
  /** Why it failed (property name, error message). */
  reason: string | null;
  seconds: number;
}

/** How a candidate was made. */
export type Origin = 'random' | 'seed' | 'crossover' | 'mutation' | 'crossover+mutation' | 'default';

export interface Candidate {
  gen: number;
  idx: number;
  loss: string;
  fingerprint: string;
  parents: string[];
  origin: Origin;
  op: string | null;
  size: number;
  depth: number;
}

/** What happened to a candidate in its generation. */
export type Fate = 'cpv-fail' | 'duplicate' | 'mos-fail' | 'not-top-k' | 'proxied' | 'proxy-failed' | 'stopped-early' | 'invalid';
