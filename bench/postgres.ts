// Postgres plumbing of the benchmark: connection settings with an explicit user, and the lifecycle of the
// throw-away databases every run creates (all named `bench_base_…`, so nothing else is ever touched).

import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { processAlive } from './child-process.js';

/** Every database the benchmark creates starts with this prefix; it drops only what it created. */
export const benchDatabasePrefix = 'bench_base_';

/** The maintenance database URL used to create and drop benchmark databases. */
export function adminDatabaseUrl(): string {
  return process.env.BENCH_PG_URL ?? `postgres://${os.userInfo().username}@127.0.0.1:5432/postgres`;
}

/**
 * pg settings for a URL with the user always set: taken from the URL, else the OS account. node-postgres would
 * otherwise fall back to $USER, which differs between shells, sudo and CI runners.
 */
export function pgConfig(url: string, extra: pg.PoolConfig = {}): pg.PoolConfig {
  const u = new URL(url);
  return {
    connectionString: url,
    user: u.username ? decodeURIComponent(u.username) : os.userInfo().username,
    ...extra,
  };
}

/** The URL of database `name` on the same server as `baseUrl`. */
export function databaseUrl(baseUrl: string, name: string): string {
  const u = new URL(baseUrl);
  if (!u.username) u.username = os.userInfo().username;
  u.pathname = `/${name}`;
  return u.toString();
}

/** A fresh, unused benchmark database name: prefix, a readable label, then random bits. */
export function benchDatabaseName(label: string): string {
  const clean = label.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 30);
  return `${benchDatabasePrefix}${clean}_${process.pid}_${randomBytes(3).toString('hex')}`;
}

function assertBenchName(name: string): void {
  if (!name.startsWith(benchDatabasePrefix) || !/^[a-z0-9_]+$/.test(name)) {
    throw new Error(`refusing to touch database "${name}": benchmark databases are ${benchDatabasePrefix}[a-z0-9_]+`);
  }
}

/** A client on the database of `url`, for the length of `fn`. */
export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(pgConfig(url));
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A client on the maintenance database, for the length of `fn`. */
export function withAdminClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  return withClient(adminDatabaseUrl(), fn);
}

export async function createBenchDatabase(name: string): Promise<string> {
  assertBenchName(name);
  await withAdminClient((c) => c.query(`CREATE DATABASE ${name}`));
  return databaseUrl(adminDatabaseUrl(), name);
}

/** Drops a benchmark database, closing any session still attached (a killed server's pool, for instance). */
export async function dropBenchDatabase(name: string): Promise<void> {
  assertBenchName(name);
  await withAdminClient((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

/**
 * Drops benchmark databases left behind by a run that was killed before it could clean up: those whose name
 * carries the pid of a process that no longer exists. Databases of a run still going are left alone.
 */
export async function dropOrphanBenchDatabases(): Promise<string[]> {
  const names = await withAdminClient(async (c) => {
    const { rows } = await c.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'bench\\_base\\_%'`,
    );
    return rows.map((r) => r.datname);
  });
  const orphans = names.filter((n) => {
    // The engine's shard databases carry a `_shard_<i>` suffix after the pid and the random bits.
    const pid = Number(/_(\d+)_[0-9a-f]{6}(?:_shard_\d+)?$/.exec(n)?.[1]);
    return Number.isInteger(pid) && pid > 0 && !processAlive(pid);
  });
  for (const name of orphans) await dropBenchDatabase(name);
  return orphans;
}

/** The shard migrations directory of the repository, found from this file (dist/bench/… or bench/…). */
function shardMigrationsDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.resolve(here, '../../schemas/migrations/shard'),
    path.resolve(here, '../schemas/migrations/shard'),
    path.resolve(process.cwd(), 'schemas/migrations/shard'),
  ];
  const found = candidates.find((d) => existsSync(d));
  if (!found) throw new Error(`shard migrations not found (looked in ${candidates.join(', ')})`);
  return found;
}

/**
 * Applies the engine's shard migrations, in file-name order, so that baselines run on exactly the engine's
 * tables, indexes and CHECK constraints.
 */
export async function migrateShardDatabase(url: string): Promise<string[]> {
  const dir = shardMigrationsDir();
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const client = new pg.Client(pgConfig(url));
  await client.connect();
  try {
    for (const file of files) {
      await client.query(await readFile(path.join(dir, file), 'utf8'));
    }
  } finally {
    await client.end();
  }
  return files;
}

/** The server's cumulative counters for one database (pg_stat_database; refreshed about once a second). */
export function databaseCounters(url: string): Promise<Record<string, number>> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<Record<string, string>>(
      `SELECT xact_commit AS "pgCommits", xact_rollback AS "pgRollbacks", deadlocks AS "pgDeadlocks"
         FROM pg_stat_database WHERE datname = current_database()`,
    );
    return Object.fromEntries(Object.entries(rows[0] ?? {}).map(([k, v]) => [k, Number(v)]));
  });
}
