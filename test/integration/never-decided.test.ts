// Regression (issue 13, item 11): an empty Redis restart broke the 202 promise. A request answered 202 whose queued
// job Redis then lost was answered 202 `processing` for 7 days (its in-flight marker outlived the job), or a bare
// 404. GET /v1/reservations/:id now checks that the job is still queued: gone and never decided is a plain 404 that
// says so and to post it again, and posting it again is safe.
import { expect } from 'chai';
import { startApi, type RunningApi } from '../../api/server.js';
import { deletePrefix } from '../../engine/redis.js';
import { adminToken, createTestEnv, type TestEnv } from '../support/env.js';
import { createGuest, dayFromToday, reservationBody } from '../support/fixtures.js';
import { HttpClient } from '../support/http.js';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { databaseOfShard } from '../../engine/shard-map.js';

describe('a request answered 202 whose queued job was lost', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let api: RunningApi;
  let admin: HttpClient;
  // No shard owner runs: every reservation stays queued, answered 202 after REPLY_TIMEOUT_MS.
  const hotelId = randomUUID();
  const body = reservationBody(hotelId, randomUUID(), dayFromToday(3), dayFromToday(4));

  before(async () => {
    env = await createTestEnv({ REPLY_TIMEOUT_MS: '300' });
    api = await startApi(env.config);
    admin = new HttpClient(`http://127.0.0.1:${api.port}`, adminToken);
  });
  after(async () => {
    await api?.close();
    await env?.cleanup();
  });

  /** The BullMQ key root of a shard's queue: `<shard's tag>:shard-<k>` (its list `:wait`, its jobs' hashes `:<id>`). */
  const queueKeyOf = (shard: number) => `${api.ctx.keys.queuePrefix(shard)}:${api.ctx.keys.queueName(shard)}`;

  /** The marker a 202 left for a reservation id (the only one: one principal posts it here). */
  const markerOf = async (id = body.reservationId) => {
    const [text] = await api.ctx.redis.hvals(api.ctx.keys.inflight(id));
    return text ? (JSON.parse(text) as { jobKey: string }) : undefined;
  };

  it('answers 202 while the job is queued, and 404 "never decided, post it again" once the job is gone (and only then)', async () => {
    const posted = await admin.post('/v1/reservations', body);
    expect(posted.status, JSON.stringify(posted.body)).to.equal(202);
    expect((await admin.get(`/v1/reservations/${body.reservationId}`)).status).to.equal(202);
    expect((await admin.delete(`/v1/reservations/${body.reservationId}`)).status, 'a cancel waits for the decision').to.equal(409);
    const m = await markerOf();
    expect(m, 'the 202 left its marker').to.not.equal(undefined);
    // Redis loses the job, but not the marker (the job's own keys, as a partial loss or a manual removal would).
    const queue = queueKeyOf(api.ctx.router.shardOf(hotelId));
    expect(await api.ctx.redis.lrem(`${queue}:wait`, 0, m!.jobKey)).to.equal(1);
    await api.ctx.redis.del(`${queue}:${m!.jobKey}`);
    const gone = await admin.get(`/v1/reservations/${body.reservationId}`);
    expect(gone.status, JSON.stringify(gone.body)).to.equal(404);
    expect(gone.body.error.code).to.equal('not_found');
    expect(gone.body.error.message).to.match(/never decided/).and.match(/post it again/);
    expect(gone.body.error.details).to.deep.include({ neverDecided: true });
    expect(await markerOf(), 'the marker is dropped').to.equal(undefined);
    // Posting it again is safe and queues it again.
    expect((await admin.post('/v1/reservations', body)).status).to.equal(202);
    expect((await admin.get(`/v1/reservations/${body.reservationId}`)).status).to.equal(202);
  });

  it('another principal posting an id that is queued does not hide the first request from its owner', async () => {
    const [a, b, c] = await Promise.all([createGuest(admin), createGuest(admin), createGuest(admin)]).then((gs) => gs.map((g) => admin.as(g.token)));
    const first = reservationBody(hotelId, body.roomTypeId, dayFromToday(9), dayFromToday(10));
    expect((await a.post('/v1/reservations', first)).status).to.equal(202);
    // The same id, other dates, from someone else: queued too (its decision will refuse it, the id being taken).
    expect((await b.post('/v1/reservations', { ...first, checkIn: dayFromToday(11), checkOut: dayFromToday(12) })).status).to.equal(202);
    const path = `/v1/reservations/${first.reservationId}`;
    expect((await a.get(path)).status, 'the first owner still sees its request queued').to.equal(202);
    expect((await a.delete(path)).status, 'and its cancel waits for the decision').to.equal(409);
    expect((await b.get(path)).status, 'the second sees its own').to.equal(202);
    expect((await admin.get(path)).status).to.equal(202);
    expect((await c.get(path)).status, 'a third principal sees nothing').to.equal(404);
  });

  it('a cancel of a request whose job was lost is 404 "never decided" too, not 409 "still being decided" for 7 days', async () => {
    const lost = reservationBody(hotelId, body.roomTypeId, dayFromToday(7), dayFromToday(8));
    expect((await admin.post('/v1/reservations', lost)).status).to.equal(202);
    const queue = queueKeyOf(api.ctx.router.shardOf(hotelId));
    const jobKey = (await markerOf(lost.reservationId))!.jobKey;
    expect(await api.ctx.redis.lrem(`${queue}:wait`, 0, jobKey)).to.equal(1);
    await api.ctx.redis.del(`${queue}:${jobKey}`);
    const canceled = await admin.delete(`/v1/reservations/${lost.reservationId}`);
    expect(canceled.status, JSON.stringify(canceled.body)).to.equal(404);
    expect(canceled.body.error.details).to.deep.include({ neverDecided: true });
  });

  it('answers 202 processing, not 503, while the shard database of its hotel cannot be reached', async () => {
    const other = reservationBody(hotelId, body.roomTypeId, dayFromToday(5), dayFromToday(6));
    expect((await admin.post('/v1/reservations', other)).status).to.equal(202);
    const url = new URL(env.config.shardDatabaseUrls[databaseOfShard(api.ctx.router.shardOf(hotelId), env.config.shardDatabaseUrls.length)]);
    const name = url.pathname.slice(1);
    url.pathname = '/postgres';
    const maintenance = new pg.Client({ connectionString: url.toString() });
    await maintenance.connect();
    try {
      await maintenance.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
      await maintenance.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
      const r = await admin.get(`/v1/reservations/${other.reservationId}`);
      expect(r.status, JSON.stringify(r.body)).to.equal(202);
      expect(r.body).to.deep.equal({ id: other.reservationId, status: 'processing' });
    } finally {
      await maintenance.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`);
      await maintenance.end();
    }
    expect((await admin.get(`/v1/reservations/${other.reservationId}`)).status).to.equal(202);
  });

  it('after an empty Redis restart (marker and job gone) the 404 says that a request answered 202 earlier was not decided', async () => {
    await deletePrefix(api.ctx.redis, env.config.redisPrefix);
    const r = await admin.get(`/v1/reservations/${body.reservationId}`);
    expect(r.status, JSON.stringify(r.body)).to.equal(404);
    expect(r.body.error.code).to.equal('not_found');
    expect(r.body.error.message).to.match(/answered 202 earlier, it was never decided/).and.match(/post it again/);
  });
});
