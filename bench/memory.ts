// The shard worker's resident memory with 5,000 hotels × 5 room types loaded.
//
// Creating 25,000 room types over HTTP (each with 730 nights of inventory) takes minutes, so the hotels are written
// straight into the engine's shard databases with SQL, exactly as the engine stores them: a hotel row goes to shard
// database `shardOf(hotelId, SHARD_COUNT) mod PG_SHARDS` with its virtual shard in `shard`, its room types, and one
// inventory row per room type and night for today … today+729 (the engine's default horizon; the hotels are in UTC).
// The running worker has never seen them; one reservation per hotel (partner batches of 1,000) makes it load every
// hotel, which is checked (5,000 held). Then VmRSS of the worker process is read from /proc/<pid>/status.

import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { shardOf } from '../engine/shard-map.js';
import { adminToken, api, startEngine, stopEngine, type EngineProcesses } from './engine-target.js';
import { ingestBatches } from './batch-ingest.js';
import { pgConfig } from './postgres.js';

export interface MemoryResult {
  hotels: number;
  roomTypesPerHotel: number;
  nightsPerRoomType: number;
  seedMs: number;
  loadMs: number;
  held: number;
  workerRssMb: { idle: number; loaded: number; peak: number };
  apiRssMb: number;
  /** The engine's bound on hotels kept in memory when this ran (engine/limits.ts), if it exports one. */
  hotelsInMemoryMax?: number;
  /** The default of WORKER_HOTELS_MB (the worker's memory budget for hotels) when this ran, if it has one. */
  workerHotelsMb?: number;
}

const shardCount = 16;
const horizonNights = 730;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function statusMb(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  if (!pid) return NaN;
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1]);
  return Math.round((kb / 1024) * 10) / 10;
}

async function seedShard(url: string, hotels: { id: string; shard: number }[], roomTypesPerHotel: number, today: string): Promise<void> {
  const db = new pg.Client(pgConfig(url));
  await db.connect();
  try {
    await db.query('SET synchronous_commit = off');
    // Bulk-load speed: no foreign-key triggers (superuser only; skipped otherwise) and the inventory's two indexes
    // built once after the load instead of maintained row by row. Both come back exactly as the migration made them.
    await db.query('SET session_replication_role = replica').catch(() => {});
    await db.query('BEGIN');
    await db.query('DROP INDEX room_type_inventory_hotel');
    await db.query('ALTER TABLE room_type_inventory DROP CONSTRAINT room_type_inventory_pkey');
    await db.query(
      `INSERT INTO hotels (id, shard, name, city, country, timezone, currency, overbooking_percent, version, created_at)
       SELECT id, shard, 'Memory hotel ' || n, 'Paris', 'FR', 'UTC', 'EUR', 10, 1, now()
         FROM unnest($1::uuid[], $2::int[]) WITH ORDINALITY AS t(id, shard, n)`,
      [hotels.map((h) => h.id), hotels.map((h) => h.shard)],
    );
    const rtIds: string[] = [];
    const rtHotels: string[] = [];
    for (const h of hotels) {
      for (let k = 0; k < roomTypesPerHotel; k++) {
        rtIds.push(randomUUID());
        rtHotels.push(h.id);
      }
    }
    await db.query(
      `INSERT INTO room_types (id, hotel_id, name, max_guests, total_inventory, base_rate, created_at)
       SELECT id, hotel_id, 'Type ' || ((n - 1) % ${roomTypesPerHotel}), 2, 50, 12000, now()
         FROM unnest($1::uuid[], $2::uuid[]) WITH ORDINALITY AS t(id, hotel_id, n)`,
      [rtIds, rtHotels],
    );
    await db.query(
      `INSERT INTO room_type_inventory (hotel_id, room_type_id, date, total_inventory, sellable_limit, reserved, rate)
       SELECT rt.hotel_id, rt.id, night::date, 50, 55, 0, 12000
         FROM room_types rt CROSS JOIN generate_series($1::date, $1::date + ${horizonNights - 1}, interval '1 day') AS night`,
      [today],
    );
    await db.query('ALTER TABLE room_type_inventory ADD PRIMARY KEY (room_type_id, date)');
    await db.query('CREATE INDEX room_type_inventory_hotel ON room_type_inventory (hotel_id, date)');
    await db.query('COMMIT');
    await db.query('ANALYZE hotels, room_types, room_type_inventory');
  } finally {
    await db.end();
  }
}

export async function measureWorkerMemory(
  options: { hotels: number; roomTypesPerHotel: number },
  log: (line: string) => void,
): Promise<MemoryResult> {
  let engine: EngineProcesses | undefined;
  try {
    engine = await startEngine('memory');
    await sleep(1_000);
    const idle = await statusMb(engine.worker.pid, 'VmRSS');
    const today = new Date().toISOString().slice(0, 10);
    const hotels = Array.from({ length: options.hotels }, () => {
      const id = randomUUID();
      return { id, shard: shardOf(id, shardCount) };
    });
    const seedStarted = Date.now();
    await Promise.all(
      engine.shardUrls.map((url, db) =>
        seedShard(url, hotels.filter((h) => h.shard % engine!.shardUrls.length === db), options.roomTypesPerHotel, today),
      ),
    );
    const seedMs = Date.now() - seedStarted;
    log(`  memory: ${options.hotels} hotels × ${options.roomTypesPerHotel} room types × ${horizonNights} nights written by SQL in ${Math.round(seedMs / 1000)} s`);

    // One reservation per hotel, on its first room type, through partner batches of 1,000.
    const { token } = await api(engine.baseUrl, 'POST', '/v1/api-keys', { name: 'bench memory', role: 'partner', rateLimitPerSecond: 0 }, adminToken);
    const roomTypes = new Map<string, string>();
    for (const url of engine.shardUrls) {
      const db = new pg.Client(pgConfig(url));
      await db.connect();
      try {
        const r = await db.query<{ hotel_id: string; id: string }>(`SELECT DISTINCT ON (hotel_id) hotel_id, id FROM room_types ORDER BY hotel_id, name`);
        for (const row of r.rows) roomTypes.set(row.hotel_id, row.id);
      } finally {
        await db.end();
      }
    }
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const catalog = {
      firstNight: tomorrow,
      windowNights: 1,
      roomTypes: [...roomTypes].map(([hotelId, roomTypeId]) => ({ hotelId, roomTypeId, sellableLimit: 55 })),
    };
    // ingestBatches picks room types at random; here every hotel gets exactly one, in order.
    const items = ingestBatches(catalog, { items: catalog.roomTypes.length, batchSize: 1_000 }).flat();
    catalog.roomTypes.forEach((rt, i) => Object.assign(items[i], { hotelId: rt.hotelId, roomTypeId: rt.roomTypeId }));
    const loadStarted = Date.now();
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const ids: string[] = [];
    for (let at = 0; at < items.length; at += 1_000) {
      const res = await fetch(`${engine.baseUrl}/v1/batches`, { method: 'POST', headers: auth, body: JSON.stringify({ items: items.slice(at, at + 1_000) }) });
      const body = (await res.json()) as { batchId: string };
      if (res.status !== 202) throw new Error(`memory: POST /v1/batches answered ${res.status} ${JSON.stringify(body)}`);
      ids.push(body.batchId);
    }
    let held = 0;
    for (const id of ids) {
      for (let attempt = 0; ; attempt++) {
        const res = await fetch(`${engine.baseUrl}/v1/batches/${id}`, { headers: auth });
        const body = (await res.json()) as { status: string; held: number };
        if (body.status === 'done') {
          held += body.held;
          break;
        }
        if (attempt > 3_000) throw new Error('memory: batches not done after 5 minutes');
        await sleep(100);
      }
    }
    const loadMs = Date.now() - loadStarted;
    await sleep(2_000);
    const loaded = await statusMb(engine.worker.pid, 'VmRSS');
    const peak = await statusMb(engine.worker.pid, 'VmHWM');
    const apiRss = await statusMb(engine.web.pid, 'VmRSS');
    let hotelsInMemoryMax: number | undefined;
    let workerHotelsMb: number | undefined;
    try {
      const limits = (await import('../engine/limits.js')) as Record<string, unknown>;
      if (typeof limits.hotelsInMemoryMax === 'number') hotelsInMemoryMax = limits.hotelsInMemoryMax;
      if (typeof limits.workerHotelsMbDefault === 'number') workerHotelsMb = limits.workerHotelsMbDefault;
    } catch {
      // not exported any more
    }
    log(`  memory: ${held} of ${items.length} touched hotels held a reservation in ${Math.round(loadMs / 1000)} s; worker RSS ${loaded} MB (idle ${idle} MB, peak ${peak} MB)`);
    return {
      hotels: options.hotels,
      roomTypesPerHotel: options.roomTypesPerHotel,
      nightsPerRoomType: horizonNights,
      seedMs,
      loadMs,
      held,
      workerRssMb: { idle, loaded, peak },
      apiRssMb: apiRss,
      hotelsInMemoryMax,
      workerHotelsMb,
    };
  } finally {
    await stopEngine(engine);
  }
}
