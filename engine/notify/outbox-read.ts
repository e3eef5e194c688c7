// The notifier's side of the outbox: reading the events a relay job refers to, and marking them recorded so that the
// relay may prune them once the retention has passed (shard migration 008).
import type { HotelEvents, HotelRange } from '../jobs.js';
import type { Logger } from '../log.js';
import type { Pool } from '../store/pg.js';
import { eventOfOutboxRow, outboxEventColumns, type OutboxEventRow } from './events.js';

/**
 * The events of `types` (all when null) in a job's ranges that live in one shard database, by hotel in the ranges'
 * order, each hotel's in sequence order. A hotel with fewer rows than its range (rows of a deleted hotel pruned,
 * say) gets those it has.
 */
export async function readRanges(pool: Pool, ranges: HotelRange[], types: string[] | null, log?: Logger): Promise<HotelEvents[]> {
  if (ranges.length === 0) return [];
  const r = await pool.query<OutboxEventRow>({
    text: `SELECT ${outboxEventColumns}
       FROM unnest($1::uuid[], $2::bigint[], $3::bigint[]) AS x(hotel_id, after, upto)
       JOIN outbox o ON o.hotel_id = x.hotel_id AND o.sequence > x.after AND o.sequence <= x.upto
       LEFT JOIN reservations r ON r.id = o.reservation_id
      WHERE $4::text[] IS NULL OR o.type = ANY($4::text[])
      ORDER BY o.hotel_id, o.sequence`,
    values: [ranges.map((x) => x.hotelId), ranges.map((x) => x.after), ranges.map((x) => x.upto), types],
    rowMode: 'array',
  });
  const byHotel = new Map<string, HotelEvents>(ranges.map((x) => [x.hotelId, { hotelId: x.hotelId, hotelName: x.hotelName, events: [] }]));
  for (const row of r.rows) {
    const e = eventOfOutboxRow(row);
    byHotel.get(e.hotelId)?.events.push(e);
  }
  if (types === null) {
    for (const x of ranges) {
      const n = byHotel.get(x.hotelId)?.events.length ?? 0;
      if (n !== x.upto - x.after) log?.warn('outbox range is not whole', { hotelId: x.hotelId, database: x.database, after: x.after, upto: x.upto, found: n });
    }
  }
  return [...byHotel.values()];
}

/**
 * The notifier has recorded these ranges: their rows may be pruned once they are older than the retention. A mark
 * lost to a crash of Postgres (asynchronous commit: the pool's sessions run with it off) only delays pruning.
 */
export async function markRecorded(pool: Pool, ranges: HotelRange[]): Promise<void> {
  if (ranges.length === 0) return;
  await pool.query(
    // An insert when the relay has not written the hotel's cursor yet (it moves it after queueing): a cursor row at
    // sequence 0 is what no row is to the relay, and its own upsert keeps the greater sequence.
    `INSERT INTO outbox_cursors (hotel_id, sequence, recorded)
     SELECT hotel_id, 0, upto FROM unnest($1::uuid[], $2::bigint[]) AS x(hotel_id, upto)
     ON CONFLICT (hotel_id) DO UPDATE SET recorded = GREATEST(outbox_cursors.recorded, EXCLUDED.recorded)`,
    [ranges.map((x) => x.hotelId), ranges.map((x) => x.upto)],
  );
}
