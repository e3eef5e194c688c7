// The API's side of the command path: route each command to its hotel's shard queue, coalesce commands for a
// shard while its jobs are in flight ("smart batching": no wait when idle, bigger jobs under load), and hand each
// caller its own reply when the shard owner publishes the job's replies.
import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { v7 as uuidv7 } from 'uuid';
import type { Config } from './config.js';
import type { Command, Reply } from './core/types.js';
import { createShardQueue, queueDepthOf, type Actor, type QueuedCommand, type ReplyMessage, type ShardJob } from './jobs.js';
import {
  apiRedisCommandTimeoutMs,
  apiRedisReconnectDelayMsMax,
  jobCommandsMax,
  jobsInFlightPerShardMax,
  redisProbeMs,
  redisStallMs,
  routerBufferedCommandsMax,
} from './limits.js';
import type { Logger } from './log.js';
import { createRedis, isRedisNotSent, isRedisUnavailable, probeRedis, redisReady, RedisKeys, type RedisClient } from './redis.js';
import { shardOf } from './shard-map.js';

/** How a command ended from the caller's point of view. */
export type Outcome =
  | { kind: 'reply'; reply: Reply }
  /** No reply within REPLY_TIMEOUT_MS: the command stays queued and will be decided exactly once. */
  | { kind: 'late'; jobKey: string; requestId: string }
  /** The queue could not take the command (Redis unreachable, or too much is buffered): nothing was queued. */
  | { kind: 'unavailable'; message: string };

interface Waiting {
  queued: QueuedCommand;
  resolve: (o: Outcome) => void;
  timer?: NodeJS.Timeout;
  jobKey?: string;
}

interface ShardLane {
  buffer: Waiting[];
  inFlight: Map<string, NodeJS.Timeout>;
}

export interface RouterStats {
  jobs: number;
  commands: number;
}

export class CommandRouter {
  readonly apiId = `api-${uuidv7()}`;
  private readonly keys: RedisKeys;
  private readonly queues: Queue<ShardJob>[];
  private readonly lanes: ShardLane[];
  private readonly waiting = new Map<string, Waiting>();
  private readonly jobShard = new Map<string, number>();
  private readonly subscriber: RedisClient;
  private readonly connection: RedisClient;
  readonly stats: RouterStats = { jobs: 0, commands: 0 };
  private closed = false;
  /** Why the queue counts as unreachable (Redis down or stalled), or undefined while it answers. */
  private trouble: string | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  /** Whether a PING of the probe is out (sent, not answered). */
  private probeOut = false;
  /**
   * How long the probe has waited for Redis to answer a PING, counted only in time this process could have read the
   * answer (see probe): 0 when none is out.
   */
  private probeWaitedMs = 0;
  /** When the probe's timer last ran. */
  private probeTickAt = Date.now();

  constructor(
    private readonly config: Config,
    private readonly log?: Logger,
  ) {
    this.keys = new RedisKeys(config.redisPrefix);
    // No offline queue: a job sent while Redis is down fails at once and is known not to be queued (503), rather
    // than waiting for a reconnect that would queue it after its caller was answered.
    this.connection = createRedis(config, `${this.apiId}-queue`, {
      pipelined: true,
      commandTimeoutMs: apiRedisCommandTimeoutMs,
      offlineQueue: false,
      reconnectDelayMsMax: apiRedisReconnectDelayMsMax,
    });
    this.subscriber = createRedis(config, `${this.apiId}-replies`, {
      commandTimeoutMs: apiRedisCommandTimeoutMs,
      reconnectDelayMsMax: apiRedisReconnectDelayMsMax,
    });
    this.queues = Array.from({ length: config.shardCount }, (_, k) => {
      const q = createShardQueue(this.connection, this.keys, k);
      // A Queue re-emits its connection's errors; without a listener BullMQ prints each with its stack trace, which
      // breaks the JSON-lines logs. Failing adds and the probe report them.
      q.on('error', () => {});
      return q;
    });
    this.lanes = Array.from({ length: config.shardCount }, () => ({ buffer: [], inFlight: new Map() }));
    this.subscriber.on('message', (_channel: string, text: string) => this.onReplies(text));
    this.connection.on('close', () => this.unreachable('the connection to Redis was lost'));
    this.connection.on('ready', () => this.probe());
  }

  async start(): Promise<void> {
    await redisReady(this.connection);
    await this.subscriber.subscribe(this.keys.replies(this.apiId));
    this.probeTimer = setInterval(() => this.probe(), redisProbeMs);
    this.probeTimer.unref();
  }

  /** Why the queue cannot take commands now (Redis down or stalled), or undefined when it can. */
  get unavailableReason(): string | undefined {
    return this.trouble;
  }

  /**
   * Check that Redis answers: a PING on the queue's connection (on a cluster, its state: probeRedis), one at a time. One unanswered for longer than
   * redisStallMs marks the queue unreachable until a PING is answered again, so that a stalled Redis (CLIENT PAUSE,
   * a hung host) is refused within a second instead of holding every request for REPLY_TIMEOUT_MS.
   *
   * The wait is counted only in time this process could have read the answer. A timer runs before the I/O of its
   * turn of the event loop is read: after the loop was held (a starved CPU, a long GC, a burst of replies to write),
   * the timer found a PING sent just before "unanswered for over 500 ms" while Redis's answer sat unread in the
   * socket, and every command buffered behind a job in flight was answered 503 though Redis was fine (the spread
   * bench on a loaded 2-core machine: probe ticks 0.7-1.6 s apart in the API, 503s with two workers). So each tick
   * counts at most two probe intervals (less than redisStallMs), whatever time passed since the last: a PING is
   * found stalled only after the loop has been through its I/O at least once without the answer since it was sent.
   */
  private probe(): void {
    if (this.closed) return;
    const now = Date.now();
    const ran = Math.min(now - this.probeTickAt, 2 * redisProbeMs);
    this.probeTickAt = now;
    if (this.probeOut) {
      this.probeWaitedMs += ran;
      if (this.probeWaitedMs > redisStallMs) this.unreachable(`Redis has not answered for over ${redisStallMs} ms`);
      return;
    }
    if (this.connection.status !== 'ready') {
      this.unreachable(`the connection to Redis is ${this.connection.status}`);
      return;
    }
    this.ping();
  }

  /** Send the probe's PING (the wait so far is kept: one re-sent after a timeout goes on counting it). */
  private ping(): void {
    this.probeOut = true;
    probeRedis(this.connection).then(
      () => {
        this.probeOut = false;
        this.probeWaitedMs = 0;
        if (this.trouble !== undefined) this.log?.info('the queue answers again', { apiId: this.apiId, was: this.trouble });
        this.trouble = undefined;
      },
      (err: Error) => {
        if (this.closed) return;
        if (isRedisUnavailable(err) && !isRedisNotSent(err) && this.connection.status === 'ready') {
          // Timed out by the connection's own clock, which counts the time the event loop was held as Redis's
          // (the answer may be unread in the socket): ask again, and let the probe's count decide.
          this.ping();
          return;
        }
        this.probeOut = false;
        this.probeWaitedMs = 0;
        this.unreachable(`Redis did not answer: ${err.message}`);
      },
    );
  }

  /**
   * The queue cannot be reached: new commands are refused until the probe is answered again, and buffered ones
   * (never sent to Redis) are answered unavailable now. Jobs already sent keep waiting for their replies: they
   * may have been queued.
   */
  private unreachable(reason: string): void {
    if (this.closed) return;
    let refused = 0;
    for (const lane of this.lanes) {
      const buffered = lane.buffer.splice(0);
      refused += buffered.length;
      for (const w of buffered) this.finish(w, { kind: 'unavailable', message: `the queue is unreachable: ${reason}` });
    }
    if (this.trouble === undefined) this.log?.warn('the queue counts as unreachable: commands are refused (503) until Redis answers a PING', { apiId: this.apiId, reason, refused });
    this.trouble = reason;
  }

  /**
   * Where a queued job is now, read-only: 'waiting', 'active', 'delayed'…, 'failed', or 'unknown' when the queue no
   * longer has it (decided and removed, or lost with Redis's data). A reader that then finds no stored reply for
   * the job knows it was never decided, provided it read this first: a job is removed only after its commit.
   */
  async jobState(hotelId: string, jobKey: string): Promise<string> {
    return this.queues[this.shardOf(hotelId)].getJobState(jobKey);
  }

  shardOf(hotelId: string): number {
    return shardOf(hotelId, this.config.shardCount);
  }

  /** Waiting depth of every shard queue, for /metrics and /v1/ops/shards. */
  async queueDepths(): Promise<{ shard: number; waiting: number; oldestWaitingMs: number | null }[]> {
    return Promise.all(this.queues.map((q, shard) => queueDepthOf(q, shard)));
  }

  /**
   * Queue a command for its hotel's shard; `httpRequestId` (X-Request-Id) travels with it into the worker's logs, and
   * `actor` (who asked) into the audit trail.
   */
  send(command: Command, httpRequestId?: string, actor?: Actor): Promise<Outcome> {
    const shard = this.shardOf(command.hotelId);
    const lane = this.lanes[shard];
    if (this.closed) return Promise.resolve({ kind: 'unavailable', message: 'the server is shutting down' });
    if (this.trouble) return Promise.resolve({ kind: 'unavailable', message: `the queue is unreachable: ${this.trouble}` });
    if (lane.buffer.length >= routerBufferedCommandsMax) {
      return Promise.resolve({ kind: 'unavailable', message: 'too many commands are waiting for this shard' });
    }
    return new Promise<Outcome>((resolve) => {
      const queued: QueuedCommand = { requestId: randomUUID(), command };
      if (httpRequestId !== undefined) queued.httpRequestId = httpRequestId;
      if (actor) queued.actor = { kind: actor.kind, id: actor.id };
      const w: Waiting = { queued, resolve };
      w.timer = setTimeout(() => this.timeout(w), this.config.replyTimeoutMs);
      this.waiting.set(w.queued.requestId, w);
      lane.buffer.push(w);
      // Commands that arrive in the same tick share a job even when the lane is idle.
      if (lane.buffer.length === 1) queueMicrotask(() => this.flush(shard));
    });
  }

  private flush(shard: number): void {
    const lane = this.lanes[shard];
    while (lane.buffer.length > 0 && lane.inFlight.size < jobsInFlightPerShardMax) {
      this.enqueue(shard, lane.buffer.splice(0, jobCommandsMax));
    }
  }

  private enqueue(shard: number, batch: Waiting[]): void {
    const lane = this.lanes[shard];
    const jobKey = randomUUID();
    for (const w of batch) w.jobKey = jobKey;
    // A job that never answers (its owner is stuck, the database is down) stops counting as in flight after the
    // reply timeout, so that the lane keeps queueing behind it instead of holding commands in memory.
    lane.inFlight.set(jobKey, setTimeout(() => this.settle(shard, jobKey), this.config.replyTimeoutMs));
    this.jobShard.set(jobKey, shard);
    const job: ShardJob = { jobKey, replyTo: this.apiId, commands: batch.map((w) => w.queued), enqueuedAt: Date.now() };
    this.stats.jobs++;
    this.stats.commands += batch.length;
    this.queues[shard].add('commands', job, { jobId: jobKey }).catch((err: Error) => {
      if (isRedisUnavailable(err) && !isRedisNotSent(err)) {
        // The add was sent but not confirmed (a timeout, or the connection lost while it waited): Redis may have
        // queued the job, so its callers keep waiting for the replies and, without them, are told their commands
        // are queued (202) when REPLY_TIMEOUT_MS runs out, never that nothing was queued. (An add Redis refused,
        // or one never sent, queued nothing: 503 below.) Whether Redis is away is the probe's to say (a lost
        // connection says so at once): a timeout alone is no proof, since the connection's clock also counts the
        // time this process's event loop was held while the answer sat unread (see probe).
        if (!this.probeOut && this.connection.status === 'ready') this.ping();
        return;
      }
      this.settle(shard, jobKey);
      for (const w of batch) this.finish(w, { kind: 'unavailable', message: `the queue is unreachable: ${err.message}` });
    });
  }

  /** Queue a shard move (POST /v1/ops/shards/:shard/move) in the shard's own queue, behind its commands. */
  async enqueueMove(shard: number, move: { moveId: number; to: number }): Promise<void> {
    const jobKey = `move-${move.moveId}`;
    const job: ShardJob = { jobKey, replyTo: '', commands: [], enqueuedAt: Date.now(), move };
    await this.queues[shard].add('move', job, { jobId: jobKey });
  }

  /**
   * Queue prepared jobs as they are (partner batches): no coalescing and nobody waiting for the replies; their
   * decisions are read back from the shard databases (applied_jobs) by job key.
   */
  async enqueueJobs(jobs: { shard: number; jobKey: string; commands: QueuedCommand[] }[], httpRequestId?: string): Promise<void> {
    const byShard = new Map<number, typeof jobs>();
    for (const j of jobs) {
      const list = byShard.get(j.shard) ?? [];
      list.push(j);
      byShard.set(j.shard, list);
    }
    const now = Date.now();
    await Promise.all(
      [...byShard].map(([shard, list]) =>
        this.queues[shard].addBulk(
          list.map((j) => ({
            name: 'commands',
            data: { jobKey: j.jobKey, replyTo: '', commands: j.commands, enqueuedAt: now, ...(httpRequestId === undefined ? {} : { httpRequestId }) },
            opts: { jobId: j.jobKey },
          })),
        ),
      ),
    );
    this.stats.jobs += jobs.length;
    this.stats.commands += jobs.reduce((n, j) => n + j.commands.length, 0);
  }

  private settle(shard: number, jobKey: string): void {
    const lane = this.lanes[shard];
    const t = lane.inFlight.get(jobKey);
    if (t) clearTimeout(t);
    if (lane.inFlight.delete(jobKey)) {
      this.jobShard.delete(jobKey);
      if (lane.buffer.length > 0) this.flush(shard);
    }
  }

  private onReplies(text: string): void {
    let msg: ReplyMessage;
    try {
      msg = JSON.parse(text) as ReplyMessage;
    } catch {
      return;
    }
    for (const r of msg.replies) {
      const w = this.waiting.get(r.requestId);
      if (w) this.finish(w, { kind: 'reply', reply: r.reply as Reply });
    }
    const shard = this.jobShard.get(msg.jobKey);
    if (shard !== undefined) this.settle(shard, msg.jobKey);
  }

  private timeout(w: Waiting): void {
    if (!this.waiting.has(w.queued.requestId)) return;
    if (w.jobKey === undefined) {
      // Still buffered: queue it now on its own, so that the late answer names the job that will decide it.
      const shard = this.shardOf(w.queued.command.hotelId);
      const lane = this.lanes[shard];
      lane.buffer.splice(lane.buffer.indexOf(w), 1);
      if (this.trouble) {
        this.finish(w, { kind: 'unavailable', message: `the queue is unreachable: ${this.trouble}` });
        return;
      }
      this.enqueue(shard, [w]);
    }
    this.finish(w, { kind: 'late', jobKey: w.jobKey as string, requestId: w.queued.requestId });
  }

  private finish(w: Waiting, o: Outcome): void {
    if (w.timer) clearTimeout(w.timer);
    this.waiting.delete(w.queued.requestId);
    w.resolve(o);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.probeTimer);
    for (const lane of this.lanes) for (const t of lane.inFlight.values()) clearTimeout(t);
    for (const w of this.waiting.values()) if (w.timer) clearTimeout(w.timer);
    await Promise.all(this.queues.map((q) => q.close().catch(() => {})));
    this.subscriber.disconnect();
    this.connection.disconnect();
  }
}
