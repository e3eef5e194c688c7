// The engine on a Redis Cluster (REDIS_CLUSTER_NODES): a private cluster of three masters, and an API, a worker and a
// notifier as child processes against it. End to end: a reservation (201, then read back), a partner batch, the
// availability stream seeing a change, and a webhook delivered; and the keys where they must be: every key of a
// shard in its tag's slot, the shards used on all three masters, and no key of the deployment in any other shape.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { RedisKeys } from '../../engine/redis.js';
import { shardOf } from '../../engine/shard-map.js';
import { createTestEnv, adminToken, type TestEnv } from '../support/env.js';
import { createHotel, createKey, createRoomType, dayFromToday, reservationBody } from '../support/fixtures.js';
import { HttpClient } from '../support/http.js';
import { LoggedProcess, spawnApi, spawnWorker, waitFor } from '../support/parts.js';
import { startPrivateCluster, type PrivateCluster } from '../support/private-cluster.js';
import { Receiver } from '../support/receiver.js';
import { SseClient } from '../support/sse.js';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shardCount = 16;

describe('Redis Cluster: API, worker and notifier on three masters', function () {
  this.timeout(90_000);
  let cluster: PrivateCluster | undefined;
  let env: TestEnv | undefined;
  const parts: LoggedProcess[] = [];
  let receiver: Receiver | undefined;
  /** The guests' mails (.eml files) of the notifier. */
  const mailDir = mkdtempSync(path.join(os.tmpdir(), 'bk-cl-mail-'));
  let admin: HttpClient;
  let keys: RedisKeys;
  /** Which master (port) serves each slot. */
  let masterOfSlot: (slot: number) => number;
  const slotOf = (key: string) => Number((cluster as PrivateCluster).cli((cluster as PrivateCluster).ports[0], 'CLUSTER', 'KEYSLOT', key));
  const masterOf = (key: string) => masterOfSlot(slotOf(key));
  const exists = (key: string) => Number((cluster as PrivateCluster).cli(masterOf(key), 'EXISTS', key)) === 1;
  /** The hotels the first case made. */
  let hotelIds: { id: string; roomTypeId: string }[] = [];
  const logs = () => parts.map((p) => `[${p.name}] ${p.tail()}`).join('\n');

  before(async () => {
    cluster = await startPrivateCluster(3);
    const ranges: { from: number; to: number; port: number }[] = [];
    for (const line of cluster.cli(cluster.ports[0], 'CLUSTER', 'NODES').split('\n')) {
      const f = line.split(' ');
      if (!f[2]?.includes('master')) continue;
      const port = Number(f[1].split(':')[1].split('@')[0]);
      for (const r of f.slice(8)) {
        const [from, to] = r.split('-').map(Number);
        ranges.push({ from, to: to ?? from, port });
      }
    }
    masterOfSlot = (slot) => (ranges.find((r) => slot >= r.from && slot <= r.to) as { port: number }).port;
    env = await createTestEnv({ REDIS_CLUSTER_NODES: cluster.nodes, SHARD_COUNT: String(shardCount), WEBHOOK_ALLOW_PRIVATE: '1', WEBHOOK_RETRY_SCALE_PERMILLE: '10', MAIL_DIR: mailDir });
    keys = new RedisKeys(env.config.redisPrefix);
    const vars = env.vars;
    parts.push(await spawnWorker(vars));
    parts.push(await spawnApi(vars));
    const notifier = spawn(process.execPath, [path.join(dist, 'workers/notifier.js')], { env: { ...process.env, ...vars }, stdio: ['ignore', 'ignore', 'pipe'] });
    parts.push(new LoggedProcess('notifier', notifier, 0));
    const api = parts[1];
    admin = new HttpClient(api.url, adminToken);
    await waitFor('the API to be ready', async () => (await admin.get('/readyz')).status === 200, 20_000, logs);
    await waitFor(
      'every shard owned',
      async () => {
        const r = await admin.get('/v1/ops/shards');
        return r.status === 200 && r.body.length === shardCount && r.body.every((s: { owner: string | null }) => s.owner);
      },
      20_000,
      logs,
    );
    receiver = new Receiver();
  });

  after(async () => {
    await Promise.all(parts.map((p) => p.stop()));
    await receiver?.stop().catch(() => {});
    await cluster?.destroy();
    await env?.cleanup();
    rmSync(mailDir, { recursive: true, force: true });
  });

  it('reserves, runs a batch, streams a change and delivers a webhook, with each shard in one slot and the shards on all masters', async () => {
    const c = cluster as PrivateCluster;
    // Hotels until their shards sit on all three masters (a shard's master: the one serving its tag's slot).
    const hotels: { id: string; shard: number; master: number; roomTypeId: string }[] = [];
    while (new Set(hotels.map((h) => h.master)).size < 3 || hotels.length < 4) {
      expect(hotels.length, 'hotels needed to reach every master').to.be.below(40);
      const h = await createHotel(admin);
      const shard = shardOf(h.id, shardCount);
      hotels.push({ id: h.id, shard, master: masterOf(keys.shardTag(shard)), roomTypeId: (await createRoomType(admin, h.id, { totalInventory: 50 })).id });
    }
    expect(new Set(hotels.map((h) => h.master))).to.have.property('size', 3);
    hotelIds = hotels;

    // A webhook for reservations, to a receiver on this machine (WEBHOOK_ALLOW_PRIVATE=1).
    const base = await (receiver as Receiver).start();
    const hook = await admin.post('/v1/webhooks', { url: `${base}/hook`, events: ['reservation.created'] });
    expect(hook.status, JSON.stringify(hook.body)).to.equal(201);

    // The availability stream of a hotel on each master (the API hears them all on one subscriber connection: plain
    // pub/sub, which the cluster bus carries to every node), then a reservation in every hotel: 201, read back,
    // streamed, delivered.
    const watched = [...new Map(hotels.map((h) => [h.master, h])).values()];
    const streams: SseClient[] = [];
    try {
      for (const h of watched) {
        const stream = await SseClient.open(`${admin.baseUrl}/v1/hotels/${h.id}/availability/stream`);
        streams.push(stream);
        expect(stream.status).to.equal(200);
        await stream.until('the connected comment', (x) => x.comments.some((m) => m.text === 'connected'));
      }
      const reserved: string[] = [];
      for (const h of hotels) {
        const body = reservationBody(h.id, h.roomTypeId, dayFromToday(3), dayFromToday(5));
        const r = await admin.post('/v1/reservations', body);
        expect(r.status, JSON.stringify(r.body)).to.equal(201);
        const got = await admin.get(`/v1/reservations/${body.reservationId}`);
        expect(got.status, JSON.stringify(got.body)).to.equal(200);
        expect(got.body).to.include({ id: body.reservationId, hotelId: h.id });
        reserved.push(body.reservationId);
      }
      for (const [i, stream] of streams.entries()) {
        await stream.until(`a change of the hotel watched on master ${watched[i].master}`, (x) => x.events.some((e) => e.event === 'availability'), 10_000);
        const change = JSON.parse(stream.events.find((e) => e.event === 'availability')?.data ?? '{}');
        expect(change.hotelId).to.equal(watched[i].id);
        expect(change.changes.some((n: { reserved: number }) => n.reserved === 1)).to.equal(true);
      }
      await waitFor(
        'a webhook for every reservation',
        async () => reserved.every((id) => (receiver as Receiver).on('/hook').some((d) => d.body?.type === 'reservation.created' && d.body.data?.id === id)),
        20_000,
        logs,
      );
    } finally {
      for (const stream of streams) stream.close();
    }

    // A partner batch over every hotel: every item held.
    const partner = admin.as(await createKey(admin, 'partner'));
    const items = Array.from({ length: 3 * hotels.length }, (_, i) => reservationBody(hotels[i % hotels.length].id, hotels[i % hotels.length].roomTypeId, dayFromToday(6), dayFromToday(7)));
    const posted = await partner.post('/v1/batches', { items });
    expect(posted.status, JSON.stringify(posted.body)).to.equal(202);
    let done: { status: string; held: number; rejected: number } | undefined;
    await waitFor(
      'the batch',
      async () => {
        const r = await partner.get(`/v1/batches/${posted.body.batchId}`);
        done = r.body;
        return r.status === 200 && r.body.status === 'done';
      },
      20_000,
      logs,
    );
    expect(done).to.include({ held: items.length, rejected: 0 });

    // Where the keys are: each used shard's queue, lease and hotel cache in its tag's slot, on that slot's master.
    for (const h of hotels) {
      const tag = keys.shardTag(h.shard);
      const slot = slotOf(tag);
      const a = keys.availability(h.shard, h.id);
      const shardKeys = [`${keys.queuePrefix(h.shard)}:${keys.queueName(h.shard)}:meta`, `${keys.queuePrefix(h.shard)}:${keys.queueName(h.shard)}:id`, keys.lease(h.shard), a.meta, a.roomType(h.roomTypeId), a.changes];
      for (const key of shardKeys) {
        expect(slotOf(key), key).to.equal(slot);
        expect(exists(key), `${key} on the master of slot ${slot}`).to.equal(true);
      }
    }
    // Every key on every master of this private cluster (all of them, not only those matching the prefix) starts with
    // the prefix and a colon (API.md), and is a shard's (its tag), the notifications queue's, or a global one.
    const prefix = env?.config.redisPrefix as string;
    const shapes = [new RegExp(`^${prefix}:\\{s(\\d+)\\}:`), new RegExp(`^${prefix}:\\{notifications\\}:`), new RegExp(`^${prefix}:[^{}]+$`)];
    const mastersOfShards = new Set<number>();
    let seen = 0;
    for (const port of c.ports) {
      const found = c.cli(port, '--scan').split('\n').filter(Boolean);
      for (const key of found) {
        seen++;
        expect(shapes.some((s) => s.test(key)), `key of no known shape: ${key}`).to.equal(true);
        const m = shapes[0].exec(key);
        if (m) {
          expect(Number(m[1])).to.be.below(shardCount);
          mastersOfShards.add(port);
        }
      }
    }
    expect(seen).to.be.above(0);
    expect(mastersOfShards.size, 'masters holding shard keys').to.equal(3);
    // Every shard's lease is held, each on the master of its tag.
    for (let k = 0; k < shardCount; k++) expect(exists(keys.lease(k)), `lease of shard ${k}`).to.equal(true);
  });

  // A master lost without a replica: the cluster goes to state `fail` and refuses every key, but still answers PING.
  // The API used to wait REPLY_TIMEOUT_MS for each request and answer 202; it answers 503 at once, and /readyz 503.
  it('a cluster in state fail: every request 503 at once and /readyz 503, not 202 after the reply timeout', async () => {
    const c = cluster as PrivateCluster;
    c.cli(c.ports[2], 'SHUTDOWN', 'NOSAVE');
    await waitFor('both live masters in state fail', async () => c.ports.slice(0, 2).every((p) => /cluster_state:fail/.test(c.cli(p, 'CLUSTER', 'INFO'))), 20_000);
    // The API's probe (every 200 ms) has seen it: /readyz says so for the queue as well as for Redis.
    await waitFor('/readyz to say the queue is unreachable', async () => (await admin.get('/readyz')).body.checks?.queue !== 'ok', 5_000);
    const ready = await admin.get('/readyz');
    expect(ready.body.checks.redis).to.match(/state is fail/);
    const t0 = Date.now();
    const r = await admin.post('/v1/reservations', reservationBody(hotelIds[0].id, hotelIds[0].roomTypeId, dayFromToday(8), dayFromToday(9)));
    expect(r.status, JSON.stringify(r.body)).to.equal(503);
    expect(r.headers.get('retry-after')).to.match(/^\d+$/);
    expect(Date.now() - t0).to.be.below(1_000);
    // Nothing more to hand over on a failed cluster: the processes go at once (a SIGTERM would wait for Redis).
    for (const p of parts) p.child.kill('SIGKILL');
  });
});