/** `worker --status` and `worker --drain`: a look at a queue, or its waiting jobs removed, without running a worker. */
import { Queue } from 'bullmq';
import { KEY_PREFIX, probeRedis, redisOptions } from './connection.js';
import { queueStatus, type QueueStatus } from './status.js';
import type { QueueAddress } from './url.js';

async function withQueue<T>(addr: QueueAddress, name: string, f: (q: Queue) => Promise<T>): Promise<T> {
  await probeRedis(addr);
  const queue = new Queue(name, { connection: redisOptions(addr), prefix: KEY_PREFIX });
  try {
    return await f(queue);
  } finally {
    await queue.close();
  }
}

/** Removes every waiting, delayed and prioritized job; returns how many there were (running jobs finish). */
export function drainQueue(addr: QueueAddress, name: string): Promise<number> {
  return withQueue(addr, name, async (queue) => {
    const before = await queue.getJobCounts('waiting', 'delayed', 'prioritized');
    await queue.drain(true);
    return before.waiting + before.delayed + before.prioritized;
  });
}

/** The job counts and the connected workers of a queue. */
export function statusOf(addr: QueueAddress, name: string): Promise<QueueStatus> {
  return withQueue(addr, name, (queue) => queueStatus(queue));
}
