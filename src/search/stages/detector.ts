/**
 * The proxy task of kind 'detector': a candidate loss of one mode replaces that half of the
 * detector's default losses (src/detect's registry), and a short training on `trainSubset`
 * training images is scored on held-out training images (split 'proxy': the `valSubset` images
 * that follow them in the train split, so the val split stays unseen by the search) or on the
 * val split (split 'val', the final evaluation). src/detect and the torch backend load on the
 * first call, so that simulated runs never load libtorch.
 *
 * Never throws: 'diverged' on NaN/Inf, 'failed' with the error for a candidate that is not a
 * valid loss of its mode or that ran past the time limit, 'stopped' when the multi-fidelity
 * check (`config.earlyStop`) ends it behind the reference, and 'error' when the environment
 * failed (a dataset that cannot be read, too few images, a failure inside training that is not
 * NaN: an I/O error or a bug); the search never journals an 'error', it stops and can resume.
 */
import { join } from 'node:path';
import { resolveLoss } from '../../loss/index.js';
import type { ProxyTaskConfig } from '../config.js';
import type { ProxyInput, ProxyResult } from './proxy.js';

/** An error that says the environment is broken (I/O, data, a bug), not that the loss is bad. */
export function isEnvironmentError(e: unknown): boolean {
  if (!(e instanceof Error)) return e !== undefined;
  if ((e as NodeJS.ErrnoException).code !== undefined) return true; // a system error: ENOENT, EIO, ENOSPC, ...
  return (
    e instanceof TypeError ||
    e instanceof ReferenceError ||
    e instanceof SyntaxError ||
    e.name === 'DataError' ||
    e.name === 'CheckpointError'
  );
}

/** The images a proxy training uses: explicit train ids and held-out train ids (split 'proxy'), or the first N and the val split. */
export interface ProxySplit {
  trainSubset?: number[] | number;
  valSubset?: number[] | number;
  evalSplit: 'val' | 'train';
}

/**
 * Split 'proxy': the first `trainSubset` train images train, the `valSubset` after them are
 * scored (0 means "all": a fifth of the split is held out when valSubset is 0 too). Split 'val':
 * the first `trainSubset` train images (0: all), scored on the val split.
 */
export function proxySplit(
  trainIds: number[] | null,
  c: Pick<ProxyTaskConfig, 'trainSubset' | 'valSubset'>,
  split: 'proxy' | 'val',
): ProxySplit {
  if (split === 'val') return c.trainSubset > 0 ? { trainSubset: c.trainSubset, evalSplit: 'val' } : { evalSplit: 'val' };
  const ids = trainIds ?? [];
  const nVal = c.valSubset > 0 ? c.valSubset : Math.max(1, Math.floor(ids.length / 5));
  const nTrain = c.trainSubset > 0 ? c.trainSubset : ids.length - nVal;
  if (nTrain < 1 || ids.length < nTrain + 1)
    throw new Error(`the train split has ${ids.length} images, the proxy task needs more than trainSubset=${nTrain}`);
  return { trainSubset: ids.slice(0, nTrain), valSubset: ids.slice(nTrain, nTrain + nVal), evalSplit: 'train' };
}

export async function detectorProxy(input: ProxyInput): Promise<ProxyResult> {
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  const c = input.config;
  try {
    resolveLoss(input.mode, input.loss); // a preset name or an expression of the mode
  } catch (e) {
    return { ap: 0, ap50: 0, status: 'failed', seconds: seconds(), error: (e as Error).message };
  }
  try {
    const [{ useTorchBackend }, { trainDetector }, { loadCoco }] = await Promise.all([
      import('../../backend/index.js'),
      import('../../detect/train.js'),
      import('../../data/index.js'),
    ]);
    await useTorchBackend();
    const lossField = input.mode === 'reg' ? { regLoss: input.loss } : { clsLoss: input.loss };
    const trainIds =
      input.split === 'proxy' ? (await loadCoco(join(c.dataDir, 'train'), { checkImages: false })).images.map((im) => im.id) : null;
    const split = proxySplit(trainIds, c, input.split);
    const ac = new AbortController();
    const es = c.earlyStop;
    let checkAp: number | undefined;
    const timer = c.timeoutSeconds > 0 ? setTimeout(() => ac.abort(), c.timeoutSeconds * 1000) : null;
    try {
      const r = await trainDetector(
        {
          detector: c.detector,
          data: c.dataDir,
          preset: c.preset,
          iters: c.iters,
          batch: c.batch,
          lr: c.lr,
          ...(c.inputSize ? { inputSize: c.inputSize } : {}),
          ...(c.warmupIters !== undefined ? { warmupIters: c.warmupIters } : {}),
          seed: input.seed,
          ...lossField,
          ...split,
          readAhead: 1,
        },
        {
          signal: ac.signal,
          ...(es
            ? {
                checkAt: Math.max(1, Math.round(es.fraction * c.iters)),
                onCheck: (m: { AP: number }) => {
                  checkAp = Math.max(0, m.AP);
                  return es.reference !== null && checkAp < es.minRatio * es.reference;
                },
              }
            : {}),
        },
      );
      const m = r.metrics;
      const check = checkAp !== undefined ? { checkAp } : {};
      if (r.status === 'ok' && m) return { ap: Math.max(0, m.AP), ap50: Math.max(0, m.AP50), ...check, status: 'ok', seconds: seconds() };
      if (r.status === 'stopped') return { ap: 0, ap50: 0, ...check, status: 'stopped', seconds: seconds(), error: r.reason };
      if (r.status === 'diverged') return { ap: 0, ap50: 0, status: 'diverged', seconds: seconds(), error: r.reason };
      if (ac.signal.aborted)
        return { ap: 0, ap50: 0, status: 'failed', seconds: seconds(), error: `timed out after ${c.timeoutSeconds} s` };
      // The loss parsed: a failure of the environment (a system or data error) or a bug (TypeError,
      // ReferenceError) is the environment's; another error raised by the computation with this
      // loss (e.g. a kernel refusing its values) is the candidate's fate.
      if (isEnvironmentError(r.error))
        return { ap: 0, ap50: 0, status: 'error', seconds: seconds(), error: `training failed: ${r.reason ?? 'no metrics'}` };
      return { ap: 0, ap50: 0, status: 'failed', seconds: seconds(), error: r.reason ?? 'training failed' };
    } finally {
      if (timer) clearTimeout(timer);
    }
  } catch (e) {
    const err = e as Error;
    return {
      ap: 0,
      ap50: 0,
      status: 'error',
      seconds: seconds(),
      error: err.name && err.name !== 'Error' ? `${err.name}: ${err.message}` : err.message,
    };
  }
}
