// The engine as a benchmark target: fresh catalog and shard databases (named bench_base_engine_…, so the
// benchmark's own clean-up covers them) and a fresh Redis prefix per run; the API and the worker started as two
// processes, exactly as the Procfile runs them; hotels and room types created through the public HTTP API.
//
// Big scenarios (spread: 1,000 hotels × 5 room types, each with inventory rows over the whole 730-night horizon)
// take about a minute to create over HTTP on a 2-core machine, far too long to repeat for every run. They are
// created over HTTP once per benchmark run into template databases, and every run then starts on fresh copies of
// those (`CREATE DATABASE … TEMPLATE … STRATEGY FILE_COPY`, a file copy) with a fresh Redis prefix, as an engine
// restarted on existing data. Before the load, every hotel is loaded into the worker by one no-op inventory write
// (the same value it has), so that the worker is as warm as right after seeding over HTTP; none of this is measured.
//
// BENCH_CPU_PROF=<dir> starts the engine processes (API, worker, notifier) with `--cpu-prof`, writing one profile per process and run to
// <dir>/<run label>-api and <dir>/<run label>-worker when the processes stop (see profile-summary.ts).
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { deletePrefix } from '../engine/redis.js';
import { freePort, startServerProcess, type ServerProcess } from './child-process.js';
import { adminDatabaseUrl, benchDatabaseName, databaseUrl, dropBenchDatabase, withAdminClient, withClient } from './postgres.js';
import { backendPids, readProcessCpu } from './host-cpu.js';
import { sellableLimit, tomorrowUtc } from './seed-baseline.js';
import type { Catalog, Scenario } from './scenarios.js';
import type { NotifierState, Target, TargetEndpoint } from './target.js';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const adminToken = `bench-admin-${randomBytes(12).toString('hex')}`;
const seedConcurrency = Number(process.env.BENCH_SEED_CONCURRENCY ?? 64);
/** Scenarios with more room types than this are seeded once into templates and copied for every run. */
const templateRoomTypesMin = 100;

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
  /** The notifier (outbox relay, webhooks, e-mails), as the Procfile runs it. */
  notifier?: ServerProcess;
  /** Worker processes beyond the first (the scale curve: they share the shards by themselves). */
  moreWorkers: ServerProcess[];
  baseUrl: string;
  catalogUrl: string;
  shardUrls: string[];
  prefix: string;
}

/** Databases an engine was seeded into, kept (without any process attached) as templates for later runs. */
export interface EngineTemplate {
  catalogName: string;
  shardNames: string[];
  catalog: Catalog;
  partnerToken: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A copy of a template database (a file copy; retried while the template's last sessions are closing). */
async function cloneDatabase(template: string, name: string): Promise<void> {
  for (const n of [template, name]) {
    if (!/^bench_base_[a-z0-9_]+$/.test(n)) throw new Error(`refusing to touch database "${n}"`);
  }
  for (let attempt = 0; ; attempt++) {
    try {
      await withAdminClient((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template} STRATEGY FILE_COPY`));
      return;
    } catch (err) {
      if (attempt < 50 && /being accessed by other users/.test((err as Error).message)) {
        await sleep(200);
        continue;
      }
      throw err;
    }
  }
}

/** Node flags of the engine's processes: `--cpu-prof` into a per-run directory when BENCH_CPU_PROF is set. */
function profileFlags(label: string, role: 'api' | 'worker' | 'notifier'): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  if (!dir) return [];
  const target = path.resolve(dir, `${label}-${role}`);
  mkdirSync(target, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${target}`];
}

let runCounter = 0;
/** Every engine started and not yet stopped, so that an interrupted benchmark can stop them all. */
const running = new Set<EngineProcesses>();

/**
 * Start the engine's two processes on fresh databases and a fresh Redis prefix; with `template`, the databases are
 * copies of the template's (already migrated and seeded) instead of empty ones.
 */
export async function startEngine(
  label: string,
  extraEnv: Record<string, string> = {},
  template?: EngineTemplate,
  workers = 1,
): Promise<EngineProcesses> {
  const name = benchDatabaseName(`engine_${label}`);
  const catalogUrl = databaseUrl(adminDatabaseUrl(), name);
  const shardUrls = [0, 1].map((i) => databaseUrl(adminDatabaseUrl(), `${name}_shard_${i}`));
  if (template) {
    await cloneDatabase(template.catalogName, name);
    for (const [i, shard] of template.shardNames.entries()) await cloneDatabase(shard, `${name}_shard_${i}`);
  }
  const prefix = name;
  const port = await freePort();
  const env = {
    ...process.env,
    DATABASE_URL: catalogUrl,
    PG_SHARDS: '2',
    REDIS_PREFIX: prefix,
    // The engine's processes use the Redis this bench reads (BENCH_REDIS_URL), not a REDIS_URL of the shell.
    REDIS_URL: benchRedisUrl(),
    ADMIN_API_KEY: adminToken,
    PORT: String(port),
    DEMO_DATA: '0',
    RATE_LIMIT_PER_SECOND: '0',
    ADDRESS_RATE_LIMIT_PER_MINUTE: '0',
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  const runLabel = `${String(++runCounter).padStart(2, '0')}-${label}`;
  // The worker has no HTTP port: it runs beside the API, whose readiness (databases and Redis) is waited for;
  // both create and migrate the databases (under an advisory lock).
  const workerProcess = await startWorkerProcess(env, profileFlags(runLabel, 'worker'));
  let web: ServerProcess;
  try {
    web = await startServerProcess({
      name: 'engine api',
      args: [...profileFlags(runLabel, 'api'), path.join(dist, 'api/main.js')],
      env,
      healthUrl: `http://127.0.0.1:${port}/readyz`,
      readyTimeoutMs: 60_000,
      echo: process.env.BENCH_ECHO === '1',
    });
  } catch (err) {
    await workerProcess.stop();
    for (const url of [catalogUrl, ...shardUrls]) await dropBenchDatabase(new URL(url).pathname.slice(1)).catch(() => {});
    throw err;
  }
  // The notifier runs too (relay and deliveries are part of the engine's cost), writing guest mails to a scratch dir.
  // BENCH_NOTIFIER=0 leaves it out (to tell its cost from the writer's).
  const notifier = process.env.BENCH_NOTIFIER === '0' ? undefined : await startWorkerProcess({ MAIL_DIR: benchMailDir(name), ...env }, profileFlags(runLabel, 'notifier'), 'workers/notifier.js');
  const moreWorkers: ServerProcess[] = [];
  const started = { web, worker: workerProcess, notifier, moreWorkers, baseUrl: `http://127.0.0.1:${port}`, catalogUrl, shardUrls, prefix };
  running.add(started);
  if (workers > 1) {
    for (let i = 1; i < workers; i++) moreWorkers.push(await startWorkerProcess(env, profileFlags(`${runLabel}-${i}`, 'worker')));
    await waitForSpread(started.baseUrl, workers);
  }
  return started;
}

/** Wait until `workers` workers own every shard in even shares (fair sharing, no WORKER_SHARDS). */
async function waitForSpread(base: string, workers: number, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    const rows = (await api(base, 'GET', '/v1/ops/shards').catch(() => [])) as { owner: string | null }[];
    const counts = new Map<string | null, number>();
    for (const r of rows) counts.set(r.owner, (counts.get(r.owner) ?? 0) + 1);
    const shares = [...counts.values()];
    last = `shares ${shares.join('/')}`;
    // Every shard owned, by `workers` workers, evenly (±1): the hand-overs of the rebalancing are over.
    if (rows.length > 0 && !counts.has(null) && counts.size === workers && Math.max(...shares) - Math.min(...shares) <= 1) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the shards were not spread over ${workers} workers within ${timeoutMs} ms (${last})`);
}

/** Stops every engine still running (for signal handlers) and drops its databases. */
export async function stopAllEngines(): Promise<void> {
  for (const e of [...running]) await stopEngine(e).catch(() => {});
}

async function startWorkerProcess(env: NodeJS.ProcessEnv, flags: string[], file = 'workers/reservation-worker.js'): Promise<ServerProcess> {
  const { spawn } = await import('node:child_process');
  // As the Procfile runs it.
  const semiSpace = file === 'workers/reservation-worker.js' ? ['--max-semi-space-size=4'] : [];
  const child = spawn(process.execPath, [...flags, ...semiSpace, path.join(dist, file)], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
    // The notifier in a session of its own, as `npm start` runs it, so that its lower CPU priority also holds
    // against Postgres's backends (engine/cpu-priority.ts).
    detached: file === 'workers/notifier.js',
  });
  const lines: string[] = [];
  child.stderr?.on('data', (d: Buffer) => {
    const text = d.toString();
    if (process.env.BENCH_ECHO === '1') process.stderr.write(text.replace(/^/gm, `  [engine ${path.basename(file, '.js')}] `));
    lines.push(...text.split('\n').filter(Boolean));
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
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(t);
    },
  };
}

/** Delete every Redis key under a prefix. */
export async function deleteRedisPrefix(prefix: string): Promise<void> {
  if (!prefix.startsWith('bench_base_')) throw new Error(`refusing to delete Redis keys under "${prefix}"`);
  const redis = new Redis(benchRedisUrl(), { maxRetriesPerRequest: 1 });
  try {
    await deletePrefix(redis, prefix);
  } finally {
    redis.disconnect();
  }
}

/** Stop both processes, delete the Redis prefix and (unless keepDatabases) drop the databases. */
export async function stopEngine(e: EngineProcesses | undefined, options: { keepDatabases?: boolean } = {}): Promise<void> {
  if (!e) return;
  running.delete(e);
  await e.web.stop().catch(() => {});
  await Promise.all([e.worker, ...e.moreWorkers].map((w) => w.stop().catch(() => {})));
  await e.notifier?.stop().catch(() => {});
  await deleteRedisPrefix(e.prefix);
  // The notifier's guest mails of this run (MAIL_DIR, named after the catalog database).
  await rm(benchMailDir(new URL(e.catalogUrl).pathname.slice(1)), { recursive: true, force: true });
  if (options.keepDatabases) return;
  for (const url of [e.catalogUrl, ...e.shardUrls]) await dropBenchDatabase(new URL(url).pathname.slice(1));
}

/** The Redis server the engine runs on and the bench reads counters from. */
function benchRedisUrl(): string {
  return process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/**
 * Where a run's notifier writes its guest mails (a scratch directory removed at the end of the run): tmpfs
 * (/dev/shm) where there is one, unless BENCH_MAIL_ON_DISK=1. Each run removes its tens of thousands of .eml files,
 * and on ext4 every inode allocated in the next ~30 s then scans past the recently deleted ones
 * (`find_inode_bit` → `recently_deleted` in `perf record -a` of a hot run that followed another: half of the
 * notifier's CPU, 8% of all the machine's samples): a cost of the benchmark's own clean-up that a deployment, which sends its mail
 * by SMTP and does not delete a directory of mails at once, does not pay.
 */
function benchMailDir(name: string): string {
  const base = process.env.BENCH_MAIL_ON_DISK !== '1' && existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  return path.join(base, `${name}-mail`);
}

/** The tiers BENCH_TIERS names (none by default). */
export function benchTiers(): { occupancyPercent: number; multiplierPercent: number }[] {
  const text = process.env.BENCH_TIERS?.trim();
  if (!text) return [];
  return text.split(',').map((pair) => {
    const [o, m] = pair.split(':').map(Number);
    if (!Number.isInteger(o) || !Number.isInteger(m)) throw new Error(`BENCH_TIERS: ${pair} is not occupancy:multiplier`);
    return { occupancyPercent: o, multiplierPercent: m };
  });
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
  // BENCH_TIERS=occupancy:multiplier,… (e.g. 50:120,80:150): occupancy pricing tiers on every hotel, so that the
  // writer prices every reservation through them.
  const tiers = benchTiers();
  if (tiers.length > 0) await inParallel(hotels, seedConcurrency, (h) => api(base, 'PUT', `/v1/hotels/${h.id}/pricing`, { tiers }));
  return {
    firstNight: tomorrowUtc(),
    windowNights: s.windowNights,
    roomTypes: types.map((t) => ({ hotelId: t.hotelId, roomTypeId: t.id, sellableLimit: sellableLimit(s.totalInventory, s.overbookingPercent) })),
  };
}

async function createPartnerKey(base: string): Promise<string> {
  const key = await api(base, 'POST', '/v1/api-keys', { name: 'bench partner', role: 'partner', rateLimitPerSecond: 0 });
  return key.token as string;
}

const templates = new Map<string, Promise<EngineTemplate>>();

/**
 * The template of a scenario (created over HTTP on first use, then reused): the engine is started, seeded through
 * its API with a partner key, and stopped; its databases stay, with no session attached, until dropEngineTemplates.
 */
export function engineTemplate(scenario: Scenario, log?: (line: string) => void): Promise<EngineTemplate> {
  const s = scenario.shape;
  const key = `${s.hotels}x${s.roomTypesPerHotel}x${s.totalInventory}x${s.overbookingPercent}x${s.baseRate}x${s.windowNights}x${process.env.BENCH_TIERS ?? ''}`;
  let t = templates.get(key);
  if (!t) {
    t = (async () => {
      const started = Date.now();
      const e = await startEngine(`tpl_${scenario.name}`);
      try {
        const catalog = await seedEngine(e.baseUrl, scenario);
        const partnerToken = await createPartnerKey(e.baseUrl);
        await stopEngine(e, { keepDatabases: true });
        log?.(`  seeded the ${scenario.name} template over HTTP (${s.hotels} hotels × ${s.roomTypesPerHotel} room types) in ${Math.round((Date.now() - started) / 1000)} s`);
        return {
          catalogName: new URL(e.catalogUrl).pathname.slice(1),
          shardNames: e.shardUrls.map((u) => new URL(u).pathname.slice(1)),
          catalog,
          partnerToken,
        };
      } catch (err) {
        await stopEngine(e);
        throw err;
      }
    })();
    t.catch(() => templates.delete(key));
    templates.set(key, t);
  }
  return t;
}

/** Drops every template database this process made. */
export async function dropEngineTemplates(): Promise<void> {
  const all = [...templates.values()];
  templates.clear();
  for (const p of all) {
    const t = await p.catch(() => undefined);
    if (!t) continue;
    for (const name of [t.catalogName, ...t.shardNames]) await dropBenchDatabase(name).catch(() => {});
  }
}

/**
 * Load every hotel of a catalog into the worker: one inventory write per hotel that sets the value it already has
 * (the first night of its first room type), so nothing changes but the hotel's version. Answers the time it took.
 */
export async function warmEngine(base: string, catalog: Catalog, totalInventory: number, concurrency = 64): Promise<number> {
  const started = Date.now();
  const firstOfHotel = new Map<string, string>();
  for (const rt of catalog.roomTypes) if (!firstOfHotel.has(rt.hotelId)) firstOfHotel.set(rt.hotelId, rt.roomTypeId);
  const to = new Date(Date.parse(`${catalog.firstNight}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  await inParallel([...firstOfHotel], concurrency, ([hotelId, roomTypeId]) =>
    api(base, 'PUT', `/v1/hotels/${hotelId}/room-types/${roomTypeId}/inventory`, { from: catalog.firstNight, to, totalInventory }),
  );
  return Date.now() - started;
}

/** An engine started for a scenario: from a template for big scenarios, else seeded over HTTP. */
export async function startSeededEngine(
  scenario: Scenario,
  options: { label?: string; log?: (line: string) => void; workers?: number } = {},
): Promise<{ engine: EngineProcesses; catalog: Catalog; partnerToken: string; seedMs: number }> {
  const started = Date.now();
  const s = scenario.shape;
  const label = options.label ?? scenario.name;
  if (s.hotels * s.roomTypesPerHotel > templateRoomTypesMin) {
    const t = await engineTemplate(scenario, options.log);
    const engine = await startEngine(label, {}, t, options.workers);
    try {
      // The template's catalog was made on the day it was seeded: same ids, today's window.
      const catalog = { ...t.catalog, firstNight: tomorrowUtc() };
      await warmEngine(engine.baseUrl, catalog, s.totalInventory);
      return { engine, catalog, partnerToken: t.partnerToken, seedMs: Date.now() - started };
    } catch (err) {
      await stopEngine(engine);
      throw err;
    }
  }
  const engine = await startEngine(label, {}, undefined, options.workers);
  try {
    const catalog = await seedEngine(engine.baseUrl, scenario);
    const partnerToken = await createPartnerKey(engine.baseUrl);
    return { engine, catalog, partnerToken, seedMs: Date.now() - started };
  } catch (err) {
    await stopEngine(engine);
    throw err;
  }
}

/** The engine as a Target; `current()` exposes its processes (pids, URLs) while a run is going. */
export function engineTarget(
  options: { log?: (line: string) => void; name?: string; scenarios?: readonly string[]; workers?: number } = {},
): Target & { current(): EngineProcesses | undefined } {
  let engine: EngineProcesses | undefined;
  return {
    name: options.name ?? 'engine',
    scenarios: options.scenarios,
    async start(scenario: Scenario): Promise<TargetEndpoint> {
      const started = await startSeededEngine(scenario, { log: options.log, workers: options.workers });
      engine = started.engine;
      return { baseUrl: engine.baseUrl, headers: { authorization: `Bearer ${started.partnerToken}` }, catalog: started.catalog };
    },
    async stop() {
      const e = engine;
      engine = undefined;
      await stopEngine(e);
    },
    databaseUrlsForOversoldCheck: () => engine?.shardUrls ?? [],
    async processIds() {
      const e = engine;
      if (!e) return [];
      const own = [e.web.pid, e.worker.pid, ...e.moreWorkers.map((w) => w.pid), e.notifier?.pid].filter((p): p is number => p !== undefined);
      return [...own, ...(await backendPids(adminDatabaseUrl(), [e.catalogUrl, ...e.shardUrls].map((u) => new URL(u).pathname.slice(1))))];
    },
    current: () => engine,
    diagnostics: async () => (engine ? engineCounters(engine) : {}),
    notifierState: async () => (engine?.notifier ? notifierState(engine) : undefined),
  };
}

/**
 * The engine's notifier now: events its shard databases committed that it has not recorded yet (by hotel, the
 * committed high-water mark hotels.event_sequence less what the notifier marked recorded, outbox_cursors.recorded),
 * events committed in all, and the CPU time of its process and of the Postgres backends it has open (by their
 * application names: its catalog pool, the relay's pools and lock session).
 */
export async function notifierState(e: EngineProcesses): Promise<NotifierState> {
  const parts = await Promise.all(
    e.shardUrls.map((url) =>
      withClient(url, async (c) => {
        const r = await c.query<{ behind: string | null; committed: string | null }>(
          `SELECT sum(GREATEST(h.event_sequence - COALESCE(c.recorded, 0), 0)) AS behind, sum(h.event_sequence) AS committed
             FROM hotels h LEFT JOIN outbox_cursors c ON c.hotel_id = h.id`,
        );
        return { behind: Number(r.rows[0]?.behind ?? 0), committed: Number(r.rows[0]?.committed ?? 0) };
      }),
    ),
  );
  const backends = await withAdminClient(async (c) => {
    const names = [e.catalogUrl, ...e.shardUrls].map((u) => new URL(u).pathname.slice(1));
    const r = await c.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE datname = ANY($1) AND application_name IN ('notifier', 'outbox-relay', 'outbox-relay-lock')",
      [names],
    );
    return r.rows.map((x) => x.pid);
  });
  return {
    behind: parts.reduce((a, b) => a + b.behind, 0),
    committed: parts.reduce((a, b) => a + b.committed, 0),
    cpuMs: readProcessCpu([...(e.notifier?.pid === undefined ? [] : [e.notifier.pid]), ...backends]),
    pid: e.notifier?.pid,
  };
}

/**
 * Counters read before and after a measured load (the runner keeps the difference): jobs and commands the API
 * queued (so commands per job), transactions committed in the shard databases, and commands Redis processed (the
 * whole Redis server: other users of the same server are counted too, so it is an upper bound).
 */
export async function engineCounters(e: EngineProcesses): Promise<Record<string, number>> {
  const text = await (await fetch(`${e.baseUrl}/metrics`, { headers: { authorization: `Bearer ${adminToken}` }, signal: AbortSignal.timeout(10_000) })).text();
  const read = (name: string) => Number(new RegExp(`^${name} ([0-9.eE+-]+)$`, 'm').exec(text)?.[1] ?? NaN);
  const out: Record<string, number> = {
    routerJobs: read('router_jobs_total'),
    routerCommands: read('router_commands_total'),
    shardPgCommits: 0,
    shardPgRollbacks: 0,
  };
  await withAdminClient(async (c) => {
    const names = e.shardUrls.map((u) => new URL(u).pathname.slice(1));
    const r = await c.query<{ commits: string; rollbacks: string }>(
      'SELECT sum(xact_commit) AS commits, sum(xact_rollback) AS rollbacks FROM pg_stat_database WHERE datname = ANY($1)',
      [names],
    );
    out.shardPgCommits = Number(r.rows[0]?.commits ?? 0);
    out.shardPgRollbacks = Number(r.rows[0]?.rollbacks ?? 0);
  });
  const redis = new Redis(benchRedisUrl(), { maxRetriesPerRequest: 1 });
  try {
    const info = await redis.info('stats');
    out.redisCommandsServerWide = Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? NaN);
  } finally {
    redis.disconnect();
  }
  return out;
}

export { randomUUID };
