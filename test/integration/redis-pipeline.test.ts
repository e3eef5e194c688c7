// Pipelines of an auto-pipelined connection (engine/redis.ts) find the connection's scripts on a shared prototype
// instead of a copy of each: they must still run every script, see scripts defined after the first pipeline, and
// run BullMQ's scripts (the connection BullMQ defines ~60 scripts on is the one this is for).
import { expect } from 'chai';
import { Queue } from 'bullmq';
import { Pipeline, type Redis } from 'ioredis';
import { createRedis, deletePrefix } from '../../engine/redis.js';
import { newTestId } from '../support/orphans.js';

type Scripted = Redis & Record<string, (...args: unknown[]) => Promise<unknown>>;

describe('pipelines of an auto-pipelined Redis connection', function () {
  this.timeout(30_000);
  const prefix = newTestId();
  const url = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  let redis: Scripted;

  before(() => {
    redis = createRedis(url, 'pipeline-test', { pipelined: true }) as Scripted;
  });
  after(async () => {
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it('runs a script defined before and one defined after the first pipeline, in pipelines and auto-pipelined', async () => {
    redis.defineCommand('incrTwice', { numberOfKeys: 1, lua: `redis.call('INCR', KEYS[1]); return redis.call('INCR', KEYS[1])` });
    const first = redis.pipeline() as Pipeline & Record<string, (...a: unknown[]) => unknown>;
    first.incrTwice(`${prefix}:a`);
    expect(await first.exec()).to.deep.equal([[null, 2]]);

    redis.defineCommand('setGet', { numberOfKeys: 1, lua: `redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])` });
    const second = redis.pipeline() as Pipeline & Record<string, (...a: unknown[]) => unknown>;
    second.incrTwice(`${prefix}:a`);
    second.setGet(`${prefix}:b`, 'x');
    expect(await second.exec()).to.deep.equal([
      [null, 4],
      [null, 'x'],
    ]);
    // Auto-pipelined calls in one tick go through pipeline() too.
    expect(await Promise.all([redis.incrTwice(`${prefix}:a`), redis.setGet(`${prefix}:b`, 'y')])).to.deep.equal([6, 'y']);
  });

  it('gives each pipeline the scripts through its prototype, not as copies of its own', () => {
    const p = redis.pipeline() as Pipeline & Record<string, unknown>;
    expect(p).to.be.instanceOf(Pipeline);
    expect(p.incrTwice).to.equal(redis.incrTwice);
    expect(p.setGetBuffer).to.equal(redis.setGetBuffer);
    expect(Object.prototype.hasOwnProperty.call(p, 'incrTwice'), 'a copied script').to.equal(false);
  });

  it('does the same for duplicates of the connection (BullMQ blocks on one)', async () => {
    const copy = redis.duplicate() as Scripted;
    try {
      copy.defineCommand('incrOnce', { numberOfKeys: 1, lua: `return redis.call('INCR', KEYS[1])` });
      const p = copy.pipeline() as Pipeline & Record<string, (...a: unknown[]) => unknown>;
      expect(Object.prototype.hasOwnProperty.call(p, 'incrOnce'), 'a copied script').to.equal(false);
      p.incrOnce(`${prefix}:c`);
      expect(await p.exec()).to.deep.equal([[null, 1]]);
    } finally {
      copy.disconnect();
    }
  });

  it("runs BullMQ's scripts: a job added, counted and removed on this connection", async () => {
    const queue = new Queue('pipeline-test', { connection: redis, prefix });
    try {
      await queue.addBulk([
        { name: 'a', data: { n: 1 } },
        { name: 'b', data: { n: 2 } },
      ]);
      expect(await queue.getWaitingCount()).to.equal(2);
      const names = Object.keys((redis as unknown as { scriptsSet: object }).scriptsSet);
      expect(names.length).to.be.greaterThan(10);
      const p = redis.pipeline() as Pipeline & Record<string, unknown>;
      for (const n of names) expect(p[n], n).to.equal(redis[n]);
      await queue.obliterate({ force: true });
      expect(await queue.getWaitingCount()).to.equal(0);
    } finally {
      await queue.close();
    }
  });
});
