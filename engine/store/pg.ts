// The one module that owns the `pg` driver: pools, database creation and migrations.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
export type QueryResultRow = pg.QueryResultRow;

// Dates stay 'YYYY-MM-DD' strings and bigints become numbers (every amount is bounded well inside 2^53).
pg.types.setTypeParser(1082, (v: string) => v);
pg.types.setTypeParser(20, (v: string) => Number(v));

/** Server settings for every session of a pool (sent at connect: no round trip, no statement). */
export type SessionSettings = Record<string, string>;

export function createPool(url: string, max = 10, application = 'reservation-engine', settings: SessionSettings = {}): Pool {
  // Given options replace PGOPTIONS in node-postgres: keep the environment's, then ours (a later -c wins).
  const options = [process.env.PGOPTIONS ?? '', ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].filter(Boolean).join(' ');
  const pool = new pg.Pool({
    connectionString: url,
    max,
    application_name: application,
    ...(options ? { options } : {}),
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client's error (the server went away) must not crash the process; the next query reports it.
  pool.on('error', () => {});
  return pool;
}

function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}

function maintenanceUrl(url: string): string {
  const u = new URL(url);
  u.pathname = '/postgres';
  return u.toString();
}

/** Run `fn` on a connection to the maintenance database of the server a URL names. */
async function onServer<T>(url: string, fn: (c: pg.Client, quotedName: string, name: string) => Promise<T>): Promise<T> {
  const name = databaseName(url);
  const client = new pg.Client({ connectionString: maintenanceUrl(url) });
  await client.connect();
  try {
    return await fn(client, `"${name.replace(/"/g, '""')}"`, name);
  } finally {
    await client.end();
  }
}

/** Create the database a URL names when it does not exist (concurrent starters may race: both are fine). */
export async function ensureDatabase(url: string): Promise<void> {
  await onServer(url, async (client, quoted, name) => {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount !== 0) return;
    try {
      await client.query(`CREATE DATABASE ${quoted}`);
    } catch (err) {
      // 42P04 duplicate_database, 23505 unique_violation: another starter created it first.
      const code = (err as { code?: string }).code;
      if (code !== '42P04' && code !== '23505') throw err;
    }
  });
}

export async function dropDatabase(url: string): Promise<void> {
  await onServer(url, (client, quoted) => client.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`));
}

const migrationsRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../schemas/migrations');

/** The names of the migrations of a kind, in the order they apply. */
async function migrationFiles(kind: 'catalog' | 'shard'): Promise<string[]> {
  return (await readdir(path.join(migrationsRoot, kind))).filter((f) => f.endsWith('.sql')).sort();
}

/** The migrations of `kind` that a database has not applied (every one when it has no schema_migrations table). */
export async function pendingMigrations(db: Pool, kind: 'catalog' | 'shard'): Promise<string[]> {
  const files = await migrationFiles(kind);
  try {
    const done = new Set((await db.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((r) => r.name));
    return files.filter((f) => !done.has(f));
  } catch (err) {
    if (sqlState(err) === '42P01') return files;
    throw err;
  }
}

/**
 * Apply the versioned SQL files of `schemas/migrations/<kind>/` that the database has not seen, in name order,
 * each in its own transaction, under an advisory lock so that concurrent starters apply each file once.
 */
export async function migrate(url: string, kind: 'catalog' | 'shard'): Promise<string[]> {
  const dir = path.join(migrationsRoot, kind);
  const files = await migrationFiles(kind);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock(7216001)');
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set((await client.query('SELECT name FROM schema_migrations')).rows.map((r) => r.name as string));
    for (const f of files) {
      if (done.has(f)) continue;
      const sql = await readFile(path.join(dir, f), 'utf8');
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (name) VALUES ($1)', [f]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${kind}/${f} failed: ${(err as Error).message}`);
      }
      applied.push(f);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock(7216001)').catch(() => {});
    await client.end();
  }
  return applied;
}

/** Create and migrate the catalog and every shard database. */
export async function prepareDatabases(catalogUrl: string, shardUrls: string[]): Promise<void> {
  await ensureDatabase(catalogUrl);
  await migrate(catalogUrl, 'catalog');
  for (const url of shardUrls) {
    await ensureDatabase(url);
    await migrate(url, 'shard');
  }
}

/** Whether an error means the database could not be reached (as opposed to a query the database refused). */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (!e) return false;
  if (typeof e.code === 'string') {
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'].includes(e.code)) return true;
    // Class 08: connection exception; 57P01..57P03: admin shutdown, crash shutdown, cannot connect now.
    if (e.code.startsWith('08') || ['57P01', '57P02', '57P03', '53300'].includes(e.code)) return true;
  }
  return /Connection terminated|timeout exceeded when trying to connect|connect ECONNREFUSED|Client has encountered a connection error|Client was closed|not queryable/i.test(
    e.message ?? '',
  );
}

/** Whether an error carries a SQLSTATE of the server's (five characters, e.g. 40P01). */
function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * Whether retrying the same statement would fail the same way: the server refused what the statement carries
 * (class 22, data exception: a value it cannot store; class 23, integrity constraint violation), or the error did
 * not come from the database at all (a bug or a broken assertion in this process). Everything else, a lost
 * connection, a full disk (53100), a read-only node after a failover (25006), a canceled statement (57014), a
 * deadlock (40P01), a serialization failure, a server crash, is the database failing, not the command: the writer
 * retries it in place, in order, until the database is back.
 */
export function isRefusal(err: unknown): boolean {
  if (isConnectionError(err)) return false;
  const state = sqlState(err);
  if (state === undefined) return true;
  return state.startsWith('22') || state.startsWith('23');
}

/**
 * A Postgres error that says the database cannot serve now, whatever the request: the database refuses connections
 * (55000, e.g. ALLOW_CONNECTIONS false) or is out of resources (class 53: disk full, out of memory, too many
 * connections), a statement was canceled (57014) or the server is shutting down (class 57), a system error (class
 * 58), a read-only node after a failover (25006), or a serialization failure or deadlock (40001, 40P01). Each is an
 * outage to retry (503), not a bug (500). (The writer retries more: every failure that is not a refusal.)
 */
export function isDatabaseTrouble(err: unknown): boolean {
  const code = sqlState(err);
  if (code === undefined) return false;
  return ['53', '57', '58'].includes(code.slice(0, 2)) || ['55000', '25006', '40001', '40P01'].includes(code);
}

/**
 * A shard database that is registered in the shard map but lacks the engine's schema (an operator added it by hand,
 * or its migration failed): its tables or functions are missing (42P01, 42883). The API answers 503 naming it, not a
 * 500, since nothing is wrong with the request; `GET /readyz` fails until it is migrated.
 */
export class ShardDatabaseNotMigrated extends Error {
  constructor(readonly database: number) {
    super(`shard database ${database} is not migrated`);
  }
}

/** Whether an error is a missing table or function: a database without the engine's schema, or a bug. */
function isMissingSchema(err: unknown): boolean {
  const code = sqlState(err);
  return code === '42P01' || code === '42883';
}

/**
 * A read's error on a shard database, as the caller should see it: ShardDatabaseNotMigrated when a table or function
 * is missing because the database lacks some of the engine's migrations; the error itself otherwise (a table or
 * function missing from a migrated database is a bug in the query or the schema, and must not pass for an operator's
 * unmigrated database).
 */
export async function shardReadError(err: unknown, db: Pool, database: number): Promise<unknown> {
  if (!isMissingSchema(err)) return err;
  const pending = await pendingMigrations(db, 'shard').catch(() => []);
  return pending.length > 0 ? new ShardDatabaseNotMigrated(database) : err;
}

/**
 * A condition that a row's shard (`shardExpr`) lives in this database: compared with the shards moved away or not yet
 * flipped to, as one array that Postgres computes once per query (an InitPlan; shard migration 009). The cast keeps
 * `ALL (...)` from reading the subquery as a set of arrays.
 */
export function shardAtHome(shardExpr: string): string {
  return `${shardExpr} <> ALL ((SELECT shards_away())::int[])`;
}
