// Option 2 of seeds/002: optimistic locking with a version number. The nights are read without locks, together
// with their `bench_version`; the write succeeds only if every night still has the version that was read, and
// bumps it. If another writer got there first the attempt is rolled back and retried from the read (bounded,
// with jittered back-off; when the bound is reached the request gets 409 conflict).

import type pg from 'pg';
import {
  explainMissingNights,
  inTransaction,
  insertReservation,
  notBeforeToday,
  replayExisting,
  retryLater,
  soldOutUnlessReplay,
  VersionConflict,
  withRetries,
  type ReservationRequest,
  type Outcome,
} from './reservation-contract.js';

/** The schema change this strategy needs on top of the engine's tables (applied to baseline databases only). */
export const optimisticSchemaSql = `ALTER TABLE room_type_inventory ADD COLUMN bench_version integer NOT NULL DEFAULT 0`;

interface VersionedNight {
  date: string;
  reserved: number;
  sellable_limit: number;
  rate: string;
  currency: string;
  bench_version: number;
}

export async function reserveOptimistic(pool: pg.Pool, req: ReservationRequest): Promise<Outcome> {
  return withRetries(() =>
    inTransaction(pool, async (client) => {
      // Read committed: this statement sees the latest committed versions and takes no row locks.
      const { rows } = await client.query<VersionedNight>(
        `SELECT i.date::text AS date, i.reserved, i.sellable_limit, i.rate, h.currency, i.bench_version
           FROM room_type_inventory i
           JOIN room_types rt ON rt.id = i.room_type_id AND rt.deleted_at IS NULL
           JOIN hotels h ON h.id = rt.hotel_id AND h.deleted_at IS NULL
          WHERE i.room_type_id = $1 AND rt.hotel_id = $2 AND i.date >= $3 AND i.date < $4 AND ${notBeforeToday}
          ORDER BY i.date`,
        [req.roomTypeId, req.hotelId, req.checkIn, req.checkOut],
      );
      if (rows.length < req.nights) return { commit: false, answer: (db) => explainMissingNights(db, req) };
      if (rows.some((n) => n.reserved + req.roomCount > n.sellable_limit)) {
        return { commit: false, answer: (db) => soldOutUnlessReplay(db, req) };
      }

      // Write back only where the version is still the one read; a night changed meanwhile matches no row. The
      // sub-select takes the rows' write locks in date order (see constraint.ts: scan order would deadlock).
      const updated = await client.query(
        `UPDATE room_type_inventory i
            SET reserved = i.reserved + $2, bench_version = i.bench_version + 1
           FROM (SELECT n.date FROM room_type_inventory n
                  WHERE n.room_type_id = $1 AND n.date = ANY($3::date[])
                  ORDER BY n.date
                    FOR UPDATE) AS stay
           JOIN unnest($3::date[], $4::int[]) AS seen(date, version) ON seen.date = stay.date
          WHERE i.room_type_id = $1 AND i.date = stay.date AND i.bench_version = seen.version`,
        [req.roomTypeId, req.roomCount, rows.map((n) => n.date), rows.map((n) => n.bench_version)],
      );
      if (updated.rowCount !== rows.length) throw new VersionConflict(); // rolled back, then retried

      const totalAmount = rows.reduce((sum, n) => sum + Number(n.rate), 0) * req.roomCount;
      const created = await insertReservation(client, req, totalAmount, rows[0].currency);
      if (created) return { commit: true, outcome: { kind: 'created', reservation: created } };
      return { commit: false, answer: async (db) => (await replayExisting(db, req)) ?? retryLater() };
    }),
  );
}
