// The one module that owns the `ioredis` driver, and the names of every key this deployment uses.
import { Redis } from 'ioredis';

export type RedisClient = Redis;

export function createRedis(url: string, name: string, opts: { blocking?: boolean; pipelined?: boolean } = {}): Redis {
  const r = new Redis(url, {
    connectionName: name,
    // Commands issued in the same tick leave in one write: on a busy connection (queue moves of many shards, cache
    // updates, replies) that is one system call instead of one per command, which is what they cost most here.
    // Not for connections that read Buffer replies: the API's cache reads (callBuffer) broke when auto-pipelined.
    enableAutoPipelining: opts.pipelined ?? false,
    // BullMQ needs null on blocking connections; elsewhere a bounded retry makes commands fail fast when Redis is down.
    maxRetriesPerRequest: opts.blocking ? null : 2,
    enableOfflineQueue: true,
    lazyConnect: false,
  });
  r.on('error', () => {
    // Reported by the failing commands and by /readyz; an unhandled 'error' event would crash the process.
  });
  return r;
}

/** Every Redis key of a deployment, under its prefix. */
export class RedisKeys {
  constructor(readonly prefix: string) {}
  lease(shard: number) {
    return `${this.prefix}:lease:${shard}`;
  }
  replies(apiId: string) {
    return `${this.prefix}:replies:${apiId}`;
  }
  inflight(reservationId: string) {
    return `${this.prefix}:inflight:${reservationId}`;
  }
  revocations() {
    return `${this.prefix}:revocations`;
  }
  rate(tokenId: string) {
    return `${this.prefix}:rate:${tokenId}`;
  }
  queueName(shard: number) {
    return `shard-${shard}`;
  }
}

/** Delete every key of a prefix (tests clean up after themselves with this). */
export async function deletePrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) n += await redis.unlink(...keys);
  } while (cursor !== '0');
  return n;
}

/** Whether an error means Redis could not be reached (the command was not run), as opposed to a command Redis refused. */
export function isRedisUnavailable(err: unknown): boolean {
  const e = err as { name?: string; code?: string; message?: string } | null;
  if (!e) return false;
  if (e.name === 'MaxRetriesPerRequestError') return true;
  if (typeof e.code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH'].includes(e.code)) return true;
  return /Connection is closed|Stream isn't writeable|connect ECONNREFUSED/i.test(e.message ?? '');
}
