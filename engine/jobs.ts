// The one module that owns `bullmq`: a queue per virtual shard, the job payload, and the consumer's options.
import { Queue, Worker, WaitingError, type Job } from 'bullmq';
import { isCluster, type RedisClient, type RedisKeys } from './redis.js';
import type { Command } from './core/types.js';

/** One command as it travels in a job: the API's request id comes back with its reply. */
export interface QueuedCommand {
  requestId: string;
  command: Command;
  /** The HTTP request's X-Request-Id (given or made by the API), for the worker's log lines of this decision. */
  httpRequestId?: string;
  /** Who asked (for the audit trail); absent: the reservation's owner for a reserve, else the system. */
  actor?: Actor;
}

/** Who a decision was made for, as the audit trail names them. */
export interface Actor {
  kind: string;
  id: string;
}

/** A job: an ordered list of commands from one API process, decided in order and committed together. */
export interface ShardJob {
  jobKey: string;
  /** The API process waiting for the replies, or '' when nobody waits (they are read back from applied_jobs). */
  replyTo: string;
  commands: QueuedCommand[];
  enqueuedAt: number;
  /** The X-Request-Id of the request that queued the whole job (a partner batch), when its commands carry none. */
  httpRequestId?: string;
  /** A shard move (POST /v1/ops/shards/:shard/move): no commands; run by the owner in the shard's turn. */
  move?: { moveId: number; to: number };
}

export interface CommandReply {
  requestId: string;
  reply: unknown;
}

/** What a shard owner publishes to an API process after a commit. */
export interface ReplyMessage {
  jobKey: string;
  replies: CommandReply[];
}

export type { Job };
export { WaitingError };

/**
 * A virtual shard's queue. Its BullMQ prefix is the shard's hash tag (RedisKeys.queuePrefix), so that every key of
 * the queue, which BullMQ's scripts touch together, is in the shard's slot on a Redis Cluster.
 */
/**
 * Jobs still waiting in queues named as by an earlier version, which this version never reads: before the hash tags
 * (`<prefix>:shard-<k>:…` and `<prefix>:notifications:…`, one server only: those names never worked on a cluster),
 * and with the tag first (`{<prefix>:s<k>}:shard-<k>:…` and `{<prefix>:notifications}:notifications:…`, whose keys
 * did not start with the prefix). A process refuses to start while they hold any (docs/operations.md: drain before
 * upgrading).
 */
export async function jobsInPreviousQueues(redis: RedisClient, prefix: string, shardCount: number): Promise<number> {
  const shards = Array.from({ length: shardCount }, (_, k) => k);
  const names = [...shards.map((k) => `{${prefix}:s${k}}:shard-${k}`), `{${prefix}:notifications}:${notificationsQueueName}`];
  if (!isCluster(redis)) names.push(...shards.map((k) => `${prefix}:shard-${k}`), `${prefix}:${notificationsQueueName}`);
  // One pipeline per queue: a queue's keys share a slot (tag first) or a server (untagged), and a cluster runs a
  // pipeline only within one slot.
  const counts = await Promise.all(
    names.map(async (q) => {
      const p = redis.pipeline();
      for (const list of ['wait', 'active', 'paused']) p.llen(`${q}:${list}`);
      for (const set of ['prioritized', 'delayed', 'waiting-children']) p.zcard(`${q}:${set}`);
      let n = 0;
      for (const [err, count] of (await p.exec()) ?? []) {
        // A key of another type than this BullMQ version keeps there holds no job this check knows how to count.
        if (err && !/WRONGTYPE/.test(err.message)) throw err;
        if (!err) n += Number(count);
      }
      return n;
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

export function createShardQueue(connection: RedisClient, keys: RedisKeys, shard: number): Queue<ShardJob> {
  return new Queue<ShardJob>(keys.queueName(shard), {
    connection,
    prefix: keys.queuePrefix(shard),
    defaultJobOptions: {
      // A job is never failed for business reasons: rejections are replies. Completed jobs need not be kept
      // (exactly-once rests on applied_jobs in Postgres, not on BullMQ's memory of job ids).
      removeOnComplete: true,
      removeOnFail: 10_000,
      attempts: 1,
    },
  });
}

/**
 * A shard queue's depth, its jobs not yet decided (waiting, or active: being decided), and the age of the oldest of
 * them, so that a job stuck in its decision shows as an age that grows. BullMQ pushes jobs on the left of the wait
 * list and moves the rightmost to the left of the active list, so each list's oldest job is its rightmost: the first
 * in ascending order (getJobs' `asc` reads a list from its right end).
 */
export async function queueDepthOf(q: Queue<ShardJob>, shard: number): Promise<{ shard: number; waiting: number; oldestWaitingMs: number | null }> {
  const [counts, oldest] = await Promise.all([q.getJobCounts('waiting', 'active'), q.getJobs(['waiting', 'active'], 0, 0, true)]);
  const ats = oldest.map((j) => j?.data?.enqueuedAt).filter((at): at is number => typeof at === 'number');
  return { shard, waiting: (counts.waiting ?? 0) + (counts.active ?? 0), oldestWaitingMs: ats.length > 0 ? Math.max(0, Date.now() - Math.min(...ats)) : null };
}

export function createShardWorker(
  connection: RedisClient,
  keys: RedisKeys,
  shard: number,
  lockMs: number,
  processor: (job: Job<ShardJob>, token: string | undefined) => Promise<void>,
): Worker<ShardJob> {
  return new Worker<ShardJob>(keys.queueName(shard), processor, {
    connection,
    prefix: keys.queuePrefix(shard),
    concurrency: 1,
    autorun: true,
    lockDuration: lockMs,
    stalledInterval: Math.max(250, Math.floor(lockMs / 2)),
    // A job whose owner died is always run again: never failed for having stalled.
    maxStalledCount: Number.MAX_SAFE_INTEGER,
    drainDelay: 5,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Notifications: the outbox relay hands each hotel's committed events, in sequence order, to one queue, which the
// notifier consumes one job at a time (so a hotel's events are taken in order).

/** An event as delivered (API.md): `owner` is internal (a partner's webhooks get its own reservations' events). */
export interface NotificationEvent {
  id: string;
  type: string;
  createdAt: string;
  hotelId: string;
  sequence: number;
  data: Record<string, unknown>;
  owner?: { kind: string; id: string };
}

/** Consecutive events of one hotel. */
export interface HotelEvents {
  hotelId: string;
  hotelName: string;
  events: NotificationEvent[];
}

/**
 * A hotel's events `after` + 1 to `upto` (its outbox sequences) in shard database `database`, where the notifier reads
 * them. Jobs carry these references rather than the events: the rows are in the database anyway, and a thousand
 * events' JSON through BullMQ (serialised, sent to Redis and back, parsed) cost the notifier about a fifth of its CPU.
 */
export interface HotelRange {
  hotelId: string;
  hotelName: string;
  database: number;
  after: number;
  upto: number;
}

/**
 * A relay round: several hotels' ranges (each hotel at most once), up to about a thousand events. One job per round
 * rather than per hotel: with events spread over many hotels, a job per hotel carried one or two events and its
 * queueing, locking and completion cost more than recording them.
 */
export interface NotificationJob {
  /**
   * The shard database's time when the relay found these events committed (ms since the epoch): a list of webhooks
   * read after it has every webhook created before any of the events.
   */
  at: number;
  ranges: HotelRange[];
}

/** Jobs queued by older relays, which carried the events: one round's hotels, or before that one hotel's. */
export type LegacyNotificationJob = { hotels: HotelEvents[] } | HotelEvents;

/** The events of a job queued by an older relay. */
export function hotelsOfLegacyJob(data: LegacyNotificationJob): HotelEvents[] {
  return 'hotels' in data ? data.hotels : [data];
}

export const notificationsQueueName = 'notifications';

export function createNotificationsQueue(connection: RedisClient, keys: RedisKeys): Queue<NotificationJob> {
  return new Queue<NotificationJob>(notificationsQueueName, {
    connection,
    prefix: keys.notificationsPrefix(),
    // The notifier retries a job in place until it is recorded (a retry later would let the hotel's next events pass it).
    defaultJobOptions: { removeOnComplete: true, removeOnFail: 10_000, attempts: 1 },
  });
}

export function createNotificationsWorker(
  connection: RedisClient,
  keys: RedisKeys,
  processor: (job: Job<NotificationJob | LegacyNotificationJob>, token: string | undefined) => Promise<void>,
): Worker<NotificationJob | LegacyNotificationJob> {
  return new Worker<NotificationJob | LegacyNotificationJob>(notificationsQueueName, processor, {
    connection,
    prefix: keys.notificationsPrefix(),
    // One at a time: a hotel's events are recorded for delivery in the order the relay queued them.
    concurrency: 1,
    // A job is only recorded (deliveries and mails written), which takes milliseconds, and the lock is renewed while
    // it runs: a short lock and stall check let a job whose notifier died go to another within ~15 s, not ~60 s
    // (a 30 s lock plus the default 30 s stall check; the notify-kill test waited that long in half of its runs).
    lockDuration: 10_000,
    stalledInterval: 5_000,
    maxStalledCount: Number.MAX_SAFE_INTEGER,
    drainDelay: 5,
  });
}
