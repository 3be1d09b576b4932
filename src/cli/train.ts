import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { DETECTOR_KINDS, MODEL_PRESETS } from '../detect/kinds.js';
import type { TrainProgress } from '../detect/index.js';
import { formatDuration } from '../util/progress.js';
import { UsageError } from './errors.js';

/** This process's command line with --resume added: what continues an interrupted run. */
function resumeCommand(): string {
  const args = process.argv.slice(2).filter((a) => a !== '--resume');
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return `cse-autoloss ${[...args, '--resume'].map(quote).join(' ')}`;
}

function num(name: string, integer: boolean) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < 0)
      throw new UsageError(`--${name} must be a non-negative ${integer ? 'integer' : 'number'}, got '${v}'`);
    return n;
  };
}

/** Selects the tensor backend: 'torch' (default) or tfjs's 'cpu' (slow; for machines without the addon). */
export async function selectBackend(name: string | undefined, threads?: number): Promise<void> {
  const [{ tf }, { setNumThreads, useTorchBackend }] = await Promise.all([import('../tf.js'), import('../backend/index.js')]);
  if (!name || name === 'torch') {
    await useTorchBackend();
    if (threads) setNumThreads(threads);
  } else if (name === 'cpu') {
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
  } else throw new UsageError(`--backend must be torch or cpu, got '${name}'`);
}

export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read --config ${path}: ${(e as Error).message}`);
  }
  try {
    // yaml is required here, not imported at the top: --help does not need it.
    const parseYaml = (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse;
    const v = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('expected a mapping of settings');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new UsageError(`--config ${path}: ${(e as Error).message}`);
  }
}

export function progressLine(p: TrainProgress): string {
  if (p.phase === 'eval') return `eval on val (iteration ${p.iter})`;
  const w = 24;
  const filled = Math.min(w, Math.round((p.iter / p.iters) * w));
  const losses = Object.entries(p.losses)
    .map(([k, v]) => `${k} ${v.toFixed(3)}`)
    .join(' ');
  return `train [${'='.repeat(filled)}${' '.repeat(w - filled)}] ${p.iter}/${p.iters} ${p.itPerSec.toFixed(2)} it/s ETA ${formatDuration(p.etaSec)} lr ${p.lr.toPrecision(3)} | ${losses}`;
}

/**
 * Whether a progress event goes to a log (stderr not a terminal): the twentieth of the iterations it
 * falls in when that differs from the last one logged (`last`), or for an evaluation and the last
 * iteration; null to skip it. At most ~20 training lines a run, whatever its length.
 */
export function nonTtyStep(p: Pick<TrainProgress, 'phase' | 'iter' | 'iters'>, last: number): number | null {
  const twentieth = Math.floor((20 * p.iter) / Math.max(p.iters, 1));
  if (p.phase === 'eval' || p.iter >= p.iters) return twentieth;
  return twentieth !== last ? twentieth : null;
}

function onOff(v: string): boolean {
  if (v === 'on' || v === 'true') return true;
  if (v === 'off' || v === 'false') return false;
  throw new UsageError(`--flip must be on or off, got '${v}'`);
}

interface TrainFlags {
  flip?: string;
  detector?: string;
  data?: string;
  out?: string;
  config?: string;
  preset?: string;
  iters?: number;
  batch?: number;
  lr?: number;
  inputSize?: number;
  warmupIters?: number;
  seed?: number;
  clsLoss?: string;
  regLoss?: string;
  clsWeight?: number;
  regWeight?: number;
  trainSubset?: number;
  valSubset?: number;
  evalEvery?: number;
  checkpointEvery?: number;
  initWeights?: string;
  resume?: boolean;
  resumeFrom?: string;
  backend?: string;
  threads?: number;
}

export function register(program: Command): void {
  program
    .command('train')
    .description('train a detector (FCOS-style or Faster R-CNN-style) with the given losses and score it on the val split (COCO metrics)')
    .option('--detector <kind>', `detector: ${DETECTOR_KINDS.join(' | ')}`)
    .option('--data <dir>', 'dataset root with train/ and val/ (COCO folders, e.g. from `cse-autoloss data make`)')
    .option('--out <dir>', 'run folder: log.jsonl, checkpoints/, metrics.json, results.json, loss.svg, ap.svg')
    .option('--config <file>', 'YAML or JSON file of training settings (flags override it)')
    .option('--preset <name>', `model and schedule preset: ${MODEL_PRESETS.join(' | ')} (default cpu-small)`)
    .option('--iters <n>', 'training iterations', num('iters', true))
    .option('--batch <n>', 'images per batch', num('batch', true))
    .option('--lr <x>', 'base learning rate', num('lr', false))
    .option('--input-size <px>', "input size in pixels, a multiple of 32 (default: the preset's)", num('input-size', true))
    .option('--warmup-iters <n>', "linear warm-up iterations (default: the preset's, at most --iters)", num('warmup-iters', true))
    .option('--seed <n>', 'random seed (weights, data order, sampling)', num('seed', true))
    .option('--cls-loss <loss>', "classification loss: a preset (ce, focal, bce, cse-a-cls, cse-b-cls) or an expression of the head's mode")
    .option('--reg-loss <loss>', 'regression loss: a preset (l1, smooth-l1, iou, giou, cse-a-reg, cse-b-reg) or a reg expression')
    .option('--cls-weight <x>', 'classification loss weight', num('cls-weight', false))
    .option('--reg-weight <x>', 'regression loss weight (default 1; 10 for decoded-box losses in Faster R-CNN)', num('reg-weight', false))
    .option('--train-subset <n>', 'train on the first N training images', num('train-subset', true))
    .option('--val-subset <n>', 'evaluate on the first N val images', num('val-subset', true))
    .option('--eval-every <n>', 'evaluate on val every N iterations (AP curve)', num('eval-every', true))
    .option('--checkpoint-every <n>', 'save checkpoints/latest every N iterations', num('checkpoint-every', true))
    .option('--init-weights <model.json>', 'initialise matching weights from a tfjs checkpoint')
    .option('--flip <on|off>', 'random horizontal flips (default: on, unless the dataset says horizontal_flip: false, as mnist-det does)')
    .option('--resume', 'continue the run in --out from its checkpoints/latest (same config; bit-identical to an uninterrupted run)')
    .option('--resume-from <dir>', 'continue the run in --out from this checkpoint folder (e.g. the previous intact one)')
    .option('--backend <name>', 'tensor backend: torch (default) or cpu')
    .option('--threads <n>', 'libtorch threads, ≥ 1 (default: CSE_THREADS or all cores)', (v: string) => {
      const n = num('threads', true)(v);
      if (n < 1) throw new UsageError(`--threads must be an integer ≥ 1, got '${v}'`);
      return n;
    })
    .action(async (f: TrainFlags) => {
      const file = f.config ? readConfigFile(f.config) : {};
      const flagValues: Record<string, unknown> = {
        detector: f.detector,
        data: f.data,
        out: f.out,
        preset: f.preset,
        iters: f.iters,
        batch: f.batch,
        lr: f.lr,
        inputSize: f.inputSize,
        warmupIters: f.warmupIters,
        seed: f.seed,
        clsLoss: f.clsLoss,
        regLoss: f.regLoss,
        clsWeight: f.clsWeight,
        regWeight: f.regWeight,
        trainSubset: f.trainSubset,
        valSubset: f.valSubset,
        evalEvery: f.evalEvery,
        checkpointEvery: f.checkpointEvery,
        initWeights: f.initWeights,
        resume: f.resume,
        flip: f.flip === undefined ? undefined : onOff(f.flip),
      };
      const config: Record<string, unknown> = { ...file };
      for (const [k, v] of Object.entries(flagValues)) if (v !== undefined) config[k] = v;
      if (!config.detector) throw new UsageError(`--detector is required (${DETECTOR_KINDS.join(' | ')})`);
      if (!config.data) throw new UsageError('--data is required');
      // tfjs, the addon and the detectors load here, not for --help.
      const [{ tf }, { getNumThreads }, { trainDetector }] = await Promise.all([
        import('../tf.js'),
        import('../backend/index.js'),
        import('../detect/index.js'),
      ]);
      await selectBackend(f.backend, f.threads);
      const tty = Boolean(process.stderr.isTTY);
      let lastLogged = -1;
      process.stderr.write(`backend ${tf.getBackend()}${tf.getBackend() === 'torch' ? `, ${getNumThreads()} threads` : ''}\n`);
      // Ctrl-C / SIGTERM: the first finishes the iteration and saves a checkpoint, the second exits at once
      const interrupt = new AbortController();
      const onSignal = (sig: NodeJS.Signals) => {
        if (interrupt.signal.aborted) {
          process.stderr.write(`\n${sig} again: exiting now (the last saved checkpoint stays)\n`);
          process.exit(130);
        }
        interrupt.abort();
        process.stderr.write(
          `\n${sig}: finishing this iteration and saving a checkpoint (${sig === 'SIGINT' ? 'Ctrl-C' : sig} again exits at once)\n`,
        );
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      let result;
      try {
        result = await trainDetector(config as never, {
          interrupt: interrupt.signal,
          ...(f.resumeFrom ? { resumeFrom: f.resumeFrom } : {}),
          onNotice: (m) => process.stderr.write(`${m}\n`),
          onProgress: (p) => {
            if (tty) {
              process.stderr.write(`\r${progressLine(p)}\x1b[K${p.phase === 'eval' ? '\n' : ''}`);
              return;
            }
            // a log (not a terminal): a line per 5% of the iterations, each evaluation and the last iteration
            const step = nonTtyStep(p, lastLogged);
            if (step === null) return;
            lastLogged = step;
            process.stderr.write(`${progressLine(p)}\n`);
          },
        });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      if (tty) process.stderr.write('\n');
      if (result.status === 'interrupted') {
        process.stderr.write(
          `interrupted at iteration ${result.iters}; ${result.written.length ? `checkpoint saved (${result.out}/${result.written.join(', ')})` : 'nothing saved (no --out)'}\n` +
            (result.out ? `resume with: ${resumeCommand()}\n` : ''),
        );
        process.exitCode = 130;
        return;
      }
      const m = result.metrics;
      process.stdout.write(
        `status ${result.status}${result.reason ? ` (${result.reason})` : ''}; ${result.iters} iterations, train ${formatDuration(result.trainSeconds)}, eval ${formatDuration(result.evalSeconds)}\n` +
          (m
            ? `AP ${m.AP.toFixed(3)}  AP50 ${m.AP50.toFixed(3)}  AP75 ${m.AP75.toFixed(3)}  APs ${m.APs.toFixed(3)}  APm ${m.APm.toFixed(3)}  APl ${m.APl.toFixed(3)}  AR100 ${m.AR100.toFixed(3)}\n`
            : '') +
          (result.out && result.written.length ? `wrote ${result.out}/${result.written.join(', ')}\n` : ''),
      );
      if (result.status !== 'ok') process.exitCode = 1;
    });
}
