/**
 * The search configuration: one zod schema, every field documented with its default.
 * Loaded from YAML (or JSON), then CLI overrides applied by path, then validated; each bad
 * field is reported with its dotted path. docs/SEARCH.md lists the same fields.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { z } from 'zod';
import YAML from 'yaml';
import { resolveLoss } from '../loss/index.js';
import { MODES, type Mode } from '../loss/mode.js';
import { UserError } from '../util/errors.js';
import { DETECTORS, DETECTOR_KINDS, MODEL_PRESETS } from '../detect/kinds.js';
import { planProcesses } from '../util/plan.js';
import { MOS1_PROBLEMS } from './types.js';

const mode = z.enum(MODES);
const prob = z.number().min(0).max(1);
const posInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();

/** MOS level 1: optimise free logits (cls/bcls) or boxes (reg) with the candidate's gradient. */
const mosLevel1 = z
  .object({
    /** Run MOS level 1. Default true. */
    enabled: z.boolean().default(true),
    /** Samples (rows of logits, or boxes). Default 64. */
    samples: posInt.default(64),
    /** Foreground classes for cls/bcls (cls adds a background column). Default 4. */
    classes: posInt.default(4),
    /** Gradient steps (Adam). Default 200. */
    steps: posInt.default(200),
    /** Adam learning rate. Default 0.05. */
    lr: z.number().positive().default(0.05),
    /** A candidate passes when its score ≥ threshold × the default loss's score. Default 0.9. */
    threshold: z.number().min(0).default(0.9),
    /**
     * cls and bcls: 'balanced' (free logits; cls: accuracy of argmax, bcls: balanced accuracy at ½)
     * or 'detection' (a linear classifier on imbalanced rows, FCOS-like locations in bcls,
     * RoI-head-like in cls, scored by average precision; docs/SEARCH.md). Absent:
     * 'balanced' (left out of the parsed config, so older configs keep their hash and journals).
     */
    problem: z.enum(MOS1_PROBLEMS).optional(),
  })
  .strict()
  .default({});

/** Everything the proxy function needs, besides the loss (see stages/proxy.ts). */
const proxyTask = z
  .object({
    /**
     * 'simulated': a fast deterministic stand-in (a linear model trained with the candidate, held-out
     * score as AP), for tests and demos without detectors. 'detector': the configured detector
     * trained on `dataDir` (needs src/detect wired in stages/proxy.ts). Default 'simulated'.
     */
    kind: z.enum(['simulated', 'detector']).default('simulated'),
    /** Detector for kind 'detector', from src/detect's registry: 'fcos' (one-stage; bcls and reg losses) or 'faster-rcnn' (two-stage; cls and reg). Default 'fcos'. */
    detector: z.enum(DETECTOR_KINDS).default('fcos'),
    /** Detector size preset (docs/DETECTORS.md): 'tiny', 'cpu-small' or 'r50-paper'. Default 'cpu-small'. */
    preset: z.enum(MODEL_PRESETS).default('cpu-small'),
    /** Dataset folder for kind 'detector'. Default 'data/mnist-det'. */
    dataDir: z.string().min(1).default('data/mnist-det'),
    /** Training iterations. Default 300. */
    iters: posInt.default(300),
    /** Training images used (0: all). Default 0. */
    trainSubset: nonNegInt.default(0),
    /** Held-out images scored (0: all). Default 0. */
    valSubset: nonNegInt.default(0),
    /** Images per batch. Default 8. */
    batch: posInt.default(8),
    /** Learning rate (detector: SGD; simulated: Adam). Default 0.02. */
    lr: z.number().positive().default(0.02),
    /** Wall-clock limit per evaluation; a hung evaluation is killed and recorded failed. Default 600. */
    timeoutSeconds: z.number().positive().default(600),
    /** Detector input side in px (default: the preset's). */
    inputSize: posInt.optional(),
    /** Warm-up iterations of the detector's schedule (default: the preset's, at most `iters`). */
    warmupIters: nonNegInt.optional(),
    /**
     * Multi-fidelity check of one proxy evaluation; set by the search loop from `proxy.earlyStop`
     * (with the default loss's AP at the check as `reference`), not in config files.
     */
    earlyStop: z
      .object({ fraction: z.number().gt(0).lt(1), minRatio: z.number().min(0), reference: z.number().nullable() })
      .strict()
      .optional(),
  })
  .strict();

/** proxy.earlyStop's fields (also configs/discovery.yaml's earlyStop, scripts/results-discovery.ts). */
export const earlyStopSchema = z
  .object({ fraction: z.number().gt(0).lt(1).default(0.5), minRatio: z.number().min(0).default(0.8) })
  .strict();

const config = z
  .object({
    /** Which loss is searched; the detector's other loss stays at its default. Default 'cls'. */
    mode: mode.default('cls'),
    /** 'cse': CPV and MOS filter before the proxy; 'vanilla': every candidate to the proxy. Default 'cse'. */
    strategy: z.enum(['cse', 'vanilla']).default('cse'),
    /** Seed of every random draw of the run. Default 0. */
    seed: nonNegInt.default(0),
    /** The default loss of the mode (preset name or expression); thresholds and comparisons are relative to it. Default: ce (cls), focal (bcls), giou (reg). */
    defaultLoss: z.string().min(1).optional(),
    population: z
      .object({
        /** Candidates per generation. Default 200. */
        size: posInt.default(200),
        /** Height bounds of random trees (ramped half-and-half). Defaults 2 and 6. */
        minDepth: nonNegInt.default(2),
        maxDepth: posInt.default(6),
        /** Largest tree size (nodes) of random trees and offspring. Default 40. */
        maxSize: posInt.default(40),
        /** Largest height of offspring. Default 12. */
        maxOffspringDepth: posInt.default(12),
        /** Presets (or expressions) placed in the initial population. Default none: discovery is real. */
        seedWith: z.array(z.string().min(1)).default([]),
        /**
         * What makes two candidates the same (dedupe, stored results, the hall of fame): 'function'
         * (the fingerprint of values and gradients; the default, absent from the parsed config) or
         * 'gradient' (the gradients only: trees that differ by a constant or a term of the targets
         * train a detector the same way, and count once).
         */
        identity: z
          .enum(['function', 'gradient'])
          .optional()
          .transform((v) => (v === 'gradient' ? v : undefined)),
        /**
         * cse with CPV: random trees are drawn until they fill the generation with candidates that pass
         * CPV and are not duplicates, at most this many per generation (generation 0, and the fresh random
         * fraction of later ones). Default 2,000,000 (bcls passes ~0.03%: 200 candidates take ~700k draws, ~1 min).
         */
        maxDraws: posInt.default(2_000_000),
        /** cse with CPV: mutation/crossover children made per generation to fill it with ones that pass CPV. Default 20,000. */
        maxOffspringTries: posInt.default(20_000),
      })
      .strict()
      .default({}),
    evolution: z
      .object({
        /** Generations. Default 10. */
        generations: posInt.default(10),
        /** Top-P candidates by fitness that become parents. Default 10. */
        parents: posInt.default(10),
        /** Best-ever candidates (hall of fame) added to the parents. Default 3. */
        elites: nonNegInt.default(3),
        /** Probability that an offspring comes from crossover (else from mutation). Default 0.5. */
        crossoverProb: prob.default(0.5),
        /** Probability that a crossover child is also mutated. Default 0.2. */
        mutationAfterCrossoverProb: prob.default(0.2),
        /** Relative weights of the mutation operators. */
        mutationWeights: z
          .object({
            insert: z.number().min(0).default(1),
            delete: z.number().min(0).default(1),
            replaceOp: z.number().min(0).default(1),
            replaceLeaf: z.number().min(0).default(1),
            subtree: z.number().min(0).default(0.5),
          })
          .strict()
          .default({}),
        /** Fraction of each generation filled with fresh random trees (diversity). Default 0.1. */
        randomFraction: prob.default(0.1),
        /** Size of the hall of fame kept in the report. Default 10. */
        hallOfFame: posInt.default(10),
        /**
         * End the search after the first generation in which a newly proxied candidate reaches the
         * default loss's proxy fitness (the efficiency measurement's runs: nothing after that point
         * counts). The generations before are the same as without it. Off when absent (absent, not
         * false, by default: the resolved config, and so the journal, of existing runs stays as it was).
         */
        stopAtDefault: z.boolean().optional(),
      })
      .strict()
      .default({}),
    /** Convergence property verification (cse only). */
    cpv: z
      .object({
        enabled: z.boolean().default(true),
        /**
         * The optional `saturating` property (cls, bcls; docs/SEARCH_SPACE.md): rejects losses that
         * keep falling as a logit runs away. Off when absent (absent, not false, by default: the
         * resolved config, and so the journal, of existing runs stays as it was).
         */
        saturating: z
          .boolean()
          .optional()
          .transform((v) => (v ? true : undefined)), // false is the default: it leaves no trace either
      })
      .strict()
      .default({}),
    mos: z
      .object({
        level1: mosLevel1,
        /** MOS level 2: a short proxy-like training on a small verification subset. Default off. */
        level2: z
          .object({
            enabled: z.boolean().default(false),
            task: proxyTask.default({ iters: 50 }),
            /** Pass when AP ≥ threshold × the default loss's AP. Default 0.5. */
            threshold: z.number().min(0).default(0.5),
          })
          .strict()
          .default({}),
      })
      .strict()
      .default({}),
    /**
     * The dataset of the detector tasks, made on first use: when a detector task's dataDir has no
     * train/ and val/ yet, the search writes this generated dataset there before it starts.
     * Absent: the dataDir must exist.
     */
    dataset: z
      .object({
        kind: z.enum(['mnist-det', 'shapes']),
        images: posInt,
        size: posInt.default(128),
        seed: nonNegInt.default(0),
        /** Fraction of the images in the val split. Default 0.2. */
        valFraction: z.number().gt(0).lt(1).default(0.2),
      })
      .strict()
      .optional(),
    proxy: z
      .object({
        /** Candidates per generation sent to the proxy task (top-K by MOS score). Default 10. */
        topK: posInt.default(10),
        task: proxyTask.default({}),
        /**
         * Multi-fidelity (detector proxy): after `fraction` of the iterations a candidate is scored;
         * when its AP is below `minRatio` × the default loss's AP at the same point, its training
         * stops (fate 'stopped-early', fitness 0). A NaN loss stops at once in any case. Off when absent.
         */
        earlyStop: earlyStopSchema.optional(),
      })
      .strict()
      .default({}),
    final: z
      .object({
        /** Retrain the best losses and the default with the full schedule after the search. Default true. */
        enabled: z.boolean().default(true),
        /** How many of the best losses. Default 3. */
        top: posInt.default(3),
        /** Also retrain the published CSE-Autoloss half of the mode (cse-a-cls, cse-b-cls; reg: cse-b-reg on fcos, cse-a-reg on faster-rcnn). Default true. */
        published: z.boolean().default(true),
        /** Seeds of the retraining. Default [0, 1, 2]. */
        seeds: z.array(nonNegInt).min(1).default([0, 1, 2]),
        /** The full-schedule task (evaluated on the val split). */
        task: proxyTask.default({ iters: 1000 }),
      })
      .strict()
      .default({}),
    pool: z
      .object({
        /** Worker processes; 'auto' plans from the cores. 0 runs stages in-process. Default 'auto'. */
        workers: z.union([z.literal('auto'), nonNegInt]).default('auto'),
        /** libtorch threads per worker (env CSE_THREADS); 'auto': cores / workers. Default 'auto'. */
        threadsPerWorker: z.union([z.literal('auto'), posInt]).default('auto'),
        /** Limit for a MOS evaluation; a hung worker is killed and replaced. Default 60. */
        mosTimeoutSeconds: z.number().positive().default(60),
      })
      .strict()
      .default({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.population.minDepth > c.population.maxDepth) {
      ctx.addIssue({
        code: 'custom',
        path: ['population', 'minDepth'],
        message: `must be ≤ population.maxDepth (${c.population.maxDepth})`,
      });
    }
    for (const [path, t] of [
      [['proxy', 'task'], c.proxy.task],
      [['mos', 'level2', 'task'], c.mos.level2.task],
      [['final', 'task'], c.final.task],
    ] as const) {
      if (t.earlyStop)
        ctx.addIssue({
          code: 'custom',
          path: [...path, 'earlyStop'],
          message: 'is set by the search loop; configure proxy.earlyStop instead',
        });
    }
    if (c.cpv.saturating && c.mode === 'reg')
      ctx.addIssue({
        code: 'custom',
        path: ['cpv', 'saturating'],
        message: `'saturating' is a property of the cls and bcls modes (mode is 'reg'); leave it out`,
      });
    if (c.mos.level1.problem === 'detection' && c.mode === 'reg')
      ctx.addIssue({
        code: 'custom',
        path: ['mos', 'level1', 'problem'],
        message: `'detection' is a cls or bcls problem (mode is '${c.mode}'); leave it out or use 'balanced'`,
      });
    const w = c.evolution.mutationWeights;
    if (w.insert + w.delete + w.replaceOp + w.replaceLeaf + w.subtree <= 0) {
      ctx.addIssue({ code: 'custom', path: ['evolution', 'mutationWeights'], message: 'at least one weight must be positive' });
    }
  });

export type SearchConfig = z.infer<typeof config>;
export type ProxyTaskConfig = z.infer<typeof proxyTask>;
export const searchConfigSchema = config;

export { stableStringify, hashOf, configHash, configDiff } from './run_identity.js';

export const DEFAULT_LOSS: Record<Mode, string> = { cls: 'ce', bcls: 'focal', reg: 'giou' };

export class ConfigError extends UserError {
  override name = 'ConfigError';
  constructor(
    message: string,
    readonly problems: string[] = [],
  ) {
    super(message);
  }
}

/** Validates a plain object; throws ConfigError listing every bad field with its path. */
export function parseConfig(raw: unknown, source = 'config'): SearchConfig {
  const r = config.safeParse(raw ?? {});
  if (r.success) {
    // The searched loss must fit the detector's head (the registry's clsMode): FCOS classifies
    // with sigmoids (bcls), Faster R-CNN's RoI head with a softmax (cls).
    const wrong: string[] = [];
    const mode = r.data.mode;
    for (const [path, t] of [
      ['proxy.task', r.data.proxy.task],
      ['final.task', r.data.final.task],
      ['mos.level2.task', r.data.mos.level2.task],
    ] as const) {
      if (t.kind !== 'detector' || mode === 'reg') continue;
      const clsMode = DETECTORS[t.detector].clsMode;
      if (clsMode === mode) continue;
      const fits = DETECTOR_KINDS.filter((k) => DETECTORS[k].clsMode === mode).join(' or ');
      wrong.push(
        `${path}.detector: ${t.detector} has a ${clsMode === 'bcls' ? 'sigmoid' : 'softmax'} (${clsMode}) classification head; mode ${mode} needs ${fits}`,
      );
    }
    // Loss strings: validated here, so that a bad one is refused before a run writes anything.
    const lossProblem = (spec: string): string | null => {
      try {
        return resolveLoss(r.data.mode, spec).expr
          ? null
          : 'a fixed baseline outside the expression language; give an expression or preset';
      } catch (e) {
        return (e as Error).message.split('\n')[0]!;
      }
    };
    const quote = (t: string) => `'${t.length > 60 ? `${t.slice(0, 60)}… (${t.length} characters)` : t}'`;
    if (r.data.defaultLoss !== undefined) {
      const p = lossProblem(r.data.defaultLoss);
      if (p) wrong.push(`defaultLoss: ${quote(r.data.defaultLoss)} is not a ${r.data.mode} loss: ${p}`);
    }
    r.data.population.seedWith.forEach((spec, i) => {
      const p = lossProblem(spec);
      if (p) wrong.push(`population.seedWith.${i}: ${quote(spec)} is not a ${r.data.mode} loss: ${p}`);
    });
    if (wrong.length) throw new ConfigError(`invalid ${source}:\n  ${wrong.join('\n  ')}`, wrong);
    return r.data;
  }
  const problems = r.error.issues.map((i) => {
    const path = i.path.length ? i.path.join('.') : '(top level)';
    let msg = i.message;
    if (i.code === 'unrecognized_keys') msg = `unknown field(s) ${i.keys.map((k) => `'${k}'`).join(', ')}`;
    return `${path}: ${msg}`;
  });
  throw new ConfigError(`invalid ${source}:\n  ${problems.join('\n  ')}`, problems);
}

/** Reads YAML/JSON text into a plain object (no validation). */
export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config ${file}: ${(e as Error).message}`);
  }
  try {
    return YAML.parse(text) ?? {};
  } catch (e) {
    throw new ConfigError(`config ${file} is not valid YAML: ${(e as Error).message}`);
  }
}

/** Sets `value` at a dotted path of a plain object, creating objects on the way. */
export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = obj;
  for (const k of keys.slice(0, -1)) {
    const next = o[k];
    if (next === undefined || next === null || typeof next !== 'object' || Array.isArray(next)) o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  o[keys[keys.length - 1]!] = value;
}

/** Deep merge (b wins; arrays replaced). */
export function deepMerge(a: unknown, b: unknown): unknown {
  if (b === undefined) return a;
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
    for (const [k, v] of Object.entries(b as Record<string, unknown>)) out[k] = deepMerge(out[k], v);
    return out;
  }
  return b;
}

/**
 * The preset behind `--demo`, kept in one place: configs/search-demo.yaml (shipped with the
 * package), read when used. Every stage for real on a generated mnist-det dataset (1200 images,
 * 128 px; made in RUN_DIR/data on first use): random regression losses, CPV filling the
 * population, MOS level 1, and an FCOS (cpu-small model, 96 px input, 1000 iterations on 800
 * images) as the proxy task, scored on 150 held-out training images, with early stopping at half
 * of the run; then the winner and the default retrained on the val split. The default scores AP
 * 0.2405 on this proxy, so candidates differ by more than noise.
 */
export function demoConfigFile(): string {
  // src/search/config.ts, or dist/src/... in the built package: the first folder above with configs/
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const f = join(dir, 'configs', 'search-demo.yaml');
    if (existsSync(f)) return f;
    const up = dirname(dir);
    if (up === dir) throw new ConfigError(`configs/search-demo.yaml (the --demo preset) not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** Loads file (optional) + overrides (dotted paths) → validated config. */
export function loadConfig(opts: { file?: string; demo?: boolean; overrides?: Record<string, unknown> }): SearchConfig {
  let raw: unknown = opts.demo ? readConfigFile(demoConfigFile()) : {};
  if (opts.file) raw = deepMerge(raw, readConfigFile(opts.file));
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigError(`config ${opts.file}: the top level must be a mapping`);
  const obj = structuredClone(raw) as Record<string, unknown>;
  for (const [path, value] of Object.entries(opts.overrides ?? {})) if (value !== undefined) setPath(obj, path, value);
  return parseConfig(obj, opts.file ? `config ${opts.file}` : 'config');
}

/**
 * The warning every output of a run carries when one of its tasks is `simulated` (a stand-in for
 * tests, not a detector); null when none is.
 */
export function simulatedWarning(c: SearchConfig): string | null {
  const used: string[] = [];
  if (c.proxy.task.kind === 'simulated') used.push('proxy.task');
  if (c.final.enabled && c.final.task.kind === 'simulated') used.push('final.task');
  if (c.mos.level2.enabled && c.mos.level2.task.kind === 'simulated') used.push('mos.level2.task');
  if (!used.length) return null;
  return (
    `${used.join(', ')} ${used.length > 1 ? 'are' : 'is'} 'simulated': a stand-in for tests (a linear model on synthetic features), not a detector. ` +
    'Its AP says nothing about detection; set kind: detector to search for real (docs/SEARCH.md).'
  );
}

export function defaultLossOf(c: SearchConfig): string {
  return c.defaultLoss ?? DEFAULT_LOSS[c.mode];
}

/** Pool plan: workers and threads per worker from the config, what is 'auto' fitted to the cores (src/util/plan.ts). */
export function planPool(c: SearchConfig, cores = cpus().length): { workers: number; threads: number } {
  const auto = (v: number | 'auto') => (v === 'auto' ? undefined : v);
  const p = planProcesses(auto(c.pool.workers), auto(c.pool.threadsPerWorker), cores);
  return { workers: p.processes, threads: p.threads };
}
