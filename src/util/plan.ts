/**
 * The one plan of processes and threads on a machine, for the local pool (`search --workers
 * --threads`, config pool.*) and for `cse-autoloss worker --concurrency --threads`: what is not
 * given is fitted to the cores (processes × threads ≈ cores).
 */
import { cpus } from 'node:os';

export interface ProcessPlan {
  /** Processes (pool workers, or jobs at once); 0 = in-process. */
  processes: number;
  /** libtorch threads per process (all the cores when in-process). */
  threads: number;
}

export function planProcesses(processes: number | undefined, threads: number | undefined, cores = cpus().length): ProcessPlan {
  if (processes !== undefined && threads !== undefined) return { processes, threads };
  if (processes !== undefined) return { processes, threads: Math.max(1, Math.floor(cores / Math.max(1, processes))) };
  if (threads !== undefined) return { processes: Math.max(1, Math.floor(cores / threads)), threads };
  return { processes: Math.max(1, cores), threads: 1 };
}
