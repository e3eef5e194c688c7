// The notifier under the hot load: how fast it delivers to a local receiver, and how far the outbox lags.
//   npm run build && node dist/bench/notify.js
//   NOTIFY_SECONDS (10) length of the load; NOTIFY_CLIENTS (64) requests in flight; BENCH_PG_URL, BENCH_REDIS_URL.
// The API and the worker run as the Procfile runs them (child processes); the relay and the notifier run in this
// process, so that their own figures (outbox lag: commit to queue of the oldest event of each hotel in each relay
// round) can be read. One hotel, one room type with 10,000 rooms, stays of 1-3 nights over 60 nights: every
// reservation is held. A webhook subscribed to every event type points to a node:http receiver on this machine that
// answers 204 at once.
// Then, on the run's outbox, the CPU that the notifier's unavoidable work costs per reservation event, measured apart
// from the load: Postgres reading the events (the backend's CPU from /proc), the notifier making them into events,
// and composing and writing each guest mail as an .eml file (the notifier's own CPU).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { parseConfig } from '../engine/config.js';
import { reservationEventTypes } from '../engine/notify/events.js';
import { Mailer, mailOf } from '../engine/notify/mail.js';
import { readRanges } from '../engine/notify/outbox-read.js';
import { startNotificationService } from '../engine/notify/service.js';
import { deletePrefix } from '../engine/redis.js';
import { createPool, dropDatabase, prepareDatabases } from '../engine/store/pg.js';
import { freePort, startServerProcess } from './child-process.js';
import { adminDatabaseUrl, benchDatabaseName, databaseUrl } from './postgres.js';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const seconds = Number(process.env.NOTIFY_SECONDS ?? 10);
const clients = Number(process.env.NOTIFY_CLIENTS ?? 64);
const token = `bench-admin-${randomUUID()}`;
const name = benchDatabaseName('notify');
const port = await freePort();
const vars: Record<string, string> = {
  DATABASE_URL: databaseUrl(adminDatabaseUrl(), name),
  PG_SHARDS: '2',
  REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
  REDIS_PREFIX: name,
  ADMIN_API_KEY: token,
  PORT: String(port),
  DEMO_DATA: '0',
  RATE_LIMIT_PER_SECOND: '0',
  LOG_LEVEL: 'warn',
  WEBHOOK_ALLOW_PRIVATE: '1',
  MAIL_DIR: path.join(os.tmpdir(), `${name}-mail`),
};
const config = parseConfig(vars);
await prepareDatabases(config.catalogUrl, config.shardDatabaseUrls);
const env = { ...process.env, ...vars };
// The worker has no HTTP port: it starts beside the API, whose readiness is waited for.
const worker = spawn(process.execPath, ['--max-semi-space-size=4', path.join(dist, 'workers/reservation-worker.js')], { env, stdio: 'ignore' });
const web = await startServerProcess({ name: 'api', args: [path.join(dist, 'api/main.js')], env, healthUrl: `http://127.0.0.1:${port}/readyz`, readyTimeoutMs: 60_000 });
const base = `http://127.0.0.1:${port}`;
const api = async (method: string, p: string, body?: unknown) => {
  const r = await fetch(base + p, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, body: (await r.json().catch(() => null)) as any };
};

const arrivals: { at: number; createdAt: number; id: string }[] = [];
const receiver = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const e = JSON.parse(Buffer.concat(chunks).toString());
    arrivals.push({ at: Date.now(), createdAt: Date.parse(e.createdAt), id: e.id });
    res.writeHead(204).end();
  });
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

try {
  const hotel = (await api('POST', '/v1/hotels', { name: 'Notify bench', city: 'Paris', country: 'FR', timezone: 'UTC', currency: 'EUR' })).body;
  const rt = (await api('POST', `/v1/hotels/${hotel.id}/room-types`, { name: 'Double', maxGuests: 2, totalInventory: 10_000, baseRate: 10_000 })).body;
  const hook = await api('POST', '/v1/webhooks', { url: receiverUrl, events: ['reservation.created', 'reservation.paid', 'reservation.rejected', 'reservation.canceled', 'reservation.refunded', 'availability.changed'] });
  if (hook.status !== 201) throw new Error(`webhook: ${JSON.stringify(hook.body)}`);
  const service = startNotificationService(config);
  const day = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
  let held = 0;
  let i = 0;
  const until = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < until) {
        const k = i++;
        const start = 2 + (k % 60);
        const r = await api('POST', '/v1/reservations', {
          reservationId: randomUUID(), hotelId: hotel.id, roomTypeId: rt.id, checkIn: day(start), checkOut: day(start + 1 + (k % 3)),
          guest: { name: 'Bench', email: 'bench@example.com' },
        });
        if (r.status === 201) held++;
      }
    }),
  );
  const loadMs = Date.now() - started;
  const lagP99 = service.relay.lagPercentile(99);
  const lagP50 = service.relay.lagPercentile(50);
  // Wait until deliveries stop arriving (every relayed event delivered).
  const settle = Date.now() + 120_000;
  let last = -1;
  while (Date.now() < settle) {
    await new Promise((r) => setTimeout(r, 1000));
    if (arrivals.length === last && service.relay.relayed > 0) break;
    last = arrivals.length;
  }
  const ids = new Set(arrivals.map((a) => a.id));
  const first = Math.min(...arrivals.map((a) => a.at));
  const lastAt = Math.max(...arrivals.map((a) => a.at));
  const endToEnd = arrivals.map((a) => a.at - a.createdAt).sort((a, b) => a - b);
  const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
  console.log(JSON.stringify({
    seconds, clients, held, reservationsPerSecond: Math.round((held / loadMs) * 1000),
    relayed: service.relay.relayed, delivered: arrivals.length, distinctEvents: ids.size,
    deliveriesPerSecond: Math.round((arrivals.length / Math.max(1, lastAt - first)) * 1000),
    outboxLagMs: { p50: lagP50, p99: lagP99 },
    commitToReceiverMs: { p50: pct(endToEnd, 50), p99: pct(endToEnd, 99) },
  }, null, 1));
  await service.stop();
  console.log(JSON.stringify({ perEventCost: await perEventCost(hotel.id, hotel.name) }, null, 1));
} finally {
  receiver.close();
  await web.stop();
  const gone = new Promise((r) => worker.once('exit', r));
  worker.kill('SIGTERM');
  await gone;
  const redis = new Redis(vars.REDIS_URL, { maxRetriesPerRequest: 1 });
  await deletePrefix(redis, name);
  redis.disconnect();
  for (const url of [config.catalogUrl, ...config.shardDatabaseUrls]) await dropDatabase(url);
  // The guest mails of this run (one .eml per reservation event).
  await rm(vars.MAIL_DIR, { recursive: true, force: true });
}

/**
 * CPU per event of the notifier's fixed work, over the hotel's reservation events as the notifier reads them (ranges
 * of 1,000 events, as relay jobs carry): Postgres's backend (utime + stime of its process, in 10 ms ticks), reading
 * them in this process, and writing their guest mails as files (this process, `process.cpuUsage`).
 */
async function perEventCost(hotelId: string, hotelName: string): Promise<Record<string, number>> {
  const ticks = (pid: number) => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  };
  const micros = (u: NodeJS.CpuUsage) => u.user + u.system;
  // On tmpfs where there is one, as the engine's bench writes its mails (see bench/engine-target.ts, benchMailDir).
  const costDir = path.join(existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), `${name}-cost`);
  for (const [database, url] of config.shardDatabaseUrls.entries()) {
    const pool = createPool(url, 1, 'notify-bench');
    try {
      const n = Number((await pool.query('SELECT count(*) AS n FROM outbox WHERE hotel_id = $1', [hotelId])).rows[0].n);
      if (n === 0) continue;
      const pid = Number((await pool.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
      const rounds = Number(process.env.NOTIFY_COST_ROUNDS ?? 3);
      let events = 0;
      const mails = [];
      const pgBefore = ticks(pid);
      const before = process.cpuUsage();
      for (let round = 0; round < rounds; round++) {
        for (let after = 0; after < n; after += 1_000) {
          const hotels = await readRanges(pool, [{ hotelId, hotelName, database, after, upto: Math.min(n, after + 1_000) }], [...reservationEventTypes]);
          for (const e of hotels[0].events) {
            events++;
            if (round === 0) mails.push(mailOf(e, hotelName)!);
          }
        }
      }
      const readMicros = micros(process.cpuUsage(before));
      const pgMicros = (ticks(pid) - pgBefore) * 10_000;
      const mailer = new Mailer(pool, { mailDir: costDir });
      const mailBefore = process.cpuUsage();
      await mailer.enqueue(mails);
      const mailMicros = micros(process.cpuUsage(mailBefore));
      await rm(costDir, { recursive: true, force: true });
      const round1 = (x: number) => Math.round(x * 10) / 10;
      return {
        events: events / rounds,
        postgresReadMicros: round1(pgMicros / events),
        notifierReadMicros: round1(readMicros / events),
        mailFileMicros: round1(mailMicros / mails.length),
      };
    } finally {
      await pool.end();
    }
  }
  return {};
}
