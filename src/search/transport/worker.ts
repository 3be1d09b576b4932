/**
 * A pool worker process: receives {id, task} messages from the coordinator over IPC, runs the
 * stage function (src/search/stages, or the module its pool names as its argument: ProcessPool's
 * `stageModule`, for tests) and
 * replies {id, record}. One task at a time. Its libtorch thread count comes from CSE_THREADS.
 */
import type { StageRecord, StageTask } from '../types.js';
import { errorText } from './index.js';

interface Msg {
  id: number;
  task: StageTask;
}

const modUrl = process.argv[2] || new URL('../stages/index.js', import.meta.url).href;
const mod = (await import(modUrl)) as { runStage: (t: StageTask) => Promise<StageRecord> };

process.on('message', (m: Msg) => {
  void (async () => {
    const t0 = performance.now();
    let record: StageRecord;
    try {
      record = await mod.runStage(m.task);
    } catch (e) {
      // runStage returns records for candidate faults; a throw is the environment's (or a bug).
      record = { status: 'error', pass: null, score: null, metrics: {}, reason: errorText(e), seconds: (performance.now() - t0) / 1000 };
    }
    process.send!({ id: m.id, record });
  })();
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
