/**
 * The proxy task behind one function signature: train with a candidate loss, return AP.
 *
 *   proxyTask(input: ProxyInput): Promise<ProxyResult>
 *
 * `input.config` is the stage's part of the search config (kind, detector, dataDir, iters,
 * trainSubset, valSubset, batch, lr, timeoutSeconds), `input.loss` the candidate in the paper's
 * prefix format for `input.mode`; the detector's other loss stays at its default. The function
 * must be deterministic for (loss, config, seed), must not throw for a bad loss (return status
 * 'diverged' on NaN/inf training, 'failed' with `error` when the loss is invalid), must return
 * 'error' (or throw) when the environment fails (missing dataset, I/O error, a bug), and
 * runs inside a pool worker (CSE_THREADS holds its libtorch thread count). It is used by MOS
 * level 2 (a short task), the proxy stage and the final evaluation (split 'val').
 *
 * kind 'simulated' is implemented here (stages/simulated.ts); kind 'detector' trains the
 * configured detector of src/detect (build `config.detector`, read `config.dataDir`, train
 * `config.iters` iterations on `trainSubset` images, evaluate COCO AP on the `valSubset`
 * held-out images after them in the train split, or on the val split for split 'val').
 */
import { parseExpr, type Mode } from '../../loss/index.js';
import type { ProxyTaskConfig } from '../config.js';
import { errorText } from '../transport/index.js';
import { simulatedProxy } from './simulated.js';

export interface ProxyInput {
  mode: Mode;
  /** The candidate loss, paper format. */
  loss: string;
  config: ProxyTaskConfig;
  /** Training seed (initialisation, sampling order). */
  seed: number;
  /** 'proxy': the proxy task's held-out subset; 'val': the dataset's val split (final evaluation). */
  split: 'proxy' | 'val';
}

export interface ProxyResult {
  /** COCO AP .50:.95 in [0, 1] (0 when not 'ok'). */
  ap: number;
  ap50: number;
  /** AP at the early-stopping check (detector proxy with earlyStop). */
  checkAp?: number;
  /**
   * 'failed': the candidate is invalid; 'stopped': ended early by the multi-fidelity check (behind
   * the default at the same point); 'error': the environment failed (not journalled).
   */
  status: 'ok' | 'diverged' | 'failed' | 'stopped' | 'error';
  seconds: number;
  error?: string;
}

export type ProxyFunction = (input: ProxyInput) => Promise<ProxyResult>;

/**
 * The detector-backed proxy: src/detect's proxy adapter (train on `trainSubset` train images,
 * score on the held-out train images after them, or on the val split for split 'val'), run on
 * the torch backend. Loaded lazily so that simulated runs never load libtorch.
 */
export let detectorProxy: ProxyFunction = async (input) => {
  const [{ useTorchBackend }, { detectorProxyTask }] = await Promise.all([import('../../backend/index.js'), import('../../detect/index.js')]);
  await useTorchBackend();
  return detectorProxyTask(input);
};

/** Replaces the detector proxy (for the code that wires src/detect in, and for tests). Returns the previous one. */
export function setDetectorProxy(fn: ProxyFunction): ProxyFunction {
  const prev = detectorProxy;
  detectorProxy = fn;
  return prev;
}

export async function proxyTask(input: ProxyInput): Promise<ProxyResult> {
  const t0 = performance.now();
  if (input.config.kind === 'detector') return detectorProxy(input);
  let e;
  try {
    e = parseExpr(input.mode, input.loss);
  } catch (err) {
    return { ap: 0, ap50: 0, status: 'failed', seconds: (performance.now() - t0) / 1000, error: (err as Error).message };
  }
  try {
    const r = simulatedProxy(input.mode, e, { ...input.config, split: input.split }, input.seed);
    const seconds = (performance.now() - t0) / 1000;
    return r.status === 'ok' ? { ap: r.ap, ap50: r.ap50, status: 'ok', seconds } : { ap: 0, ap50: 0, status: 'diverged', seconds, error: r.reason ?? undefined };
  } catch (err) {
    return { ap: 0, ap50: 0, status: 'error', seconds: (performance.now() - t0) / 1000, error: errorText(err) };
  }
}
