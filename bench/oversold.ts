// Counts oversold nights in a database with the engine's tables, two ways:
//  - overLimit: inventory rows whose `reserved` counter is above the sellable limit (the CHECK should make this
//    impossible; counted anyway, since a benchmark must not trust what it measures);
//  - mismatched: nights whose `reserved` differs from the rooms of the pending and paid reservations covering
//    that night (a counter that drifted from the reservations, in either direction, or reservations on a night
//    without an inventory row);
//  - overbooked: nights where those reservations alone hold more rooms than the sellable limit.

import pg from 'pg';
import { pgConfig } from './postgres.js';

export interface OversoldCount {
  inventoryNights: number;
  reservations: number;
  overLimit: number;
  mismatched: number;
  overbooked: number;
}

export async function countOversoldNights(url: string): Promise<OversoldCount> {
  const client = new pg.Client(pgConfig(url));
  await client.connect();
  try {
    // One pass: expand live reservations into their nights, sum rooms per room type and night, compare.
    const { rows } = await client.query<Record<keyof OversoldCount, string>>(
      `WITH booked AS (
         SELECT r.room_type_id, night::date AS date, sum(r.room_count) AS rooms
           FROM reservations r
          CROSS JOIN generate_series(r.check_in, r.check_out - 1, interval '1 day') AS night
          WHERE r.status IN ('pending', 'paid')
          GROUP BY 1, 2)
       SELECT count(i.room_type_id) AS "inventoryNights",
              (SELECT count(*) FROM reservations WHERE status IN ('pending', 'paid')) AS reservations,
              count(*) FILTER (WHERE i.reserved > i.sellable_limit) AS "overLimit",
              count(*) FILTER (WHERE coalesce(i.reserved, 0) <> coalesce(b.rooms, 0)) AS mismatched,
              count(*) FILTER (WHERE coalesce(b.rooms, 0) > coalesce(i.sellable_limit, 0)) AS overbooked
         FROM room_type_inventory i
         FULL JOIN booked b ON b.room_type_id = i.room_type_id AND b.date = i.date`,
    );
    const r = rows[0];
    return {
      inventoryNights: Number(r.inventoryNights),
      reservations: Number(r.reservations),
      overLimit: Number(r.overLimit),
      mismatched: Number(r.mismatched),
      overbooked: Number(r.overbooked),
    };
  } finally {
    await client.end();
  }
}

/** The same counts summed over several databases (the engine's shards). */
export async function countOversoldNightsIn(urls: string[]): Promise<OversoldCount> {
  const total: OversoldCount = { inventoryNights: 0, reservations: 0, overLimit: 0, mismatched: 0, overbooked: 0 };
  for (const url of urls) {
    const c = await countOversoldNights(url);
    for (const k of Object.keys(total) as (keyof OversoldCount)[]) total[k] += c[k];
  }
  return total;
}
