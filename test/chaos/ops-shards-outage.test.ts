// Issue 16: `GET /v1/ops/shards` keeps answering while Postgres is down (stopped with `pg_ctl stop -m immediate`),
// from what the API process remembers or, for a process that never read the epochs, from Redis, each row marked
// `stale: true` with its `source`; once Postgres is back the rows come from it again.
import { expect } from 'chai';
import { ChaosStack, sleep } from '../support/chaos-harness.js';
import { adminToken } from '../support/env.js';
import { HttpClient } from '../support/http.js';
import { spawnApi, waitFor, type LoggedProcess } from '../support/parts.js';
import type { z } from 'zod';
import type { shardTableSchema } from '../../schemas/responses.js';

/** A row of GET /v1/ops/shards, as the OpenAPI document describes it. */
type ShardRow = z.infer<typeof shardTableSchema>[number];

describe('chaos: the shard table during a Postgres outage', function () {
  this.timeout(150_000);
  let stack: ChaosStack | undefined;
  let second: LoggedProcess | undefined;

  after(async () => {
    await second?.stop();
    await stack?.destroy();
  });

  it('answers from memory and from Redis, marked stale, while Postgres is stopped; from Postgres again after', async () => {
    stack = await ChaosStack.start();
    const s = stack;
    // A second API process that will not have read the epochs itself when Postgres goes.
    second = await spawnApi(s.vars, 'api-2');
    const other = new HttpClient(second.url, adminToken);
    await waitFor('the second API', async () => (await other.get('/healthz')).status === 200, 30_000, () => second!.tail());
    await waitFor('every shard owned', async () => {
      const r = await s.admin.get('/v1/ops/shards');
      return r.status === 200 && (r.body as ShardRow[]).every((x) => x.owner !== null && (x.epoch ?? 0) >= 1);
    }, 30_000);
    const before = (await s.admin.get('/v1/ops/shards')).body as ShardRow[];
    expect(before).to.have.length(4);
    for (const row of before) expect(row).to.include({ stale: false, source: 'postgres' });

    await s.pg.stop('immediate');
    const stoppedAt = Date.now();
    const forAdmin = async (client: HttpClient) => {
      const started = Date.now();
      const r = await client.get('/v1/ops/shards');
      return { ...r, ms: Date.now() - started };
    };
    const fromMemory = await forAdmin(s.admin);
    const fromRedis = await forAdmin(other);
    for (const [r, source] of [
      [fromMemory, 'memory'],
      [fromRedis, 'redis'],
    ] as const) {
      expect(r.status, `${source}: ${JSON.stringify(r.body)}`).to.equal(200);
      expect(r.ms, 'answered without waiting on the database').to.be.below(2_000);
      const rows = r.body as ShardRow[];
      expect(rows.map((x) => x.shard)).to.deep.equal(before.map((x) => x.shard));
      for (const [i, row] of rows.entries()) {
        expect(row).to.include({ stale: true, source, epoch: before[i].epoch, owner: before[i].owner, database: before[i].database });
        expect(Date.parse(row.epochReadAt ?? '')).to.be.at.most(stoppedAt);
      }
    }
    // Still answering a while into the outage.
    await sleep(3_000);
    const later = await forAdmin(s.admin);
    expect(later.status).to.equal(200);
    expect((later.body as ShardRow[]).every((x) => x.stale)).to.equal(true);
    // Still for admins only.
    expect((await s.admin.as(undefined).get('/v1/ops/shards')).status).to.equal(401);

    await s.pg.start();
    await waitFor('the shard table from Postgres again', async () => {
      const r = await s.admin.get('/v1/ops/shards');
      return r.status === 200 && (r.body as ShardRow[]).every((x) => !x.stale && x.source === 'postgres');
    }, 30_000);
  });
});
