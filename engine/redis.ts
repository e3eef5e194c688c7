// The one module that owns the `ioredis` driver, and the names of every key this deployment uses.
//
// One server (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES): createRedis makes an ioredis `Redis` or `Cluster`
// for the same options, and the rest of the engine uses either as a RedisClient. Every key starts with REDIS_PREFIX
// and a colon, and every key of one virtual shard then carries the shard's hash tag (`<prefix>:{s<k>}`, see
// RedisKeys), so that a shard's queue, lease, availability cache and change logs sit in one hash slot, and every
// script and pipeline of a shard touches one slot. ioredis's `keyPrefix` is never used: BullMQ refuses it.
import { Cluster, Pipeline, Redis, type ClusterOptions, type RedisOptions as IoRedisOptions } from 'ioredis';

export type RedisClient = Redis | Cluster;

/** A node of a Redis Cluster to start from (REDIS_CLUSTER_NODES); the others are found through it. */
export interface RedisNode {
  host: string;
  port: number;
}

/**
 * Where Redis is: REDIS_URL, or the nodes of a cluster (then the URL gives only the user, password and TLS). A bare
 * URL string means one server.
 */
export type RedisEndpoint = string | { redisUrl: string; redisClusterNodes?: RedisNode[] | undefined };

/** Whether a client is a cluster client. */
export function isCluster(r: RedisClient): r is Cluster {
  return (r as { isCluster?: boolean }).isCluster === true;
}

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

/** The cluster's start nodes, when the endpoint names a cluster. */
function clusterNodesOf(where: RedisEndpoint): RedisNode[] | undefined {
  return typeof where === 'string' || !where.redisClusterNodes?.length ? undefined : where.redisClusterNodes;
}

const urlOf = (where: RedisEndpoint) => (typeof where === 'string' ? where : where.redisUrl);

/** What a cluster's node connections take from REDIS_URL: the user, the password and TLS (rediss:). */
function credentialsOf(urlText: string): Partial<IoRedisOptions> {
  const u = new URL(urlText);
  return {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** A connection to the one server, or to the cluster, with the same behaviour (see RedisOptions). */
export function createRedis(where: RedisEndpoint, name: string, opts: RedisOptions = {}): RedisClient {
  const node: IoRedisOptions = {
    connectionName: name,
    // BullMQ needs null on blocking connections; elsewhere a bounded retry makes commands fail fast when Redis is down.
    maxRetriesPerRequest: opts.blocking ? null : 2,
    ...(opts.commandTimeoutMs !== undefined && !opts.blocking ? { commandTimeout: opts.commandTimeoutMs } : {}),
  };
  // Commands issued in the same tick leave in one write: on a busy connection (queue moves of many shards, cache
  // updates, replies) that is one system call instead of one per command, which is what they cost most here.
  // Not for connections that read Buffer replies: the API's cache reads (callBuffer) broke when auto-pipelined.
  const enableAutoPipelining = opts.pipelined ?? false;
  const enableOfflineQueue = opts.offlineQueue ?? true;
  const backOff =
    opts.reconnectDelayMsMax === undefined ? undefined : (times: number) => Math.min(50 * 2 ** Math.min(times, 10), opts.reconnectDelayMsMax as number);
  const nodes = clusterNodesOf(where);
  let r: RedisClient;
  if (nodes) {
    const o: ClusterOptions = {
      // BullMQ reads maxRetriesPerRequest from redisOptions on a cluster (null for its blocking connections).
      redisOptions: { ...node, ...credentialsOf(urlOf(where)) },
      enableAutoPipelining,
      enableOfflineQueue,
      ...(backOff ? { clusterRetryStrategy: backOff } : {}),
      lazyConnect: false,
    };
    r = new Cluster(nodes, o);
  } else {
    r = new Redis(urlOf(where), { ...node, enableAutoPipelining, enableOfflineQueue, ...(backOff ? { retryStrategy: backOff } : {}), lazyConnect: false });
  }
  ignoreErrorEvents(r);
  if (opts.pipelined) shareScriptMethods(r);
  return r;
}

/**
 * A short-lived connection that fails at once instead of retrying (start-up checks, tests): one server or the
 * cluster, with lazyConnect, no offline queue and no reconnects.
 */
export function createProbe(where: RedisEndpoint, connectTimeoutMs = 5000): RedisClient {
  const nodes = clusterNodesOf(where);
  const node: IoRedisOptions = { maxRetriesPerRequest: 0, connectTimeout: connectTimeoutMs };
  const r = nodes
    ? new Cluster(nodes, { redisOptions: { ...node, ...credentialsOf(urlOf(where)) }, lazyConnect: true, enableOfflineQueue: false, clusterRetryStrategy: () => null })
    : new Redis(urlOf(where), { ...node, lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
  return r;
}

/**
 * Give a connection, and every duplicate made of it later (BullMQ duplicates the connection it is given for its
 * blocking reads), a listener for 'error': without one, ioredis prints "[ioredis] Unhandled error event" and a
 * stack trace on every failed reconnect, which breaks the JSON-lines logs. The failures themselves are reported
 * by the failing commands and by /readyz.
 */
function ignoreErrorEvents(r: RedisClient): void {
  r.on('error', () => {});
  const d = r as { duplicate: (...args: unknown[]) => RedisClient };
  const { duplicate } = d;
  d.duplicate = function (this: RedisClient, ...args: unknown[]) {
    const copy = duplicate.apply(this, args);
    ignoreErrorEvents(copy);
    return copy;
  };
}

/**
 * Whether Redis serves commands: a PING on one server; on a cluster, CLUSTER INFO from one node, which must say
 * `cluster_state:ok`. A cluster whose state is `fail` (a master lost without a replica to take over, with
 * cluster-require-full-coverage yes) still answers PING but refuses every key (CLUSTERDOWN): the API then refuses at
 * once instead of waiting REPLY_TIMEOUT_MS for replies that cannot come.
 */
export async function probeRedis(r: RedisClient): Promise<void> {
  if (!isCluster(r)) {
    await r.ping();
    return;
  }
  const info = await r.cluster('INFO');
  const state = /cluster_state:(\w+)/.exec(info)?.[1];
  if (state !== 'ok') throw new Error(`the Redis Cluster's state is ${state ?? 'unknown'}`);
}

/** Resolves once the connection is ready for commands (needed first by a connection without an offline queue). */
export function redisReady(r: RedisClient): Promise<void> {
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

type Commands = RedisClient & { scriptsSet: Record<string, unknown>; addedBuiltinSet: Set<string> } & Record<string, unknown>;

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
function shareScriptMethods(redis: RedisClient): void {
  const r = redis as Commands;
  let WithScripts: (() => void) | undefined;
  const { defineCommand, addBuiltinCommand } = r;
  r.defineCommand = function (this: RedisClient, ...args: Parameters<Redis['defineCommand']>) {
    WithScripts = undefined;
    return defineCommand.apply(this, args);
  };
  r.addBuiltinCommand = function (this: RedisClient, ...args: Parameters<Redis['addBuiltinCommand']>) {
    WithScripts = undefined;
    return addBuiltinCommand.apply(this, args);
  };
  // BullMQ's workers block on a duplicate of the connection they are given, and define their scripts on it too.
  const d = r as { duplicate: (...args: unknown[]) => RedisClient };
  const { duplicate } = d;
  d.duplicate = function (this: RedisClient, ...args: unknown[]) {
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
  } as Commands['pipeline'];
}

/**
 * Every Redis key of a deployment. All begin with `<prefix>:` (API.md: REDIS_PREFIX is the prefix of every key, so
 * that `SCAN MATCH <prefix>:*` finds a deployment's keys). Two kinds:
 *  - a virtual shard's keys all begin with `<prefix>:{s<k>}`, whose hash tag `{s<k>}` keeps them in one hash slot of
 *    a Redis Cluster: its BullMQ queue (`<prefix>:{s<k>}` is the queue's BullMQ prefix, as BullMQ's cluster guide
 *    says), its lease, and the availability cache, change log and change channel of each of its hotels. Shards
 *    spread over the slots, hence over the masters, by their tags (deployments sharing a cluster put their shard k
 *    in the same slot, which costs nothing);
 *  - global keys carry no tag, so that they spread over the slots by their whole name: each is used on its own (one
 *    key per command or script), never with another key.
 * The notifications queue has a tag of its own, `<prefix>:{notifications}`.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** The prefix and hash tag of a shard, `<prefix>:{s<k>}`: every key of the shard starts with it. */
  shardTag(shard: number) {
    return `${this.prefix}:{s${shard}}`;
  }
  /** BullMQ's prefix for a shard's queue: its keys are `<prefix>:{s<k>}:shard-<k>:<what>`. */
  queuePrefix(shard: number) {
    return this.shardTag(shard);
  }
  queueName(shard: number) {
    return `shard-${shard}`;
  }
  lease(shard: number) {
    return `${this.shardTag(shard)}:lease`;
  }
  /**
   * A hotel's availability cache (meta hash, one night table per room type), its change log and its change channel,
   * under its shard's tag: the writer moves several hotels of a shard forward in one pipeline after a commit, and a
   * cluster takes a pipeline only when its keys sit on one node.
   */
  availability(shard: number, hotelId: string) {
    const tag = this.shardTag(shard);
    return {
      meta: `${tag}:avail:${hotelId}`,
      roomType: (rt: string) => `${tag}:avail:${hotelId}:${rt}`,
      changes: `${tag}:changes:${hotelId}`,
      /** Announcements of this hotel's changes: an API process subscribes only while it streams the hotel to someone. */
      channel: `${tag}:availability:${hotelId}`,
    };
  }
  /** BullMQ's prefix for the notifications queue (one queue, one slot). */
  notificationsPrefix() {
    return `${this.prefix}:{notifications}`;
  }

  // Global keys and channels.

  /** The channel an API process hears its jobs' replies on (pub/sub channels belong to no slot). */
  replies(apiId: string) {
    return `${this.prefix}:replies:${apiId}`;
  }
  /**
   * The queued requests for a reservation id answered 202: a hash of one marker per principal that posted it (one
   * principal's post never hides another's).
   */
  inflight(reservationId: string) {
    return `${this.prefix}:queued:${reservationId}`;
  }
  revocations() {
    return `${this.prefix}:revocations`;
  }
  /** rate-limiter-flexible's key prefix of one limit: its keys are `<this>:<token or address>`, one per command. */
  rateLimit(name: string) {
    return `${this.prefix}:ratelimit:${name}`;
  }
  /** The live workers and their last beats (see WorkerMembership): one hash, one key per script call. */
  workers() {
    return `${this.prefix}:workers`;
  }
  /** The last epochs read from a shard database (GET /v1/ops/shards answers from them while it is down). */
  opsEpochs(database: number) {
    return `${this.prefix}:ops:epochs:${database}`;
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

/**
 * The key patterns that hold every key of a prefix: `<prefix>:*`, and the shape of the version before (shards and
 * notifications under `{<prefix>:…}`), whose leftovers a clean-up removes too.
 */
export const prefixPatterns = (prefix: string) => [`${prefix}:*`, `{${prefix}:*`];

/**
 * The masters of a cluster (every key lives on one of them), or the one server. Keys are found per node: SCAN sees
 * only the node it runs on.
 */
export function mastersOf(redis: RedisClient): Redis[] {
  return isCluster(redis) ? redis.nodes('master') : [redis];
}

/** Delete every key of a prefix (tests clean up after themselves with this). */
export async function deletePrefix(redis: RedisClient, prefix: string): Promise<number> {
  let n = 0;
  for (const node of mastersOf(redis)) {
    for (const pattern of prefixPatterns(prefix)) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        // One key per command on a cluster (the keys of one SCAN may sit in several slots of the node).
        if (keys.length > 0) n += isCluster(redis) ? (await Promise.all(keys.map((k) => node.unlink(k)))).reduce((a, b) => a + b, 0) : await node.unlink(...keys);
      } while (cursor !== '0');
    }
  }
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
  if (e.name === 'ClusterAllFailedError') return true;
  return /Connection is closed|Stream isn't writeable|connect ECONNREFUSED|Command timed out|Cluster isn't ready|CLUSTERDOWN|Failed to refresh slots cache|None of startup nodes is available/i.test(
    e.message ?? '',
  );
}

/**
 * Whether a command is known not to have reached Redis: refused by a connection without an offline queue while it
 * was down. Any other failure of a command that was written (a timeout, a connection lost while it waited for its
 * reply) leaves open whether Redis ran it.
 */
export function isRedisNotSent(err: unknown): boolean {
  // A cluster client without an offline queue refuses a command while it is not ready: not sent either.
  return /Stream isn't writeable|Cluster isn't ready and enableOfflineQueue/i.test((err as { message?: string } | null)?.message ?? '');
}
