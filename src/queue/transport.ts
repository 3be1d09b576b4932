/**
 * QueueTransport: the search's StageTransport over a BullMQ queue on Redis. `run(task)` adds a
 * job (payload.ts) and resolves with the StageRecord that a `cse-autoloss worker` returns; the
 * coordinator stays the only writer of the journal.
 *
 *   job ids        deterministic in the task and versions: a coordinator restarted with --resume
 *                  adds the same ids, BullMQ keeps the existing jobs, and their results (finished
 *                  while it was down, or still to come) are adopted instead of run again
 *   results        from QueueEvents (completed / failed), read from the stream position taken
 *                  before the first job was added, so none is missed; a job found finished when
 *                  added (adopted) is settled from its stored state
 *   reconcile      every few seconds and on every reconnection: pending jobs finished without an
 *                  event are settled, jobs Redis lost (a restart without persistence) added again
 *   Redis lost     ioredis reconnects with backoff (connection.ts); past `unavailableSeconds`
 *                  without Redis every pending run rejects with QueueUnavailableError and the
 *                  transport stops: the search ends with its journal intact, resumable
 *   failures       a job that failed for good because its workers died (stalled too often) comes
 *                  back as a 'crashed' record, like the pool; one refused as invalid, or failed by
 *                  an exception, as an 'error' record (the environment's fault: the search stops
 *                  without journalling it, and a --resume retries it)
 *
 * Closing leaves queued jobs in Redis: they are the work a --resume adopts.
 */
import { Queue, QueueEvents, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { failedRecord, type RunOptions, type StageTransport } from '../search/transport/index.js';
import type { StageRecord, StageTask } from '../search/types.js';
import { DEFAULT_QUEUE, KEY_PREFIX, probeRedis, redisOptions } from './connection.js';
import { datasetDirOf, hashDataset } from './dataset.js';
import { PayloadError, QueueError, QueueUnavailableError } from './errors.js';
import { decodeRecord, jobIdOf, validatePayload, type JobPayload } from './payload.js';
import { parseQueueUrl, type QueueAddress } from './url.js';
import { localVersion, versionMismatch, type VersionStamp } from './version.js';
import { listWorkers } from './status.js';

export interface QueueTransportOptions {
  /** redis://HOST:PORT[/DB] */
  url: string;
  /** Queue name (default 'stages'; keys cse:stages:*). */
  queueName?: string;
  /** Tag of the submitting run (the config hash), stored in each job for the queue's readers. */
  runTag?: string | null;
  /** Attempts per job: a stage process that crashes is retried up to attempts − 1 times. Default 2. */
  attempts?: number;
  /** Give up after Redis has been unreachable this long during a run. Default 60. */
  unavailableSeconds?: number;
  /** Pending jobs are reconciled with Redis this often. Default 5. */
  reconcileSeconds?: number;
  /** Finished jobs are kept this long in Redis, for a --resume to adopt. Default 7 days. */
  keepSeconds?: number;
  /** What the transport advertises as useful parallelism (the queue buffers the rest). Default 1024. */
  concurrency?: number;
  /** Start-up connection timeout (ms). Default 5000. */
  connectTimeoutMs?: number;
  /** Messages for the user (adopted jobs, lost connection, refusing workers). */
  onNotice?: (message: string) => void;
  /** Version stamps of the jobs (default: this installation's). */
  version?: VersionStamp;
}

interface Waiter {
  resolve: (r: StageRecord) => void;
  reject: (e: Error) => void;
}

interface Pending {
  id: string;
  payload: JobPayload;
  waiters: Waiter[];
  /** True while the job is being added (reconcile leaves it alone). */
  submitting: boolean;
}

export interface QueueTransportStats {
  /** Jobs this transport added. */
  submitted: number;
  /** Jobs found already in the queue (a restarted coordinator), finished or not. */
  adopted: number;
  /** Jobs added again because Redis lost them. */
  resubmitted: number;
  completed: number;
  failed: number;
}

export class QueueTransport implements StageTransport {
  readonly concurrency: number;
  readonly stats: QueueTransportStats = { submitted: 0, adopted: 0, resubmitted: 0, completed: 0, failed: 0 };
  private readonly pending = new Map<string, Pending>();
  private readonly version: VersionStamp;
  private readonly notice: (m: string) => void;
  private readonly attempts: number;
  private readonly keepSeconds: number;
  private queue!: Queue;
  private events!: QueueEvents;
  private client!: Redis;
  private timers: NodeJS.Timeout[] = [];
  private downSince: number | null = null;
  private lastError = '';
  private broken: Error | null = null;
  private closed = false;
  private reconciling = false;
  private missingDatasets = new Set<string>();

  private constructor(
    readonly address: QueueAddress,
    private readonly opts: QueueTransportOptions,
  ) {
    this.concurrency = opts.concurrency ?? 1024;
    this.version = opts.version ?? localVersion();
    this.notice = opts.onNotice ?? (() => {});
    this.attempts = opts.attempts ?? 2;
    this.keepSeconds = opts.keepSeconds ?? 7 * 24 * 3600;
    if (!Number.isInteger(this.attempts) || this.attempts < 1)
      throw new QueueError(`attempts must be an integer ≥ 1, got ${this.attempts}`);
  }

  /** Parses the URL, checks that Redis answers (QueueUrlError / QueueUnavailableError otherwise), and connects. */
  static async open(opts: QueueTransportOptions): Promise<QueueTransport> {
    const addr = parseQueueUrl(opts.url);
    const probe = await probeRedis(addr, opts.connectTimeoutMs ?? 5000);
    const t = new QueueTransport(addr, opts);
    for (const w of probe.warnings) t.notice(`warning: ${w}`);
    await t.start();
    return t;
  }

  get queueName(): string {
    return this.opts.queueName ?? DEFAULT_QUEUE;
  }

  /** Jobs submitted or adopted and not settled yet. */
  get inFlight(): number {
    return this.pending.size;
  }

  private async start(): Promise<void> {
    const connection = redisOptions(this.address);
    this.queue = new Queue(this.queueName, { connection, prefix: KEY_PREFIX });
    this.queue.on('error', (e: Error) => (this.lastError = e.message));
    this.client = (await this.queue.client) as unknown as Redis;
    // Results are read from the event stream position before anything is added: none is missed.
    const last = (await this.client.xrevrange(this.queue.keys.events!, '+', '-', 'COUNT', 1)) as [string, string[]][];
    const lastEventId = last[0]?.[0] ?? '0-0';
    this.events = new QueueEvents(this.queueName, { connection, prefix: KEY_PREFIX, lastEventId, autorun: true });
    this.events.on('error', (e: Error) => (this.lastError = e.message));
    this.events.on('completed', ({ jobId, returnvalue }) => this.onCompleted(jobId, returnvalue));
    this.events.on('failed', ({ jobId }) => void this.onFailed(jobId));
    (this.events as unknown as NodeJS.EventEmitter).on('refused', (args: { jobId?: string; worker?: string; reason?: string }) => {
      if (args.jobId && this.pending.has(args.jobId))
        this.notice(`worker ${args.worker ?? '?'}: ${args.reason ?? 'refused a job'} (the job waits for another worker)`);
    });
    await this.events.waitUntilReady();
    this.timers.push(setInterval(() => this.watchdog(), 250));
    this.timers.push(setInterval(() => void this.reconcile(), (this.opts.reconcileSeconds ?? 5) * 1000));
    for (const t of this.timers) t.unref();
    await this.checkWorkers();
  }

  private async checkWorkers(): Promise<void> {
    try {
      const workers = await listWorkers(this.client, this.queueName);
      if (workers.length === 0) {
        this.notice(
          `no worker is connected to queue '${this.queueName}' at ${this.address.display} yet; jobs wait until one starts: cse-autoloss worker --queue ${this.address.display}`,
        );
      }
      for (const w of workers) {
        const why = versionMismatch(this.version, w.version);
        if (why) this.notice(`worker ${w.id} will refuse this run's jobs: ${why}`);
      }
    } catch {
      /* informational only */
    }
  }

  async run(task: StageTask, opts: RunOptions): Promise<StageRecord> {
    if (this.broken) throw this.broken;
    if (this.closed) throw new QueueError('the queue transport is closed');
    let payload: JobPayload;
    try {
      payload = await this.payloadOf(task, opts.timeoutSeconds);
    } catch (e) {
      if (e instanceof PayloadError) return failedRecord('error', e.message, 0);
      throw e;
    }
    const id = jobIdOf(payload);
    return new Promise<StageRecord>((resolve, reject) => {
      if (this.broken) return reject(this.broken);
      const existing = this.pending.get(id);
      if (existing) {
        existing.waiters.push({ resolve, reject });
        return;
      }
      const p: Pending = { id, payload, waiters: [{ resolve, reject }], submitting: true };
      this.pending.set(id, p);
      void this.submit(p, false);
    });
  }

  private async payloadOf(task: StageTask, timeoutSeconds: number): Promise<JobPayload> {
    const dir = datasetDirOf(task);
    let dataset: JobPayload['dataset'] = null;
    if (dir) {
      let hash: string | null = null;
      try {
        hash = await hashDataset(dir);
      } catch {
        if (!this.missingDatasets.has(dir)) {
          this.missingDatasets.add(dir);
          this.notice(`dataset ${dir} is not on this machine: the workers' copies cannot be checked against it`);
        }
      }
      dataset = { dir, hash };
    }
    return validatePayload({ ...this.version, dataset, task, timeoutSeconds, run: this.opts.runTag ?? null });
  }

  private jobOptions(id: string) {
    return {
      jobId: id,
      attempts: this.attempts,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: this.keepSeconds },
      removeOnFail: { age: this.keepSeconds },
    };
  }

  /** Adds the job (a no-op in Redis when it exists) and settles it at once when it has finished already. */
  private async submit(p: Pending, again: boolean): Promise<void> {
    p.submitting = true;
    try {
      const t0 = Date.now();
      await this.queue.add('stage', p.payload, this.jobOptions(p.id));
      if (again) this.stats.resubmitted++;
      const job = await this.queue.getJob(p.id);
      p.submitting = false;
      if (!job) return; // removed meanwhile: the next reconcile adds it again
      if (job.timestamp < t0 && !again) {
        if (this.stats.adopted++ === 0)
          this.notice(
            'jobs of this run are already in the queue (a restarted coordinator): adopting them and their results instead of sending them again',
          );
      } else this.stats.submitted++;
      if (job.finishedOn) await this.settleFromJob(p.id, job as Job);
    } catch (e) {
      p.submitting = false;
      if (this.broken || this.closed) return;
      this.settle(
        p.id,
        null,
        new QueueError(`cannot add a job to queue '${this.queueName}' at ${this.address.display}: ${(e as Error).message}`),
      );
    }
  }

  private onCompleted(jobId: string, returnvalue: unknown): void {
    if (!this.pending.has(jobId)) return;
    const record = decodeRecord(returnvalue);
    this.settle(jobId, record ?? failedRecord('error', `the worker returned a malformed result for job ${jobId}`, 0));
  }

  private async onFailed(jobId: string): Promise<void> {
    if (!this.pending.has(jobId)) return;
    try {
      const job = await this.queue.getJob(jobId);
      if (job) await this.settleFromJob(jobId, job as Job);
    } catch {
      /* the reconcile pass settles it */
    }
  }

  private async settleFromJob(id: string, job: Job): Promise<void> {
    const state = await job.getState();
    if (!this.pending.has(id)) return;
    if (state === 'completed') {
      this.onCompleted(id, job.returnvalue);
    } else if (state === 'failed') {
      this.settle(id, failureRecord(job));
    }
  }

  private settle(id: string, record: StageRecord | null, error?: Error): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (record) {
      if (record.status === 'ok' || record.status === 'diverged') this.stats.completed++;
      else this.stats.failed++;
      for (const w of p.waiters) w.resolve({ ...record, metrics: { ...record.metrics } });
    } else {
      for (const w of p.waiters) w.reject(error ?? new QueueError('job lost'));
    }
  }

  /** Settles pending jobs that finished without an event; adds again those Redis lost. */
  async reconcile(): Promise<void> {
    if (this.reconciling || this.broken || this.closed || this.client.status !== 'ready') return;
    this.reconciling = true;
    let lost = 0;
    try {
      const ids = [...this.pending.values()].filter((p) => !p.submitting).map((p) => p.id);
      const jobs = await Promise.all(ids.map((id) => this.queue.getJob(id)));
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!;
        const job = jobs[i];
        const p = this.pending.get(id);
        if (!p || p.submitting) continue;
        if (!job) {
          lost++;
          void this.submit(p, true);
        } else if (job.finishedOn) await this.settleFromJob(id, job as Job);
      }
      if (lost > 0) this.notice(`${lost} queued job(s) were lost by Redis (restarted without persistence?); added again`);
    } catch (e) {
      this.lastError = (e as Error).message;
    } finally {
      this.reconciling = false;
    }
  }

  private watchdog(): void {
    if (this.broken || this.closed) return;
    const up = this.client.status === 'ready';
    if (up) {
      if (this.downSince !== null) {
        this.notice(
          `Redis at ${this.address.display} is back after ${((Date.now() - this.downSince) / 1000).toFixed(1)} s; checking the queued jobs`,
        );
        this.downSince = null;
        void this.reconcile();
      }
      return;
    }
    const limit = this.opts.unavailableSeconds ?? 60;
    if (this.downSince === null) {
      this.downSince = Date.now();
      this.notice(
        `lost the connection to Redis at ${this.address.display}${this.lastError ? ` (${this.lastError})` : ''}; reconnecting with backoff for up to ${limit} s`,
      );
      return;
    }
    if (Date.now() - this.downSince > limit * 1000) {
      this.fail(
        new QueueUnavailableError(
          `Redis at ${this.address.display} has been unreachable for ${limit} s${this.lastError ? ` (last error: ${this.lastError})` : ''}; stopped. ` +
            `Every finished evaluation is in the journal: run again with --resume once Redis is back (it adopts the jobs still queued and sends again those Redis lost).`,
        ),
      );
    }
  }

  private fail(e: Error): void {
    this.broken = e;
    for (const id of [...this.pending.keys()]) this.settle(id, null, e);
    void this.shutdown();
  }

  private async shutdown(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    const graceful = Promise.allSettled([this.events.close(), this.queue.close()]);
    const timeout = new Promise<void>((r) => setTimeout(r, 2000).unref());
    await Promise.race([graceful, timeout]);
    try {
      await this.queue.disconnect();
    } catch {
      /* already gone */
    }
  }

  /** Stops listening; pending runs reject. Jobs stay in Redis for a later --resume. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new QueueError('the queue transport was closed; its queued jobs stay in Redis and a --resume adopts them');
    for (const id of [...this.pending.keys()]) this.settle(id, null, err);
    await this.shutdown();
  }
}

/** The record of a job that failed for good. */
export function failureRecord(job: Job): StageRecord {
  const reason = job.failedReason ?? 'unknown failure';
  const seconds = job.finishedOn && job.processedOn ? Math.max(0, (job.finishedOn - job.processedOn) / 1000) : 0;
  if (/stalled more than allowable limit/i.test(reason)) {
    const times = typeof job.stalledCounter === 'number' ? `${job.stalledCounter} time(s)` : 'repeatedly';
    return failedRecord('crashed', `the workers running this job were lost ${times} (killed or machine lost); gave up: ${reason}`, seconds);
  }
  return failedRecord('error', `job ${job.id ?? '?'} failed on the worker: ${reason}`, seconds);
}
