// A whole deployment on private servers for chaos tests: its own Postgres (catalog and two shard databases) and
// Redis, the API and workers as child processes (so that a test can kill, freeze or cut them), hotels and
// principals, and the database-side tools a fault needs (a held night, the sessions of a worker, who committed).
// The load is in chaos-load.ts, the invariants checked after each fault in chaos-invariants.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { expect } from 'chai';
import { parseConfig, type Config } from '../../engine/config.js';
import { databaseOfShard, shardOf } from '../../engine/shard-map.js';
import { prepareDatabases } from '../../engine/store/pg.js';
import { HttpClient } from './http.js';
import { adminToken } from './env.js';
import { createGuest, createHotel, createKey, createRoomType, dayFromToday } from './fixtures.js';
import { PgProxy } from './pg-proxy.js';
import { freePort, startPrivatePostgres, startPrivateRedis, type PrivatePostgres, type PrivateRedis } from './private-servers.js';

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
  ADDRESS_RATE_LIMIT_PER_MINUTE: '0',
  DEMO_DATA: '0',
  LOG_LEVEL: 'warn',
  ADMIN_API_KEY: adminToken,
  HOLD_TTL_SECONDS: '3600',
  INVENTORY_HORIZON_DAYS: '60',
};

/**
 * Every worker pinned to every shard: the first takes them all and a second one stands by until it dies (without
 * WORKER_SHARDS, workers share the shards fairly, and a second one would take half of them).
 */
export const activeAndStandby = { WORKER_SHARDS: `0-${Number(chaosDefaults.SHARD_COUNT) - 1}` };

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

  /** Shards a test moved (shard-move.test.ts): shard → URL of the database that holds it now. */
  readonly movedShards = new Map<number, string>();
  /** Shard databases added by moves, beyond the configuration's. */
  readonly addedShardUrls: string[] = [];

  shardDbUrl(hotelId: string): string {
    const shard = shardOf(hotelId, this.config.shardCount);
    return this.movedShards.get(shard) ?? this.config.shardDatabaseUrls[databaseOfShard(shard, this.config.shardDatabaseUrls.length)];
  }

  /** Every shard database: the configuration's and those added by moves. */
  allShardUrls(): string[] {
    return [...this.config.shardDatabaseUrls, ...this.addedShardUrls];
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
