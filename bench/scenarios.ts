// The benchmark's scenarios, as data: what is seeded (shape), how the load is applied (clients, duration or
// count), which requests are sent, and what must hold afterwards. Targets seed the shape their own way
// (baselines with SQL through seed-baseline.ts, the engine through its HTTP API) and hand back a Catalog of the
// ids they made; requests are generated from that Catalog, so every target gets the same stream of stays.

import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { LoadRequest, LoadResult } from './load.js';
import { seedBaseline, sellableLimit } from './seed-baseline.js';
import { mulberry32 } from '../engine/core/random.js';

export type ScenarioName = 'hot' | 'spread' | 'flash';

/** What a target must create before the load starts. */
export interface ScenarioShape {
  hotels: number;
  roomTypesPerHotel: number;
  totalInventory: number;
  overbookingPercent: number;
  /** Nightly rate, in minor units. */
  baseRate: number;
  /** Nights the requests use, starting tomorrow (UTC). */
  windowNights: number;
}

/** What a target created: the room types with their ids, and the first night of the window. */
export interface Catalog {
  firstNight: string;
  windowNights: number;
  roomTypes: { hotelId: string; roomTypeId: string; sellableLimit: number }[];
}

export interface ScenarioLoad {
  concurrency: number;
  /** See LoadOptions.preconnectPath. */
  preconnectPath?: string;
  durationMs?: number;
  count?: number;
  maxDurationMs?: number;
}

export interface ScenarioCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Scenario {
  name: ScenarioName;
  description: string;
  shape: ScenarioShape;
  load: ScenarioLoad;
  /** A short run of the same requests before measuring (0: none, e.g. when it would consume the stock). */
  warmupMs: number;
  /** The request stream for one run: each call makes one body with a fresh reservationId. */
  requests(catalog: Catalog): (index: number) => LoadRequest;
  /** Seeds a baseline database (direct SQL) and returns its Catalog. */
  seedBaseline(db: pg.Pool | pg.Client): Promise<Catalog>;
  /** What must hold after the run, besides zero oversold nights. */
  checks(result: LoadResult, catalog: Catalog): ScenarioCheck[];
}


export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

function reservationBody(
  index: number,
  room: Catalog['roomTypes'][number],
  checkIn: string,
  checkOut: string,
): LoadRequest {
  return {
    method: 'POST',
    path: '/v1/reservations',
    body: {
      reservationId: randomUUID(),
      hotelId: room.hotelId,
      roomTypeId: room.roomTypeId,
      checkIn,
      checkOut,
      roomCount: 1,
      guest: { name: `Bench Guest ${index}`, email: `guest${index}@bench.example` },
    },
  };
}

/** Random stays of 1..maxNights nights that fit inside the window, on a random room type of the catalog. */
function randomStays(catalog: Catalog, seed: number, maxNights: number) {
  const random = mulberry32(seed);
  return (index: number): LoadRequest => {
    const room = catalog.roomTypes[Math.floor(random() * catalog.roomTypes.length)];
    const nights = 1 + Math.floor(random() * Math.min(maxNights, catalog.windowNights));
    const offset = Math.floor(random() * (catalog.windowNights - nights + 1));
    const checkIn = addDays(catalog.firstNight, offset);
    return reservationBody(index, room, checkIn, addDays(checkIn, nights));
  };
}

const noServerErrors = (result: LoadResult): ScenarioCheck => {
  const failed = Object.entries(result.statuses)
    .filter(([s]) => Number(s) >= 500 || s === '0')
    .reduce((sum, [, n]) => sum + n, 0);
  return { name: 'no 5xx or dropped requests', ok: failed === 0, detail: `${failed} answered 5xx or not at all` };
};

export interface ScenarioOptions {
  /** Length of the duration-based scenarios (hot, spread), in seconds. */
  seconds: number;
  /** Measure-free warm-up before duration-based scenarios, in ms. */
  warmupMs: number;
}

export function benchScenarios(options: ScenarioOptions): Scenario[] {
  const durationMs = options.seconds * 1000;
  const define = (s: Omit<Scenario, 'seedBaseline'>): Scenario => ({ ...s, seedBaseline: (db) => seedBaseline(db, s.shape) });
  return [
    define({
      name: 'hot',
      description: 'one room type, random 1–3-night stays in a 5-night window, 256 clients',
      // API.md caps totalInventory at 10,000 (sellable 11,000), so the hot nights may sell out during a run: every
      // target gets the same stock and the same request stream, and both 201 and 409 sold_out answers count as
      // decisions (see report.ts, decisionsPerSecond).
      shape: { hotels: 1, roomTypesPerHotel: 1, totalInventory: 10_000, overbookingPercent: 10, baseRate: 15_000, windowNights: 5 },
      load: { concurrency: 256, durationMs },
      warmupMs: options.warmupMs,
      requests: (catalog) => randomStays(catalog, 0x407, 3),
      checks: (result) => [noServerErrors(result)],
    }),
    define({
      name: 'spread',
      description: '1,000 hotels × 5 room types, random 1–3-night stays in a 60-night window, 64 clients',
      shape: { hotels: 1_000, roomTypesPerHotel: 5, totalInventory: 50, overbookingPercent: 10, baseRate: 12_000, windowNights: 60 },
      load: { concurrency: 64, durationMs },
      warmupMs: options.warmupMs,
      requests: (catalog) => randomStays(catalog, 0x59ead, 3),
      checks: (result) => [noServerErrors(result)],
    }),
    define({
      name: 'flash',
      description: 'one 100-room type (sellable 110), 5,000 clients, one attempt each at the same 2-night stay',
      shape: { hotels: 1, roomTypesPerHotel: 1, totalInventory: 100, overbookingPercent: 10, baseRate: 20_000, windowNights: 2 },
      // Connections are opened (GET /healthz) before the clock starts: the measure is how fast the stock is
      // decided, not how fast 5,000 TCP handshakes are accepted on a 2-core machine.
      load: { concurrency: 5_000, count: 5_000, maxDurationMs: 120_000, preconnectPath: '/healthz' },
      warmupMs: 0,
      requests: (catalog) => (index) =>
        reservationBody(index, catalog.roomTypes[0], catalog.firstNight, addDays(catalog.firstNight, 2)),
      checks: (result, catalog) => {
        const limit = catalog.roomTypes[0].sellableLimit;
        const sold = result.statuses['201'] ?? 0;
        return [
          { name: 'sold exactly the sellable limit', ok: sold === limit, detail: `${sold} of ${limit} sold` },
          noServerErrors(result),
        ];
      },
    }),
  ];
}

/** Sellable limit of a scenario's room types (the same for every room type of a scenario). */
export const scenarioSellableLimit = (s: Scenario) => sellableLimit(s.shape.totalInventory, s.shape.overbookingPercent);
