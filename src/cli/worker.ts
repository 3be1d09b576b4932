import { cpus } from 'node:os';
import type { Command } from 'commander';
import { UsageError } from './errors.js';
import { DEFAULT_QUEUE } from '../queue/names.js';
import type { QueueTransport } from '../queue/index.js';

/** The queue layer loads BullMQ and ioredis: imported when a command uses it, not for --help. */
const queueLib = () => import('../queue/index.js');

interface WorkerFlags {
  queue: string;
  concurrency?: number;
  threads?: number;
  lockSeconds?: number;
  stalledCheckSeconds?: number;
  maxStalled?: number;
  queueName: string;
  status?: boolean;
  drain?: boolean;
  json?: boolean;
  quiet?: boolean;
}

function int(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got '${v}'`);
    return n;
  };
}

function seconds(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number of seconds, got '${v}'`);
    return n;
  };
}

/** Jobs at once and threads per job from the flags and the cores (as the local pool plans them). */
export function planWorker(
  concurrency: number | undefined,
  threads: number | undefined,
  cores = cpus().length,
): { concurrency: number; threads: number } {
  if (concurrency !== undefined && threads !== undefined) return { concurrency, threads };
  if (concurrency !== undefined) return { concurrency, threads: Math.max(1, Math.floor(cores / concurrency)) };
  if (threads !== undefined) return { concurrency: Math.max(1, Math.floor(cores / threads)), threads };
  return { concurrency: Math.max(1, cores), threads: 1 };
}

export function register(program: Command): void {
  program
    .command('worker')
    .description(
      'run stage evaluations (MOS, proxy) from a search started with --queue; any number of workers on any machines (docs/DISTRIBUTED.md)',
    )
    .requiredOption('--queue <url>', 'Redis of the queue: redis://HOST:PORT[/DB]')
    .option('--concurrency <n>', 'jobs at once, one process each (default: cores / threads)', int('concurrency', 1))
    .option('--threads <n>', 'libtorch threads per job (default: cores / concurrency)', int('threads', 1))
    .option(
      '--lock-seconds <s>',
      'a job whose worker is silent this long (killed, machine lost) goes to another worker',
      seconds('lock-seconds'),
      30,
    )
    .option(
      '--stalled-check-seconds <s>',
      'how often to look for jobs whose worker was lost (default: lock / 2)',
      seconds('stalled-check-seconds'),
    )
    .option('--max-stalled <n>', 'times a job may lose its worker before it is recorded crashed', int('max-stalled', 0), 2)
    .option('--queue-name <name>', 'queue name (keys cse:NAME:*)', DEFAULT_QUEUE)
    .option('--status', 'print the job counts and the connected workers, then exit')
    .option('--json', 'with --status: as JSON')
    .option('--drain', 'remove every waiting and delayed job (of an abandoned search), then exit')
    .option('--quiet', 'no line per finished job')
    .action(async (flags: WorkerFlags) => {
      await worker(flags);
    });
}

async function worker(f: WorkerFlags): Promise<void> {
  const { KEY_PREFIX, QueueWorker, parseQueueUrl, probeRedis, queueStatus, redisOptions } = await queueLib();
  const addr = parseQueueUrl(f.queue);
  if (f.queueName.includes(':') || f.queueName === '')
    throw new UsageError(`--queue-name '${f.queueName}' must be non-empty and without ':'`);
  if (f.status || f.drain) {
    await probeRedis(addr);
    const { Queue } = await import('bullmq');
    const queue = new Queue(f.queueName, { connection: redisOptions(addr), prefix: KEY_PREFIX });
    try {
      if (f.drain) {
        const before = await queue.getJobCounts('waiting', 'delayed', 'prioritized');
        await queue.drain(true);
        process.stdout.write(
          `drained queue '${f.queueName}' at ${addr.display}: removed ${before.waiting + before.delayed + before.prioritized} waiting/delayed job(s); running jobs finish\n`,
        );
        return;
      }
      const s = await queueStatus(queue);
      if (f.json) {
        process.stdout.write(`${JSON.stringify({ queue: f.queueName, redis: addr.display, ...s })}\n`);
        return;
      }
      const c = s.counts;
      process.stdout.write(
        `queue '${f.queueName}' at ${addr.display}: ${c.waiting! + c.prioritized!} waiting, ${c.active} running, ${c.delayed} delayed, ${c.completed} completed, ${c.failed} failed (kept for adoption by --resume)\n`,
      );
      process.stdout.write(`${s.workers.length} worker(s)${s.workers.length ? ':' : ''}\n`);
      for (const w of s.workers) {
        const up = ((Date.now() - w.startedAt) / 1000).toFixed(0);
        process.stdout.write(
          `  ${w.id}  ${w.concurrency}×${w.threads} threads  running ${w.running}  done ${w.done}  refused ${w.refused}  code ${w.version.code}  up ${up} s\n`,
        );
      }
    } finally {
      await queue.close();
    }
    return;
  }
  const plan = planWorker(f.concurrency, f.threads);
  const w = await QueueWorker.start({
    url: f.queue,
    queueName: f.queueName,
    concurrency: plan.concurrency,
    threads: plan.threads,
    lockSeconds: f.lockSeconds,
    stalledCheckSeconds: f.stalledCheckSeconds,
    maxStalledCount: f.maxStalled,
    logJobs: !f.quiet,
  });
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals === 1) {
      process.stderr.write('stopping: finishing the running jobs (again to abandon them to other workers)\n');
      void w.close(false);
    } else {
      process.stderr.write('abandoning the running jobs: other workers take them over\n');
      void w.close(true);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const stop = await w.stopped;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (stop.reason === 'refused') {
    process.stderr.write(`error: ${stop.message}\n`);
    process.exitCode = 3;
  }
}

/**
 * The search command's `--queue URL`: a QueueTransport tagged with the run's config hash, its
 * notices on stderr. Environment: CSE_QUEUE_NAME (default 'stages'), CSE_QUEUE_UNAVAILABLE_SECONDS
 * (how long a lost Redis is waited for before the search stops, resumable; default 60).
 */
export async function openQueueForSearch(url: string, runTag: string): Promise<QueueTransport> {
  const wait = process.env.CSE_QUEUE_UNAVAILABLE_SECONDS ? Number(process.env.CSE_QUEUE_UNAVAILABLE_SECONDS) : 60;
  if (!Number.isFinite(wait) || wait <= 0)
    throw new UsageError(`CSE_QUEUE_UNAVAILABLE_SECONDS must be a positive number, got '${process.env.CSE_QUEUE_UNAVAILABLE_SECONDS}'`);
  const { QueueTransport, QueueUnavailableError, QueueUrlError } = await queueLib();
  try {
    return await QueueTransport.open({
      url,
      queueName: process.env.CSE_QUEUE_NAME || DEFAULT_QUEUE,
      runTag,
      unavailableSeconds: wait,
      onNotice: (m) => process.stderr.write(`queue: ${m}\n`),
    });
  } catch (e) {
    if (e instanceof QueueUrlError || e instanceof QueueUnavailableError) throw new UsageError(`--queue: ${e.message}`);
    throw e;
  }
}
