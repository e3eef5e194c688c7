// Issue 16, limits that hold across API processes: with RATE_LIMIT_PER_SECOND=5, two API processes let one token
// through about 5 times a second in total (not 10) and answer 429 `rate_limited` with Retry-After; a key's own
// rateLimitPerSecond is its limit; POST /v1/users and POST /v1/sessions are limited per client address; and a key
// revoked through one API process is refused by the other within a second.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { adminToken, createTestEnv, type TestEnv } from '../support/env.js';
import { createHotel, createKey } from '../support/fixtures.js';
import { HttpClient, type HttpResult } from '../support/http.js';
import { spawnApi, spawnWorker, waitFor, type LoggedProcess } from '../support/parts.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('limits across API processes: rate limits on Redis, revocations (issue 16)', function () {
  this.timeout(120_000);
  let env: TestEnv;
  let apis: LoggedProcess[] = [];
  let worker: LoggedProcess;
  let admins: HttpClient[];
  let hotelId: string;

  before(async () => {
    env = await createTestEnv({ RATE_LIMIT_PER_SECOND: '5', ADDRESS_RATE_LIMIT_PER_MINUTE: '4', TRUST_PROXY_HOPS: '1' });
    apis = [await spawnApi(env.vars, 'api-1'), await spawnApi(env.vars, 'api-2')];
    worker = await spawnWorker(env.vars);
    admins = apis.map((a) => new HttpClient(a.url, adminToken));
    for (const [i, a] of admins.entries()) await waitFor(`API ${i + 1}`, async () => (await a.get('/healthz')).status === 200, 30_000, () => apis[i].tail());
    hotelId = (await createHotel(admins[0])).id;
  });

  after(async () => {
    await Promise.all([...apis.map((a) => a.stop()), worker?.stop()]);
    await env?.cleanup();
  });

  async function newKey(extra: Record<string, unknown> = {}): Promise<{ id: string; token: string }> {
    const r = await admins[0].post('/v1/api-keys', { name: `k-${randomUUID()}`, role: 'partner', hotelIds: [hotelId], ...extra });
    expect(r.status, JSON.stringify(r.body)).to.equal(201);
    return { id: r.body.id, token: r.body.token };
  }

  /** Send as fast as 4 clients per API process can for `ms`, alternating processes: every answer. */
  async function hammer(token: string, ms: number): Promise<(HttpResult & { api: number })[]> {
    const answers: (HttpResult & { api: number })[] = [];
    const until = Date.now() + ms;
    await Promise.all(
      [0, 1, 2, 3, 4, 5, 6, 7].map(async (n) => {
        const client = admins[n % 2].as(token);
        while (Date.now() < until) answers.push({ ...(await client.get(`/v1/hotels/${hotelId}`)), api: n % 2 });
      }),
    );
    return answers;
  }

  it('two API processes with RATE_LIMIT_PER_SECOND=5 let a token through about 5 times a second in total, and answer 429 with Retry-After', async () => {
    const { token } = await newKey();
    const seconds = 4;
    const answers = await hammer(token, seconds * 1000);
    const ok = answers.filter((a) => a.status === 200).length;
    const limited = answers.filter((a) => a.status === 429);
    process.stdout.write(`      measured: ${ok} of ${answers.length} requests let through in ${seconds} s by two API processes\n`);
    expect(answers.length - ok - limited.length, 'only 200 and 429').to.equal(0);
    // A fixed one-second window per token: at most 5 per window started, at least 5 per whole second elapsed.
    expect(ok, `${ok} let through in ${seconds} s`).to.be.within(5 * (seconds - 1), 5 * (seconds + 1));
    expect(limited.length).to.be.greaterThan(ok);
    expect(new Set(answers.filter((a) => a.status === 200).map((a) => a.api)), 'both processes let some through').to.have.property('size', 2);
    expect(new Set(limited.map((a) => a.api)), 'both processes refuse').to.have.property('size', 2);
    for (const a of limited.slice(0, 20)) {
      expect(a.body.error.code).to.equal('rate_limited');
      expect(a.body.error.message).to.be.a('string');
      expect(Number(a.headers.get('retry-after'))).to.be.within(1, 1);
    }
  });

  it("a key's own rateLimitPerSecond is its limit across both processes", async () => {
    const { token } = await newKey({ rateLimitPerSecond: 2 });
    const seconds = 3;
    const ok = (await hammer(token, seconds * 1000)).filter((a) => a.status === 200).length;
    expect(ok, `${ok} let through in ${seconds} s`).to.be.within(2 * (seconds - 1), 2 * (seconds + 1));
  });

  it('POST /v1/sessions and POST /v1/users are limited per client address (with a token too, but the admin\'s), across both processes', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await admins[i % 2].as(undefined).post('/v1/sessions', { email: `nobody-${i}@example.com`, password: 'wrong password' })).status);
    }
    const email = `guest-${randomUUID()}@example.com`;
    statuses.push((await admins[1].as(undefined).post('/v1/users', { email, password: 'long enough password', name: 'G' })).status);
    const refused = await admins[0].as(undefined).post('/v1/users', { email: `x-${email}`, password: 'long enough password', name: 'G' });
    const refusedToo = await admins[1].as(undefined).post('/v1/sessions', { email, password: 'long enough password' });
    expect(statuses).to.deep.equal([401, 401, 401, 201]);
    for (const r of [refused, refusedToo]) {
      expect(r.status).to.equal(429);
      expect(r.body.error.code).to.equal('rate_limited');
      expect(Number(r.headers.get('retry-after'))).to.be.within(1, 60);
    }
    // Another client behind the trusted proxy (TRUST_PROXY_HOPS=1) has its own allowance.
    const elsewhere = await admins[0].as(undefined).post('/v1/sessions', { email, password: 'wrong password' }, { 'x-forwarded-for': '203.0.113.7' });
    expect(elsewhere.status).to.equal(401);
    // A token does not lift the limit (guest tokens are free: guessing passwords with one is still limited)...
    const partner = admins[0].as(await createKey(admins[0], 'partner'));
    const withToken = await partner.post('/v1/sessions', { email, password: 'wrong password' });
    expect(withToken.status, JSON.stringify(withToken.body)).to.equal(429);
    expect((await partner.post('/v1/users', { email: `p-${email}`, password: 'long enough password', name: 'P' })).status).to.equal(429);
    // ...but the admin's does: it creates staff users.
    expect((await admins[0].post('/v1/users', { email: `by-admin-${email}`, password: 'long enough password', name: 'A' })).status).to.equal(201);
  });

  it('a key revoked through one API process is refused by the other within 1 s', async () => {
    const key = await newKey({ rateLimitPerSecond: 1000 });
    // Both processes have verified (and cached) the token.
    for (const a of admins) expect((await a.as(key.token).get('/v1/reservations')).status).to.equal(200);
    expect((await admins[0].delete(`/v1/api-keys/${key.id}`)).status).to.equal(204);
    const revokedAt = Date.now();
    let refusedAfter = -1;
    while (Date.now() - revokedAt < 3_000) {
      const [one, two] = await Promise.all(admins.map((a) => a.as(key.token).get('/v1/reservations')));
      expect(one.status, 'the process that revoked it refuses it at once').to.equal(401);
      if (two.status === 401) {
        refusedAfter = Date.now() - revokedAt;
        break;
      }
      await sleep(20);
    }
    expect(refusedAfter, 'refused by the other process (ms after the revocation)').to.be.within(0, 1_000);
  });
});
