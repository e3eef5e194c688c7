// SIGKILL the notifier, then the worker, in the middle of a stream of reservations: every committed event still
// reaches the receiver (counted by id), each hotel's in sequence order once duplicates are dropped.
import type { ChildProcess } from 'node:child_process';
import { expect } from 'chai';
import { startApi, type RunningApi } from '../../api/server.js';
import { eventIdOf } from '../../engine/notify/events.js';
import { adminToken, createTestEnv, type TestEnv } from '../support/env.js';
import { spawnPart, waitFor } from '../support/stack.js';
import { HttpClient, type HttpResult } from '../support/http.js';
import { createHotel, createRoomType, dayFromToday, reservationBody } from '../support/fixtures.js';
import { withShardDb } from '../support/db.js';
import { Receiver } from '../support/receiver.js';

describe('notifications survive SIGKILL of the notifier and of the worker', function () {
  this.timeout(240_000);
  let env: TestEnv;
  let api: RunningApi;
  let receiver: Receiver;
  const children: ChildProcess[] = [];

  before(async () => {
    env = await createTestEnv({ SHARD_LEASE_MS: '1000', JOB_LOCK_MS: '2000', REPLY_TIMEOUT_MS: '4000', WEBHOOK_ALLOW_PRIVATE: '1', WEBHOOK_RETRY_SCALE_PERMILLE: '10', MAIL_DIR: `/tmp/notify-kill-mail-${process.pid}` });
    api = await startApi(env.config);
    receiver = new Receiver();
  });
  after(async () => {
    for (const c of children) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(t);
    }
    await receiver?.stop();
    await api?.close();
    await env?.cleanup();
  });

  const spawn = (part: 'worker' | 'notifier') => {
    const c = spawnPart(part, env.vars);
    children.push(c);
    return c;
  };
  const kill = async (c: ChildProcess) => {
    c.kill('SIGKILL');
    await new Promise((r) => c.once('exit', r));
  };

  // Two runs in four of the full suite once timed out here: a relay killed between queueing a job and moving its
  // cursor queued from the same first event again with more events, under the same job id, which BullMQ ignored
  // while the first job waited, and the cursor passed the events only the second carried. Job ids now name the whole
  // range (outbox-events.test.ts shows that case on its own).
  it('loses no event', async () => {
    const base = await receiver.start();
    // Slow answers, so that the notifier is killed with deliveries in flight.
    receiver.answer = () => ({ status: 200, delayMs: 5 });
    const admin = new HttpClient(`http://127.0.0.1:${api.port}`, adminToken);
    let worker = spawn('worker');
    let notifier = spawn('notifier');
    await waitFor('the worker to take its shards', async () => (await admin.get('/v1/ops/shards')).body.every((s: any) => s.owner));
    // The webhook first: every event of the hotels below (their room types' availability.changed included) is
    // committed after it, so every one is owed to it. (Made after the room types, the first events raced it: they
    // were delivered only when the relay got to them after the webhook existed.)
    const hook = await admin.post('/v1/webhooks', { url: `${base}/all`, events: ['reservation.created', 'reservation.canceled', 'availability.changed'] });
    expect(hook.status).to.equal(201);
    const hotels = [await createHotel(admin), await createHotel(admin)];
    const types = [await createRoomType(admin, hotels[0].id, { totalInventory: 500 }), await createRoomType(admin, hotels[1].id, { totalInventory: 500 })];

    const total = 600;
    const bodies = Array.from({ length: total }, (_, i) => reservationBody(hotels[i % 2].id, types[i % 2].id, dayFromToday(2 + (i % 5)), dayFromToday(3 + (i % 5))));
    const results: (HttpResult | undefined)[] = new Array(total);
    let next = 0;
    let done = 0;
    const client = async () => {
      while (next < total) {
        const i = next++;
        results[i] = await admin.post('/v1/reservations', bodies[i]);
        done++;
        // A cancellation now and then: events of another type in the same hotels' sequences.
        if (i % 10 === 0 && results[i]!.status === 201) await admin.delete(`/v1/reservations/${bodies[i].reservationId}`);
      }
    };
    const stream = Promise.all(Array.from({ length: 8 }, client));

    await waitFor('deliveries under way', async () => receiver.received.length >= 50, 60_000);
    await kill(notifier);
    await waitFor('a third of the stream', async () => done >= total / 3, 60_000);
    notifier = spawn('notifier');
    await waitFor('half of the stream', async () => done >= total / 2, 60_000);
    await kill(worker);
    await new Promise((r) => setTimeout(r, 3000));
    worker = spawn('worker');
    await stream;
    for (const r of results) expect([201, 202]).to.include(r!.status);
    // Requests answered 202 are decided by the new owner: wait until none is processing.
    await waitFor('every reservation decided', async () => {
      for (const b of bodies) if ((await admin.get(`/v1/reservations/${b.reservationId}`)).status !== 200) return false;
      return true;
    }, 60_000);

    // Every committed event of the subscribed types, by id, from the shard databases.
    const expected = new Map<string, { hotelId: string; sequence: number }>();
    for (const h of hotels) {
      const rows = await withShardDb(env.config, h.id, async (c) =>
        (await c.query(`SELECT sequence::int AS s FROM outbox WHERE hotel_id = $1 AND type = ANY($2) ORDER BY sequence`, [h.id, ['reservation.created', 'reservation.canceled', 'availability.changed']])).rows,
      );
      for (const r of rows) expected.set(eventIdOf(h.id, r.s), { hotelId: h.id, sequence: r.s });
    }
    const created = bodies.length;
    expect([...expected.values()].length).to.be.greaterThan(created);
    await waitFor('every event delivered', async () => {
      const got = new Set(receiver.on('/all').map((r) => r.body.id));
      return [...expected.keys()].every((id) => got.has(id));
    }, 90_000);
    const got = new Set(receiver.on('/all').map((r) => r.body.id));
    const missing = [...expected.keys()].filter((id) => !got.has(id));
    expect(missing).to.deep.equal([]);
    // Every reservation's created event, by id.
    const createdIds = new Set(receiver.on('/all').filter((r) => r.body.type === 'reservation.created').map((r) => r.body.data.id));
    expect(bodies.filter((b) => !createdIds.has(b.reservationId))).to.deep.equal([]);
  });
});
