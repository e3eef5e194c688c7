// Regression (issue 13, item 10): Redis trouble hung requests instead of failing fast. With Redis paused
// (CLIENT PAUSE) or stopped, writes hung 10-12 s, /readyz hung or answered "ready", and ioredis printed
// "Unhandled error event" stack traces between the JSON log lines. On a private redis-server: 503 within a second,
// a request already queued still answers as queued (never 503), recovery by itself, and logs stay JSON lines.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createLogger } from '../../engine/log.js';
import { ShardOwner } from '../../engine/shard-owner.js';
import { reservationCount } from '../support/db.js';
import { adminToken, createTestEnv, type TestEnv } from '../support/env.js';
import { createHotel, createRoomType, dayFromToday, reservationBody } from '../support/fixtures.js';
import { HttpClient, type HttpResult } from '../support/http.js';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis.js';
import { waitFor } from '../support/stack.js';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A request and how long its answer took. */
async function timed(p: Promise<HttpResult>): Promise<HttpResult & { ms: number }> {
  const started = Date.now();
  const r = await p;
  return { ...r, ms: Date.now() - started };
}

describe('Redis stalls and outages fail fast (API against a private redis-server)', function () {
  this.timeout(90_000);
  let redis: PrivateRedis;
  let env: TestEnv;
  let owner: ShardOwner;
  let api: ChildProcess;
  let apiExited: Promise<void>;
  const logLines: string[] = [];
  let admin: HttpClient;
  let hotel: any;
  let rt: any;
  let day = 2;
  const body = () => reservationBody(hotel.id, rt.id, dayFromToday(day), dayFromToday(++day));

  before(async () => {
    redis = await startPrivateRedis();
    env = await createTestEnv({ REDIS_URL: redis.url, REPLY_TIMEOUT_MS: '10000' });
    owner = new ShardOwner(env.config, createLogger('worker', 'silent'));
    await owner.start();
    const port = await freePort();
    // The API runs as a process of its own, so that everything it writes to stderr can be checked.
    api = spawn(process.execPath, [path.join(dist, 'api/main.js')], {
      env: { ...process.env, ...env.vars, PORT: String(port), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    apiExited = new Promise((resolve) => api.once('exit', () => resolve()));
    let partial = '';
    api.stderr?.on('data', (d: Buffer) => {
      const lines = (partial + d.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      logLines.push(...lines.filter((l) => l !== ''));
    });
    admin = new HttpClient(`http://127.0.0.1:${port}`, adminToken);
    await waitFor('the API to be ready', async () => (await admin.get('/readyz')).status === 200);
    hotel = await createHotel(admin);
    rt = await createRoomType(admin, hotel.id, { totalInventory: 50 });
  });

  after(async () => {
    api?.kill('SIGTERM');
    await apiExited;
    try {
      await owner?.stop();
      await env?.cleanup();
    } finally {
      // The private server goes whatever failed before.
      await redis?.destroy();
    }
  });

  it('CLIENT PAUSE: /readyz and new writes answer 503 within 1 s, a write already sent is still answered as queued, and it recovers by itself', async () => {
    expect((await admin.post('/v1/reservations', body())).status).to.equal(201);
    await redis.command('CLIENT', 'PAUSE', 3000, 'ALL');
    const paused = Date.now();
    // Sent before the API can know of the pause: its job may be queued, so it must not be told 503.
    const first = body();
    const queued = timed(admin.post('/v1/reservations', first));
    const ready = await timed(admin.get('/readyz'));
    expect(ready.status, JSON.stringify(ready.body)).to.equal(503);
    expect(ready.body.status).to.equal('not_ready');
    expect(ready.ms).to.be.below(1_000);
    // Once the stall is seen (the router's probe), new writes are refused at once.
    await new Promise((r) => setTimeout(r, 800 - (Date.now() - paused)));
    const refused = await timed(admin.post('/v1/reservations', body()));
    expect(refused.status, JSON.stringify(refused.body)).to.equal(503);
    expect(refused.body.error.code).to.equal('unavailable');
    expect(refused.headers.get('retry-after')).to.equal('1');
    expect(refused.ms).to.be.below(1_000);
    expect(Date.now() - paused, 'all of this happened during the pause').to.be.below(3_000);
    const q = await queued;
    expect([201, 202], JSON.stringify(q.body)).to.include(q.status);
    // Recovery by itself: the next write after the pause is decided.
    await waitFor('a write to be decided again', async () => (await admin.post('/v1/reservations', body())).status === 201, 10_000);
    expect((await admin.get('/readyz')).status).to.equal(200);
    await waitFor('the first write to be decided', async () => (await reservationCount(env.config, hotel.id, [first.reservationId])).get(first.reservationId) === 1, 15_000);
  });

  it('Redis stopped: writes, reads that need it and /readyz answer 503 within 1 s; it recovers by itself once Redis is back', async () => {
    await redis.stop();
    const write = await timed(admin.post('/v1/reservations', body()));
    expect(write.status, JSON.stringify(write.body)).to.equal(503);
    expect(write.headers.get('retry-after')).to.equal('1');
    expect(write.ms).to.be.below(1_000);
    const read = await timed(admin.get(`/v1/reservations/${body().reservationId}`));
    expect(read.status, JSON.stringify(read.body)).to.equal(503);
    expect(read.ms).to.be.below(1_000);
    const ready = await timed(admin.get('/readyz'));
    expect(ready.status).to.equal(503);
    expect(ready.ms).to.be.below(1_000);
    // Still down a few seconds later (reconnect attempts going on): still fast.
    await new Promise((r) => setTimeout(r, 2_000));
    const later = await timed(admin.post('/v1/reservations', body()));
    expect(later.status).to.equal(503);
    expect(later.ms).to.be.below(1_000);
    await redis.restart();
    await waitFor('/readyz to answer ready', async () => (await admin.get('/readyz')).status === 200, 10_000);
    await waitFor('a write to be decided again', async () => (await admin.post('/v1/reservations', body())).status === 201, 20_000);
  });

  it('Redis restarted empty: the API is ready again and queues writes by itself', async () => {
    await redis.stop({ empty: true });
    expect((await timed(admin.post('/v1/reservations', body()))).status).to.equal(503);
    await redis.restart();
    expect(await redis.command('DBSIZE')).to.equal(0);
    await waitFor('/readyz to answer ready', async () => (await admin.get('/readyz')).status === 200, 10_000);
    const r = await timed(admin.post('/v1/reservations', body()));
    expect([201, 202], JSON.stringify(r.body)).to.include(r.status);
  });

  it('every line the API wrote to stderr through all of this is a JSON object', () => {
    expect(logLines.length, 'the faults were logged').to.be.above(0);
    const notJson = logLines.filter((l) => {
      try {
        return typeof JSON.parse(l) !== 'object';
      } catch {
        return true;
      }
    });
    expect(notJson, notJson.slice(0, 5).join('\n')).to.deep.equal([]);
  });
});
