/**
 * How stage tasks get run. A transport takes a serialisable StageTask and returns a StageRecord;
 * the loop never knows where the work happened. Two transports here: in-process (pool size 0,
 * tests) and the local process pool; a queue transport (BullMQ, issue 7) implements the same
 * interface. A transport never rejects for a candidate's fault: a crash or timeout comes back
 * as a record with status 'crashed' / 'timeout'. A failure of the environment (a stage that
 * throws, a worker that cannot start, a closed pool) comes back as status 'error', which the
 * loop never journals.
 */
import type { StageRecord, StageTask } from '../types.js';

export interface RunOptions {
  /** Wall-clock limit; past it the evaluation is abandoned and recorded 'timeout'. */
  timeoutSeconds: number;
}

export interface StageTransport {
  /** How many tasks can usefully run at once. */
  readonly concurrency: number;
  run(task: StageTask, opts: RunOptions): Promise<StageRecord>;
  close(): Promise<void>;
}

export type StageFunction = (task: StageTask) => Promise<StageRecord>;

export function failedRecord(status: 'timeout' | 'crashed' | 'failed' | 'error', reason: string, seconds: number): StageRecord {
  return { status, pass: null, score: null, metrics: {}, reason, seconds };
}

/** Runs stages in this process, one at a time (a hang cannot be interrupted here: use the pool for untrusted work). A stage function that throws is an environment error (status 'error'). */
export class InProcessTransport implements StageTransport {
  readonly concurrency = 1;
  constructor(private readonly fn: StageFunction) {}
  async run(task: StageTask): Promise<StageRecord> {
    const t0 = performance.now();
    try {
      return await this.fn(task);
    } catch (e) {
      return failedRecord('error', errorText(e), (performance.now() - t0) / 1000);
    }
  }
  async close(): Promise<void> {}
}

/** An exception as one line for a record's reason: its class (when not a plain Error) and message. */
export function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  return e.name && e.name !== 'Error' ? `${e.name}: ${e.message}` : e.message;
}
