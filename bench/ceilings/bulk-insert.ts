// The Postgres ceiling of batch ingest: the same reservations as the engine's batch-ingest scenario, inserted
// "raw" into a bench database with the engine's shard schema, in batches of 1,000 on ONE connection. Each batch is
// one statement (one round trip, one transaction): insert the 1,000 reservation rows from arrays (unnest) and add
// their rooms to the `reserved` counter of every night they cover (deltas summed per room type and night before the
// clock starts). No availability decision, no idempotency record, no outbox, no versions: only the rows that any
// design has to write, as fast as one connection writes them.
//
// The database is a copy of a template seeded once with the same shape as the engine's (1,000 hotels × 5 room types,
// inventory rows over the whole 730-night horizon, like the engine's), so that both write into tables of the same
// size.

import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { countOversoldNights, type OversoldCount } from '../oversold.js';
import { benchDatabaseName, createBenchDatabase, databaseUrl, adminDatabaseUrl, dropBenchDatabase, migrateShardDatabase, pgConfig } from '../postgres.js';
import { seedBaseline } from '../seed-baseline.js';
import type { Catalog, ScenarioShape } from '../scenarios.js';
import type { IngestItem } from '../batch-ingest.js';

export interface BulkCeilingResult {
  rows: number;
  batches: number;
  batchSize: number;
  durationMs: number;
  rowsPerSecond: number;
  batchLatencyMs: { p50: number; p99: number; max: number };
  nightUpdates: number;
  oversold: OversoldCount;
  hostLoadAverage?: number;
}

export interface BulkTemplate {
  name: string;
  catalog: Catalog;
}

/** Seeds the template database once (schema + hotels + room types + inventory over the horizon). */
export async function createBulkTemplate(shape: ScenarioShape, horizonNights: number): Promise<BulkTemplate> {
  const name = benchDatabaseName('bulk_tpl');
  const url = await createBenchDatabase(name);
  try {
    await migrateShardDatabase(url);
    const db = new pg.Client(pgConfig(url));
    await db.connect();
    try {
      await db.query('SET synchronous_commit = off');
      // Bulk-load speed: no foreign-key triggers (superuser only; skipped otherwise), and the inventory's indexes
      // built after the load; they come back exactly as the migration defines them.
      await db.query('SET session_replication_role = replica').catch(() => {});
      await db.query('DROP INDEX room_type_inventory_hotel');
      await db.query('ALTER TABLE room_type_inventory DROP CONSTRAINT room_type_inventory_pkey');
      // The whole horizon, like the engine's room types (the window the requests use is its beginning).
      const seeded = await seedBaseline(db, { ...shape, windowNights: horizonNights });
      await db.query('ALTER TABLE room_type_inventory ADD PRIMARY KEY (room_type_id, date)');
      await db.query('CREATE INDEX room_type_inventory_hotel ON room_type_inventory (hotel_id, date)');
      await db.query('RESET session_replication_role');
      await db.query('VACUUM ANALYZE');
      return { name, catalog: { ...seeded, windowNights: shape.windowNights } };
    } finally {
      await db.end();
    }
  } catch (err) {
    await dropBenchDatabase(name).catch(() => {});
    throw err;
  }
}

const insertSql = `
WITH ins AS (
  INSERT INTO reservations (id, hotel_id, room_type_id, check_in, check_out, room_count, status, total_amount, currency,
                            guest_name, guest_email, owner_kind, owner_id, fingerprint, created_at, expires_at,
                            cancel_reason, version, updated_at)
  SELECT t.id, t.hotel_id, t.room_type_id, t.check_in, t.check_out, t.room_count, 'pending', t.total_amount, 'EUR',
         t.guest_name, t.guest_email, 'partner', $10, t.fingerprint, now(), now() + interval '900 seconds',
         NULL, 1, now()
    FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::date[], $5::date[], $6::int[], $7::bigint[], $8::text[], $9::text[],
                $11::text[])
      AS t(id, hotel_id, room_type_id, check_in, check_out, room_count, total_amount, guest_name, guest_email, fingerprint)
  RETURNING 1),
upd AS (
  UPDATE room_type_inventory i SET reserved = i.reserved + d.delta
    FROM unnest($12::uuid[], $13::date[], $14::int[]) AS d(room_type_id, date, delta)
   WHERE i.room_type_id = d.room_type_id AND i.date = d.date
  RETURNING 1)
SELECT (SELECT count(*) FROM ins)::int AS inserted, (SELECT count(*) FROM upd)::int AS updated`;

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** Parameters of one batch statement, built before the clock starts. */
function batchParams(items: IngestItem[], baseRate: number): { params: unknown[]; nights: number } {
  const deltas = new Map<string, number>();
  for (const it of items) {
    const nights = (Date.parse(it.checkOut) - Date.parse(it.checkIn)) / 86_400_000;
    for (let d = 0; d < nights; d++) {
      const k = `${it.roomTypeId}|${addDays(it.checkIn, d)}`;
      deltas.set(k, (deltas.get(k) ?? 0) + (it.roomCount ?? 1));
    }
  }
  const keys = [...deltas.keys()];
  return {
    nights: keys.length,
    params: [
      items.map((i) => i.reservationId),
      items.map((i) => i.hotelId),
      items.map((i) => i.roomTypeId),
      items.map((i) => i.checkIn),
      items.map((i) => i.checkOut),
      items.map((i) => i.roomCount ?? 1),
      items.map((i) => (baseRate * (Date.parse(i.checkOut) - Date.parse(i.checkIn))) / 86_400_000),
      items.map((i) => i.guest.name),
      items.map((i) => i.guest.email),
      randomUUID(),
      items.map((i) => i.reservationId),
      keys.map((k) => k.split('|')[0]),
      keys.map((k) => k.split('|')[1]),
      keys.map((k) => deltas.get(k) as number),
    ],
  };
}

/**
 * One measurement: a fresh copy of the template, the batches inserted one after another on one connection, the
 * oversold check, the copy dropped. `makeItems` builds the reservations from the copy's catalog.
 */
export async function runBulkCeiling(
  template: BulkTemplate,
  makeItems: (catalog: Catalog) => IngestItem[][],
  baseRate: number,
): Promise<BulkCeilingResult> {
  const name = benchDatabaseName('bulk');
  const url = databaseUrl(adminDatabaseUrl(), name);
  const admin = new pg.Client(pgConfig(adminDatabaseUrl()));
  await admin.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template.name} STRATEGY FILE_COPY`);
        break;
      } catch (err) {
        if (attempt < 50 && /being accessed by other users/.test((err as Error).message)) {
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        throw err;
      }
    }
  } finally {
    await admin.end();
  }
  try {
    const batches = makeItems({ ...template.catalog });
    const prepared = batches.map((b) => batchParams(b, baseRate));
    const db = new pg.Client(pgConfig(url));
    await db.connect();
    const latencies: number[] = [];
    let rows = 0;
    let t0 = 0;
    let t1 = 0;
    try {
      // Warm the connection (and the catalog caches) with a statement that writes nothing.
      await db.query('SELECT count(*) FROM hotels');
      t0 = performance.now();
      for (const p of prepared) {
        const s = performance.now();
        const r = await db.query({ name: 'bulk_batch', text: insertSql, values: p.params });
        latencies.push(performance.now() - s);
        if (r.rows[0].updated !== p.nights) throw new Error(`bulk ceiling: ${r.rows[0].updated} of ${p.nights} night rows updated`);
        rows += r.rows[0].inserted as number;
      }
      t1 = performance.now();
    } finally {
      await db.end();
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] * 10) / 10;
    const durationMs = t1 - t0;
    return {
      rows,
      batches: batches.length,
      batchSize: batches[0]?.length ?? 0,
      durationMs: Math.round(durationMs),
      rowsPerSecond: Math.round((rows / durationMs) * 1000),
      batchLatencyMs: { p50: at(0.5), p99: at(0.99), max: Math.round(sorted[sorted.length - 1] * 10) / 10 },
      nightUpdates: prepared.reduce((n, p) => n + p.nights, 0),
      oversold: await countOversoldNights(url),
    };
  } finally {
    await dropBenchDatabase(name);
  }
}
