import type { Command } from 'commander';
import { UsageError } from './errors.js';
import { int, seconds } from './flags.js';
import { planProcesses } from '../util/plan.js';
import { DEFAULT_QUEUE } from '../queue/names.js';

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
  const { QueueWorker, drainQueue, parseQueueUrl, statusOf } = await queueLib();
  const addr = parseQueueUrl(f.queue);
  if (f.queueName.includes(':') || f.queueName === '')
    throw new UsageError(`--queue-name '${f.queueName}' must be non-empty and without ':'`);
  if (f.drain) {
    const removed = await drainQueue(addr, f.queueName);
    process.stdout.write(
      `drained queue '${f.queueName}' at ${addr.display}: removed ${removed} waiting/delayed job(s); running jobs finish\n`,
    );
    return;
  }
  if (f.status) {
    const s = await statusOf(addr, f.queueName);
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
    return;
  }
  const plan = planProcesses(f.concurrency, f.threads);
  const w = await QueueWorker.start({
    url: f.queue,
    queueName: f.queueName,
    concurrency: plan.processes,
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
