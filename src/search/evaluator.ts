/**
 * Stage evaluations through the journal: every result is keyed by (fingerprint, stage, stage
 * config) and stored as it arrives; a key already in the journal (an earlier generation, or an
 * earlier session of a resumed run) is taken from there instead of computed again.
 */
import { hashOf } from './config.js';
import { abbreviate, StageEnvironmentError } from './errors.js';
import type { Evaluated } from './filters.js';
import { FINGERPRINT_VERSION } from './fingerprint.js';
import type { Journal } from './journal.js';
import { runStage } from './stages/index.js';
import type { StageTransport } from './transport/index.js';
import type { StageRecord, StageTask } from './types.js';

/** Lets the event loop run (signal handlers, I/O) between evaluations; results do not depend on it. */
const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

/** The stage config part of a task (what the result key hashes). */
function taskKey(task: StageTask): string {
  const { loss: _loss, ...rest } = task;
  void _loss;
  return hashOf({ ...rest, fp: FINGERPRINT_VERSION });
}

export class JournalEvaluator {
  private cache = new Map<string, StageRecord>();
  private evaluatedKeys = new Set<string>();
  /** Evaluations taken from the journal instead of computed (resume). */
  fromJournal = 0;

  /** @param checkAbort throws when the run was interrupted (called around each computed evaluation) */
  constructor(
    private readonly journal: Journal,
    private readonly transport: StageTransport,
    private readonly checkAbort: () => void,
  ) {
    for (const r of journal.allResults()) this.cache.set(`${r.fingerprint}|${r.stage}|${r.key}`, r);
  }

  /** Results in the journal at the start. */
  get stored(): number {
    return this.cache.size;
  }

  /** CPV runs here (it is cheap); every other stage through the transport. */
  async evaluate(fp: string, task: StageTask, timeoutSeconds: number): Promise<Evaluated> {
    const key = `${fp}|${task.stage}|${taskKey(task)}`;
    // "reused" is relative to the run's own progress (an earlier generation evaluated it), so that a
    // replayed run reports what an uninterrupted one does; the journal cache only saves the work.
    const reused = this.evaluatedKeys.has(key);
    this.evaluatedKeys.add(key);
    const hit = this.cache.get(key);
    if (hit) {
      if (!reused) this.fromJournal++;
      return { record: hit, reused };
    }
    await yieldToEventLoop();
    this.checkAbort();
    const record = task.stage === 'cpv' ? await runStage(task) : await this.transport.run(task, { timeoutSeconds });
    this.checkAbort();
    if (record.status === 'error') {
      throw new StageEnvironmentError(
        `${task.stage} evaluation of ${abbreviate(task.loss)} could not run: ${record.reason ?? 'unknown error'}\n` +
          'This is a fault of the environment (data, installation, disk or code), not of the loss: nothing was recorded for it. Fix it and continue with --resume.',
      );
    }
    this.journal.putResult({ fingerprint: fp, stage: task.stage, key: taskKey(task), loss: task.loss, ...record });
    this.cache.set(key, record);
    return { record, reused };
  }
}
