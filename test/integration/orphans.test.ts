// A test run that is killed cannot clean up; the next run removes what it left (its databases and Redis keys),
// and only that: ids of live processes, this one included, and names of other shapes are left alone.
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import pg from 'pg';
import { deletePrefix } from '../../engine/redis.js';
import { newTestId, sweepOrphans, testIdOf } from '../support/orphans.js';
import { createTestEnv, type TestEnv } from '../support/env.js';

describe('test runs: leftovers of killed runs', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let admin: pg.Client;
  let redis: Redis;
  const pgBase = process.env.TEST_PG_URL ?? 'postgres://127.0.0.1:5432';

  before(async () => {
    env = await createTestEnv();
    const u = new URL(env.config.catalogUrl);
    u.pathname = '/postgres';
    admin = new pg.Client({ connectionString: u.toString() });
    await admin.connect();
    redis = new Redis(env.config.redisUrl, { maxRetriesPerRequest: 1 });
  });
  after(async () => {
    await admin?.end();
    redis?.disconnect();
    await env?.cleanup();
  });

  const databases = async (like: string) =>
    (await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY datname', [like])).rows.map((r) => r.datname);

  it('drops the databases and keys of ids whose process is gone, and keeps the rest', async () => {
    // A pid that has just exited.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    const orphan = newTestId().replace(/^bk_t_[0-9a-z]+_/, `bk_t_${deadPid.toString(36)}_`);
    const live = newTestId();
    const otherShape = `bk_t_${Date.now().toString(36)}_abcdef`;
    expect(testIdOf(`${orphan}_shard_1`)).to.deep.equal({ id: orphan, pid: deadPid });
    expect(testIdOf(`${live}:some:key`)?.pid).to.equal(process.pid);
    expect(testIdOf(otherShape)).to.equal(undefined);
    try {
      for (const name of [orphan, `${orphan}_shard_0`, live, otherShape]) await admin.query(`CREATE DATABASE "${name}"`);
      for (const prefix of [orphan, live, otherShape]) await redis.set(`${prefix}:probe`, '1');

      const removed = await sweepOrphans(pgBase, env.config.redisUrl);

      expect(removed).to.include(orphan);
      expect(removed).to.not.include(live);
      expect(await databases(`${orphan}%`)).to.deep.equal([]);
      expect(await databases(live)).to.deep.equal([live]);
      expect(await databases(otherShape)).to.deep.equal([otherShape]);
      expect(await redis.get(`${orphan}:probe`)).to.equal(null);
      expect(await redis.get(`${live}:probe`)).to.equal('1');
      expect(await redis.get(`${otherShape}:probe`)).to.equal('1');
    } finally {
      for (const name of [orphan, `${orphan}_shard_0`, live, otherShape]) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      for (const prefix of [orphan, live, otherShape]) await deletePrefix(redis, prefix);
    }
  });
});
