/**
 * The job payload: everything a worker needs to run one stage task, and nothing that lives
 * only on the coordinator. Validated on both sides (before submitting and before running);
 * a payload that fails is a PayloadError naming the field.
 *
 *   protocol, code, config   version stamps (version.ts); a worker refuses other versions
 *   dataset                  { dir, hash } of the dataset the task reads (dataset.ts), or null;
 *                            hash null: the coordinator does not hold the dataset, unchecked
 *   task                     the StageTask, opaque here apart from its envelope
 *   timeoutSeconds           wall-clock limit of the evaluation on the worker
 *   run                      the submitting run's tag (config hash), for the queue's readers
 *
 * The job id is a hash of the stamps, the dataset hash and the task: the same evaluation asked
 * twice (a coordinator restarted with --resume) is the same job, which BullMQ adds only once.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { stableStringify } from '../search/config.js';
import type { StageRecord, StageTask } from '../search/types.js';
import { PayloadError } from './errors.js';

const STAGES = ['cpv', 'mos1', 'mos2', 'proxy', 'final'] as const;

const taskSchema = z
  .object({
    stage: z.enum(STAGES),
    mode: z.string().min(1),
    loss: z.string().min(1),
    seed: z.number().int().nonnegative(),
    config: z.record(z.unknown()).optional(),
  })
  // Fields a later StageTask may add travel untouched (the job id covers them).
  .passthrough()
  .superRefine((t, ctx) => {
    if (t.stage !== 'cpv' && t.config === undefined)
      ctx.addIssue({ code: 'custom', path: ['config'], message: `required for stage '${t.stage}'` });
  });

export const payloadSchema = z
  .object({
    protocol: z.number().int().positive(),
    code: z.string().min(1),
    config: z.string().min(1),
    dataset: z
      .object({ dir: z.string().min(1), hash: z.string().min(1).nullable() })
      .strict()
      .nullable(),
    task: taskSchema,
    timeoutSeconds: z.number().positive().finite(),
    run: z.string().nullable(),
  })
  .strict();

export interface JobPayload {
  protocol: number;
  code: string;
  config: string;
  dataset: { dir: string; hash: string | null } | null;
  task: StageTask;
  timeoutSeconds: number;
  run: string | null;
}

/** Validates a payload (of unknown origin); throws PayloadError naming every bad field. */
export function validatePayload(raw: unknown): JobPayload {
  const r = payloadSchema.safeParse(raw);
  if (r.success) return r.data as unknown as JobPayload;
  const problems = r.error.issues.map((i) => {
    const path = i.path.length ? i.path.join('.') : '(payload)';
    const msg = i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.map((k) => `'${k}'`).join(', ')}` : i.message;
    return `${path}: ${msg}`;
  });
  throw new PayloadError(`invalid job payload: ${problems.join('; ')}`);
}

/** The job's id: deterministic in what determines its result (BullMQ ids may not contain ':'). */
export function jobIdOf(p: JobPayload): string {
  const h = createHash('sha256')
    .update(
      stableStringify({
        protocol: p.protocol,
        code: p.code,
        config: p.config,
        dataset: p.dataset?.hash ?? p.dataset?.dir ?? null,
        task: p.task,
      }),
    )
    .digest('hex');
  return `${p.task.stage}-${h.slice(0, 32)}`;
}

const RECORD_STATUSES = new Set(['ok', 'diverged', 'failed', 'timeout', 'crashed', 'error']);

/** True when a worker's return value has the shape of a StageRecord. */
export function isStageRecord(v: unknown): boolean {
  const r = v as Record<string, unknown>;
  return (
    !!r &&
    typeof r === 'object' &&
    RECORD_STATUSES.has(r.status as string) &&
    (r.pass === null || typeof r.pass === 'boolean') &&
    (r.score === null || typeof r.score === 'number') &&
    !!r.metrics &&
    typeof r.metrics === 'object' &&
    (r.reason === null || typeof r.reason === 'string') &&
    typeof r.seconds === 'number'
  );
}

/** JSON has no NaN or ±Infinity: a record's non-finite numbers travel as strings under `nonFinite`. */
export interface WireRecord {
  record: Record<string, unknown>;
  nonFinite: Record<string, string>;
}

export function encodeRecord(r: StageRecord): WireRecord {
  const nonFinite: Record<string, string> = {};
  const metrics: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(r.metrics)) {
    if (Number.isFinite(v)) metrics[k] = v;
    else {
      nonFinite[`metrics.${k}`] = String(v);
      metrics[k] = null;
    }
  }
  let score = r.score;
  if (score !== null && !Number.isFinite(score)) {
    nonFinite.score = String(score);
    score = null;
  }
  let seconds = r.seconds;
  if (!Number.isFinite(seconds)) seconds = 0;
  return { record: { ...r, score, metrics, seconds }, nonFinite };
}

/** The record from a worker's return value; null when it is not a valid encoded record. */
export function decodeRecord(v: unknown): StageRecord | null {
  const w = v as WireRecord;
  if (!w || typeof w !== 'object' || !w.record || typeof w.nonFinite !== 'object' || w.nonFinite === null) return null;
  const r = { ...w.record, metrics: { ...(w.record.metrics as Record<string, number>) } } as unknown as StageRecord;
  for (const [path, text] of Object.entries(w.nonFinite)) {
    const n = Number(text);
    if (path === 'score') r.score = n;
    else if (path.startsWith('metrics.')) r.metrics[path.slice(8)] = n;
  }
  return isStageRecord(r) ? r : null;
}
