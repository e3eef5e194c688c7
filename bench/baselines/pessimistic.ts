// Option 1 of seeds/002: pessimistic locking. The transaction locks the stay's inventory rows with
// SELECT … FOR UPDATE (always in date order, so two overlapping stays cannot deadlock), checks every night in
// the application, then updates and inserts. Concurrent requests for the same nights wait for the lock.

import type pg from 'pg';
import {
  explainMissingNights,
  inTransaction,
  insertReservation,
  notBeforeToday,
  replayExisting,
  retryLater,
  soldOutUnlessReplay,
  withRetries,
  type ReservationRequest,
  type Outcome,
} from './reservation-contract.js';

interface LockedNight {
  reserved: number;
  sellable_limit: number;
  rate: string;
  currency: string;
}

export async function reservePessimistic(pool: pg.Pool, req: ReservationRequest): Promise<Outcome> {
  return withRetries(() =>
    inTransaction(pool, async (client) => {
      // Lock the stay's nights: from here until COMMIT no other transaction can change them.
      const { rows } = await client.query<LockedNight>(
        `SELECT i.reserved, i.sellable_limit, i.rate, h.currency
           FROM room_type_inventory i
           JOIN room_types rt ON rt.id = i.room_type_id AND rt.deleted_at IS NULL
           JOIN hotels h ON h.id = rt.hotel_id AND h.deleted_at IS NULL
          WHERE i.room_type_id = $1 AND rt.hotel_id = $2 AND i.date >= $3 AND i.date < $4 AND ${notBeforeToday}
          ORDER BY i.date
            FOR UPDATE OF i`,
        [req.roomTypeId, req.hotelId, req.checkIn, req.checkOut],
      );
      if (rows.length < req.nights) return { commit: false, answer: (db) => explainMissingNights(db, req) };
      if (rows.some((n) => n.reserved + req.roomCount > n.sellable_limit)) {
        return { commit: false, answer: (db) => soldOutUnlessReplay(db, req) };
      }

      // Every night has room: take it and record the reservation in the same transaction.
      await client.query(
        `UPDATE room_type_inventory SET reserved = reserved + $4
          WHERE room_type_id = $1 AND date >= $2 AND date < $3`,
        [req.roomTypeId, req.checkIn, req.checkOut, req.roomCount],
      );
      const totalAmount = rows.reduce((sum, n) => sum + Number(n.rate), 0) * req.roomCount;
      const created = await insertReservation(client, req, totalAmount, rows[0].currency);
      if (created) return { commit: true, outcome: { kind: 'created', reservation: created } };
      // The reservationId exists (a retried or concurrent duplicate): undo the rooms and answer the original.
      return { commit: false, answer: async (db) => (await replayExisting(db, req)) ?? retryLater() };
    }),
  );
}
