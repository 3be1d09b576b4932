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
 * This is the one proxy contract: the search's stages, the detector adapter and the tests all
 * use these two types. kind 'simulated' is stages/simulated.ts; kind 'detector' is
 * stages/detector.ts (it trains `config.detector` of src/detect's registry on `config.dataDir`:
 * `config.iters` iterations on `trainSubset` images, COCO AP on the `valSubset` held-out images
 * after them in the train split, or on the val split for split 'val'). Tests that need another
 * proxy inject a stage function through the transport (InProcessTransport, or the pool's
 * `stageModule`).
 */
import { parseExpr, type Mode } from '../../loss/index.js';
import type { ProxyTaskConfig } from '../config.js';
import { errorText } from '../transport/index.js';
import { detectorProxy } from './detector.js';
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
    return r.status === 'ok'
      ? { ap: r.ap, ap50: r.ap50, status: 'ok', seconds }
      : { ap: 0, ap50: 0, status: 'diverged', seconds, error: r.reason ?? undefined };
  } catch (err) {
    return { ap: 0, ap50: 0, status: 'error', seconds: (performance.now() - t0) / 1000, error: errorText(err) };
  }
}
