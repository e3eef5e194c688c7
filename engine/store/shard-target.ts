// Whether a database can take a shard: reachable, and with every shard migration applied (a new URL is created and
// migrated first). What a move's target must pass before the move is even queued.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPool, ensureDatabase, migrate, type Pool } from './pg.js';

const shardMigrations = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../schemas/migrations/shard');

/** How long a target may take to answer before it counts as unreachable. */
export const targetCheckMs = 3_000;

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`${what}: no answer within ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

/** The shard migrations the database lacks ([] when it is fully migrated). Throws when it cannot be reached. */
export async function missingShardMigrations(pool: Pool): Promise<string[]> {
  const files = (await readdir(shardMigrations)).filter((f) => f.endsWith('.sql')).sort();
  const r = await within(
    pool.query(`SELECT COALESCE(array_agg(name), '{}') AS names FROM schema_migrations`).catch((err: { code?: string }) => {
      // 42P01: no schema_migrations table: never migrated.
      if (err.code === '42P01') return { rows: [{ names: [] }] };
      throw err;
    }),
    targetCheckMs,
    'the database',
  );
  const done = new Set(r.rows[0].names as string[]);
  return files.filter((f) => !done.has(f));
}

/** Create (when absent) and migrate a new shard database at `url`; then check it. Throws a reason when it cannot. */
export async function prepareShardTarget(url: string): Promise<void> {
  await within(ensureDatabase(url), targetCheckMs, 'the server');
  await within(migrate(url, 'shard'), 30_000, 'the migrations');
  const pool = createPool(url, 1, 'shard-move-check');
  try {
    const missing = await missingShardMigrations(pool);
    if (missing.length > 0) throw new Error(`migrations missing: ${missing.join(', ')}`);
  } finally {
    await pool.end().catch(() => {});
  }
}
