// A fair-sharing shard owner against membership entries written straight into Redis (`<prefix>:workers`), as other
// workers would: a live worker that never claims its share does not leave those shards unowned (the fallback takes
// them after a lease), a shard pinned by a live worker is left to it, and a worker that stops beating is counted out.
import { expect } from 'chai';
import { createLogger } from '../../engine/log.js';
import { createRedis, RedisKeys, type RedisClient } from '../../engine/redis.js';
import { shareOf } from '../../engine/shard-share.js';
import { ShardOwner } from '../../engine/shard-owner.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { waitFor } from '../support/stack.js';

describe('fair share: a worker\'s view of the membership', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let redis: RedisClient;
  let owner: ShardOwner | undefined;
  let beating: NodeJS.Timeout | undefined;

  before(async () => {
    env = await createTestEnv({ SHARD_COUNT: '8', SHARD_LEASE_MS: '1500', JOB_LOCK_MS: '3000' });
    redis = createRedis(env.config.redisUrl, 'test-membership');
  });
  afterEach(async () => {
    clearInterval(beating);
    await owner?.stop();
    owner = undefined;
    await redis.del(new RedisKeys(env.config.redisPrefix).workers());
  });
  after(async () => {
    redis.disconnect();
    await env.cleanup();
  });

  /** Beat for a worker that is not there (as one that never claims would), by Redis's clock, until the test ends. */
  const ghost = (id: string, pins = '') => {
    const beat = async () => {
      const [s, us] = await redis.time();
      await redis.hset(new RedisKeys(env.config.redisPrefix).workers(), id, `${Number(s) * 1000 + Math.floor(Number(us) / 1000)}|${pins}`);
    };
    beating = setInterval(() => void beat().catch(() => {}), 200);
    return beat();
  };
  const owned = () => new Set(owner!.ownedShards().map((s) => s.shard));

  it('takes its share at once, and the share of a live worker that never claims it after a lease (the fallback)', async () => {
    await ghost('worker-ghost-that-never-claims');
    owner = new ShardOwner(env.config, createLogger('worker', 'silent'));
    await owner.start();
    const members = [{ id: owner.ownerId }, { id: 'worker-ghost-that-never-claims' }];
    const mine = shareOf(owner.ownerId, 8, members);
    expect(mine.size, 'half of 8').to.equal(4);
    expect(owned(), 'its own share, at once').to.deep.equal(mine);
    // The ghost's shards have no owner; a lease later they are taken anyway.
    const t0 = Date.now();
    await waitFor('every shard to be owned', async () => owned().size === 8, 10_000);
    expect(Date.now() - t0, 'not before a lease has passed').to.be.at.least(env.config.shardLeaseMs - 200);
  });

  it('leaves the shards a live worker pins to it, and takes them once that worker stops beating', async () => {
    await ghost('worker-pinned-ghost', '0,1,2');
    owner = new ShardOwner(env.config, createLogger('worker', 'silent'));
    await owner.start();
    expect(owned(), 'every shard but the pinned ones').to.deep.equal(new Set([3, 4, 5, 6, 7]));
    // Longer than the fallback's wait: pinned shards are their pinner's to take, whatever happens.
    await new Promise((r) => setTimeout(r, 2 * env.config.shardLeaseMs + 500));
    expect(owned()).to.deep.equal(new Set([3, 4, 5, 6, 7]));
    clearInterval(beating);
    await waitFor('the pinner to be counted out and its shards taken', async () => owned().size === 8, 2 * env.config.shardLeaseMs + 3_000);
  });
});
