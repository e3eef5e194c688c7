// The engine as a benchmark target: fresh catalog and shard databases (named bench_base_engine_…, so the
// benchmark's own clean-up covers them) and a fresh Redis prefix per run; the API and the worker started as two
// processes, exactly as the Procfile runs them; hotels and room types created through the public HTTP API.
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { freePort, startServerProcess, type ServerProcess } from './child-process.js';
import { adminDatabaseUrl, benchDatabaseName, databaseUrl, dropBenchDatabase } from './postgres.js';
import { sellableLimit, tomorrowUtc } from './seed-baseline.js';
import type { Catalog, Scenario } from './scenarios.js';
import type { Target, TargetEndpoint } from './target.js';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const adminToken = `bench-admin-${randomBytes(12).toString('hex')}`;
const seedConcurrency = Number(process.env.BENCH_SEED_CONCURRENCY ?? 32);

export async function api(base: string, method: string, p: string, body?: unknown, token = adminToken): Promise<any> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${base}${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    // While the worker is still taking its shards, writes may be late (503): try again.
    if (res.status === 503 && attempt < 60) {
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  }
}

/** Run `fn` over `items` with at most `n` at a time. */
export async function inParallel<T, R>(items: T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

export interface EngineProcesses {
  web: ServerProcess;
  worker: ServerProcess;
  baseUrl: string;
  catalogUrl: string;
  shardUrls: string[];
  prefix: string;
}

/** Start the engine's two processes on fresh databases and a fresh Redis prefix. */
export async function startEngine(label: string, extraEnv: Record<string, string> = {}): Promise<EngineProcesses> {
  const name = benchDatabaseName(`engine_${label}`);
  const catalogUrl = databaseUrl(adminDatabaseUrl(), name);
  const shardUrls = [0, 1].map((i) => databaseUrl(adminDatabaseUrl(), `${name}_shard_${i}`));
  const prefix = name;
  const port = await freePort();
  const env = {
    ...process.env,
    DATABASE_URL: catalogUrl,
    PG_SHARDS: '2',
    REDIS_PREFIX: prefix,
    ADMIN_API_KEY: adminToken,
    PORT: String(port),
    DEMO_DATA: '0',
    RATE_LIMIT_PER_SECOND: '0',
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  // The worker has no HTTP port: it runs beside the API, whose readiness (databases and Redis) is waited for;
  // both create and migrate the databases (under an advisory lock).
  const workerProcess = await startWorkerProcess(env);
  const web = await startServerProcess({
    name: 'engine api',
    args: [path.join(dist, 'api/main.js')],
    env,
    healthUrl: `http://127.0.0.1:${port}/readyz`,
    readyTimeoutMs: 60_000,
  });
  return { web, worker: workerProcess, baseUrl: `http://127.0.0.1:${port}`, catalogUrl, shardUrls, prefix };
}

async function startWorkerProcess(env: NodeJS.ProcessEnv): Promise<ServerProcess> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [path.join(dist, 'workers/reservation-worker.js')], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const lines: string[] = [];
  child.stderr?.on('data', (d: Buffer) => {
    lines.push(...d.toString().split('\n').filter(Boolean));
    while (lines.length > 60) lines.shift();
  });
  let exited = false;
  const gone = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
  return {
    pid: child.pid,
    output: () => lines.join('\n'),
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(t);
    },
  };
}

export async function stopEngine(e: EngineProcesses | undefined): Promise<void> {
  if (!e) return;
  await e.web.stop().catch(() => {});
  await e.worker.stop().catch(() => {});
  const redis = new Redis(process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${e.prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  for (const url of [e.catalogUrl, ...e.shardUrls]) await dropBenchDatabase(new URL(url).pathname.slice(1));
}

/** Create a scenario's hotels and room types through the API; answers the Catalog. */
export async function seedEngine(base: string, scenario: Scenario): Promise<Catalog> {
  const s = scenario.shape;
  const hotels = await inParallel(Array.from({ length: s.hotels }, (_, i) => i), seedConcurrency, (i) =>
    api(base, 'POST', '/v1/hotels', {
      name: `Bench hotel ${i}`,
      city: 'Paris',
      country: 'FR',
      timezone: 'UTC',
      currency: 'EUR',
      overbookingPercent: s.overbookingPercent,
    }),
  );
  const pairs = hotels.flatMap((h) => Array.from({ length: s.roomTypesPerHotel }, (_, k) => ({ hotelId: h.id as string, k })));
  const types = await inParallel(pairs, seedConcurrency, (p) =>
    api(base, 'POST', `/v1/hotels/${p.hotelId}/room-types`, {
      name: `Type ${p.k}`,
      maxGuests: 2,
      totalInventory: s.totalInventory,
      baseRate: s.baseRate,
    }),
  );
  return {
    firstNight: tomorrowUtc(),
    windowNights: s.windowNights,
    roomTypes: types.map((t) => ({ hotelId: t.hotelId, roomTypeId: t.id, sellableLimit: sellableLimit(s.totalInventory, s.overbookingPercent) })),
  };
}

export function engineTarget(): Target {
  let engine: EngineProcesses | undefined;
  return {
    name: 'engine',
    async start(scenario: Scenario): Promise<TargetEndpoint> {
      engine = await startEngine(scenario.name);
      try {
        const catalog = await seedEngine(engine.baseUrl, scenario);
        const key = await api(engine.baseUrl, 'POST', '/v1/api-keys', { name: 'bench partner', role: 'partner', rateLimitPerSecond: 0 });
        return { baseUrl: engine.baseUrl, headers: { authorization: `Bearer ${key.token}` }, catalog };
      } catch (err) {
        await stopEngine(engine);
        engine = undefined;
        throw err;
      }
    },
    async stop() {
      const e = engine;
      engine = undefined;
      await stopEngine(e);
    },
    databaseUrlsForOversoldCheck: () => engine?.shardUrls ?? [],
  };
}

export { randomUUID };
