// Holds expire through the writer: the owner of a shard looks for pending holds whose time ran out (the timer is
// `expires_at` in the shard database, so it survives restarts) and queues an `expireHold` command for each, in
// order with every other command of the hotel, so that an expiry never races a payment.
import type { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import type { ShardJob } from './jobs.js';
import type { Pool } from './store/pg.js';

/** How often a shard owner looks for holds whose time ran out. */
export const holdSweepMs = 1_000;
/** Holds queued per sweep, at most. */
const holdsPerSweepMax = 500;
/** A hold queued for expiry is not queued again for this long (its command may still be waiting). */
const requeueAfterMs = 30_000;

export class HoldSweeper {
  private timer: NodeJS.Timeout | undefined;
  private readonly queued = new Map<string, number>();
  private running = false;

  constructor(
    private readonly shard: number,
    private readonly pool: Pool,
    private readonly queue: Queue<ShardJob>,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sweep().catch(this.onError), holdSweepMs);
  }

  private readonly stopHooks: (() => void)[] = [];

  /** Something else to stop with the sweeper (the shard's other housekeeping timers). */
  onStop(fn: () => void): void {
    this.stopHooks.push(fn);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    for (const fn of this.stopHooks) fn();
  }

  async sweep(nowMs = Date.now()): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      for (const [id, at] of this.queued) if (nowMs - at > requeueAfterMs) this.queued.delete(id);
      // The expired holds (the partial index), each one's shard looked up by its hotel's key: a sweep reads each
      // expired hold of the database at most once. As a join, the planner could instead visit every hotel of the
      // shard and read all the expired holds for each: 100 hotels × 6,000 expired holds = 600,000 index entries
      // per sweep, every second, while a backlog lasts. A deleted hotel's holds are not queued: its writer would
      // refuse them (no such hotel), and they came back every 30 s forever.
      const due = await this.pool.query(
        `SELECT r.id, r.hotel_id FROM reservations r
          WHERE r.status = 'pending' AND r.expires_at <= $2
            AND jsonb_typeof(r.money -> 'open') IS DISTINCT FROM 'object'
            AND (SELECT h.shard FROM hotels h WHERE h.id = r.hotel_id AND h.deleted_at IS NULL) = $1
          ORDER BY r.expires_at LIMIT $3`,
        [this.shard, new Date(nowMs).toISOString(), holdsPerSweepMax],
      );
      const fresh = due.rows.filter((r) => !this.queued.has(r.id as string));
      if (fresh.length === 0) return 0;
      for (const r of fresh) this.queued.set(r.id as string, nowMs);
      const jobKey = randomUUID();
      await this.queue.add(
        'commands',
        {
          jobKey,
          replyTo: '',
          enqueuedAt: nowMs,
          commands: fresh.map((r) => ({
            requestId: randomUUID(),
            command: { kind: 'expireHold' as const, hotelId: r.hotel_id as string, reservationId: r.id as string },
          })),
        },
        { jobId: jobKey },
      );
      return fresh.length;
    } finally {
      this.running = false;
    }
  }
}
