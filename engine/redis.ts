// The one module that owns the `ioredis` driver, and the names of every key this deployment uses.
import { Pipeline, Redis } from 'ioredis';

export type RedisClient = Redis;

export interface RedisOptions {
  /** A connection BullMQ blocks on (a worker's): commands wait for Redis however long it is away. */
  blocking?: boolean;
  pipelined?: boolean;
  /**
   * Fail a command that has no reply within this many ms ("Command timed out"), so that a stalled Redis (paused,
   * swapping, a lost network path) fails a request fast instead of hanging it. The command may still have run.
   */
  commandTimeoutMs?: number;
  /**
   * false: a command sent while the connection is down fails at once ("Stream isn't writeable…"), and is known not
   * to have been sent. true (the default): it waits for the reconnect, and is sent then, whatever became of its
   * caller; such a queue has no bound of its own. A connection without it must be ready before its first command
   * (see redisReady).
   */
  offlineQueue?: boolean;
  /** The longest wait between two reconnect attempts (ioredis's default backs off to several seconds). */
  reconnectDelayMsMax?: number;
}

export function createRedis(url: string, name: string, opts: RedisOptions = {}): Redis {
  const r = new Redis(url, {
    connectionName: name,
    // Commands issued in the same tick leave in one write: on a busy connection (queue moves of many shards, cache
    // updates, replies) that is one system call instead of one per command, which is what they cost most here.
    // Not for connections that read Buffer replies: the API's cache reads (callBuffer) broke when auto-pipelined.
    enableAutoPipelining: opts.pipelined ?? false,
    // BullMQ needs null on blocking connections; elsewhere a bounded retry makes commands fail fast when Redis is down.
    maxRetriesPerRequest: opts.blocking ? null : 2,
    enableOfflineQueue: opts.offlineQueue ?? true,
    ...(opts.commandTimeoutMs !== undefined && !opts.blocking ? { commandTimeout: opts.commandTimeoutMs } : {}),
    ...(opts.reconnectDelayMsMax !== undefined
      ? { retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 10), opts.reconnectDelayMsMax as number) }
      : {}),
    lazyConnect: false,
  });
  ignoreErrorEvents(r);
  if (opts.pipelined) shareScriptMethods(r);
  return r;
}

/**
 * Give a connection, and every duplicate made of it later (BullMQ duplicates the connection it is given for its
 * blocking reads), a listener for 'error': without one, ioredis prints "[ioredis] Unhandled error event" and a
 * stack trace on every failed reconnect, which breaks the JSON-lines logs. The failures themselves are reported
 * by the failing commands and by /readyz.
 */
function ignoreErrorEvents(r: Redis): void {
  r.on('error', () => {});
  const { duplicate } = r;
  r.duplicate = function (this: Redis, ...args: Parameters<Redis['duplicate']>) {
    const copy = duplicate.apply(this, args);
    ignoreErrorEvents(copy);
    return copy;
  };
}

/** Resolves once the connection is ready for commands (needed first by a connection without an offline queue). */
export function redisReady(r: Redis): Promise<void> {
  if (r.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const ready = () => {
      r.off('end', ended);
      resolve();
    };
    const ended = () => {
      r.off('ready', ready);
      reject(new Error('the Redis connection was closed before it was ready'));
    };
    r.once('ready', ready);
    r.once('end', ended);
  });
}

type Commands = Redis & { scriptsSet: Record<string, unknown>; addedBuiltinSet: Set<string> } & Record<string, unknown>;

/**
 * Pipelines that find the connection's scripts on a shared prototype instead of copying them in.
 *
 * ioredis's Pipeline constructor copies every script defined on its connection, and its Buffer twin, onto the new
 * pipeline: for a connection BullMQ has defined its 64 scripts on, that is ~130 new properties per pipeline, and an
 * auto-pipelined connection makes a pipeline for every tick in which it sends (profiles of the worker and the API
 * under the spread load: ~4% of each process in that loop, plus the garbage of the oversized objects). Here the
 * scripts go once onto a prototype, rebuilt whenever a script or built-in is defined on the connection, and each
 * pipeline is constructed with that prototype while the constructor sees no scripts to copy. What a pipeline can
 * do is unchanged: every script method resolves to the same function as before, called on the pipeline. Duplicates
 * of the connection get the same.
 */
function shareScriptMethods(redis: Redis): void {
  const r = redis as Commands;
  let WithScripts: (() => void) | undefined;
  const { defineCommand, addBuiltinCommand } = r;
  r.defineCommand = function (this: Redis, ...args: Parameters<Redis['defineCommand']>) {
    WithScripts = undefined;
    return defineCommand.apply(this, args);
  };
  r.addBuiltinCommand = function (this: Redis, ...args: Parameters<Redis['addBuiltinCommand']>) {
    WithScripts = undefined;
    return addBuiltinCommand.apply(this, args);
  };
  // BullMQ's workers block on a duplicate of the connection they are given, and define their scripts on it too.
  const { duplicate } = r;
  r.duplicate = function (this: Redis, ...args: Parameters<Redis['duplicate']>) {
    const copy = duplicate.apply(this, args);
    if (copy.options.enableAutoPipelining) shareScriptMethods(copy);
    return copy;
  };
  const none = {};
  const noBuiltins = new Set<string>();
  r.pipeline = function (this: Commands, commands?: unknown[][]) {
    if (!WithScripts) {
      const proto: Record<string, unknown> = Object.create(Pipeline.prototype);
      for (const name of [...Object.keys(this.scriptsSet), ...this.addedBuiltinSet]) {
        proto[name] = this[name];
        proto[`${name}Buffer`] = this[`${name}Buffer`];
      }
      WithScripts = function () {};
      WithScripts.prototype = proto;
    }
    const { scriptsSet, addedBuiltinSet } = this;
    this.scriptsSet = none;
    this.addedBuiltinSet = noBuiltins;
    let pipeline: Pipeline;
    try {
      pipeline = Reflect.construct(Pipeline, [this], WithScripts) as Pipeline;
    } finally {
      this.scriptsSet = scriptsSet;
      this.addedBuiltinSet = addedBuiltinSet;
    }
    if (Array.isArray(commands)) pipeline.addBatch(commands);
    return pipeline;
  } as Redis['pipeline'];
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
  /** The live workers and their last beats (see WorkerMembership). */
  workers() {
    return `${this.prefix}:workers`;
  }
  queueName(shard: number) {
    return `shard-${shard}`;
  }
  /** The channel on which a change of the shard map is announced (its new version), see ShardDirectory. */
  shardMap() {
    return `${this.prefix}:shard-map`;
  }
  /** Set by POST /v1/ops/shards/:shard/drain: the owner it names hands the shard over and does not take it again meanwhile. */
  drain(shard: number) {
    return `${this.prefix}:drain:${shard}`;
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

/**
 * Whether an error means Redis could not be reached or did not answer in time, as opposed to a command Redis
 * refused. A command that timed out may still have run (see isRedisNotSent).
 */
export function isRedisUnavailable(err: unknown): boolean {
  const e = err as { name?: string; code?: string; message?: string } | null;
  if (!e) return false;
  if (e.name === 'MaxRetriesPerRequestError') return true;
  if (typeof e.code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH'].includes(e.code)) return true;
  return /Connection is closed|Stream isn't writeable|connect ECONNREFUSED|Command timed out/i.test(e.message ?? '');
}

/**
 * Whether a command is known not to have reached Redis: refused by a connection without an offline queue while it
 * was down. Any other failure of a command that was written (a timeout, a connection lost while it waited for its
 * reply) leaves open whether Redis ran it.
 */
export function isRedisNotSent(err: unknown): boolean {
  return /Stream isn't writeable/i.test((err as { message?: string } | null)?.message ?? '');
}
