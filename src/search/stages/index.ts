/**
 * runStage: the one entry point of every stage, a function of a serialisable StageTask to a
 * serialisable StageRecord. The same function runs in-process, in the local worker pool and
 * on queue workers. It never throws: a candidate whose loss does not parse is status 'failed'
 * (its fate), any other exception is status 'error' (the environment or a bug: never journalled).
 */
import { convergenceChecks, parseExpr, type Expr, type Mode } from '../../loss/index.js';
import { errorText } from '../transport/index.js';
import type { StageRecord, StageTask } from '../types.js';
import { mos1 } from './mos.js';
import { proxyTask } from './proxy.js';
import { machineId, machineKey } from '../../util/provenance.js';

/** Thrown for a loss that is not a valid expression of its mode: the candidate's fault. */
class InvalidCandidate extends Error {}

function parseCandidate(mode: Mode, loss: string): Expr {
  try {
    return parseExpr(mode, loss);
  } catch (e) {
    throw new InvalidCandidate((e as Error).message);
  }
}

/** libtorch's thread count in this process (null when the backend did not load). */
async function trainingThreads(): Promise<number | null> {
  try {
    const { getNumThreads } = await import('../../backend/index.js');
    return getNumThreads();
  } catch {
    return null;
  }
}

export async function runStage(task: StageTask): Promise<StageRecord> {
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  try {
    switch (task.stage) {
      case 'cpv': {
        const e = parseCandidate(task.mode, task.loss);
        const r = convergenceChecks(task.mode, e, { saturating: task.saturating === true });
        const failed = r.details.properties.find((p) => !p.pass && p.fatal);
        return {
          status: 'ok',
          pass: r.pass,
          score: null,
          metrics: {},
          reason: r.pass ? null : `${r.failed}${failed?.where ? `: ${failed.where}` : ''}`,
          seconds: seconds(),
        };
      }
      case 'mos1': {
        const e = parseCandidate(task.mode, task.loss);
        const r = mos1(task.mode, e, task.config, task.seed);
        return { status: r.status, pass: null, score: r.score, metrics: { initial: r.initialScore }, reason: r.reason, seconds: seconds() };
      }
      case 'mos2':
      case 'proxy':
      case 'final': {
        const r = await proxyTask({
          mode: task.mode,
          loss: task.loss,
          config: task.config,
          seed: task.seed,
          split: task.stage === 'final' ? 'val' : 'proxy',
        });
        // a detector training's libtorch thread count and machine: its result is bit-identical only for those
        const threads = task.config.kind === 'detector' ? await trainingThreads() : null;
        const id = task.config.kind === 'detector' ? machineId() : null;
        const machine = id !== null ? machineKey(id) : null;
        return {
          status: r.status,
          pass: null,
          score: r.status === 'ok' ? r.ap : 0,
          metrics: {
            ap: r.ap,
            ap50: r.ap50,
            ...(r.checkAp !== undefined ? { checkAp: r.checkAp } : {}),
            ...(threads !== null ? { threads } : {}),
            ...(machine !== null ? { machine } : {}),
          },
          reason: r.error ?? null,
          seconds: r.seconds || seconds(),
        };
      }
    }
  } catch (e) {
    const status = e instanceof InvalidCandidate ? 'failed' : 'error';
    return {
      status,
      pass: null,
      score: null,
      metrics: {},
      reason: status === 'failed' ? (e as Error).message : errorText(e),
      seconds: seconds(),
    };
  }
}
