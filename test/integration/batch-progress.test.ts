// Polling a processing batch reads from the shard databases only the decisions it has not seen: stored replies of a
// committed job never change, so each poll costs the jobs that answered since the poll before.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { BatchProgress } from '../../api/batch-progress.js';
import type { BatchRow } from '../../engine/store/catalog-store.js';
import { createPool, type Pool } from '../../engine/store/pg.js';
import { ShardDirectory } from '../../engine/shard-directory.js';
import { ShardReader } from '../../engine/store/shard-reader.js';
import { createTestEnv, type TestEnv } from '../support/env.js';

describe('batch progress', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let pools: Pool[];
  let reader: ShardReader;

  before(async () => {
    env = await createTestEnv();
    pools = env.config.shardDatabaseUrls.map((url) => createPool(url, 2));
    reader = new ShardReader(new ShardDirectory(pools[0], env.config, (_url, i) => pools[i]), env.config.shardCount);
  });
  after(async () => {
    await Promise.all((pools ?? []).map((p) => p.end()));
    await env?.cleanup();
  });

  /** A batch of `sizes[j]` items per job, job j on shard j (so on both databases), plus one invalid item last. */
  function batchOf(sizes: number[]): BatchRow {
    const id = randomUUID();
    const total = sizes.reduce((a, b) => a + b, 0) + 1;
    let next = 0;
    const jobs = sizes.map((n, shard) => {
      const indexes = Array.from({ length: n }, () => next++);
      return { shard, jobKey: randomUUID(), indexes, requestIds: indexes.map((i) => `${id}:${i}`) };
    });
    return {
      id,
      creator: { kind: 'partner', id: 'p' },
      fingerprint: 'f',
      total,
      atomic: false,
      status: 'processing',
      plan: { reservationIds: Array.from({ length: total }, () => randomUUID()), invalid: [{ index: total - 1, message: 'checkIn: bad' }], jobs },
      results: null,
      held: null,
      rejected: null,
    };
  }

  /** Commit job j's decisions as the writer does: one applied_jobs row with its replies. */
  async function answer(b: BatchRow, j: number): Promise<void> {
    const job = b.plan.jobs[j];
    const replies = job.indexes.map((index, k) => ({
      requestId: job.requestIds[k],
      reply: index % 2 === 0 ? { ok: true, kind: 'reservationRef', created: true, id: b.plan.reservationIds[index], status: 'pending' } : { ok: false, code: 'sold_out', message: 'sold out' },
    }));
    await pools[job.shard % pools.length].query('INSERT INTO applied_jobs (job_id, shard, replies) VALUES ($1, $2, $3)', [job.jobKey, job.shard, JSON.stringify(replies)]);
  }

  it('reads each job\'s replies once, however often the batch is polled', async () => {
    const b = batchOf([3, 4, 5]);
    const progress = new BatchProgress((jobs) => reader.appliedRepliesOfJobs(jobs));

    let p = await progress.poll(b);
    expect(p.pending).to.equal(3);
    expect(progress.repliesRead).to.equal(0);
    expect(p.results.map((r) => r.status)).to.deep.equal([...Array(12).fill('processing'), 'rejected']);
    expect(p.results[12].error?.code).to.equal('validation_failed');

    await answer(b, 1);
    p = await progress.poll(b);
    expect(p.pending).to.equal(2);
    expect(progress.repliesRead).to.equal(4);
    expect(p.results.slice(3, 7).map((r) => r.status)).to.deep.equal(['rejected', 'pending', 'rejected', 'pending']);
    expect(p.results[3].error?.code).to.equal('sold_out');

    // Polled again with nothing new: nothing is read.
    p = await progress.poll(b);
    expect(progress.repliesRead).to.equal(4);

    await answer(b, 0);
    await answer(b, 2);
    p = await progress.poll(b);
    expect(p.pending).to.equal(0);
    // Jobs 0 and 2 only: job 1's four replies are not read again (twelve reads for three polls otherwise).
    expect(progress.repliesRead).to.equal(4 + 3 + 5);
    expect(p.results.map((r) => r.reservationId)).to.deep.equal(b.plan.reservationIds);
    expect(p.results.map((r) => r.status)).to.deep.equal(
      [...Array(12).keys()].map((i) => (i % 2 === 0 ? 'pending' : 'rejected')).concat('rejected'),
    );
  });

  it('keeps at most its bound of items; a batch it let go is read again whole, with the same results', async () => {
    const first = batchOf([2, 2]);
    const second = batchOf([2, 2]);
    const progress = new BatchProgress((jobs) => reader.appliedRepliesOfJobs(jobs), 6);
    await answer(first, 0);
    const a = await progress.poll(first);
    expect(progress.repliesRead).to.equal(2);
    const kept = a.results.map((r) => ({ ...r }));
    await progress.poll(second); // 5 + 5 items > 6: the first batch goes.
    const again = await progress.poll(first);
    expect(progress.repliesRead).to.equal(4);
    expect(again.results).to.deep.equal(kept);
    expect(again.pending).to.equal(1);
  });

  it('spreads an atomic batch\'s one reply over its items', async () => {
    const id = randomUUID();
    const reservationIds = [randomUUID(), randomUUID(), randomUUID()];
    const b: BatchRow = {
      id,
      creator: { kind: 'partner', id: 'p' },
      fingerprint: 'f',
      total: 3,
      atomic: true,
      status: 'processing',
      plan: { reservationIds, invalid: [], jobs: [{ shard: 1, jobKey: randomUUID(), indexes: [-1], requestIds: [`${id}:-1`] }] },
      results: null,
      held: null,
      rejected: null,
    };
    const replies = [{ requestId: `${id}:-1`, reply: { ok: true, kind: 'batchRef', replies: reservationIds.map((r) => ({ ok: true, kind: 'reservationRef', created: true, id: r, status: 'pending' })) } }];
    await pools[1 % pools.length].query('INSERT INTO applied_jobs (job_id, shard, replies) VALUES ($1, 1, $2)', [b.plan.jobs[0].jobKey, JSON.stringify(replies)]);
    const p = await new BatchProgress((jobs) => reader.appliedRepliesOfJobs(jobs)).poll(b);
    expect(p.pending).to.equal(0);
    expect(p.results).to.deep.equal(reservationIds.map((r) => ({ reservationId: r, status: 'pending' })));
  });
});
