// A whole deployment on private servers for chaos tests: its own Postgres (catalog and two shard databases) and
// Redis, the API and workers as child processes (so that a test can kill, freeze or cut them), hotels and
// principals, a steady load of reservations, and the invariants every fault must keep, checked in the databases.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { expect } from 'chai';
import { parseConfig, type Config } from '../../engine/config.js';
import { databaseOfShard, shardOf } from '../../engine/shard-map.js';
import { prepareDatabases } from '../../engine/store/pg.js';
import { HttpClient } from './http.js';
import { adminToken } from './env.js';
import { createGuest, createHotel, createKey, createRoomType, dayFromToday } from './fixtures.js';
import { freePort, PgProxy, startPrivatePostgres, startPrivateRedis, type PrivatePostgres, type PrivateRedis } from './private-servers.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Parts still running; a test process that exits without its `after` (a crash, mocha's --exit) kills them. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** A Procfile part running as a child process, with the end of its stderr kept for failure messages. */
export class Part {
  private logTail = '';
  readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    /** The worker's own /metrics port (WORKER_METRICS_PORT), if it has one. */
    readonly metricsPort?: number,
  ) {
    child.stderr?.on('data', (d: Buffer) => {
      this.logTail = (this.logTail + d.toString()).slice(-20_000);
      if (process.env.TEST_LOG_LEVEL) process.stderr.write(`[${name}] ${d}`);
    });
    running.add(child);
    this.exited = new Promise((r) =>
      child.once('exit', () => {
        running.delete(child);
        r();
      }),
    );
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  log(): string {
    return this.logTail;
  }

  /** The worker's /metrics as name (with labels) → value. */
  async metrics(): Promise<Map<string, number>> {
    if (this.metricsPort === undefined) throw new Error(`${this.name} serves no /metrics`);
    const res = await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`, { signal: AbortSignal.timeout(5_000) });
    const out = new Map<string, number>();
    for (const line of (await res.text()).split('\n')) {
      const m = /^([^#\s][^\s]*)\s+(\S+)$/.exec(line);
      if (m) out.set(m[1], Number(m[2]));
    }
    return out;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.alive) this.child.kill(sig);
  }

  /** SIGTERM (a graceful stop), then SIGKILL after `graceMs`. A frozen process is woken first. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGCONT');
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}

export interface Principal {
  name: string;
  client: HttpClient;
}

export interface ChaosHotel {
  id: string;
  roomTypeId: string;
  shard: number;
  database: number;
}

/** One POST /v1/reservations as the load sent it and what came back. */
export interface Sent {
  lane: number;
  /** Position in its lane: a lane sends one request at a time to one hotel, so this is the hotel's send order. */
  seq: number;
  principal: Principal;
  hotel: ChaosHotel;
  body: { reservationId: string; checkIn: string; checkOut: string; roomCount: number; [k: string]: unknown };
  sentAt: number;
  answeredAt?: number;
  status?: number;
  response?: unknown;
  error?: string;
}

export interface ChaosOptions {
  /** Environment of every part beyond the defaults below. */
  vars?: Record<string, string>;
  redis?: { appendonly?: boolean };
  /** Put a TCP proxy between the workers and Postgres (for cutting their connections). */
  proxy?: boolean;
  /** Workers to start together with the API (more can be started later with `startWorker`). */
  workers?: number;
}

export const chaosDefaults = {
  SHARD_COUNT: '4',
  PG_SHARDS: '2',
  SHARD_LEASE_MS: '3000',
  JOB_LOCK_MS: '4000',
  REPLY_TIMEOUT_MS: '1500',
  RATE_LIMIT_PER_SECOND: '0',
  DEMO_DATA: '0',
  LOG_LEVEL: 'warn',
  ADMIN_API_KEY: adminToken,
  HOLD_TTL_SECONDS: '3600',
  INVENTORY_HORIZON_DAYS: '60',
};

export class ChaosStack {
  pg!: PrivatePostgres;
  redis!: PrivateRedis;
  proxy: PgProxy | undefined;
  /** The API's settings (direct to Postgres). */
  vars!: Record<string, string>;
  /** The workers' settings (through the proxy when there is one). */
  workerVars!: Record<string, string>;
  config!: Config;
  api: Part | undefined;
  apiUrl = '';
  admin!: HttpClient;
  readonly workers: Part[] = [];
  hotels: ChaosHotel[] = [];
  principals: Principal[] = [];
  private readonly clients: pg.Client[] = [];

  /** Servers, databases, the API and (unless told otherwise) one worker. */
  static async start(options: ChaosOptions = {}): Promise<ChaosStack> {
    const s = new ChaosStack();
    try {
      await s.init(options);
    } catch (err) {
      await s.destroy();
      throw err;
    }
    return s;
  }

  private async init(options: ChaosOptions): Promise<void> {
    [this.pg, this.redis] = await Promise.all([startPrivatePostgres(), startPrivateRedis(options.redis)]);
    const catalog = this.pg.url('booking');
    const shardUrls = [0, 1].map((i) => this.pg.url(`booking_shard_${i}`));
    const port = await freePort();
    this.vars = {
      ...chaosDefaults,
      DATABASE_URL: catalog,
      SHARD_DATABASE_URLS: shardUrls.join(','),
      REDIS_URL: this.redis.url,
      REDIS_PREFIX: 'chaos',
      PORT: String(port),
      ...options.vars,
    };
    this.config = parseConfig(this.vars);
    await prepareDatabases(this.config.catalogUrl, this.config.shardDatabaseUrls);
    if (options.proxy) {
      this.proxy = await PgProxy.start(this.pg.port);
      this.workerVars = { ...this.vars, SHARD_DATABASE_URLS: shardUrls.map((u) => this.proxy!.url(u)).join(',') };
    } else {
      this.workerVars = { ...this.vars };
    }
    await this.installCommitAudit();
    this.apiUrl = `http://127.0.0.1:${port}`;
    this.admin = new HttpClient(this.apiUrl, adminToken);
    this.startApi();
    for (let i = 0; i < (options.workers ?? 1); i++) await this.startWorker();
    await waitUntil('the API to answer /healthz', async () => (await this.admin.get('/healthz')).status === 200, 20_000, () => this.api?.log());
  }

  startApi(): Part {
    this.api = new Part('api', spawnNode('api/main.js', this.vars));
    return this.api;
  }

  async startWorker(extra: Record<string, string> = {}): Promise<Part> {
    const port = await freePort();
    const w = new Part(`worker-${this.workers.length + 1}`, spawnNode('workers/reservation-worker.js', { ...this.workerVars, WORKER_METRICS_PORT: String(port), ...extra }), port);
    this.workers.push(w);
    return w;
  }

  /** The logs of every part, for an assertion's message. */
  logs(): string {
    return [this.api, ...this.workers].filter(Boolean).map((p) => `--- ${p!.name}\n${p!.log().slice(-3000)}`).join('\n');
  }

  /**
   * Test instrumentation in each shard database: every applied_jobs row (one per job committed) records the
   * session that wrote it (application_name is the worker's owner id) and the shard's owner at that moment
   * (read under the commit's own FOR SHARE fence), so a commit by a non-owner shows in `commit_audit`.
   */
  private async installCommitAudit(): Promise<void> {
    for (const url of this.config.shardDatabaseUrls) {
      await withClient(url, (c) =>
        c.query(`
          CREATE TABLE IF NOT EXISTS commit_audit (
            job_id text, shard int, session_app text, owner text, epoch bigint, at timestamptz DEFAULT clock_timestamp());
          CREATE OR REPLACE FUNCTION commit_audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            INSERT INTO commit_audit (job_id, shard, session_app, owner, epoch)
            SELECT NEW.job_id, NEW.shard, current_setting('application_name'), l.owner, l.epoch
              FROM shard_leases l WHERE l.shard = NEW.shard;
            RETURN NEW;
          END $$;
          DROP TRIGGER IF EXISTS commit_audit ON applied_jobs;
          CREATE TRIGGER commit_audit AFTER INSERT ON applied_jobs FOR EACH ROW EXECUTE FUNCTION commit_audit_row();`),
      );
    }
  }

  /** Commits (job rows) written by a session that did not own the shard when it committed. */
  async commitsByNonOwners(): Promise<{ job_id: string; shard: number; session_app: string; owner: string }[]> {
    const out = [];
    for (const url of this.config.shardDatabaseUrls) {
      out.push(...(await withClient(url, async (c) => (await c.query('SELECT job_id, shard, session_app, owner FROM commit_audit WHERE session_app IS DISTINCT FROM owner')).rows)));
    }
    return out;
  }

  /** Commits written by the given worker (owner id) at or after `since`. */
  async commitsBy(owner: string, since = new Date(0)): Promise<number> {
    let n = 0;
    for (const url of this.config.shardDatabaseUrls) {
      n += await withClient(url, async (c) => Number((await c.query('SELECT count(*)::int AS n FROM commit_audit WHERE session_app = $1 AND at >= $2', [owner, since])).rows[0].n));
    }
    return n;
  }

  shardDbUrl(hotelId: string): string {
    return this.config.shardDatabaseUrls[databaseOfShard(shardOf(hotelId, this.config.shardCount), this.config.shardDatabaseUrls.length)];
  }

  /** Leases as the shard databases record them (the fencing epochs and their owners). */
  async leases(): Promise<Map<number, { epoch: number; owner: string }>> {
    const out = new Map<number, { epoch: number; owner: string }>();
    for (const url of this.config.shardDatabaseUrls) {
      const rows = await withClient(url, async (c) => (await c.query('SELECT shard, epoch, owner FROM shard_leases')).rows);
      for (const r of rows) out.set(Number(r.shard), { epoch: Number(r.epoch), owner: r.owner as string });
    }
    return out;
  }

  /** Wait until one worker owns every shard (by the shard databases' leases) and answer its owner id. */
  async waitForOneOwner(timeoutMs = 20_000, notOwner?: string): Promise<string> {
    let owner = '';
    await waitUntil('one worker to own every shard', async () => {
      const l = await this.leases();
      const owners = new Set([...l.values()].map((x) => x.owner));
      if (l.size !== this.config.shardCount || owners.size !== 1) return false;
      owner = [...owners][0];
      return owner !== notOwner;
    }, timeoutMs, () => this.logs());
    return owner;
  }

  /** Hotels (each with one room type), `perDatabase` in each shard database, and principals of every kind. */
  async populate(perDatabase = 2, totalInventory = 30): Promise<void> {
    const want = this.config.shardDatabaseUrls.length * perDatabase;
    const count = new Map<number, number>();
    for (let tries = 0; this.hotels.length < want && tries < 40; tries++) {
      const h = await createHotel(this.admin, { name: `Chaos ${tries}` });
      const shard = shardOf(h.id, this.config.shardCount);
      const database = databaseOfShard(shard, this.config.shardDatabaseUrls.length);
      // Hotels of distinct shards first, so that each database holds more than one shard's queue.
      if ((count.get(database) ?? 0) >= perDatabase || this.hotels.some((x) => x.shard === shard && tries < 20)) continue;
      count.set(database, (count.get(database) ?? 0) + 1);
      const rt = await createRoomType(this.admin, h.id, { totalInventory });
      this.hotels.push({ id: h.id, roomTypeId: rt.id, shard, database });
    }
    expect(this.hotels.length, 'hotels in every shard database').to.equal(want);
    const partner = await createKey(this.admin, 'partner', this.hotels.map((h) => h.id));
    const guests = await Promise.all([createGuest(this.admin), createGuest(this.admin)]);
    this.principals = [
      { name: 'partner', client: this.admin.as(partner) },
      { name: 'guest-1', client: this.admin.as(guests[0].token) },
      { name: 'guest-2', client: this.admin.as(guests[1].token) },
      { name: 'admin', client: this.admin },
    ];
  }

  /**
   * Hold a night's inventory row locked (`SELECT … FOR UPDATE` in an open transaction), so that an owner that
   * commits a command touching it waits with its commit in hand until `release`.
   */
  async holdNight(hotel: ChaosHotel, day: number): Promise<{ release(): Promise<void> }> {
    const c = new pg.Client({ connectionString: this.shardDbUrl(hotel.id), application_name: 'chaos-lock' });
    // The server may go (a test stops it) while the lock is held: that ends the lock, not the test.
    c.on('error', () => {});
    await c.connect();
    this.clients.push(c);
    await c.query('BEGIN');
    await c.query('SELECT reserved FROM room_type_inventory WHERE room_type_id = $1 AND date = $2 FOR UPDATE', [hotel.roomTypeId, dayFromToday(day)]);
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        await c.query('ROLLBACK').catch(() => {});
        await c.end().catch(() => {});
      },
    };
  }

  /** Wait until a worker session of the hotel's database waits on a lock (its commit is in hand); answer its pid. */
  async waitForBlockedCommit(hotel: ChaosHotel, timeoutMs = 10_000): Promise<{ pid: number; app: string }> {
    let found: { pid: number; app: string } | undefined;
    await waitUntil('an owner commit to wait on the held night', async () => {
      const rows = await withClient(this.shardDbUrl(hotel.id), async (c) =>
        (await c.query(`SELECT pid, application_name AS app FROM pg_stat_activity
                          WHERE datname = current_database() AND wait_event_type = 'Lock' AND application_name LIKE 'worker-%'`)).rows,
      );
      found = rows[0] ? { pid: Number(rows[0].pid), app: rows[0].app as string } : undefined;
      return found !== undefined;
    }, timeoutMs, () => this.logs());
    return found!;
  }

  /** Terminate every session of a worker (by its owner id) in every shard database; answer how many. */
  async terminateSessionsOf(owner: string): Promise<number> {
    let n = 0;
    for (const url of this.config.shardDatabaseUrls) {
      n += await withClient(url, async (c) =>
        (await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [owner])).rowCount ?? 0,
      );
    }
    return n;
  }

  async destroy(): Promise<void> {
    for (const c of this.clients) await c.end().catch(() => {});
    await Promise.all(this.workers.map((w) => w.stop(3_000).catch(() => {})));
    await this.api?.stop(3_000).catch(() => {});
    await this.proxy?.close().catch(() => {});
    await this.redis?.destroy().catch(() => {});
    await this.pg?.destroy().catch(() => {});
  }
}

function spawnNode(file: string, vars: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [path.join(dist, file)], { env: { ...process.env, ...vars }, stdio: ['ignore', 'ignore', 'pipe'] });
}

export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, application_name: 'chaos-check', connectionTimeoutMillis: 5_000 });
  c.on('error', () => {});
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number, detail?: () => string | undefined): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `\n${detail() ?? ''}` : ''}`);
}

/** A request with a deadline: a hanging request is recorded as such rather than hanging the test. */
export async function timedRequest(client: HttpClient, method: string, p: string, body?: unknown, timeoutMs = 30_000): Promise<{ status: number; body: unknown; ms: number; error?: string }> {
  const t0 = Date.now();
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (client.token) headers.authorization = `Bearer ${client.token}`;
  try {
    const res = await fetch(`${client.baseUrl}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : text;
    } catch {
      // Not JSON: keep the text.
    }
    return { status: res.status, body: parsed, ms: Date.now() - t0 };
  } catch (err) {
    return { status: 0, body: undefined, ms: Date.now() - t0, error: (err as Error).name === 'TimeoutError' ? 'timeout' : (err as Error).message };
  }
}

export interface LoadOptions {
  /** Pause between two requests of a lane. */
  pauseMs?: number;
  /** Nights the load books: check-in among days [firstDay, firstDay + spanDays) from today. */
  firstDay?: number;
  spanDays?: number;
  /** Requests per lane at most (the load is bounded even if nobody stops it). */
  perLaneMax?: number;
  /** A request unanswered after this long counts as hanging. */
  requestTimeoutMs?: number;
}

/**
 * A steady, bounded load: one lane per (principal, hotel) pair, each sending one reservation at a time (a new
 * random reservationId each), so that within a lane the send order is the hotel's queue order.
 */
export class ReservationLoad {
  readonly sent: Sent[] = [];
  private stopped = false;
  private running: Promise<void> = Promise.resolve();
  private readonly o: Required<LoadOptions>;

  constructor(
    private readonly stack: ChaosStack,
    options: LoadOptions = {},
  ) {
    this.o = { pauseMs: 40, firstDay: 2, spanDays: 30, perLaneMax: 2_000, requestTimeoutMs: 30_000, ...options };
  }

  start(): this {
    const lanes: { principal: Principal; hotel: ChaosHotel }[] = [];
    for (const [i, hotel] of this.stack.hotels.entries()) {
      // Two principals per hotel, rotating, so that every principal kind books in both databases.
      const ps = this.stack.principals;
      lanes.push({ principal: ps[i % ps.length], hotel }, { principal: ps[(i + 1) % ps.length], hotel });
    }
    this.running = Promise.all(lanes.map((l, i) => this.lane(i, l.principal, l.hotel))).then(() => undefined);
    return this;
  }

  /** Requests answered so far. */
  get answered(): number {
    return this.sent.filter((s) => s.answeredAt !== undefined).length;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async lane(lane: number, principal: Principal, hotel: ChaosHotel): Promise<void> {
    for (let seq = 0; !this.stopped && seq < this.o.perLaneMax; seq++) {
      const start = this.o.firstDay + Math.floor(Math.random() * this.o.spanDays);
      const nights = 1 + Math.floor(Math.random() * 3);
      const body = {
        reservationId: randomUUID(),
        hotelId: hotel.id,
        roomTypeId: hotel.roomTypeId,
        checkIn: dayFromToday(start),
        checkOut: dayFromToday(start + nights),
        roomCount: 1 + Math.floor(Math.random() * 2),
        guest: { name: 'Chaos Guest', email: 'chaos@example.com' },
      };
      const s: Sent = { lane, seq, principal, hotel, body, sentAt: Date.now() };
      this.sent.push(s);
      const r = await timedRequest(principal.client, 'POST', '/v1/reservations', body, this.o.requestTimeoutMs);
      s.answeredAt = Date.now();
      s.status = r.status;
      s.response = r.body;
      s.error = r.error;
      // A client backs off a little after 503 (the API says Retry-After), rather than spinning.
      await sleep(r.status === 503 ? Math.max(this.o.pauseMs, 250) : this.o.pauseMs);
    }
  }
}

export interface InvariantOptions {
  /** When the fault was over: every 202 must be decided within `decideWithinMs` of it. */
  recoveredAt: number;
  decideWithinMs?: number;
  /** Statuses a reservation request may get (201 created, 202 queued, 409 refused unless the test allows more). */
  allowedStatuses?: number[];
  /** Check that each lane's created reservations were decided in send order (hotel version from the outbox). */
  order?: boolean;
  /** When the fault began: a request answered wrongly says when it was sent relative to it. */
  faultAt?: number;
}

export interface Decided {
  sent: Sent;
  /** 'created' (201, or 202 then 200 on GET), 'refused' (409, or 202 then 404), 'unavailable' (503). */
  final: 'created' | 'refused' | 'unavailable';
  /** For a request answered 202: the body of the GET that found it decided. */
  answer?: unknown;
}

/**
 * The invariants of issue 13, checked in the shard databases: every request answered 202 is decided within the
 * bound; every reservation acknowledged (201, or 200 on its GET) is stored exactly once and nothing else is; no
 * night is over its sellable limit; each night's reserved count equals the rooms its live reservations hold; and,
 * if asked, each lane was decided in the order it was sent.
 */
export async function checkInvariants(stack: ChaosStack, sent: Sent[], o: InvariantOptions, findings?: Findings): Promise<Decided[]> {
  const f = findings ?? new Findings(stack);
  const allowed = o.allowedStatuses ?? [201, 202, 409];
  f.expectEmpty(
    'requests without an answer (hanging or refused connection)',
    sent.filter((s) => s.status === undefined || s.status === 0).map((s) => `${s.body.reservationId}: ${s.error} after ${(s.answeredAt ?? Date.now()) - s.sentAt} ms`),
  );
  f.expectEmpty(
    `reservation requests answered outside ${allowed.join('/')}`,
    sent
      .filter((s) => s.status && !allowed.includes(s.status))
      .map((s) => `${o.faultAt === undefined ? '' : `sent at ${((s.sentAt - o.faultAt) / 1000).toFixed(1)} s of the fault: `}${s.status} ${JSON.stringify(s.response).slice(0, 200)}`),
  );

  // Every 202 is decided within the bound: GET (as its owner) answers 200, or 404 (refused, or never decided).
  const deadline = o.recoveredAt + (o.decideWithinMs ?? 15_000);
  const decided: Decided[] = [];
  const undecided: string[] = [];
  await Promise.all(
    chunk(sent, 8).map(async (part) => {
      for (const s of part) {
        if (s.status === 201) decided.push({ sent: s, final: 'created' });
        else if (s.status === 409 || s.status === 422) decided.push({ sent: s, final: 'refused' });
        else if (s.status === 503) decided.push({ sent: s, final: 'unavailable' });
        else if (s.status === 202) {
          let last = 0;
          for (;;) {
            const g = await timedRequest(s.principal.client, 'GET', `/v1/reservations/${s.body.reservationId}`, undefined, 5_000);
            last = g.status;
            if (g.status === 200 || g.status === 404) {
              decided.push({ sent: s, final: g.status === 200 ? 'created' : 'refused', answer: g.body });
              break;
            }
            if (Date.now() > deadline) {
              undecided.push(`${s.body.reservationId} (${s.principal.name}): still ${last}`);
              break;
            }
            await sleep(200);
          }
        }
      }
    }),
  );
  f.expectEmpty(`requests answered 202 and not decided within ${o.decideWithinMs ?? 15_000} ms of recovery`, undecided);

  // Stored exactly once (across every shard database) when acknowledged; not at all otherwise.
  const ids = sent.map((s) => s.body.reservationId);
  const stored = new Map<string, number>();
  for (const url of stack.config.shardDatabaseUrls) {
    const rows = await withClient(url, async (c) => (await c.query('SELECT id::text, count(*)::int AS n FROM reservations WHERE id = ANY($1::uuid[]) GROUP BY id', [ids])).rows);
    for (const r of rows) stored.set(r.id, (stored.get(r.id) ?? 0) + r.n);
  }
  f.expectEmpty(
    'acknowledged reservations not stored exactly once',
    decided.filter((d) => d.final === 'created' && stored.get(d.sent.body.reservationId) !== 1).map((d) => `${d.sent.body.reservationId} answered ${d.sent.status}: stored ${stored.get(d.sent.body.reservationId) ?? 0}×`),
  );
  f.expectEmpty(
    'reservations stored though their request was refused or answered unavailable',
    decided.filter((d) => d.final !== 'created' && stored.has(d.sent.body.reservationId)).map((d) => `${d.sent.body.reservationId} answered ${d.sent.status} (${d.final}): stored`),
  );

  // Nights: never over the limit, and reserved = rooms of the live reservations covering them.
  for (const h of stack.hotels) {
    const nights = await withClient(stack.shardDbUrl(h.id), async (c) =>
      (await c.query(
        `SELECT to_char(i.date, 'YYYY-MM-DD') AS date, i.reserved, i.sellable_limit,
                COALESCE((SELECT sum(r.room_count) FROM reservations r
                           WHERE r.room_type_id = i.room_type_id AND r.status IN ('pending', 'paid')
                             AND r.check_in <= i.date AND r.check_out > i.date), 0)::int AS held
           FROM room_type_inventory i WHERE i.room_type_id = $1 ORDER BY i.date`,
        [h.roomTypeId],
      )).rows,
    );
    f.expectEmpty(`nights over their sellable limit (hotel ${h.id})`, nights.filter((n) => n.reserved > n.sellable_limit).map((n) => `${n.date}: ${n.reserved} > ${n.sellable_limit}`));
    f.expectEmpty(
      `nights whose reserved count is not the rooms of their live reservations (hotel ${h.id})`,
      nights.filter((n) => n.reserved !== n.held).map((n) => `${n.date}: reserved ${n.reserved}, held ${n.held}`),
    );
  }

  if (o.order) f.expectEmpty('reservations decided out of their hotel send order', await laneOrderViolations(stack, decided));
  if (!findings) f.done();
  return decided;
}

/**
 * Violated expectations, collected so that one run reports every broken invariant at once (a fault that breaks
 * several shows all of them), then failed together with the parts' logs.
 */
export class Findings {
  readonly list: string[] = [];

  constructor(private readonly stack?: ChaosStack) {}

  /** A list that should be empty (shown up to 12 items). */
  expectEmpty(what: string, items: string[]): void {
    if (items.length === 0) return;
    const shown = items.slice(0, 12).join('\n    ');
    this.list.push(`${what} (${items.length}):\n    ${shown}${items.length > 12 ? `\n    … ${items.length - 12} more` : ''}`);
  }

  /** Run an expectation; record its failure and go on. */
  async check(what: string, fn: () => unknown): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.list.push(`${what}: ${(err as Error).message.slice(0, 2_000)}`);
    }
  }

  done(): void {
    if (this.list.length === 0) return;
    expect.fail(`${this.list.length} expectation(s) failed:\n- ${this.list.join('\n- ')}\n\nlogs:\n${this.stack?.logs() ?? ''}`);
  }
}

/** The hotel version each reservation was created at (its `reservation.created` outbox row). */
export async function createdVersions(stack: ChaosStack, ids: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const url of stack.config.shardDatabaseUrls) {
    const rows = await withClient(url, async (c) =>
      (await c.query(`SELECT reservation_id::text AS id, version FROM outbox WHERE type = 'reservation.created' AND reservation_id = ANY($1::uuid[])`, [ids])).rows,
    );
    for (const r of rows) out.set(r.id, Number(r.version));
  }
  return out;
}

/** Within each lane (one principal, one hotel, one request at a time), created reservations have rising versions. */
async function laneOrderViolations(stack: ChaosStack, decided: Decided[]): Promise<string[]> {
  const created = decided.filter((d) => d.final === 'created').map((d) => d.sent);
  const versions = await createdVersions(stack, created.map((s) => s.body.reservationId));
  const lanes = new Map<number, Sent[]>();
  for (const s of created) lanes.set(s.lane, [...(lanes.get(s.lane) ?? []), s]);
  const reordered: string[] = [];
  for (const [lane, list] of lanes) {
    list.sort((a, b) => a.seq - b.seq);
    for (let i = 1; i < list.length; i++) {
      const a = versions.get(list[i - 1].body.reservationId);
      const b = versions.get(list[i].body.reservationId);
      if (a === undefined || b === undefined || b <= a) {
        reordered.push(`lane ${lane}: #${list[i - 1].seq} (${list[i - 1].status}) at version ${a}, then #${list[i].seq} (${list[i].status}) at version ${b}`);
      }
    }
  }
  return reordered;
}

function chunk<T>(xs: T[], n: number): T[][] {
  const out: T[][] = Array.from({ length: n }, () => []);
  xs.forEach((x, i) => out[i % n].push(x));
  return out;
}

/** A reservation body for one hotel and its room type, `nights` nights from day `day` (from today). */
export function stayBody(hotel: ChaosHotel, day: number, nights = 1, name = 'Chaos Guest') {
  return {
    reservationId: randomUUID(),
    hotelId: hotel.id,
    roomTypeId: hotel.roomTypeId,
    checkIn: dayFromToday(day),
    checkOut: dayFromToday(day + nights),
    roomCount: 1,
    guest: { name, email: 'chaos@example.com' },
  };
}

/**
 * Availability as the API answers it (not stale) equals the shard databases' nights, for every hotel over days
 * [fromDay, toDay): waits up to `timeoutMs` for the cache to catch up, then answers the nights that differ.
 */
export async function availabilityDiffs(stack: ChaosStack, fromDay: number, toDay: number, timeoutMs = 5_000): Promise<string[]> {
  const diffs = async (): Promise<string[]> => {
    const out: string[] = [];
    for (const h of stack.hotels) {
      const a = await timedRequest(stack.admin, 'GET', `/v1/hotels/${h.id}/availability?checkIn=${dayFromToday(fromDay)}&checkOut=${dayFromToday(toDay)}&roomTypeId=${h.roomTypeId}`, undefined, 5_000);
      if (a.status !== 200) {
        out.push(`hotel ${h.id}: availability answered ${a.status} ${JSON.stringify(a.body).slice(0, 200)}`);
        continue;
      }
      const body = a.body as { stale: boolean; roomTypes: { nights: { date: string; reserved: number; available: number }[] }[] };
      if (body.stale) out.push(`hotel ${h.id}: stale`);
      const db = await withClient(stack.shardDbUrl(h.id), async (c) =>
        (await c.query(`SELECT to_char(date, 'YYYY-MM-DD') AS date, reserved, sellable_limit FROM room_type_inventory
                         WHERE room_type_id = $1 AND date >= $2 AND date < $3`, [h.roomTypeId, dayFromToday(fromDay), dayFromToday(toDay)])).rows,
      );
      const byDate = new Map(db.map((r) => [r.date as string, r]));
      for (const n of body.roomTypes[0]?.nights ?? []) {
        const d = byDate.get(n.date);
        if (!d || d.reserved !== n.reserved || Math.max(0, d.sellable_limit - d.reserved) !== n.available) {
          out.push(`hotel ${h.id} ${n.date}: answered reserved ${n.reserved} available ${n.available}, database reserved ${d?.reserved} limit ${d?.sellable_limit}`);
        }
      }
      if ((body.roomTypes[0]?.nights.length ?? 0) !== toDay - fromDay) out.push(`hotel ${h.id}: ${body.roomTypes[0]?.nights.length ?? 0} nights answered`);
    }
    return out;
  };
  let last: string[] = [];
  const until = Date.now() + timeoutMs;
  do {
    last = await diffs();
    if (last.length === 0) return [];
    await sleep(250);
  } while (Date.now() < until);
  return last;
}
