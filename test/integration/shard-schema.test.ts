// A read over every shard database tells an unmigrated database (a 503 naming it, see the shard-move test) from a
// table or function missing in a migrated one, which is a bug and fails as it is: it must not pass for an
// operator's unmigrated database.
import { expect } from 'chai';
import { ShardDirectory } from '../../engine/shard-directory.js';
import { createPool, pendingMigrations, ShardDatabaseNotMigrated, type Pool } from '../../engine/store/pg.js';
import { ShardReader } from '../../engine/store/shard-reader.js';
import { createTestEnv, type TestEnv } from '../support/env.js';

describe('shard databases: unmigrated or broken', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let catalog: Pool;
  let pools: Pool[];
  let reader: ShardReader;

  before(async () => {
    env = await createTestEnv();
    catalog = createPool(env.config.catalogUrl, 2);
    pools = env.config.shardDatabaseUrls.map((url) => createPool(url, 2));
    reader = new ShardReader(new ShardDirectory(catalog, env.config, (_url, i) => pools[i]), env.config.shardCount);
  });
  after(async () => {
    await Promise.all([catalog, ...(pools ?? [])].filter(Boolean).map((p) => p.end()));
    await env?.cleanup();
  });

  /** What listing the hotels rejects with (or undefined when it answers). */
  const listError = () => reader.listHotels(undefined, undefined, 10).then(() => undefined, (err: unknown) => err as Error & { code?: string });

  it('pendingMigrations: none for a migrated database; every one without schema_migrations', async () => {
    expect(await pendingMigrations(pools[1], 'shard')).to.deep.equal([]);
    await pools[1].query('ALTER TABLE schema_migrations RENAME TO schema_migrations_hidden');
    try {
      const pending = await pendingMigrations(pools[1], 'shard');
      expect(pending.length).to.be.greaterThan(5);
      expect(pending[0]).to.match(/^001_.*\.sql$/);
    } finally {
      await pools[1].query('ALTER TABLE schema_migrations_hidden RENAME TO schema_migrations');
    }
  });

  it('a function missing from a migrated database fails the read as it is (undefined_function), not as unmigrated', async () => {
    expect(await listError()).to.equal(undefined);
    await pools[1].query('ALTER FUNCTION shards_away() RENAME TO shards_away_hidden');
    try {
      const err = await listError();
      expect(err).to.not.be.instanceOf(ShardDatabaseNotMigrated);
      expect(err?.code).to.equal('42883');
    } finally {
      await pools[1].query('ALTER FUNCTION shards_away_hidden() RENAME TO shards_away');
    }
  });

  it('the same missing function in a database that lacks a migration fails it as ShardDatabaseNotMigrated, naming it', async () => {
    const [last] = (await pools[1].query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name DESC LIMIT 1')).rows;
    await pools[1].query('ALTER FUNCTION shards_away() RENAME TO shards_away_hidden');
    await pools[1].query('DELETE FROM schema_migrations WHERE name = $1', [last.name]);
    try {
      expect(await pendingMigrations(pools[1], 'shard')).to.deep.equal([last.name]);
      const err = await listError();
      expect(err).to.be.instanceOf(ShardDatabaseNotMigrated);
      expect((err as ShardDatabaseNotMigrated).database).to.equal(1);
      expect(err?.message).to.equal('shard database 1 is not migrated');
    } finally {
      await pools[1].query('INSERT INTO schema_migrations (name) VALUES ($1)', [last.name]);
      await pools[1].query('ALTER FUNCTION shards_away_hidden() RENAME TO shards_away');
    }
    expect(await listError()).to.equal(undefined);
  });
});
