// Rate limits while Redis stalls (issue 16 with issue 13's "never a hanging request"): the limits are counted in
// Redis, but a request does not wait on a paused Redis for its limit. Once the API's probe sees Redis stalled, each
// process counts in memory at once, so a token with a limit is still served without delay (a route that needs no
// Redis) and still refused past its limit.
import { expect } from 'chai';
import { startApi, type RunningApi } from '../../api/server.js';
import { createLogger } from '../../engine/log.js';
import { ShardOwner } from '../../engine/shard-owner.js';
import { adminToken, createTestEnv, type TestEnv } from '../support/env.js';
import { createHotel } from '../support/fixtures.js';
import { HttpClient } from '../support/http.js';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis.js';

describe('rate limits while Redis is paused', function () {
  this.timeout(90_000);
  let redis: PrivateRedis;
  let env: TestEnv;
  let owner: ShardOwner;
  let api: RunningApi;
  let admin: HttpClient;

  before(async () => {
    redis = await startPrivateRedis();
    env = await createTestEnv({ REDIS_URL: redis.url, RATE_LIMIT_PER_SECOND: '100' });
    owner = new ShardOwner(env.config, createLogger('worker', 'silent'));
    await owner.start();
    api = await startApi(env.config);
    admin = new HttpClient(`http://127.0.0.1:${api.port}`, adminToken);
  });

  after(async () => {
    try {
      await api?.close();
      await owner?.stop();
      await env?.cleanup();
    } finally {
      await redis?.destroy();
    }
  });

  it('a limited token is answered without waiting on the paused Redis, and refused past its limit from memory', async () => {
    const hotel = await createHotel(admin);
    const key = await admin.post('/v1/api-keys', { name: 'limited', role: 'partner', hotelIds: [hotel.id], rateLimitPerSecond: 2 });
    expect(key.status).to.equal(201);
    const partner = admin.as(key.body.token as string);
    expect((await partner.get(`/v1/hotels/${hotel.id}`)).status).to.equal(200);
    // Into the next window, then pause Redis for 4 s; the API's probe notices within about 500 ms.
    await new Promise((r) => setTimeout(r, 1_000));
    await redis.command('CLIENT', 'PAUSE', 4000, 'ALL');
    const paused = Date.now();
    await new Promise((r) => setTimeout(r, 900));
    const answers: { status: number; ms: number }[] = [];
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      const r = await partner.get(`/v1/hotels/${hotel.id}`);
      answers.push({ status: r.status, ms: Date.now() - started });
    }
    expect(Date.now() - paused, 'all of it during the pause').to.be.below(3_500);
    expect(answers.map((a) => a.status), JSON.stringify(answers)).to.deep.equal([200, 200, 429, 429, 429]);
    for (const a of answers) expect(a.ms, JSON.stringify(answers)).to.be.below(400);
  });
});
