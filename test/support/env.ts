// Each test suite gets its own databases and Redis prefix, and removes them afterwards.
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { parseConfig, type Config } from '../../engine/config.js';
import { deletePrefix } from '../../engine/redis.js';
import { dropDatabase, prepareDatabases } from '../../engine/store/pg.js';
import { newTestId, sweepOrphans } from './orphans.js';

export const adminToken = 'test-admin-token-0123456789';

export interface TestEnv {
  config: Config;
  /** The same settings as environment variables, for child processes. */
  vars: Record<string, string>;
  cleanup(): Promise<void>;
}

/** Once per test process: what killed runs left behind goes first. */
let swept: Promise<unknown> | undefined;

export async function createTestEnv(overrides: Record<string, string> = {}): Promise<TestEnv> {
  // TEST_DB_PREFIX (optional) goes in front of the databases' names and the Redis prefix, e.g. to keep one person's
  // runs apart on a shared server; such names are not swept as orphans (orphans.ts knows only bk_t_…).
  const id = `${process.env.TEST_DB_PREFIX ?? ''}${newTestId()}`;
  const pgBase = process.env.TEST_PG_URL ?? 'postgres://127.0.0.1:5432';
  swept ??= sweepOrphans(pgBase, process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379').catch(() => undefined);
  await swept;
  const vars: Record<string, string> = {
    DATABASE_URL: `${pgBase}/${id}`,
    PG_SHARDS: '2',
    SHARD_COUNT: '4',
    REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: id,
    ADMIN_API_KEY: adminToken,
    PORT: '0',
    RATE_LIMIT_PER_SECOND: '0',
    ADDRESS_RATE_LIMIT_PER_MINUTE: '0',
    DEMO_DATA: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    SHARD_LEASE_MS: '2000',
    JOB_LOCK_MS: '3000',
    // A test's notifier keeps the normal priority: a test waits for its events while the rest of its stack is busy
    // (the default, 10, is checked in observability.test.ts).
    NOTIFIER_NICE: '0',
    // Guest mails of the run go to a directory of its own, removed with the rest (never into the checkout).
    MAIL_DIR: path.join(os.tmpdir(), `${id}-mail`),
    ...overrides,
  };
  const config = parseConfig(vars);
  await prepareDatabases(config.catalogUrl, config.shardDatabaseUrls);
  return {
    config,
    vars,
    cleanup: async () => {
      const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1 });
      try {
        await deletePrefix(redis, config.redisPrefix);
        // A queue or connection closing a moment later may still write (BullMQ's meta key): sweep once more.
        await new Promise((r) => setTimeout(r, 300));
        await deletePrefix(redis, config.redisPrefix);
      } finally {
        redis.disconnect();
      }
      for (const url of [config.catalogUrl, ...config.shardDatabaseUrls]) await dropDatabase(url);
      await rm(config.mailDir, { recursive: true, force: true });
    },
  };
}
