/**
 * QueueWorker: takes stage jobs from the BullMQ queue and runs them in the same local process
 * pool as a search without a queue (src/search/transport/pool.ts: one child process per
 * concurrent job, CSE_THREADS libtorch threads each, a crash or timeout caught there), then
 * returns the StageRecord as the job's result.
 *
 * Per job, before running it:
 *   payload   validated (payload.ts); an invalid one fails at once (UnrecoverableError) and the
 *             coordinator records the message naming the field
 *   versions  protocol, code and config stamps must equal this worker's (version.ts)
 *   dataset   when the job carries a dataset hash, this worker's folder at the same path must
 *             hash the same (dataset.ts)
 * A version or dataset mismatch is a misconfigured worker: the job goes back to the queue
 * untouched (delayed 1 s, no attempt used), a 'refused' event tells the coordinator, and this
 * worker stops with the reason (`stopped` resolves with reason 'refused').
 *
 * Faults: a stage process that crashes is retried by BullMQ (job attempts, exponential
 * backoff) and its last crash comes back as a 'crashed' record; a worker killed outright
 * loses its job lock, and BullMQ's stalled-job check (run by the other workers) puts the job
 * back for another worker, at most `maxStalledCount` times. Lost Redis: reconnects with backoff
 * for as long as it takes.
 */
import { resolve } from 'node:path';
import { hostname } from 'node:os';
import { DelayedError, QueueEventsProducer, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { ProcessPool } from '../search/transport/pool.js';
import { DEFAULT_QUEUE, KEY_PREFIX, probeRedis, redisOptions } from './connection.js';
import { hashDataset } from './dataset.js';
import { PayloadError, RefusedJobError } from './errors.js';
import { encodeRecord, validatePayload, type JobPayload } from './payload.js';
import { HEARTBEAT_SECONDS, removeHeartbeat, writeHeartbeat, type WorkerInfo } from './status.js';
import { parseQueueUrl, type QueueAddress } from './url.js';
import { localVersion, versionMismatch, type VersionStamp } from './version.js';

export interface QueueWorkerOptions {
  /** redis://HOST:PORT[/DB] */
  url: string;
  queueName?: string;
  /** Jobs run at once (one stage process each). */
  concurrency: number;
  /** libtorch threads per stage process. */
  threads: number;
  /** Module exporting runStage(task) (default: src/search/stages). Tests and benches use stand-ins. */
  stageModule?: string;
  /** Job lock: a worker silent this long (killed, machine lost) loses its job. Default 30. */
  lockSeconds?: number;
  /** How often this worker looks for jobs whose worker was lost. Default lockSeconds / 2. */
  stalledCheckSeconds?: number;
  /** Times a job may lose its worker before it fails as 'crashed'. Default 2. */
  maxStalledCount?: number;
  connectTimeoutMs?: number;
  version?: VersionStamp;
  /** One line per event (job done, refusal, connection). */
  log?: (line: string) => void;
  /** Log every finished job (default true). */
  logJobs?: boolean;
}

export interface WorkerStop {
  reason: 'closed' | 'refused';
  message?: string;
}

export class QueueWorker {
  readonly id = `${hostname()}:${process.pid}`;
  readonly address: QueueAddress;
  private worker!: Worker;
  private pool!: ProcessPool;
  private producer!: QueueEventsProducer;
  private client!: Redis;
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly version: VersionStamp;
  private readonly log: (line: string) => void;
  private running = 0;
  private done = 0;
  private refused = 0;
  private readonly startedAt = Date.now();
  private stopping: Promise<void> | null = null;
  private stopResolve!: (s: WorkerStop) => void;
  private lastErrorLog = new Map<string, number>();
  private connected = true;
  /** Resolves when the worker has stopped (closed, or after refusing a job). */
  readonly stopped: Promise<WorkerStop>;

  private constructor(private readonly opts: QueueWorkerOptions) {
    this.address = parseQueueUrl(opts.url);
    this.version = opts.version ?? localVersion();
    this.log = opts.log ?? ((l) => process.stderr.write(`${l}\n`));
    this.stopped = new Promise((r) => (this.stopResolve = r));
  }

  static async start(opts: QueueWorkerOptions): Promise<QueueWorker> {
    const w = new QueueWorker(opts);
    const probe = await probeRedis(w.address, opts.connectTimeoutMs ?? 5000);
    for (const m of probe.warnings) w.log(`warning: ${m}`);
    await w.run();
    return w;
  }

  get queueName(): string {
    return this.opts.queueName ?? DEFAULT_QUEUE;
  }

  private info(): WorkerInfo {
    return {
      id: this.id,
      host: hostname(),
      pid: process.pid,
      concurrency: this.opts.concurrency,
      threads: this.opts.threads,
      version: this.version,
      startedAt: this.startedAt,
      running: this.running,
      done: this.done,
      refused: this.refused,
    };
  }

  private logError(e: Error): void {
    const key = e.message.replace(/\d+/g, '#');
    const now = Date.now();
    if ((this.lastErrorLog.get(key) ?? 0) > now - 10_000) return;
    this.lastErrorLog.set(key, now);
    this.log(`queue error: ${e.message}`);
  }

  private async run(): Promise<void> {
    const o = this.opts;
    if (!Number.isInteger(o.concurrency) || o.concurrency < 1) throw new RangeError('concurrency must be an integer ≥ 1');
    const lockMs = (o.lockSeconds ?? 30) * 1000;
    const connection = redisOptions(this.address);
    this.pool = new ProcessPool({ workers: o.concurrency, threadsPerWorker: o.threads, stageModule: o.stageModule });
    this.client = new Redis(connection);
    this.client.on('error', (e: Error) => this.logError(e));
    this.client.on('ready', () => {
      if (!this.connected) this.log(`reconnected to Redis at ${this.address.display}`);
      this.connected = true;
    });
    this.client.on('close', () => {
      if (this.connected && !this.stopping) this.log(`lost Redis at ${this.address.display}; reconnecting with backoff`);
      this.connected = false;
    });
    this.producer = new QueueEventsProducer(this.queueName, { connection, prefix: KEY_PREFIX });
    this.producer.on('error', (e: Error) => this.logError(e));
    this.worker = new Worker(this.queueName, (job, token) => this.process(job, token), {
      connection,
      prefix: KEY_PREFIX,
      concurrency: o.concurrency,
      lockDuration: lockMs,
      stalledInterval: (o.stalledCheckSeconds ?? lockMs / 2000) * 1000,
      maxStalledCount: o.maxStalledCount ?? 2,
      autorun: false,
      name: `cse-worker-${this.id}`,
    });
    this.worker.on('error', (e: Error) => this.logError(e));
    this.worker.on('stalled', (jobId: string) => this.log(`job ${jobId}: its worker was lost; put back in the queue`));
    await this.worker.waitUntilReady();
    await writeHeartbeat(this.client, this.queueName, this.info());
    this.heartbeat = setInterval(
      () => void writeHeartbeat(this.client, this.queueName, this.info()).catch(() => {}),
      HEARTBEAT_SECONDS * 1000,
    );
    this.heartbeat.unref();
    void this.worker.run().catch((e: Error) => this.logError(e));
    this.log(
      `worker ${this.id}: queue '${this.queueName}' at ${this.address.display}, ${o.concurrency} job(s) at once, ${o.threads} thread(s) each, code ${this.version.code}`,
    );
  }

  private async process(job: Job, token: string | undefined): Promise<unknown> {
    let p: JobPayload;
    try {
      p = validatePayload(job.data);
    } catch (e) {
      const msg = e instanceof PayloadError ? e.message : String(e);
      this.log(`job ${job.id}: ${msg}; failed without running`);
      throw new UnrecoverableError(msg);
    }
    const why = versionMismatch(p, this.version);
    if (why) return this.refuse(job, token, new RefusedJobError(`refused job ${job.id}: ${why}`, 'version'));
    if (p.dataset?.hash) {
      let mine: string;
      try {
        mine = await hashDataset(p.dataset.dir);
      } catch (e) {
        return this.refuse(
          job,
          token,
          new RefusedJobError(
            `refused job ${job.id}: it needs dataset ${p.dataset.dir} with content hash ${p.dataset.hash}, which this worker does not have (${(e as Error).message})`,
            'dataset',
          ),
        );
      }
      if (mine !== p.dataset.hash) {
        return this.refuse(
          job,
          token,
          new RefusedJobError(
            `refused job ${job.id}: it needs dataset ${p.dataset.dir} with content hash ${p.dataset.hash}, but this worker's ${resolve(p.dataset.dir)} has content hash ${mine}; copy the coordinator's dataset (docs/DISTRIBUTED.md)`,
            'dataset',
          ),
        );
      }
    }
    this.running++;
    let record;
    try {
      record = await this.pool.run(p.task, { timeoutSeconds: p.timeoutSeconds });
    } finally {
      this.running--;
    }
    const attempts = job.opts.attempts ?? 1;
    if (record.status === 'crashed' && job.attemptsMade + 1 < attempts) {
      this.log(`job ${job.id}: stage process crashed (${record.reason}); attempt ${job.attemptsMade + 1} of ${attempts}, retrying`);
      throw new Error(`stage process crashed: ${record.reason}`);
    }
    this.done++;
    if (this.opts.logJobs !== false) this.log(`job ${job.id}: ${p.task.stage} ${record.status} in ${record.seconds.toFixed(2)} s`);
    return encodeRecord(record);
  }

  private async refuse(job: Job, token: string | undefined, err: RefusedJobError): Promise<never> {
    this.refused++;
    this.log(err.message);
    try {
      await this.producer.publishEvent({ eventName: 'refused', jobId: job.id ?? '', worker: this.id, reason: err.message }, 10_000);
    } catch {
      /* informational */
    }
    await job.moveToDelayed(Date.now() + 1000, token);
    if (!this.stopping) {
      this.log(`worker ${this.id} stops: it cannot run this queue's jobs (${err.kind} mismatch)`);
      void this.close(false, { reason: 'refused', message: err.message });
    }
    throw new DelayedError();
  }

  /** Stops taking jobs; graceful: waits for running jobs; force: abandons them to other workers. */
  close(force = false, why: WorkerStop = { reason: 'closed' }): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      if (this.heartbeat) clearInterval(this.heartbeat);
      try {
        await (this.connected ? this.worker.close(force) : withTimeout(this.worker.close(true), 2000));
      } catch (e) {
        this.logError(e as Error);
      }
      await this.pool.close();
      // Redis may be gone: do not wait for it (the heartbeat expires by itself).
      await withTimeout(removeHeartbeat(this.client, this.queueName, this.id), 1000);
      await withTimeout(this.producer.close(), 1000);
      this.client.disconnect();
      this.stopResolve(why);
    })();
    return this.stopping;
  }
}

async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  await Promise.race([
    p.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((r) => setTimeout(r, ms).unref()),
  ]);
}
