/**
 * The local process pool: N child processes (node:child_process fork), each running one stage
 * task at a time with its own libtorch thread count (env CSE_THREADS). The coordinator only
 * dispatches and collects. A task that outlives its timeout gets its worker killed (SIGKILL)
 * and comes back as status 'timeout'; a worker that dies mid-task gives 'crashed'. Either way a
 * fresh worker takes the dead one's place.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { StageRecord, StageTask } from '../types.js';
import { failedRecord, type RunOptions, type StageTransport } from './index.js';

export interface PoolOptions {
  workers: number;
  threadsPerWorker: number;
  /** Module exporting runStage(task) (default: src/search/stages). Tests use fault-injecting ones. */
  stageModule?: string;
}

interface Job {
  id: number;
  task: StageTask;
  timeoutSeconds: number;
  resolve: (r: StageRecord) => void;
  started: number;
}

interface Worker {
  proc: ChildProcess;
  ready: Promise<void>;
  job: Job | null;
  timer: NodeJS.Timeout | null;
  dead: boolean;
  /** The worker said it is ready (its stage module loaded). */
  started: boolean;
}

/** The compiled worker when this file is compiled, unless it must import a TypeScript stage module (tests). */
function workerEntry(stageModule: string | undefined): { file: string; execArgv: string[] } {
  const js = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (import.meta.url.endsWith('.js') && existsSync(js) && !stageModule?.endsWith('.ts')) return { file: js, execArgv: [] };
  return { file: fileURLToPath(new URL('./worker-boot.mjs', import.meta.url)), execArgv: [] };
}

export class ProcessPool implements StageTransport {
  readonly concurrency: number;
  private readonly workers: Worker[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  /** Workers replaced after a crash or timeout (for the progress display). */
  replaced = 0;

  constructor(private readonly opts: PoolOptions) {
    if (opts.workers < 1) throw new RangeError('ProcessPool: workers must be ≥ 1');
    this.concurrency = opts.workers;
  }

  private spawn(): Worker {
    const { file, execArgv } = workerEntry(this.opts.stageModule);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CSE_THREADS: String(this.opts.threadsPerWorker),
      OMP_NUM_THREADS: String(this.opts.threadsPerWorker),
    };
    // Own process group: a terminal's Ctrl-C reaches only the coordinator, which stops cleanly
    // (a worker killed by it would otherwise be recorded as a crashed evaluation). Workers
    // exit when the coordinator goes away (IPC disconnect).
    // The stage module (when not the default) is the worker's one argument.
    const proc = fork(file, this.opts.stageModule ? [this.opts.stageModule] : [], {
      env,
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
      detached: true,
    });
    let markReady!: () => void;
    const w: Worker = { proc, ready: new Promise<void>((r) => (markReady = r)), job: null, timer: null, dead: false, started: false };
    proc.on('message', (m: { ready?: boolean; id?: number; record?: StageRecord }) => {
      if (m.ready) {
        w.started = true;
        markReady();
        return;
      }
      const job = w.job;
      if (!job || m.id !== job.id || !m.record) return;
      this.finish(w, m.record);
    });
    proc.on('exit', (code, signal) => {
      w.dead = true;
      markReady();
      const job = w.job;
      if (job) {
        const how = signal ? `signal ${signal}` : `exit code ${code}`;
        // A worker that dies before it is ready never ran the candidate: its environment is broken.
        this.finish(
          w,
          w.started
            ? failedRecord('crashed', `worker died (${how}) while evaluating`, (performance.now() - job.started) / 1000)
            : failedRecord('error', `the stage worker process could not start (${how}; its stderr above says why)`, 0),
        );
      }
      this.replace(w);
    });
    proc.on('error', () => {
      /* 'exit' follows */
    });
    this.workers.push(w);
    return w;
  }

  private replace(w: Worker): void {
    const i = this.workers.indexOf(w);
    if (i >= 0) this.workers.splice(i, 1);
    if (this.closed) return;
    this.replaced++;
    if (this.queue.length > 0) this.pump();
  }

  private finish(w: Worker, record: StageRecord): void {
    const job = w.job;
    if (!job) return;
    w.job = null;
    if (w.timer) clearTimeout(w.timer);
    w.timer = null;
    job.resolve(record);
    this.pump();
  }

  private pump(): void {
    if (this.closed) return;
    while (this.queue.length > 0) {
      let w = this.workers.find((x) => !x.dead && x.job === null);
      if (!w) {
        if (this.workers.length >= this.opts.workers) return;
        w = this.spawn();
      }
      const job = this.queue.shift()!;
      w.job = job;
      const worker = w;
      void worker.ready.then(() => {
        if (worker.dead || worker.job !== job) return;
        job.started = performance.now();
        worker.timer = setTimeout(() => {
          if (worker.job !== job) return;
          this.finish(worker, failedRecord('timeout', `no result within ${job.timeoutSeconds} s; worker killed`, job.timeoutSeconds));
          worker.dead = true;
          worker.proc.kill('SIGKILL');
        }, job.timeoutSeconds * 1000);
        worker.proc.send({ id: job.id, task: job.task });
      });
    }
  }

  run(task: StageTask, opts: RunOptions): Promise<StageRecord> {
    if (this.closed) return Promise.resolve(failedRecord('error', 'pool closed', 0));
    return new Promise<StageRecord>((resolve) => {
      this.queue.push({ id: this.nextId++, task, timeoutSeconds: opts.timeoutSeconds, resolve, started: performance.now() });
      this.pump();
    });
  }

  /** Live worker process ids (tests kill them). */
  pids(): number[] {
    return this.workers.filter((w) => !w.dead).map((w) => w.proc.pid!);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.resolve(failedRecord('error', 'pool closed', 0));
    const exits = this.workers.map(
      (w) =>
        new Promise<void>((res) => {
          if (w.proc.exitCode !== null || w.proc.signalCode !== null) return res();
          w.proc.once('exit', () => res());
          if (w.job) {
            const job = w.job;
            w.job = null;
            job.resolve(failedRecord('error', 'pool closed', 0));
          }
          w.proc.kill('SIGKILL');
        }),
    );
    await Promise.all(exits);
    this.workers.length = 0;
  }
}
