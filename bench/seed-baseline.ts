// Seeds a baseline database for a scenario with set-based SQL: the hotels, their room types, and one
// room_type_inventory row per room type and night of the scenario's window (starting tomorrow, UTC) plus a few
// spare nights. The engine is seeded through its HTTP API instead; both end with the same Catalog.

import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Catalog, ScenarioShape } from './scenarios.js';

/** Nights seeded after the scenario's window, so a stay at the window's edge never meets a missing row. */
export const spareNights = 3;

/** Tomorrow's date (UTC), the first night of every scenario: always bookable whatever the hour. */
export function tomorrowUtc(nowMs = Date.now()): string {
  return new Date(nowMs + 86_400_000).toISOString().slice(0, 10);
}

/** floor(total × (100 + overbooking) / 100), as API.md defines the sellable limit. */
export function sellableLimit(totalInventory: number, overbookingPercent: number): number {
  return Math.floor((totalInventory * (100 + overbookingPercent)) / 100);
}

export async function seedBaseline(db: pg.Pool | pg.Client, shape: ScenarioShape): Promise<Catalog> {
  const firstNight = tomorrowUtc();
  const hotelIds = Array.from({ length: shape.hotels }, () => randomUUID());
  const roomTypeIds: string[] = [];
  const roomTypeHotelIds: string[] = [];
  for (const hotelId of hotelIds) {
    for (let i = 0; i < shape.roomTypesPerHotel; i++) {
      roomTypeIds.push(randomUUID());
      roomTypeHotelIds.push(hotelId);
    }
  }

  // Hotels: one statement for all of them.
  await db.query(
    `INSERT INTO hotels (id, shard, name, city, country, timezone, currency, overbooking_percent, version, created_at)
     SELECT id, 0, 'Bench hotel ' || n, 'Paris', 'FR', 'UTC', 'EUR', $2, 0, now()
       FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n)`,
    [hotelIds, shape.overbookingPercent],
  );
  // Room types: one statement for all of them.
  await db.query(
    `INSERT INTO room_types (id, hotel_id, name, max_guests, total_inventory, base_rate, created_at)
     SELECT id, hotel_id, 'Room type ' || n, 2, $3, $4, now()
       FROM unnest($1::uuid[], $2::uuid[]) WITH ORDINALITY AS t(id, hotel_id, n)`,
    [roomTypeIds, roomTypeHotelIds, shape.totalInventory, shape.baseRate],
  );
  // Inventory: every room type × every night of the window plus the spare nights, nothing reserved yet.
  await db.query(
    `INSERT INTO room_type_inventory (hotel_id, room_type_id, date, total_inventory, sellable_limit, reserved, rate)
     SELECT rt.hotel_id, rt.id, night::date, rt.total_inventory,
            rt.total_inventory * (100 + h.overbooking_percent) / 100, 0, rt.base_rate
       FROM room_types rt
       JOIN hotels h ON h.id = rt.hotel_id
      CROSS JOIN generate_series($1::date, $1::date + ($2::int - 1), interval '1 day') AS night`,
    [firstNight, shape.windowNights + spareNights],
  );
  await db.query('ANALYZE hotels, room_types, room_type_inventory, reservations');

  const limit = sellableLimit(shape.totalInventory, shape.overbookingPercent);
  return {
    firstNight,
    windowNights: shape.windowNights,
    roomTypes: roomTypeIds.map((id, i) => ({ hotelId: roomTypeHotelIds[i], roomTypeId: id, sellableLimit: limit })),
  };
}
