// Direct reads of the shard databases, so that tests check what was really committed.
import pg from 'pg';
import type { Config } from '../../engine/config.js';
import { databaseOfShard, shardOf } from '../../engine/shard-map.js';

export async function withShardDb<T>(config: Config, hotelId: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const url = config.shardDatabaseUrls[databaseOfShard(shardOf(hotelId, config.shardCount), config.shardDatabaseUrls.length)];
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export interface NightCheck {
  date: string;
  reserved: number;
  sellableLimit: number;
  /** Sum of room counts of the pending and paid reservations covering the night. */
  held: number;
}

/** Every night of a room type with what is reserved and what its live reservations hold. */
export async function nightsOf(config: Config, hotelId: string, roomTypeId: string): Promise<NightCheck[]> {
  return withShardDb(config, hotelId, async (c) => {
    const r = await c.query(
      `SELECT to_char(i.date, 'YYYY-MM-DD') AS date, i.reserved, i.sellable_limit,
              COALESCE((SELECT sum(r.room_count) FROM reservations r
                         WHERE r.room_type_id = i.room_type_id AND r.status IN ('pending', 'paid')
                           AND r.check_in <= i.date AND r.check_out > i.date), 0)::int AS held
         FROM room_type_inventory i WHERE i.room_type_id = $1 ORDER BY i.date`,
      [roomTypeId],
    );
    return r.rows.map((x) => ({ date: x.date, reserved: x.reserved, sellableLimit: x.sellable_limit, held: x.held }));
  });
}

export async function reservationCount(config: Config, hotelId: string, ids: string[]): Promise<Map<string, number>> {
  return withShardDb(config, hotelId, async (c) => {
    const r = await c.query('SELECT id::text, count(*)::int AS n FROM reservations WHERE id = ANY($1::uuid[]) GROUP BY id', [ids]);
    return new Map(r.rows.map((x) => [x.id as string, x.n as number]));
  });
}

export async function hotelVersion(config: Config, hotelId: string): Promise<number> {
  return withShardDb(config, hotelId, async (c) => {
    const r = await c.query('SELECT version FROM hotels WHERE id = $1', [hotelId]);
    return Number(r.rows[0]?.version ?? -1);
  });
}
