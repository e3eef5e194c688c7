// Reads the API answers straight from the shard databases (committed state only; writes go through the writers).
import { formatDay, parseDay } from '../core/dates.js';
import type { Hotel, PricingTier, Reservation, RoomType } from '../core/types.js';
import { shardOf } from '../shard-map.js';
import type { ShardDirectory } from '../shard-directory.js';
import { shardAtHome, shardReadError, type Pool, type PoolClient } from './pg.js';
import type { ReservationClaims } from './reservation-claims.js';
import { hotelColumns, hotelFromRow, pricingTiersFromRow, reservationColumns, reservationFromRow, roomTypeColumns, roomTypeFromRow } from './rows.js';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Room {
  id: string;
  hotelId: string;
  roomTypeId: string;
  number: string;
  floor: number | null;
}

/** A night as stored: its counts and its base rate (the price shown follows from them and the hotel's tiers). */
export interface StoredNight {
  date: string;
  totalInventory: number;
  limit: number;
  reserved: number;
  rate: number;
}

export interface StoredRoomTypeNights {
  roomTypeId: string;
  name: string;
  nights: StoredNight[];
}

export interface ReservationFilter {
  owner?: { kind: string; id: string };
  hotelIds?: string[];
  status?: string;
}

export const encodeCursor = (id: string) => Buffer.from(id).toString('base64url');
export function decodeCursor(c: string | undefined): string | undefined {
  if (!c) return undefined;
  const id = Buffer.from(c, 'base64url').toString();
  return /^[0-9a-f-]{36}$/.test(id) ? id : undefined;
}

/** Merge per-database pages ordered by id into one page. */
function mergePages<T extends { id: string }>(parts: T[][], limit: number): Page<T> {
  const all = parts.flat().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const items = all.slice(0, limit);
  return { items, nextCursor: all.length > limit ? encodeCursor(items[items.length - 1].id) : null };
}

/** A room write met a shard that a move is copying, or one that moved: the writer asks the map again and retries. */
class ShardAwayError extends Error {}

/** How long an API room write waits for a move of its shard to end before it answers 503. */
const roomWriteWaitMs = 15_000;

export class ShardReader {
  private readonly down = new Map<number, boolean>();
  private probe: NodeJS.Timeout | undefined;

  constructor(
    readonly directory: ShardDirectory,
    private readonly shardCount: number,
    private readonly claims?: Pick<ReservationClaims, 'hotelOf'>,
  ) {}

  /** Every known shard database's pool, indexed by database id (ids are dense: 0..N-1, then those added). */
  get pools(): Pool[] {
    return this.directory.allPools().map((p) => p.pool);
  }

  /**
   * `read` run on every shard database at once (or on `pools`, indexed by database id), in the databases' order. A
   * database that lacks some of the engine's migrations fails the whole read as ShardDatabaseNotMigrated (a 503
   * naming it); a table or function missing from a migrated one fails it as it is (a bug: a 500).
   */
  private eachDatabase<T>(read: (p: Pool, database: number) => Promise<T>, pools: { pool: Pool; database: number }[] = this.directory.allPools()): Promise<T[]> {
    return Promise.all(
      pools.map(({ pool, database }) =>
        read(pool, database).catch(async (err: unknown) => {
          throw await shardReadError(err, pool, database);
        }),
      ),
    );
  }

  /** Check every shard database now and then, so that answers from the cache can say whether they are stale. */
  startProbing(everyMs: number): void {
    const check = () =>
      this.pools.forEach((p, i) => {
        const timer = setTimeout(() => this.down.set(i, true), everyMs);
        p.query('SELECT 1').then(
          () => {
            clearTimeout(timer);
            this.down.set(i, false);
          },
          () => {
            clearTimeout(timer);
            this.down.set(i, true);
          },
        );
      });
    check();
    this.probe = setInterval(check, everyMs);
  }

  stopProbing(): void {
    if (this.probe) clearInterval(this.probe);
  }

  /** Whether the database holding this hotel failed its last check. */
  isDown(hotelId: string): boolean {
    return this.down.get(this.databaseOf(hotelId)) ?? false;
  }

  /** The id of the shard database that holds this hotel, as the map says now. */
  private databaseOf(hotelId: string): number {
    return this.directory.databaseOf(shardOf(hotelId, this.shardCount));
  }

  poolOf(hotelId: string): Pool {
    return this.directory.pool(this.databaseOf(hotelId));
  }

  /**
   * A read of one row that a writer may just have made: when it finds nothing, the map is read again and, if the
   * hotel's shard moved meanwhile (the announcement not yet here), the read is made again where it lives now, so
   * that a 201 decided on a shard's new database is never followed by a 404 from its old one.
   */
  private async onMissAskMapAgain(hotelId: string, read: (p: Pool) => Promise<{ rowCount: number | null; rows: Record<string, unknown>[] }>) {
    const shard = shardOf(hotelId, this.shardCount);
    const before = this.directory.databaseOf(shard);
    const r = await read(this.directory.pool(before));
    if (r.rowCount) return r;
    await this.directory.refreshIfOlderThan(250).catch(() => {});
    const now = this.directory.databaseOf(shard);
    return now === before ? r : read(this.directory.pool(now));
  }

  async listHotels(city: string | undefined, cursor: string | undefined, limit: number): Promise<Page<Hotel>> {
    const parts = await this.eachDatabase(async (p) => {
        const r = await p.query(
          `SELECT ${hotelColumns} FROM hotels
            WHERE deleted_at IS NULL AND ($1::text IS NULL OR lower(city) = lower($1)) AND ($2::uuid IS NULL OR id > $2)
              AND ${shardAtHome('shard')}
            ORDER BY id LIMIT $3`,
          [city ?? null, cursor ?? null, limit + 1],
        );
        return r.rows.map(hotelFromRow);
      });
    return mergePages(parts, limit);
  }

  async hotel(id: string): Promise<Hotel | undefined> {
    const r = await this.poolOf(id).query(`SELECT ${hotelColumns} FROM hotels WHERE id = $1 AND deleted_at IS NULL`, [id]);
    return r.rowCount ? hotelFromRow(r.rows[0]) : undefined;
  }

  async roomTypes(hotelId: string): Promise<RoomType[]> {
    const r = await this.poolOf(hotelId).query(
      `SELECT ${roomTypeColumns} FROM room_types WHERE hotel_id = $1 AND deleted_at IS NULL ORDER BY id`,
      [hotelId],
    );
    return r.rows.map(roomTypeFromRow);
  }

  async roomType(hotelId: string, id: string): Promise<RoomType | undefined> {
    const r = await this.poolOf(hotelId).query(
      `SELECT ${roomTypeColumns} FROM room_types t
        WHERE t.hotel_id = $1 AND t.id = $2 AND t.deleted_at IS NULL
          AND EXISTS (SELECT 1 FROM hotels h WHERE h.id = t.hotel_id AND h.deleted_at IS NULL)`,
      [hotelId, id],
    );
    return r.rowCount ? roomTypeFromRow(r.rows[0]) : undefined;
  }

  /** A hotel's occupancy pricing tiers and version, or undefined when the hotel does not exist. */
  async pricing(hotelId: string): Promise<{ tiers: PricingTier[]; version: number } | undefined> {
    const r = await this.poolOf(hotelId).query('SELECT id, version, pricing_tiers FROM hotels WHERE id = $1 AND deleted_at IS NULL', [hotelId]);
    return r.rowCount ? { tiers: pricingTiersFromRow(r.rows[0]), version: Number(r.rows[0].version) } : undefined;
  }

  /**
   * A hotel's stored nights over [fromDay, toDay), with its version and pricing tiers, in one statement (one
   * snapshot: the version, the tiers and the nights agree). Undefined when the hotel does not exist.
   */
  async availability(
    hotelId: string,
    fromDay: number,
    toDay: number,
    roomTypeId: string | undefined,
  ): Promise<{ version: number; tiers: PricingTier[]; roomTypes: StoredRoomTypeNights[] } | undefined> {
    // The tiers as text: every row carries them, and only the first row's are parsed.
    const r = await this.poolOf(hotelId).query(
      `SELECT h.version, h.pricing_tiers::text AS pricing_tiers, t.id AS room_type_id, t.name, i.date, i.total_inventory, i.sellable_limit, i.reserved, i.rate
         FROM hotels h
         LEFT JOIN room_types t ON t.hotel_id = h.id AND t.deleted_at IS NULL AND ($4::uuid IS NULL OR t.id = $4)
         LEFT JOIN room_type_inventory i ON i.room_type_id = t.id AND i.date >= $2::date AND i.date < $3::date
        WHERE h.id = $1 AND h.deleted_at IS NULL
        ORDER BY t.id, i.date`,
      [hotelId, formatDay(fromDay), formatDay(toDay), roomTypeId ?? null],
    );
    if (r.rowCount === 0) return undefined;
    const version = Number(r.rows[0].version);
    const tiers = pricingTiersFromRow(r.rows[0]);
    const byType = new Map<string, StoredRoomTypeNights>();
    for (const row of r.rows) {
      if (!row.room_type_id) continue;
      let rt = byType.get(row.room_type_id);
      if (!rt) {
        rt = { roomTypeId: row.room_type_id, name: row.name, nights: [] };
        byType.set(row.room_type_id, rt);
      }
      if (row.date === null) continue;
      rt.nights.push({
        date: row.date,
        totalInventory: row.total_inventory,
        limit: row.sellable_limit,
        reserved: row.reserved,
        rate: Number(row.rate),
      });
    }
    return { version, tiers, roomTypes: [...byType.values()] };
  }

  /**
   * A reservation by id, from the one database its claim names (so that a database that is down keeps only its own
   * reservations from being read). An id nobody claimed was made before claims existed, or never: every database
   * is asked.
   */
  async reservation(id: string): Promise<Reservation | undefined> {
    const hotelId = await this.claims?.hotelOf(id);
    if (hotelId !== undefined) {
      const r = await this.onMissAskMapAgain(hotelId, (p) => p.query(`SELECT ${reservationColumns} FROM reservations WHERE id = $1`, [id]));
      return r.rowCount ? reservationFromRow(r.rows[0]) : undefined;
    }
    const found = await this.eachDatabase((p) =>
      p.query(`SELECT ${reservationColumns} FROM reservations r WHERE id = $1 AND shard_is_home((SELECT h.shard FROM hotels h WHERE h.id = r.hotel_id))`, [id]),
    );
    for (const r of found) if (r.rowCount) return reservationFromRow(r.rows[0]);
    return undefined;
  }

  async listReservations(f: ReservationFilter, cursor: string | undefined, limit: number): Promise<Page<Reservation>> {
    const one = f.hotelIds && f.hotelIds.length === 1 ? this.databaseOf(f.hotelIds[0]) : undefined;
    const pools = one === undefined ? undefined : [{ pool: this.directory.pool(one), database: one }];
    const parts = await this.eachDatabase(async (p) => {
        const r = await p.query(
          `SELECT ${reservationColumns} FROM reservations
            WHERE ($1::text IS NULL OR (owner_kind = $1 AND owner_id = $2))
              AND ($3::uuid[] IS NULL OR hotel_id = ANY($3))
              AND ($4::text IS NULL OR status = $4)
              AND ($5::uuid IS NULL OR id > $5)
              AND ${shardAtHome('(SELECT h.shard FROM hotels h WHERE h.id = reservations.hotel_id)')}
            ORDER BY id LIMIT $6`,
          [f.owner?.kind ?? null, f.owner?.id ?? null, f.hotelIds ?? null, f.status ?? null, cursor ?? null, limit + 1],
        );
        return r.rows.map(reservationFromRow);
      }, pools);
    return mergePages(parts, limit);
  }

  /** The stored replies of a committed job, or undefined while it is not committed. */
  async appliedReplies(hotelId: string, jobKey: string): Promise<{ requestId: string; reply: unknown }[] | undefined> {
    const r = await this.onMissAskMapAgain(hotelId, (p) => p.query('SELECT replies FROM applied_jobs WHERE job_id = $1', [jobKey]));
    return r.rowCount ? (r.rows[0].replies as { requestId: string; reply: unknown }[]) : undefined;
  }

  /**
   * The stored replies of committed jobs, by job key (a job not yet committed is absent): one query per shard
   * database, however many jobs (a partner batch's jobs are spread over every shard).
   */
  async appliedRepliesOfJobs(jobs: { shard: number; jobKey: string }[]): Promise<Map<string, { requestId: string; reply: unknown }[]>> {
    const byDatabase = new Map<number, string[]>();
    for (const j of jobs) {
      const db = this.directory.databaseOf(j.shard);
      const keys = byDatabase.get(db);
      if (keys) keys.push(j.jobKey);
      else byDatabase.set(db, [j.jobKey]);
    }
    const out = new Map<string, { requestId: string; reply: unknown }[]>();
    await Promise.all(
      [...byDatabase].map(async ([db, keys]) => {
        const r = await this.directory.pool(db).query('SELECT job_id, replies FROM applied_jobs WHERE job_id = ANY($1::text[])', [keys]);
        for (const row of r.rows) out.set(row.job_id as string, row.replies as { requestId: string; reply: unknown }[]);
      }),
    );
    return out;
  }

  // Rooms are descriptive data (numbers, floors) that no decision reads; they are written here directly.

  async rooms(hotelId: string, cursor: string | undefined, limit: number): Promise<Page<Room>> {
    const r = await this.poolOf(hotelId).query(
      `SELECT id, hotel_id, room_type_id, number, floor FROM rooms WHERE hotel_id = $1 AND ($2::uuid IS NULL OR id > $2)
        ORDER BY id LIMIT $3`,
      [hotelId, cursor ?? null, limit + 1],
    );
    return mergePages([r.rows.map(roomFromRow)], limit);
  }

  async room(hotelId: string, id: string): Promise<Room | undefined> {
    const r = await this.poolOf(hotelId).query(
      `SELECT id, hotel_id, room_type_id, number, floor FROM rooms r
        WHERE r.hotel_id = $1 AND r.id = $2 AND EXISTS (SELECT 1 FROM hotels h WHERE h.id = r.hotel_id AND h.deleted_at IS NULL)`,
      [hotelId, id],
    );
    return r.rowCount ? roomFromRow(r.rows[0]) : undefined;
  }

  /**
   * Run a room write in the database the map names for the hotel, in a transaction that first checks (FOR SHARE, so
   * that a move's seal waits for it) that the shard is at home there and not being copied. A shard being moved waits
   * (the map is read again, then the write retried) for up to roomWriteWaitMs; a stale map never writes.
   */
  private async roomWrite<T>(hotelId: string, write: (c: PoolClient) => Promise<T>): Promise<T> {
    const shard = shardOf(hotelId, this.shardCount);
    const until = Date.now() + roomWriteWaitMs;
    for (let delay = 25; ; delay = Math.min(delay * 2, 500)) {
      const c = await this.poolOf(hotelId).connect();
      try {
        await c.query('BEGIN');
        const l = await c.query('SELECT moved_to FROM shard_leases WHERE shard = $1 FOR SHARE', [shard]);
        if (l.rowCount && l.rows[0].moved_to !== null) throw new ShardAwayError(String(l.rows[0].moved_to));
        const out = await write(c);
        await c.query('COMMIT');
        return out;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {});
        if (!(err instanceof ShardAwayError) || Date.now() > until) throw err;
      } finally {
        c.release();
      }
      await new Promise((r) => setTimeout(r, delay));
      await this.directory.refresh().catch(() => {});
    }
  }

  /**
   * Insert or update a room; 'duplicate' when the number is taken in that hotel, 'no_room_type' when its room type
   * is deleted. The room type's row is read FOR SHARE, so a deletion of it (which deletes its rooms) waits for this
   * write and then deletes the room too: no room outlives its room type.
   */
  async saveRoom(room: Room, isNew: boolean): Promise<'ok' | 'duplicate' | 'no_room_type'> {
    try {
      const live = await this.roomWrite(room.hotelId, async (c) => {
        const rt = await c.query('SELECT 1 FROM room_types WHERE id = $1 AND hotel_id = $2 AND deleted_at IS NULL FOR SHARE', [room.roomTypeId, room.hotelId]);
        if (rt.rowCount === 0) return false;
        if (isNew) {
          await c.query('INSERT INTO rooms (id, hotel_id, room_type_id, number, floor) VALUES ($1, $2, $3, $4, $5)', [
            room.id,
            room.hotelId,
            room.roomTypeId,
            room.number,
            room.floor,
          ]);
        } else {
          await c.query('UPDATE rooms SET room_type_id = $3, number = $4, floor = $5 WHERE hotel_id = $2 AND id = $1', [
            room.id,
            room.hotelId,
            room.roomTypeId,
            room.number,
            room.floor,
          ]);
        }
        return true;
      });
      return live ? 'ok' : 'no_room_type';
    } catch (err) {
      if ((err as { code?: string }).code === '23505') return 'duplicate';
      throw err;
    }
  }

  async deleteRoom(hotelId: string, id: string): Promise<boolean> {
    const r = await this.roomWrite(hotelId, (c) =>
      c.query(
        `DELETE FROM rooms r WHERE r.hotel_id = $1 AND r.id = $2
            AND EXISTS (SELECT 1 FROM hotels h WHERE h.id = r.hotel_id AND h.deleted_at IS NULL)`,
        [hotelId, id],
      ),
    );
    return r.rowCount === 1;
  }

  async shardLeases(): Promise<{ database: number; shard: number; epoch: number; owner: string | null }[]> {
    const parts = await this.eachDatabase(async (p, database) => {
        const r = await p.query('SELECT shard, epoch, owner FROM shard_leases WHERE shard_is_home(shard) ORDER BY shard');
        return r.rows.map((row) => ({ database, shard: row.shard as number, epoch: Number(row.epoch), owner: row.owner as string | null }));
      });
    return parts.flat();
  }
}

function roomFromRow(r: Record<string, unknown>): Room {
  return {
    id: r.id as string,
    hotelId: r.hotel_id as string,
    roomTypeId: r.room_type_id as string,
    number: r.number as string,
    floor: (r.floor as number | null) ?? null,
  };
}

export { parseDay };
