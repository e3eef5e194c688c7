// A shard queue's depth as GET /v1/ops/shards and the queue metrics show it: the jobs not yet decided (waiting or
// being decided) and the age of the oldest of them, on a real BullMQ queue.
import { expect } from 'chai';
import type { Queue, Worker } from 'bullmq';
import { createShardQueue, createShardWorker, queueDepthOf, type ShardJob } from '../../engine/jobs.js';
import { createRedis, RedisKeys, type RedisClient } from '../../engine/redis.js';
import { createTestEnv, type TestEnv } from '../support/env.js';

describe('shard queue depth', function () {
  this.timeout(30_000);
  let env: TestEnv;
  let redis: RedisClient;
  let blocking: RedisClient;
  let queue: Queue<ShardJob>;
  let worker: Worker<ShardJob> | undefined;

  before(async () => {
    env = await createTestEnv();
    redis = createRedis(env.config.redisUrl, 'queue-depth-test');
    blocking = createRedis(env.config.redisUrl, 'queue-depth-worker', { blocking: true });
    queue = createShardQueue(redis, new RedisKeys(env.config.redisPrefix), 1);
  });
  after(async () => {
    await worker?.close(true);
    await queue?.close();
    redis?.disconnect();
    blocking?.disconnect();
    await env?.cleanup();
  });

  const job = (jobKey: string, ageMs: number): ShardJob => ({ jobKey, replyTo: '', commands: [], enqueuedAt: Date.now() - ageMs });
  const until = async (what: () => Promise<boolean>) => {
    for (let i = 0; i < 200 && !(await what()); i++) await new Promise((r) => setTimeout(r, 25));
    expect(await what()).to.equal(true);
  };

  it('counts waiting and active jobs, and ages the oldest of them, waiting or being decided', async () => {
    expect(await queueDepthOf(queue, 1)).to.deep.equal({ shard: 1, waiting: 0, oldestWaitingMs: null });

    // Two waiting: the age is the older one's (a minute), not the newer one's (a second).
    await queue.add('cmd', job('old', 60_000), { jobId: 'old' });
    await queue.add('cmd', job('new', 1_000), { jobId: 'new' });
    let d = await queueDepthOf(queue, 1);
    expect(d.waiting).to.equal(2);
    expect(d.oldestWaitingMs).to.be.within(60_000, 90_000);

    // A worker takes the old one and holds it: still two undecided, and the oldest is the one being decided.
    const release: (() => void)[] = [];
    const taken: string[] = [];
    worker = createShardWorker(blocking, new RedisKeys(env.config.redisPrefix), 1, 10_000, async (j) => {
      taken.push(j.data.jobKey);
      await new Promise<void>((r) => release.push(r));
    });
    await until(async () => taken.length === 1);
    expect(taken).to.deep.equal(['old']);
    d = await queueDepthOf(queue, 1);
    expect(d.waiting).to.equal(2);
    expect(d.oldestWaitingMs).to.be.within(60_000, 90_000);

    // The old one decided, the new one taken: one undecided, active alone, aged a second or so (not null).
    release.shift()?.();
    await until(async () => taken.length === 2 && (await queue.getWaitingCount()) === 0);
    d = await queueDepthOf(queue, 1);
    expect(d.waiting).to.equal(1);
    expect(d.oldestWaitingMs).to.be.within(1_000, 30_000);

    release.shift()?.();
    await until(async () => (await queue.getActiveCount()) === 0);
    expect(await queueDepthOf(queue, 1)).to.deep.equal({ shard: 1, waiting: 0, oldestWaitingMs: null });
  });
});
