// The writer's side of a shard database: take a shard (bump its epoch), load hotels into memory, and persist
// batches of decisions together (group commit) in fenced transactions; the statement itself is commit-statement.ts.
import { commitBatchesMax, commitRowsMax, commitsInFlightPerDatabaseMax, pastNightsKept, planSizeCheckMsDefault } from '../limits.js';
import { processMetrics } from '../metrics.js';

/** Events a commit writes with its set-based statement; any other (hotels, room types) is written first, alone. */
const plainEvents = new Set(['reservation.created', 'reservation.status', 'reservation.money', 'inventory.set', 'rates.set']);
import { formatDay, localDay, parseDay } from '../core/dates.js';
import { newHotelState } from '../core/evolve.js';
import { newNightTable } from '../core/night-table.js';
import type { HotelEvent, HotelState, NightTable, Reply, Reservation, RoomType } from '../core/types.js';
import { createPool, isRefusal, type Pool, type PoolClient } from './pg.js';
import { hotelColumns, hotelFromRow, pricingTiersFromRow, reservationColumns, reservationFromRow, roomTypeColumns, roomTypeFromRow } from './rows.js';
import { FencedError, writeJobs, type CommitBatch } from './commit-statement.js';
import { ShardNotHomeError } from './shard-copy.js';

export { FencedError, ReservationIdTaken, plainArray, textArray, type AuditRow, type AvailabilityNotice, type CommitBatch, type NightWrite } from './commit-statement.js';

/** The event and audit sequences each loaded hotel had reached in the database (its writer counts on from them). */
const loadedSequences = new WeakMap<HotelState, { events: number; audit: number }>();

/** The last event sequence of a hotel as loaded (0 for a hotel created in memory). */
export function loadedEventSequence(state: HotelState): number {
  return loadedSequences.get(state)?.events ?? 0;
}

/** The sequence of a hotel's last audited decision as loaded (0 for a hotel created in memory). */
export function loadedAuditSequence(state: HotelState): number {
  return loadedSequences.get(state)?.audit ?? 0;
}


/** Hotels whose missing nights one statement of rollHorizon creates (a day's worth each, after a midnight). */
const hotelsExtendedAtOnce = 200;

/** The window of nights a hotel's state covers, from its own "today". */
export function hotelWindow(nowMs: number, timezone: string, horizonDays: number) {
  const today = localDay(nowMs, timezone);
  return { today, firstDay: today - pastNightsKept, endDay: today + horizonDays };
}


/**
 * The sessions a shard's writer commits on. Its statements find every row by key (a night by room type and date, a
 * reservation or hotel by id), so their plans must not depend on how big one batch is: with custom plans (the
 * default for a prepared statement's first five executions) a batch of 10,000 nights over a table of 730,000 made
 * the planner hash-join a sequential scan of the whole inventory table, 3–4× slower than 10,000 index probes, and
 * a plan that expensive is JIT-compiled besides. A generic plan assumes a small batch; it is made again as the
 * tables grow (see planSizeCheckMsDefault).
 */
const writerSessionSettings = { plan_cache_mode: 'force_generic_plan', jit: 'off' };

/** The pool a ShardStore writes through (a store on any other pool commits with the server's default planning). */
export function createWriterPool(url: string, max: number, application = 'reservation-engine'): Pool {
  return createPool(url, max, application, writerSessionSettings);
}

/** A commit's time and size in the process metrics (shard_commit_*). */
function observeCommit(started: bigint, batches: CommitBatch[]): void {
  let commands = 0;
  let rows = 0;
  for (const b of batches) {
    for (const j of b.jobs) commands += (j.replies as unknown[]).length;
    rows += b.nights.length + b.reservations.size;
  }
  processMetrics.committed(Number(process.hrtime.bigint() - started) / 1e9, batches.length, commands, rows);
}

export class ShardStore {
  private readonly planSizeCheckMs: number;

  constructor(
    readonly pool: Pool,
    readonly horizonDays: number,
    options: { planSizeCheckMs?: number } = {},
  ) {
    this.planSizeCheckMs = options.planSizeCheckMs ?? planSizeCheckMsDefault;
  }

  /**
   * Part of every named statement's name: the size class (log2 of pages) of each table they join. It changes when a
   * table has doubled, and the statements are then planned again for the tables as they are (a prepared statement's
   * plan otherwise keeps the sizes it was made with, whoever grew the tables since: this store or another owner's).
   */
  private planTag = '';
  private sizesCheckedAt = Number.NEGATIVE_INFINITY;
  private sizesChecking: Promise<void> | undefined;

  private refreshPlanTag(): Promise<void> {
    if (this.sizesChecking) return this.sizesChecking;
    if (Date.now() - this.sizesCheckedAt < this.planSizeCheckMs) return Promise.resolve();
    this.sizesCheckedAt = Date.now();
    this.sizesChecking = this.pool
      .query(
        `SELECT current_setting('block_size')::int AS block,
                ARRAY[pg_relation_size('reservations'), pg_relation_size('room_type_inventory'), pg_relation_size('hotels'),
                      pg_relation_size('room_types')]::text[] AS sizes`,
      )
      .then((res) => {
        const { block, sizes } = res.rows[0] as { block: number; sizes: string[] };
        this.planTag = sizes.map((bytes) => Math.floor(Math.log2(1 + Number(bytes) / block))).join('.');
      })
      // Unreachable now: the statement that follows says so; the tag stays as it was.
      .catch(() => {})
      .finally(() => {
        this.sizesChecking = undefined;
      });
    return this.sizesChecking;
  }

  /**
   * Take a shard: one more epoch, recorded with the new owner's name. Every later commit is checked against it.
   * Refused (ShardNotHomeError) when the shard moved away from this database or is a copy not yet flipped to (see
   * shard migration 007); a seal left by a move whose owner died is lifted (that move starts again, or fails).
   */
  async takeShard(shard: number, owner: string): Promise<number> {
    const r = await this.pool.query(
      `INSERT INTO shard_leases (shard, epoch, owner, taken_at) VALUES ($1, 1, $2, now())
       ON CONFLICT (shard) DO UPDATE SET epoch = shard_leases.epoch + 1, owner = $2, taken_at = now(), moved_to = NULL
        WHERE shard_leases.moved_to IS NULL OR shard_leases.moved_to LIKE 'sealed:%'
       RETURNING epoch`,
      [shard, owner],
    );
    if (r.rowCount === 0) {
      const m = await this.pool.query('SELECT moved_to FROM shard_leases WHERE shard = $1', [shard]);
      throw new ShardNotHomeError(shard, String(m.rows[0]?.moved_to));
    }
    return Number(r.rows[0].epoch);
  }

  /**
   * Forget the stored replies of jobs committed long ago (a redelivery or a late reader comes within minutes; the
   * bound is days). Answers how many rows went, at most `max` per call.
   */
  async pruneAppliedJobs(shard: number, olderThanDays: number, max = 5_000): Promise<number> {
    const r = await this.pool.query(
      `DELETE FROM applied_jobs WHERE job_id IN (
         SELECT job_id FROM applied_jobs WHERE shard = $1 AND applied_at < now() - make_interval(days => $2) LIMIT $3)
         AND shard_is_home($1)`,
      [shard, olderThanDays, max],
    );
    return r.rowCount ?? 0;
  }

  /** The shard's hotels, most recently changed first. */
  async hotelIdsOfShard(shard: number, limit: number): Promise<string[]> {
    const r = await this.pool.query(
      'SELECT id FROM hotels WHERE shard = $1 AND deleted_at IS NULL ORDER BY version DESC LIMIT $2',
      [shard, limit],
    );
    return r.rows.map((x) => x.id as string);
  }

  async appliedReplies(jobKey: string): Promise<unknown | undefined> {
    const r = await this.pool.query('SELECT replies FROM applied_jobs WHERE job_id = $1', [jobKey]);
    return r.rowCount ? r.rows[0].replies : undefined;
  }

  /**
   * Load hotels into fresh states covering each one's window of nights. When a room type's rows stop short of the
   * horizon (the calendar moved on since they were made), the missing nights are created from its defaults and
   * that hotel is loaded again.
   */
  async loadHotels(ids: string[], nowMs: number, extended = false): Promise<Map<string, HotelState>> {
    const out = new Map<string, HotelState>();
    if (ids.length === 0) return out;
    const hotels = await this.pool.query(
      `SELECT ${hotelColumns}, pricing_tiers, event_sequence,
              (SELECT l.first_seq + cardinality(l.command) - 1 FROM audit_log l WHERE l.hotel_id = hotels.id
                ORDER BY l.first_seq DESC LIMIT 1) AS audit_sequence
         FROM hotels WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL`,
      [ids],
    );
    if (hotels.rowCount === 0) return out;
    let minDay = Number.POSITIVE_INFINITY;
    let maxDay = Number.NEGATIVE_INFINITY;
    for (const row of hotels.rows) {
      const hotel = hotelFromRow(row);
      const w = hotelWindow(nowMs, hotel.timezone, this.horizonDays);
      const state = newHotelState(hotel, w.firstDay, w.endDay, pricingTiersFromRow(row));
      loadedSequences.set(state, { events: Number(row.event_sequence ?? 0), audit: Number(row.audit_sequence ?? 0) });
      out.set(hotel.id, state);
      minDay = Math.min(minDay, w.firstDay);
      maxDay = Math.max(maxDay, w.endDay);
    }
    const found = [...out.keys()];
    await this.refreshPlanTag();
    const [types, nights] = await Promise.all([
      this.pool.query(
        `SELECT ${roomTypeColumns} FROM room_types WHERE hotel_id = ANY($1::uuid[]) AND deleted_at IS NULL`,
        [found],
      ),
      // One row per room type, with its nights as runs: only a night whose values differ from the night before
      // starts a new run ("offset,total,limit,reserved,rate", ';'-separated). Two years of nights mostly alike
      // arrive as a few dozen numbers, not thousands (loading a hotel makes little garbage and little work).
      this.pool.query({
        name: `shard-load-night-runs-${this.planTag}`,
        text: `SELECT room_type_id, min(date)::text AS first, count(*)::int AS n, max(date) - min(date) + 1 AS span,
                      string_agg(CASE WHEN changed THEN concat_ws(',', date - first_date, total_inventory, sellable_limit, reserved, rate) END,
                                 ';' ORDER BY date) AS runs
                 FROM (SELECT i.room_type_id, i.date, i.total_inventory, i.sellable_limit, i.reserved, i.rate,
                              min(i.date) OVER (PARTITION BY i.room_type_id) AS first_date,
                              (i.total_inventory, i.sellable_limit, i.reserved, i.rate) IS DISTINCT FROM
                                (lag(i.total_inventory) OVER w, lag(i.sellable_limit) OVER w, lag(i.reserved) OVER w, lag(i.rate) OVER w) AS changed
                         FROM room_type_inventory i JOIN room_types t ON t.id = i.room_type_id AND t.deleted_at IS NULL
                        WHERE i.hotel_id = ANY($1::uuid[]) AND i.date >= $2::date AND i.date < $3::date
                       WINDOW w AS (PARTITION BY i.room_type_id ORDER BY i.date)) x
                GROUP BY room_type_id`,
        values: [found, formatDay(minDay), formatDay(maxDay)],
      }),
    ]);
    const tableOf = new Map<string, ReturnType<typeof newNightTable>>();
    for (const row of types.rows) {
      const rt = roomTypeFromRow(row);
      const state = out.get(rt.hotelId) as HotelState;
      const nightsTable = newNightTable(state.firstDay, state.endDay);
      state.roomTypes.set(rt.id, { roomType: rt, nights: nightsTable });
      tableOf.set(rt.id, nightsTable);
    }
    const short = new Set<string>();
    const reached = new Map<string, number>();
    for (const row of nights.rows) {
      const t = tableOf.get(row.room_type_id);
      if (!t) continue;
      reached.set(row.room_type_id, (parseDay(row.first) as number) + row.n - 1);
      if (Number(row.span) !== row.n) throw new Error(`assertion: inventory rows of room type ${row.room_type_id} have gaps`);
      fillFromRuns(t, (parseDay(row.first) as number) - t.firstDay, row.n, row.runs);
    }
    for (const state of out.values()) {
      for (const id of state.roomTypes.keys()) {
        if ((reached.get(id) ?? Number.NEGATIVE_INFINITY) < state.endDay - 1) short.add(state.hotel.id);
      }
    }
    if (short.size > 0 && !extended) {
      const ids = [...short];
      await this.extendHorizon(ids, ids.map((id) => out.get(id) as HotelState).map((s) => ({ today: s.firstDay + pastNightsKept, endDay: s.endDay })));
      for (const [id, state] of await this.loadHotels(ids, nowMs, true)) out.set(id, state);
    }
    return out;
  }

  /**
   * The shard's hotels whose room types lack nights that entered the horizon since (a hotel's local midnight adds
   * one), extended: rows are made when a hotel is loaded, and a hotel nobody asks its writer about is not, so its
   * newest night would read as sold out and be left out of search until then. Run by the shard's owner now and then
   * (the rows are the room types' defaults, as a load makes them: it adds nights, never changes one). Answers the
   * hotels extended.
   */
  async rollHorizon(shard: number, nowMs: number): Promise<number> {
    const r = await this.pool.query<{ id: string; timezone: string; last: string | null }>(
      `SELECT h.id::text, h.timezone,
              min((SELECT max(i.date) FROM room_type_inventory i WHERE i.room_type_id = t.id))::text AS last
         FROM hotels h JOIN room_types t ON t.hotel_id = h.id AND t.deleted_at IS NULL
        WHERE h.shard = $1 AND h.deleted_at IS NULL AND shard_is_home($1)
        GROUP BY h.id, h.timezone`,
      [shard],
    );
    const ids: string[] = [];
    const windows: { today: number; endDay: number }[] = [];
    for (const x of r.rows) {
      const w = hotelWindow(nowMs, x.timezone, this.horizonDays);
      if (x.last !== null && (parseDay(x.last) as number) >= w.endDay - 1) continue;
      ids.push(x.id);
      windows.push(w);
    }
    for (let i = 0; i < ids.length; i += hotelsExtendedAtOnce) {
      await this.extendHorizon(ids.slice(i, i + hotelsExtendedAtOnce), windows.slice(i, i + hotelsExtendedAtOnce));
    }
    return ids.length;
  }

  /** Create inventory rows for nights that entered the horizon since a room type's rows were made. */
  private async extendHorizon(hotelIds: string[], windows: { today: number; endDay: number }[]): Promise<void> {
    const ends = windows.map((w) => formatDay(w.endDay));
    const todays = windows.map((w) => formatDay(w.today));
    // Guarantees: every live room type of these hotels has a row for each night of [today, endDay), created from
    // its defaults when missing; existing rows are untouched. Cheap when nothing is missing (index-only probe).
    await this.pool.query(
      `WITH w AS (SELECT * FROM unnest($1::uuid[], $2::date[], $3::date[]) AS w(hotel_id, today, end_day)),
            need AS (
              SELECT t.id, t.hotel_id, t.total_inventory, t.base_rate, h.overbooking_percent, w.today, w.end_day,
                     (SELECT max(date) FROM room_type_inventory i WHERE i.room_type_id = t.id) AS last_day
                FROM room_types t JOIN w ON w.hotel_id = t.hotel_id JOIN hotels h ON h.id = t.hotel_id
               WHERE t.deleted_at IS NULL)
       INSERT INTO room_type_inventory (hotel_id, room_type_id, date, total_inventory, sellable_limit, reserved, rate)
       SELECT need.hotel_id, need.id, d::date, need.total_inventory,
              floor(need.total_inventory * (100 + need.overbooking_percent) / 100.0)::int, 0, need.base_rate
         FROM need, generate_series(GREATEST(need.today, COALESCE(need.last_day + 1, need.today)),
                                    need.end_day - 1, interval '1 day') AS d
        WHERE need.last_day IS NULL OR need.last_day < need.end_day - 1
       ON CONFLICT DO NOTHING`,
      [hotelIds, todays, ends],
    );
  }

  /** Which of these hotel and room type ids name a deleted one. */
  async deletedIds(hotelIds: string[], roomTypeIds: string[]): Promise<Set<string>> {
    const r = await this.pool.query(
      `SELECT id::text FROM hotels WHERE id = ANY($1::uuid[]) AND deleted_at IS NOT NULL
       UNION ALL
       SELECT id::text FROM room_types WHERE id = ANY($2::uuid[]) AND deleted_at IS NOT NULL`,
      [hotelIds, roomTypeIds],
    );
    return new Set(r.rows.map((x) => x.id as string));
  }

  /** The reservations of these hotels that still owe money (a refund or a void): a deletion must wait for them. */
  async loadOwingReservations(hotelIds: string[]): Promise<Reservation[]> {
    if (hotelIds.length === 0) return [];
    const r = await this.pool.query(`SELECT ${reservationColumns} FROM reservations WHERE hotel_id = ANY($1::uuid[]) AND money_due_at IS NOT NULL`, [hotelIds]);
    return r.rows.map(reservationFromRow);
  }

  /** Reservations by id (any hotel of this database), for idempotency checks and status changes. */
  async loadReservations(ids: string[]): Promise<Reservation[]> {
    if (ids.length === 0) return [];
    const r = await this.pool.query(`SELECT ${reservationColumns} FROM reservations WHERE id = ANY($1::uuid[])`, [ids]);
    return r.rows.map(reservationFromRow);
  }

  /**
   * Persist one batch (the decisions of one or more jobs of one shard): everything or nothing, and nothing at all
   * unless this owner's epoch is still current. Batches that arrive while a commit of this database is in flight
   * wait for it and then go together, shards mixed, in one transaction (group commit: no added wait when idle,
   * bigger commits under load). Each caller still learns its own outcome: when the database refuses a group (see
   * isRefusal), its batches are committed again one by one, so one refused batch (or a fenced shard) fails alone.
   */
  commit(b: CommitBatch): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ batch: b, resolve, reject });
      if (this.committing < commitsInFlightPerDatabaseMax) void this.flush();
    });
  }

  private readonly pending: { batch: CommitBatch; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private committing = 0;

  private async flush(): Promise<void> {
    this.committing++;
    try {
      while (this.pending.length > 0) {
        const group = this.takeGroup();
        await this.refreshPlanTag();
        try {
          const started = process.hrtime.bigint();
          await this.commitTogether(group.map((g) => g.batch));
          observeCommit(started, group.map((g) => g.batch));
          for (const g of group) g.resolve();
        } catch (err) {
          // The database failing (not refusing what a batch carries) fails every batch of the group alike: each
          // owner retries its own in place.
          if (group.length === 1 || !isRefusal(err)) {
            for (const g of group) g.reject(err);
            continue;
          }
          for (const g of group) {
            const started = process.hrtime.bigint();
            await this.commitTogether([g.batch]).then(() => {
              observeCommit(started, [g.batch]);
              g.resolve();
            }, g.reject);
          }
        }
      }
    } finally {
      this.committing--;
    }
  }

  /** The oldest pending batches, up to the size of one commit. */
  private takeGroup() {
    let n = 0;
    let rows = 0;
    while (n < this.pending.length && n < commitBatchesMax) {
      rows += this.pending[n].batch.nights.length + this.pending[n].batch.reservations.size;
      n++;
      if (rows >= commitRowsMax) break;
    }
    return this.pending.splice(0, n);
  }

  /** One transaction for batches of distinct shards. A group without structural events is one statement. */
  private async commitTogether(batches: CommitBatch[]): Promise<void> {
    const structural = batches.some((b) => b.events.some((e) => !plainEvents.has(e.type)));
    if (!structural) {
      await writeJobs(this.pool, batches, this.planTag);
      return;
    }
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      for (const b of batches) await this.fence(client, b.shard, b.epoch);
      for (const b of batches) for (const e of b.events) if (!plainEvents.has(e.type)) await this.persistStructural(client, e, b.shard, b);
      await writeJobs(client, batches, this.planTag);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  private async fence(client: PoolClient, shard: number, epoch: number): Promise<void> {
    // FOR SHARE blocks a new owner's epoch bump until this transaction ends, so a commit that passed the check
    // cannot interleave with a takeover.
    const r = await client.query('SELECT epoch FROM shard_leases WHERE shard = $1 FOR SHARE', [shard]);
    const current = r.rowCount ? Number(r.rows[0].epoch) : undefined;
    if (current !== epoch) throw new FencedError(shard, epoch, current);
  }

  /**
   * Guarantees: a row for each night of [fromDay, toDay) of the room type, those it lacked made from its defaults
   * (under the hotel's overbooking as this transaction has it) with nothing reserved; a night that exists is left
   * as it is. For a new room type (roomType.created) and for the nights a hotel's new time zone needs (hotel.updated).
   */
  private async createNights(client: PoolClient, rt: RoomType, fromDay: number, toDay: number): Promise<void> {
    await client.query(
      `INSERT INTO room_type_inventory (hotel_id, room_type_id, date, total_inventory, sellable_limit, reserved, rate)
       SELECT $1, $2, d::date, $3, floor($3 * (100 + h.overbooking_percent) / 100.0)::int, 0, $4
         FROM hotels h, generate_series($5::date, $6::date - 1, interval '1 day') AS d
        WHERE h.id = $1
       ON CONFLICT DO NOTHING`,
      [rt.hotelId, rt.id, rt.totalInventory, rt.baseRate, formatDay(fromDay), formatDay(toDay)],
    );
  }

  /** Hotels and room types: rare events, one statement each, in decision order. */
  private async persistStructural(client: PoolClient, e: HotelEvent, shard: number, b: CommitBatch): Promise<void> {
    switch (e.type) {
      case 'hotel.created': {
        const h = e.hotel;
        await client.query(
          `INSERT INTO hotels (id, shard, name, city, country, timezone, currency, overbooking_percent, version, created_at,
                               free_until_hours_before, penalty_percent)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
          [h.id, shard, h.name, h.city, h.country, h.timezone, h.currency, h.overbookingPercent, h.version, h.createdAt,
            h.cancellationPolicy.freeUntilHoursBefore, h.cancellationPolicy.penaltyPercent],
        );
        return;
      }
      case 'hotel.updated': {
        const h = e.hotel;
        await client.query(
          `UPDATE hotels SET name = $2, city = $3, country = $4, timezone = $5, currency = $6, overbooking_percent = $7,
                  free_until_hours_before = $8, penalty_percent = $9
            WHERE id = $1`,
          [h.id, h.name, h.city, h.country, h.timezone, h.currency, h.overbookingPercent,
            h.cancellationPolicy.freeUntilHoursBefore, h.cancellationPolicy.penaltyPercent],
        );
        for (const n of e.nightsCreated ?? []) await this.createNights(client, n.roomType, n.fromDay, n.toDay);
        return;
      }
      case 'hotel.deleted':
        await client.query('UPDATE hotels SET deleted_at = now() WHERE id = $1', [e.hotelId]);
        // Guarantees: no hold of a deleted hotel stays pending (a hotel is deleted only when no pending or paid stay
        // reaches today, but a hold of a stay that just ended may still run): each is canceled, with its event.
        // Set-based here because the writer's memory need not hold every reservation of the hotel. Their events
        // follow the last sequence the round gave the hotel, and the hotel's high-water mark moves past them (the
        // commit statement after this one keeps the greater value).
        {
          let base = 0;
          if (b.eventSequences) {
            for (let k = 0; k < b.events.length; k++) {
              const x = b.events[k];
              if ((x.type === 'reservation.created' || x.type === 'reservation.status') && x.reservation.hotelId === e.hotelId) base = Math.max(base, b.eventSequences[k]);
            }
          }
          await client.query(
            `WITH c AS (
               UPDATE reservations SET status = 'canceled', cancel_reason = 'hotel_deleted', expires_at = NULL,
                      version = version + 1, updated_at = now()
                WHERE hotel_id = $1 AND status = 'pending'
               RETURNING id, status, cancel_reason, version, updated_at),
             base AS (SELECT GREATEST($4::bigint, event_sequence) AS s FROM hotels WHERE id = $1),
             box AS (
               INSERT INTO outbox (shard, hotel_id, version, type, reservation_id, status, expires_at, cancel_reason,
                                   reservation_version, updated_at, sequence)
               SELECT $2, $1, $3, 'reservation.canceled', id, status, NULL, cancel_reason, version, updated_at,
                      (SELECT s FROM base) + row_number() OVER (ORDER BY id)
                 FROM c
               RETURNING sequence)
           UPDATE hotels SET event_sequence = GREATEST(event_sequence, $4::bigint, (SELECT max(sequence) FROM box)) WHERE id = $1`,
            [e.hotelId, shard, e.version, base],
          );
        }
        return;
      case 'roomType.created': {
        const rt = e.roomType;
        await client.query(
          `INSERT INTO room_types (id, hotel_id, name, max_guests, total_inventory, base_rate, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, now())`,
          [rt.id, rt.hotelId, rt.name, rt.maxGuests, rt.totalInventory, rt.baseRate],
        );
        await this.createNights(client, rt, e.fromDay, e.toDay);
        return;
      }
      case 'roomType.updated':
        await client.query('UPDATE room_types SET name = $2, max_guests = $3 WHERE id = $1', [
          e.roomType.id,
          e.roomType.name,
          e.roomType.maxGuests,
        ]);
        return;
      case 'roomType.deleted':
        // Its rooms go with it (a room write holds the room type's row FOR SHARE, so none slips in after this).
        await client.query('UPDATE room_types SET deleted_at = now() WHERE id = $1', [e.roomTypeId]);
        await client.query('DELETE FROM rooms WHERE room_type_id = $1', [e.roomTypeId]);
        return;
      case 'pricing.set':
        // The version is written with every other hotel's, by the commit statement.
        await client.query('UPDATE hotels SET pricing_tiers = $2::jsonb WHERE id = $1', [e.hotelId, JSON.stringify(e.tiers)]);
        return;
      default:
        // Inventory, rates and reservations are written set-based after the structural events.
        return;
    }
  }




}

/**
 * Fill a night table from runs ("offset,total,limit,reserved,rate;…", offsets from the first night, which is at
 * index `at` of the table; each run lasts until the next one, the last until night `n`). Nights outside the table
 * are skipped.
 */
export function fillFromRuns(t: NightTable, at: number, n: number, runs: string): void {
  const parsed = runs.split(';').map((r) => r.split(',').map(Number));
  const size = t.total.length;
  for (let k = 0; k < parsed.length; k++) {
    const [offset, total, limit, reserved, rate] = parsed[k];
    const from = Math.max(0, at + offset);
    const to = Math.min(size, at + (k + 1 < parsed.length ? parsed[k + 1][0] : n));
    if (from >= to) continue;
    t.total.fill(total, from, to);
    t.limit.fill(limit, from, to);
    t.reserved.fill(reserved, from, to);
    t.rate.fill(rate, from, to);
  }
}

export type { Reply };
