/**
 * Who is on the queue: every worker writes a heartbeat key (cse:QUEUE:workers:HOST:PID, a JSON
 * value with a 15 s expiry refreshed every 5 s); `queueStatus` adds BullMQ's job counts.
 * Used by `cse-autoloss worker --status` and by the coordinator's start-up notice.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { KEY_PREFIX } from './connection.js';
import type { VersionStamp } from './version.js';

export const HEARTBEAT_SECONDS = 5;
export const HEARTBEAT_TTL_SECONDS = 15;

export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  concurrency: number;
  threads: number;
  version: VersionStamp;
  startedAt: number;
  /** Jobs running now and finished since start. */
  running: number;
  done: number;
  refused: number;
}

export function heartbeatKey(queueName: string, id: string): string {
  return `${KEY_PREFIX}:${queueName}:workers:${id}`;
}

export async function writeHeartbeat(client: Redis, queueName: string, info: WorkerInfo): Promise<void> {
  await client.set(heartbeatKey(queueName, info.id), JSON.stringify(info), 'EX', HEARTBEAT_TTL_SECONDS);
}

export async function removeHeartbeat(client: Redis, queueName: string, id: string): Promise<void> {
  await client.del(heartbeatKey(queueName, id));
}

export async function listWorkers(client: Redis, queueName: string): Promise<WorkerInfo[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', heartbeatKey(queueName, '*'), 'COUNT', 200);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  if (keys.length === 0) return [];
  const values = await client.mget(...keys);
  const out: WorkerInfo[] = [];
  for (const v of values) {
    if (!v) continue;
    try {
      out.push(JSON.parse(v) as WorkerInfo);
    } catch {
      /* a foreign key: skip */
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

export interface QueueStatus {
  counts: Record<string, number>;
  workers: WorkerInfo[];
}

export async function queueStatus(queue: Queue): Promise<QueueStatus> {
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed', 'paused');
  const client = (await queue.client) as unknown as Redis;
  return { counts, workers: await listWorkers(client, queue.name) };
}
