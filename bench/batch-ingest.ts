// Batch ingest (engine only; the baselines have no batch route): 100,000 reservations sent as 100 partner batches
// of 1,000 (`POST /v1/batches`) across the 1,000 hotels × 5 room types of the spread shape, random 1–3-night stays
// in its 60-night window. The clock runs from the first POST to the moment the last batch is seen `done`
// (`GET /v1/batches/:id`, polled every 50 ms, oldest unfinished batch first, one GET at a time).
//
// Beside it: the API's event-loop lag (`nodejs_eventloop_lag_max_seconds` and `…_p99_seconds` from GET /metrics
// before and after; they are cumulative since the API started, so the "before" value covers start-up and warm-up)
// and the latency of GET /healthz sampled every 50 ms during the ingest (its p99/max is the ingest's own view of
// how responsive the API's event loop stayed).

import os from 'node:os';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { adminToken, notifierState, startSeededEngine, stopEngine, type EngineProcesses } from './engine-target.js';
import { notificationsCatchUp, type NotifierCatchUp } from './runner.js';
import { countOversoldNightsIn, type OversoldCount } from './oversold.js';
import { mulberry32 } from '../engine/core/random.js';
import { addDays, type Catalog, type Scenario } from './scenarios.js';

export interface IngestItem {
  reservationId: string;
  hotelId: string;
  roomTypeId: string;
  checkIn: string;
  checkOut: string;
  roomCount?: number;
  guest: { name: string; email: string };
}

export interface IngestOptions {
  items: number;
  batchSize: number;
  /** POSTs in flight at once. */
  concurrency: number;
  pollMs: number;
}

export interface BatchIngestResult {
  items: number;
  batches: number;
  batchSize: number;
  concurrency: number;
  durationMs: number;
  /** Reservations decided per second (held + rejected), first POST → last batch done. */
  reservationsPerSecond: number;
  held: number;
  rejected: number;
  rejectedCodes: Record<string, number>;
  /** When the last POST was answered 202 (ms after the first POST). */
  allAcceptedMs: number;
  postLatencyMs: { p50: number; p99: number; max: number };
  postStatuses: Record<string, number>;
  healthz: { samples: number; p50: number; p99: number; max: number; failed: number };
  eventLoopLag: { before: LagMetrics; after: LagMetrics };
  oversold: OversoldCount;
  /** The notifier after the ingest (undefined with BENCH_NOTIFIER=0). */
  notifications?: NotifierCatchUp;
  hostLoadAverage: number;
  seedMs: number;
}

interface LagMetrics {
  maxMs: number;
  p99Ms: number;
}

/** The reservations of the ingest, in batches, generated from a catalog with a fixed seed. */
export function ingestBatches(catalog: Catalog, options: { items: number; batchSize: number }, seed = 0xba7c4): IngestItem[][] {
  const random = mulberry32(seed);
  const batches: IngestItem[][] = [];
  for (let i = 0; i < options.items; i++) {
    const rt = catalog.roomTypes[Math.floor(random() * catalog.roomTypes.length)];
    const nights = 1 + Math.floor(random() * Math.min(3, catalog.windowNights));
    const offset = Math.floor(random() * (catalog.windowNights - nights + 1));
    const checkIn = addDays(catalog.firstNight, offset);
    const item: IngestItem = {
      reservationId: randomUUID(),
      hotelId: rt.hotelId,
      roomTypeId: rt.roomTypeId,
      checkIn,
      checkOut: addDays(checkIn, nights),
      roomCount: 1,
      guest: { name: `Ingest Guest ${i}`, email: `ingest${i}@bench.example` },
    };
    const b = Math.floor(i / options.batchSize);
    (batches[b] ??= []).push(item);
  }
  return batches;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pct(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => (s.length ? Math.round(s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] * 10) / 10 : NaN);
  return { p50: at(0.5), p99: at(0.99), max: s.length ? Math.round(s[s.length - 1] * 10) / 10 : NaN };
}

async function lag(base: string): Promise<LagMetrics> {
  const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${adminToken}` }, signal: AbortSignal.timeout(10_000) })).text();
  const read = (name: string) => Number(new RegExp(`^${name} ([0-9.eE+-]+)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    maxMs: Math.round(read('nodejs_eventloop_lag_max_seconds') * 1e4) / 10,
    p99Ms: Math.round(read('nodejs_eventloop_lag_p99_seconds') * 1e4) / 10,
  };
}

export async function runBatchIngest(
  scenario: Scenario,
  options: IngestOptions,
  log: (line: string) => void,
): Promise<BatchIngestResult> {
  let engine: EngineProcesses | undefined;
  let sampling = false;
  try {
    const started = await startSeededEngine(scenario, { label: 'ingest', log });
    engine = started.engine;
    const base = engine.baseUrl;
    const auth = { authorization: `Bearer ${started.partnerToken}`, 'content-type': 'application/json' };
    const batches = ingestBatches(started.catalog, options).map((items) => JSON.stringify({ items }));
    log(`  ingest: ${options.items} reservations as ${batches.length} batches, ${options.concurrency} POSTs at a time`);
    const lagBefore = await lag(base);
    const notifierBefore = engine.notifier ? await notifierState(engine) : undefined;

    // /healthz every 50 ms (one at a time) for as long as the ingest runs.
    sampling = true;
    const healthLatencies: number[] = [];
    let healthFailed = 0;
    const sampler = (async () => {
      while (sampling) {
        const s = performance.now();
        try {
          const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(10_000) });
          await res.arrayBuffer();
          if (!res.ok) healthFailed++;
        } catch {
          healthFailed++;
        }
        const took = performance.now() - s;
        healthLatencies.push(took);
        if (took < 50) await sleep(50 - took);
      }
    })();

    const t0 = performance.now();
    const ids: (string | undefined)[] = new Array(batches.length);
    const postLatencies: number[] = [];
    const postStatuses: Record<string, number> = {};
    let allAcceptedMs = 0;
    let next = 0;
    const posters = Array.from({ length: options.concurrency }, async () => {
      while (next < batches.length) {
        const i = next++;
        const s = performance.now();
        const res = await fetch(`${base}/v1/batches`, { method: 'POST', headers: auth, body: batches[i], signal: AbortSignal.timeout(120_000) });
        const text = await res.text();
        postLatencies.push(performance.now() - s);
        postStatuses[res.status] = (postStatuses[res.status] ?? 0) + 1;
        if (res.status !== 202) throw new Error(`POST /v1/batches: ${res.status} ${text.slice(0, 300)}`);
        ids[i] = (JSON.parse(text) as { batchId: string }).batchId;
        allAcceptedMs = Math.max(allAcceptedMs, performance.now() - t0);
      }
    });
    const posting = Promise.all(posters);
    posting.catch(() => {});

    // Poll the oldest unfinished batch; a batch becomes `done` (and its results final) when a GET finds every job.
    let held = 0;
    let rejected = 0;
    const rejectedCodes: Record<string, number> = {};
    let doneAt = 0;
    const deadline = performance.now() + 600_000;
    let postError: unknown;
    posting.catch((err) => (postError = err));
    for (let i = 0; i < batches.length; i++) {
      for (;;) {
        if (postError) throw postError;
        if (performance.now() > deadline) throw new Error(`batch ingest: batch ${i} not done after 10 minutes`);
        const id = ids[i];
        if (id) {
          const res = await fetch(`${base}/v1/batches/${id}`, { headers: auth, signal: AbortSignal.timeout(60_000) });
          const body = (await res.json()) as { status: string; held: number; rejected: number; results: { status: string; error?: { code: string } }[] };
          if (res.status !== 200) throw new Error(`GET /v1/batches/${id}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
          if (body.status === 'done') {
            doneAt = performance.now() - t0;
            held += body.held;
            rejected += body.rejected;
            for (const r of body.results) if (r.error) rejectedCodes[r.error.code] = (rejectedCodes[r.error.code] ?? 0) + 1;
            break;
          }
        }
        await sleep(options.pollMs);
      }
    }
    await posting;
    sampling = false;
    await sampler;
    const notifications = notifierBefore ? await notificationsCatchUp(() => notifierState(engine!), notifierBefore) : undefined;
    const hostLoadAverage = Math.round(os.loadavg()[0] * 100) / 100;
    const lagAfter = await lag(base);
    const oversold = await countOversoldNightsIn(engine.shardUrls);
    const items = batches.length ? options.items : 0;
    return {
      items,
      batches: batches.length,
      batchSize: options.batchSize,
      concurrency: options.concurrency,
      durationMs: Math.round(doneAt),
      reservationsPerSecond: Math.round(((held + rejected) / doneAt) * 1000),
      held,
      rejected,
      rejectedCodes,
      allAcceptedMs: Math.round(allAcceptedMs),
      postLatencyMs: pct(postLatencies),
      postStatuses,
      healthz: { samples: healthLatencies.length, ...pct(healthLatencies), failed: healthFailed },
      eventLoopLag: { before: lagBefore, after: lagAfter },
      oversold,
      notifications,
      hostLoadAverage,
      seedMs: started.seedMs,
    };
  } finally {
    sampling = false;
    await stopEngine(engine);
  }
}
