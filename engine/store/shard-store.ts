// The writer's side of a shard database: take a shard (bump its epoch), load hotels into memory, and persist one
// job's events in one fenced transaction with set-based statements.
import { pastNightsKept } from '../limits.js';
import { formatDay, localDay, parseDay } from '../core/dates.js';
import { newHotelState } from '../core/evolve.js';
import { newNightTable } from '../core/night-table.js';
import type { HotelEvent, HotelState, Reply, Reservation } from '../core/types.js';
import type { Pool, PoolClient } from './pg.js';
import { hotelColumns, hotelFromRow, reservationColumns, reservationFromRow, roomTypeColumns, roomTypeFromRow } from './rows.js';

/** Thrown when a commit finds another owner's epoch: this process no longer owns the shard. */
export class FencedError extends Error {
  constructor(shard: number, mine: number, current: number | undefined) {
    super(`shard ${shard}: epoch ${mine} is fenced off (current ${current ?? 'none'})`);
  }
}

/** The window of nights a hotel's state covers, from its own "today". */
export function hotelWindow(nowMs: number, timezone: string, horizonDays: number) {
  const today = localDay(nowMs, timezone);
  return { today, firstDay: today - pastNightsKept, endDay: today + horizonDays };
}

/** A night whose final values a job's commit writes: reserved moves by `delta`, the rest is set from memory. */
export interface NightWrite {
  hotelId: string;
  roomTypeId: string;
  day: number;
  delta: number;
  total: number | null;
  limit: number | null;
  rate: number | null;
}

export interface CommitBatch {
  shard: number;
  epoch: number;
  jobKey: string;
  replies: unknown;
  events: HotelEvent[];
  nights: NightWrite[];
  /** Final version per hotel touched. */
  versions: Map<string, number>;
  /** Final representation of each reservation the job created or changed. */
  reservations: Map<string, { reservation: Reservation; created: boolean }>;
}

export class ShardStore {
  constructor(
    readonly pool: Pool,
    readonly horizonDays: number,
  ) {}

  /** Take a shard: one more epoch, recorded with the new owner's name. Every later commit is checked against it. */
  async takeShard(shard: number, owner: string): Promise<number> {
    const r = await this.pool.query(
      `INSERT INTO shard_leases (shard, epoch, owner, taken_at) VALUES ($1, 1, $2, now())
       ON CONFLICT (shard) DO UPDATE SET epoch = shard_leases.epoch + 1, owner = $2, taken_at = now()
       RETURNING epoch`,
      [shard, owner],
    );
    return Number(r.rows[0].epoch);
  }

  async appliedReplies(jobKey: string): Promise<unknown | undefined> {
    const r = await this.pool.query('SELECT replies FROM applied_jobs WHERE job_id = $1', [jobKey]);
    return r.rowCount ? r.rows[0].replies : undefined;
  }

  /**
   * Load hotels into fresh states covering each one's window of nights. Missing nights at the end of the horizon
   * (the calendar moved on since the rows were made) are created first from the room type's defaults.
   */
  async loadHotels(ids: string[], nowMs: number): Promise<Map<string, HotelState>> {
    const out = new Map<string, HotelState>();
    if (ids.length === 0) return out;
    const hotels = await this.pool.query(
      `SELECT ${hotelColumns} FROM hotels WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL`,
      [ids],
    );
    if (hotels.rowCount === 0) return out;
    let minDay = Number.POSITIVE_INFINITY;
    let maxDay = Number.NEGATIVE_INFINITY;
    for (const row of hotels.rows) {
      const hotel = hotelFromRow(row);
      const w = hotelWindow(nowMs, hotel.timezone, this.horizonDays);
      out.set(hotel.id, newHotelState(hotel, w.firstDay, w.endDay));
      minDay = Math.min(minDay, w.firstDay);
      maxDay = Math.max(maxDay, w.endDay);
    }
    const found = [...out.keys()];
    await this.extendHorizon(found, [...out.values()]);
    const [types, nights] = await Promise.all([
      this.pool.query(
        `SELECT ${roomTypeColumns} FROM room_types WHERE hotel_id = ANY($1::uuid[]) AND deleted_at IS NULL`,
        [found],
      ),
      // One row per room type with its nights as comma-separated columns: thousands of nights per hotel arrive
      // as a few strings instead of thousands of rows.
      this.pool.query(
        `SELECT i.room_type_id, min(i.date) AS first, count(*)::int AS n,
                string_agg(i.total_inventory::text, ',' ORDER BY i.date) AS total,
                string_agg(i.sellable_limit::text, ',' ORDER BY i.date) AS lim,
                string_agg(i.reserved::text, ',' ORDER BY i.date) AS reserved,
                string_agg(i.rate::text, ',' ORDER BY i.date) AS rate,
                max(i.date) - min(i.date) + 1 AS span
           FROM room_type_inventory i JOIN room_types t ON t.id = i.room_type_id AND t.deleted_at IS NULL
          WHERE i.hotel_id = ANY($1::uuid[]) AND i.date >= $2::date AND i.date < $3::date
          GROUP BY i.room_type_id`,
        [found, formatDay(minDay), formatDay(maxDay)],
      ),
    ]);
    const tableOf = new Map<string, ReturnType<typeof newNightTable>>();
    for (const row of types.rows) {
      const rt = roomTypeFromRow(row);
      const state = out.get(rt.hotelId) as HotelState;
      const nightsTable = newNightTable(state.firstDay, state.endDay);
      state.roomTypes.set(rt.id, { roomType: rt, nights: nightsTable });
      tableOf.set(rt.id, nightsTable);
    }
    for (const row of nights.rows) {
      const t = tableOf.get(row.room_type_id);
      if (!t) continue;
      if (Number(row.span) !== row.n) throw new Error(`assertion: inventory rows of room type ${row.room_type_id} have gaps`);
      const first = parseDay(row.first) as number;
      const cols = [row.total, row.lim, row.reserved, row.rate].map((c: string) => c.split(','));
      for (let k = 0; k < row.n; k++) {
        const i = first + k - t.firstDay;
        if (i < 0 || i >= t.total.length) continue;
        t.total[i] = Number(cols[0][k]);
        t.limit[i] = Number(cols[1][k]);
        t.reserved[i] = Number(cols[2][k]);
        t.rate[i] = Number(cols[3][k]);
      }
    }
    return out;
  }

  /** Create inventory rows for nights that entered the horizon since a room type's rows were made. */
  private async extendHorizon(hotelIds: string[], states: HotelState[]): Promise<void> {
    const ends = states.map((s) => formatDay(s.endDay));
    const todays = states.map((s) => formatDay(s.firstDay + pastNightsKept));
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

  /** Reservations by id (any hotel of this database), for idempotency checks and status changes. */
  async loadReservations(ids: string[]): Promise<Reservation[]> {
    if (ids.length === 0) return [];
    const r = await this.pool.query(`SELECT ${reservationColumns} FROM reservations WHERE id = ANY($1::uuid[])`, [ids]);
    return r.rows.map(reservationFromRow);
  }

  /** Persist one job: everything or nothing, and nothing at all unless this owner's epoch is still current. */
  async commit(b: CommitBatch): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await this.fence(client, b.shard, b.epoch);
      for (const e of b.events) await this.persistStructural(client, e, b.shard);
      await this.persistReservations(client, b);
      await this.persistNights(client, b.nights);
      await this.persistVersions(client, b.versions);
      await this.persistOutbox(client, b);
      await client.query('INSERT INTO applied_jobs (job_id, shard, replies) VALUES ($1, $2, $3)', [
        b.jobKey,
        b.shard,
        JSON.stringify(b.replies),
      ]);
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

  /** Hotels and room types: rare events, one statement each, in decision order. */
  private async persistStructural(client: PoolClient, e: HotelEvent, shard: number): Promise<void> {
    switch (e.type) {
      case 'hotel.created': {
        const h = e.hotel;
        await client.query(
          `INSERT INTO hotels (id, shard, name, city, country, timezone, currency, overbooking_percent, version, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [h.id, shard, h.name, h.city, h.country, h.timezone, h.currency, h.overbookingPercent, h.version, h.createdAt],
        );
        return;
      }
      case 'hotel.updated': {
        const h = e.hotel;
        await client.query(
          `UPDATE hotels SET name = $2, city = $3, country = $4, timezone = $5, currency = $6, overbooking_percent = $7
            WHERE id = $1`,
          [h.id, h.name, h.city, h.country, h.timezone, h.currency, h.overbookingPercent],
        );
        return;
      }
      case 'hotel.deleted':
        await client.query('UPDATE hotels SET deleted_at = now() WHERE id = $1', [e.hotelId]);
        return;
      case 'roomType.created': {
        const rt = e.roomType;
        await client.query(
          `INSERT INTO room_types (id, hotel_id, name, max_guests, total_inventory, base_rate, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, now())`,
          [rt.id, rt.hotelId, rt.name, rt.maxGuests, rt.totalInventory, rt.baseRate],
        );
        // Guarantees: one row per night of [fromDay, toDay) with the room type's defaults and nothing reserved.
        await client.query(
          `INSERT INTO room_type_inventory (hotel_id, room_type_id, date, total_inventory, sellable_limit, reserved, rate)
           SELECT $1, $2, d::date, $3, floor($3 * (100 + h.overbooking_percent) / 100.0)::int, 0, $4
             FROM hotels h, generate_series($5::date, $6::date - 1, interval '1 day') AS d
            WHERE h.id = $1`,
          [rt.hotelId, rt.id, rt.totalInventory, rt.baseRate, formatDay(e.fromDay), formatDay(e.toDay)],
        );
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
        await client.query('UPDATE room_types SET deleted_at = now() WHERE id = $1', [e.roomTypeId]);
        return;
      default:
        // Inventory, rates and reservations are written set-based after the structural events.
        return;
    }
  }

  private async persistReservations(client: PoolClient, b: CommitBatch): Promise<void> {
    const created: Reservation[] = [];
    const changed: Reservation[] = [];
    for (const { reservation, created: isNew } of b.reservations.values()) (isNew ? created : changed).push(reservation);
    if (created.length > 0) {
      const c = columnsOf(created);
      await client.query(
        `INSERT INTO reservations (id, hotel_id, room_type_id, check_in, check_out, room_count, status, total_amount,
                                   currency, guest_name, guest_email, owner_kind, owner_id, fingerprint, created_at,
                                   expires_at, cancel_reason, version, updated_at)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::date[], $5::date[], $6::int[], $7::text[],
                              $8::bigint[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
                              $15::timestamptz[], $16::timestamptz[], $17::text[], $18::int[], $19::timestamptz[])`,
        c,
      );
    }
    if (changed.length > 0) {
      await client.query(
        `UPDATE reservations r SET status = v.status, expires_at = v.expires_at, cancel_reason = v.cancel_reason,
                version = v.version, updated_at = v.updated_at
           FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[], $5::int[], $6::timestamptz[])
                AS v(id, status, expires_at, cancel_reason, version, updated_at)
          WHERE r.id = v.id`,
        [
          changed.map((r) => r.id),
          changed.map((r) => r.status),
          changed.map((r) => r.expiresAt),
          changed.map((r) => r.cancelReason),
          changed.map((r) => r.version),
          changed.map((r) => r.updatedAt),
        ],
      );
    }
  }

  private async persistNights(client: PoolClient, nights: NightWrite[]): Promise<void> {
    if (nights.length === 0) return;
    // Guarantees: each touched night is updated exactly once, so the CHECK sees only the job's final values.
    const r = await client.query(
      `UPDATE room_type_inventory i
          SET reserved = i.reserved + v.delta,
              total_inventory = COALESCE(v.total, i.total_inventory),
              sellable_limit = COALESCE(v.lim, i.sellable_limit),
              rate = COALESCE(v.rate, i.rate)
         FROM unnest($1::uuid[], $2::date[], $3::int[], $4::int[], $5::int[], $6::bigint[])
              AS v(room_type_id, date, delta, total, lim, rate)
        WHERE i.room_type_id = v.room_type_id AND i.date = v.date`,
      [
        nights.map((n) => n.roomTypeId),
        nights.map((n) => formatDay(n.day)),
        nights.map((n) => n.delta),
        nights.map((n) => n.total),
        nights.map((n) => n.limit),
        nights.map((n) => n.rate),
      ],
    );
    if (r.rowCount !== nights.length) {
      throw new Error(`assertion: ${nights.length} nights to write but ${r.rowCount} inventory rows matched`);
    }
  }

  private async persistVersions(client: PoolClient, versions: Map<string, number>): Promise<void> {
    if (versions.size === 0) return;
    await client.query(
      `UPDATE hotels h SET version = v.version FROM unnest($1::uuid[], $2::bigint[]) AS v(id, version)
        WHERE h.id = v.id`,
      [[...versions.keys()], [...versions.values()]],
    );
  }

  private async persistOutbox(client: PoolClient, b: CommitBatch): Promise<void> {
    const rows = b.events.filter((e) => e.type === 'reservation.created' || e.type === 'reservation.status');
    if (rows.length === 0) return;
    await client.query(
      `INSERT INTO outbox (shard, hotel_id, version, type, payload)
       SELECT $1, * FROM unnest($2::uuid[], $3::bigint[], $4::text[], $5::jsonb[])`,
      [
        b.shard,
        rows.map((e) => (e as { reservation: Reservation }).reservation.hotelId),
        rows.map((e) => e.version),
        rows.map((e) => (e.type === 'reservation.created' ? 'reservation.created' : `reservation.${(e as { reservation: Reservation }).reservation.status}`)),
        rows.map((e) => JSON.stringify((e as { reservation: Reservation }).reservation)),
      ],
    );
  }
}

function columnsOf(list: Reservation[]): unknown[][] {
  return [
    list.map((r) => r.id),
    list.map((r) => r.hotelId),
    list.map((r) => r.roomTypeId),
    list.map((r) => r.checkIn),
    list.map((r) => r.checkOut),
    list.map((r) => r.roomCount),
    list.map((r) => r.status),
    list.map((r) => r.totalAmount),
    list.map((r) => r.currency),
    list.map((r) => r.guest.name),
    list.map((r) => r.guest.email),
    list.map((r) => r.owner.kind),
    list.map((r) => r.owner.id),
    list.map((r) => r.fingerprint),
    list.map((r) => r.createdAt),
    list.map((r) => r.expiresAt),
    list.map((r) => r.cancelReason),
    list.map((r) => r.version),
    list.map((r) => r.updatedAt),
  ];
}

export type { Reply };
