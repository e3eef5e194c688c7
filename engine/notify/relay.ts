// The outbox relay: moves each hotel's committed events to the notifications queue, in sequence order, at least
// once. Its cursor is per hotel (outbox_cursors), compared with the hotel's committed high-water mark
// (hotels.event_sequence, written by the commit that wrote the events): everything up to the mark is committed, so no
// event that committed late is skipped, and nothing listens on the write path (no LISTEN/NOTIFY, which serialises
// commits). One relay per shard database at a time (a session advisory lock, released when its process dies); a
// relay killed between queueing and moving its cursor queues those events again, and the notifier drops the
// duplicates by event id. Jobs carry each hotel's range of sequences, not the events: the notifier reads the rows
// (engine/notify/outbox-read.ts) and marks them recorded, and only recorded rows are ever pruned.
import type { Queue } from 'bullmq';
import { createHash } from 'node:crypto';
import type { HotelRange, NotificationJob } from '../jobs.js';
import type { Logger } from '../log.js';
import { shardAtHome, type Pool, type PoolClient } from '../store/pg.js';

/**
 * A busy relay starts a round at most this often per database: every round costs a few queries, a cursor commit and
 * a BullMQ job whatever it carries, so under load fewer, larger rounds are cheaper, for at most this much more lag.
 * Measured under the bench's hot load (one hotel, about 3,000 events a second, on 2 shared cores): the notifier's
 * CPU (its process and its Postgres sessions) per event was a median 116 µs with rounds every 100 ms against 95 µs
 * every 250 ms, for about 150 ms more lag (bench/README.md, 2026-12-06 night).
 */
const busyRoundMs = 250;
/**
 * Hotels looked at per round, events per hotel per round, and events per notifications job (whole hotels). One
 * hotel's events relay at most eventsPerHotelPerRound per busyRoundMs (20,000 a second), well above what one
 * hotel's shard commits.
 */
const hotelsPerRound = 256;
const eventsPerHotelPerRound = 5_000;
const eventsPerJob = 1_000;
/** The most events of one hotel a busy relay moves per second (a hotel committing more falls behind). */
export const relayHotelEventsPerSecond = (eventsPerHotelPerRound * 1000) / busyRoundMs;
/** The longest wait between two looks at an idle database: the first events after a lull wait at most this long. */
const idleMaxMs = 400;
/** Rows removed per pruning statement. */
const prunedPerStatement = 10_000;
const relayLockKey = 7216015;

/** A shard database: its id in the shard map, and a pool. */
export interface ShardDatabase {
  database: number;
  pool: Pool;
}

export interface RelayOptions {
  /**
   * The shard databases (their ids, as jobs name them for the notifier, and pools), or a function answering them as
   * they are known now (databases added by moves).
   */
  pools: ShardDatabase[] | (() => ShardDatabase[]);
  queue: Queue<NotificationJob>;
  log?: Logger;
  retentionHours: number;
  auditRetentionDays: number;
  pollMs?: number;
  pruneEveryMs?: number;
}

export class OutboxRelay {
  private running = false;
  private loops: Promise<void>[] = [];
  /** Events queued so far, and the lag (commit to queue) of the most recent ones, for /metrics and the bench. */
  relayed = 0;
  private readonly lags: number[] = [];
  private lagAt = 0;
  /** By shard database: the commit time of the oldest event its last round found not yet queued (none: caught up). */
  private readonly pendingSince = new Map<Pool, number | undefined>();

  constructor(private readonly o: RelayOptions) {}

  private readonly looping = new Set<Pool>();
  private morePools: NodeJS.Timeout | undefined;

  start(): void {
    this.running = true;
    this.startLoops();
    // A shard database added by a move gets its loop within a few seconds.
    if (typeof this.o.pools === 'function') this.morePools = setInterval(() => this.startLoops(), 2_000);
  }

  /** The shard databases as they are known now. */
  private pools(): ShardDatabase[] {
    return typeof this.o.pools === 'function' ? this.o.pools() : this.o.pools;
  }

  private startLoops(): void {
    for (const { database, pool } of this.pools()) {
      if (this.looping.has(pool)) continue;
      this.looping.add(pool);
      this.loops.push(this.loop(pool, database));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.morePools) clearInterval(this.morePools);
    await Promise.all(this.loops);
  }

  /**
   * By shard database, how long its oldest committed event has waited to be queued (0: caught up). A relay that
   * cannot reach its database keeps its last finding, so the lag grows while the outage lasts.
   */
  outboxLagSeconds(now = Date.now()): { database: number; seconds: number }[] {
    return this.pools().map(({ database, pool }) => {
      const since = this.pendingSince.get(pool);
      return { database, seconds: since === undefined ? 0 : Math.max(0, now - since) / 1000 };
    });
  }

  /**
   * The p-th percentile (0..100) of the recent outbox lags in ms, or null before any: at each round, for each hotel
   * it queues, how long the oldest of the hotel's events it queues has waited since its commit.
   */
  lagPercentile(p: number): number | null {
    if (this.lags.length === 0) return null;
    const s = [...this.lags].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
  }

  private async loop(pool: Pool, db: number): Promise<void> {
    const pollMs = this.o.pollMs ?? 50;
    // An idle database is looked at less and less often, down to every idleMaxMs: each look reads every hotel's mark.
    let idleMs = pollMs;
    const pruneEveryMs = this.o.pruneEveryMs ?? 60_000;
    let lock: PoolClient | undefined;
    let prunedAt = 0;
    while (this.running) {
      try {
        if (!lock) {
          const c = await pool.connect();
          const got = (await c.query('SELECT pg_try_advisory_lock($1) AS ok', [relayLockKey])).rows[0].ok === true;
          if (!got) {
            c.release();
            await sleep(1_000);
            continue;
          }
          // Held for the session: another relay of this database waits until this process ends. The relay's own
          // queries run on it too, with asynchronous commit: a cursor that a crash of Postgres moves back only makes
          // the relay queue those events again (at least once; the notifier drops them by event id), and the
          // relay's ~10 cursor commits a second no longer each wait for a WAL flush beside the writer's.
          c.on('error', () => {});
          await c.query("SET synchronous_commit TO off; SET application_name TO 'outbox-relay-lock'");
          lock = c;
        }
        const started = Date.now();
        const n = await this.relayOnce(pool, db, lock);
        if (Date.now() - prunedAt > pruneEveryMs) {
          prunedAt = Date.now();
          await this.prune(lock);
        }
        idleMs = n === 0 ? Math.min(idleMaxMs, idleMs * 2) : pollMs;
        await sleep(n === 0 ? idleMs : Math.max(0, started + busyRoundMs - Date.now()));
      } catch (err) {
        this.o.log?.warn('outbox relay failed; retrying', { db, err: (err as Error).message });
        if (lock) {
          lock.release(true);
          lock = undefined;
        }
        await sleep(500);
      }
    }
    if (lock) {
      await lock.query('SELECT pg_advisory_unlock($1)', [relayLockKey]).catch(() => {});
      lock.release();
    }
  }

  /**
   * One round: queue the ranges of events the lagging hotels committed (references: the notifier reads the rows),
   * then move their cursors. Answers how many events.
   */
  async relayOnce(pool: Pool, database: number, db: Pool | PoolClient = pool): Promise<number> {
    // With each hotel, the commit time of its first event not yet queued (one probe of the (hotel_id, sequence)
    // index), for the lag figures.
    const behind = await db.query(
      `SELECT h.id::text AS id, h.name, h.event_sequence AS mark, COALESCE(c.sequence, 0) AS relayed, now() AS at,
              (SELECT o.created_at FROM outbox o WHERE o.hotel_id = h.id AND o.sequence = COALESCE(c.sequence, 0) + 1) AS first_at
         FROM hotels h LEFT JOIN outbox_cursors c ON c.hotel_id = h.id
        WHERE h.event_sequence > COALESCE(c.sequence, 0) AND ${shardAtHome('h.shard')}
        LIMIT ${hotelsPerRound}`,
    );
    if (behind.rowCount === 0) {
      this.pendingSince.set(pool, undefined);
      return 0;
    }
    const now = Date.now();
    let oldest: number | undefined;
    let events = 0;
    const ranges: HotelRange[] = behind.rows.map((r) => {
      const after = Number(r.relayed);
      const upto = Math.min(Number(r.mark), after + eventsPerHotelPerRound);
      events += upto - after;
      if (r.first_at instanceof Date) {
        const at = r.first_at.getTime();
        this.noteLag(now - at);
        if (oldest === undefined || at < oldest) oldest = at;
      }
      return { hotelId: r.id as string, hotelName: r.name as string, database, after, upto };
    });
    this.pendingSince.set(pool, oldest);
    // The job id names every hotel's whole range. A relay killed between queueing and moving its cursor queues from
    // the same first events again, usually with more events by then: under an id naming only the first event,
    // BullMQ would ignore that job as a duplicate while the first still waited, and the cursor would then pass the
    // events the first job lacked (lost, not late). Overlapping ranges are recorded once (unique by webhook and
    // event id).
    const at = (behind.rows[0].at as Date).getTime();
    await this.o.queue.addBulk(jobsOfRound(ranges, at).map((j) => ({ name: 'events', data: j, opts: { jobId: jobIdOf(j) } })));
    await db.query(
      `INSERT INTO outbox_cursors (hotel_id, sequence, updated_at)
       SELECT id, seq, now() FROM unnest($1::uuid[], $2::bigint[]) AS v(id, seq)
       ON CONFLICT (hotel_id) DO UPDATE SET sequence = GREATEST(outbox_cursors.sequence, EXCLUDED.sequence), updated_at = now()`,
      [ranges.map((x) => x.hotelId), ranges.map((x) => x.upto)],
    );
    this.relayed += events;
    return events;
  }

  private noteLag(ms: number): void {
    const max = 10_000;
    if (this.lags.length < max) this.lags.push(ms);
    else this.lags[this.lagAt++ % max] = ms;
  }

  /**
   * Remove outbox rows older than the retention that the notifier has recorded (a job still queued refers to its
   * rows), and audit rows older than theirs, a bounded chunk at a time.
   */
  async prune(pool: Pool | PoolClient): Promise<{ outbox: number; audit: number }> {
    let outbox = 0;
    let audit = 0;
    for (;;) {
      const r = await pool.query(
        `DELETE FROM outbox WHERE id IN (
           SELECT o.id FROM outbox o
            WHERE o.created_at < now() - make_interval(hours => $1) AND ${shardAtHome('o.shard')}
              AND (o.sequence IS NULL OR o.sequence <= (SELECT c.recorded FROM outbox_cursors c WHERE c.hotel_id = o.hotel_id))
            LIMIT ${prunedPerStatement})`,
        [this.o.retentionHours],
      );
      outbox += r.rowCount ?? 0;
      if ((r.rowCount ?? 0) < prunedPerStatement || !this.running) break;
    }
    for (;;) {
      const r = await pool.query(
        // Each hotel's newest row stays, whatever its age: a writer that loads the hotel counts on from it.
        `DELETE FROM audit_log WHERE id IN (SELECT a.id FROM audit_log a WHERE a.at < now() - make_interval(days => $1)
            AND a.hotel_id IN (SELECT h.id FROM hotels h WHERE ${shardAtHome('h.shard')})
            AND EXISTS (SELECT 1 FROM audit_log n WHERE n.hotel_id = a.hotel_id AND n.first_seq > a.first_seq)
          LIMIT ${prunedPerStatement})`,
        [this.o.auditRetentionDays],
      );
      audit += r.rowCount ?? 0;
      if ((r.rowCount ?? 0) < prunedPerStatement || !this.running) break;
    }
    return { outbox, audit };
  }
}

/** A round's ranges as jobs of whole hotels, about eventsPerJob events each, in the round's order. */
function jobsOfRound(ranges: HotelRange[], at: number): NotificationJob[] {
  const jobs: NotificationJob[] = [];
  let current: HotelRange[] = [];
  let events = 0;
  for (const x of ranges) {
    current.push(x);
    events += x.upto - x.after;
    if (events >= eventsPerJob) {
      jobs.push({ at, ranges: current });
      current = [];
      events = 0;
    }
  }
  if (current.length > 0) jobs.push({ at, ranges: current });
  return jobs;
}

/** A relay job's id: each hotel with the first and last sequence it refers to (hashed when there are several). */
export function jobIdOf(j: NotificationJob): string {
  const ranges = j.ranges.map((x) => `${x.hotelId}.${x.after + 1}-${x.upto}`);
  return ranges.length === 1 ? ranges[0] : `round.${createHash('sha256').update(ranges.join(',')).digest('hex').slice(0, 40)}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
