/**
 * Redis connections for the queue. Every connection retries with exponential backoff (250 ms
 * doubling to 5 s) after a loss; `probeRedis` is the start-up check that turns an unreachable
 * or unsuitable Redis into one clear QueueUnavailableError.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { QueueUnavailableError } from './errors.js';
import type { QueueAddress } from './url.js';

export { DEFAULT_QUEUE, KEY_PREFIX } from './names.js';

/** Reconnection delay after the n-th failed attempt (ms): 250, 500, 1000, 2000, 4000, 5000, 5000, ... */
export function backoffMs(attempt: number): number {
  return Math.min(250 * 2 ** Math.max(0, attempt - 1), 5000);
}

export function redisOptions(addr: QueueAddress, extra: Partial<RedisOptions> = {}): RedisOptions {
  return {
    host: addr.host,
    port: addr.port,
    db: addr.db,
    username: addr.username,
    password: addr.password,
    tls: addr.tls ? {} : undefined,
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => backoffMs(times),
    connectTimeout: 5000,
    ...extra,
  };
}

/**
 * Connects once, checks the server (Redis ≥ 6.2, as BullMQ needs; eviction policy noeviction, or
 * jobs could vanish) and disconnects. Rejects with QueueUnavailableError naming the address
 * and the reason.
 */
export async function probeRedis(addr: QueueAddress, timeoutMs = 5000): Promise<{ version: string; warnings: string[] }> {
  const client = new Redis(
    redisOptions(addr, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      enableOfflineQueue: false,
      connectTimeout: timeoutMs,
    }),
  );
  let lastError: Error | null = null;
  client.on('error', (e: Error) => (lastError = e));
  try {
    await client.connect();
    const info = await client.info('server');
    const version = /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? 'unknown';
    const [maj = 0, min = 0] = version.split('.').map(Number);
    if (maj < 6 || (maj === 6 && min < 2))
      throw new QueueUnavailableError(`Redis at ${addr.display} is version ${version}; BullMQ needs 6.2 or newer`);
    const warnings: string[] = [];
    try {
      const policy = (await client.config('GET', 'maxmemory-policy')) as string[];
      if (policy[1] && policy[1] !== 'noeviction')
        warnings.push(`Redis at ${addr.display} has maxmemory-policy ${policy[1]}: it may evict queued jobs; set it to noeviction`);
    } catch {
      /* CONFIG may be disabled (managed Redis) */
    }
    return { version, warnings };
  } catch (e) {
    if (e instanceof QueueUnavailableError) throw e;
    const err = lastError ?? (e as Error);
    const msg = err.message || (err as NodeJS.ErrnoException).code || String(err);
    throw new QueueUnavailableError(
      `cannot reach Redis at ${addr.display}: ${msg}${/ECONNREFUSED/.test(msg) ? ' (is redis-server running there? see docs/DISTRIBUTED.md)' : ''}`,
    );
  } finally {
    client.disconnect();
  }
}
