// Test databases and Redis keys left behind by a test run that was killed (it never got to clean up): removed at
// the start of a later run on the same machine, once the process that made them is gone. A test id names the
// process that made it, so that a run never touches what a live run (another checkout's, say) is using.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import pg from 'pg';
import { Redis } from 'ioredis';
import { processAlive } from '../../bench/child-process.js';
import { deletePrefix } from '../../engine/redis.js';

/**
 * The start of every test id: bk_t_, or TEST_ID_PREFIX (bk_<letters>_), so that several people running tests on one
 * machine can tell their databases and keys apart.
 */
const idPrefix = /^bk_[a-z]+_$/.test(process.env.TEST_ID_PREFIX ?? '') ? (process.env.TEST_ID_PREFIX as string) : 'bk_t_';
const idShape = new RegExp(`^${idPrefix}([0-9a-z]+)_[0-9a-z]+_[0-9a-f]{6}$`);

/** A fresh test id (database name and Redis prefix): bk_t_<pid>_<time>_<random>, pid and time in base 36. */
export function newTestId(): string {
  return `${idPrefix}${process.pid.toString(36)}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** The test id a database name or Redis key belongs to, and the pid that made it, or undefined for other names. */
export function testIdOf(name: string): { id: string; pid: number } | undefined {
  // Redis keys start with the id and a colon (an earlier version's shard keys with `{<id>:s<k>}:…`).
  const id = name.replace(/^\{/, '').split(':')[0].replace(/_shard_\d+$/, '');
  const m = idShape.exec(id);
  return m ? { id, pid: parseInt(m[1], 36) } : undefined;
}

/** Drops the databases and Redis keys of test ids whose process is gone; answers the ids it removed. */
export async function sweepOrphans(pgBase: string, redisUrl: string): Promise<string[]> {
  const u = new URL(pgBase);
  if (!u.username) u.username = os.userInfo().username;
  u.pathname = '/postgres';
  const orphan = (name: string) => {
    const t = testIdOf(name);
    return t && t.pid !== process.pid && !processAlive(t.pid) ? t.id : undefined;
  };
  const ids = new Set<string>();
  const client = new pg.Client({ connectionString: u.toString() });
  await client.connect();
  try {
    const r = await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`${idPrefix.replace(/_/g, '\\_')}%`]);
    for (const { datname } of r.rows) {
      const id = orphan(datname);
      if (!id) continue;
      ids.add(id);
      await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
  } finally {
    await client.end();
  }
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    for (const pattern of [`${idPrefix}*`, `{${idPrefix}*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) {
          const id = orphan(key);
          if (id) ids.add(id);
        }
      } while (cursor !== '0');
    }
    for (const id of ids) await deletePrefix(redis, id);
  } finally {
    redis.disconnect();
  }
  return [...ids];
}
