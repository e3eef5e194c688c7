// SIGKILL the worker process in the middle of a stream of reservations, start a new one: nothing acknowledged is
// lost or doubled, no night is oversold, and every request still waiting is decided.
import type { ChildProcess } from 'node:child_process';
import { expect } from 'chai';
import { startApi, type RunningApi } from '../../api/server.js';
import { adminToken, createTestEnv, type TestEnv } from '../support/env.js';
import { spawnPart, waitFor } from '../support/stack.js';
import { HttpClient, type HttpResult } from '../support/http.js';
import { createHotel, createRoomType, dayFromToday, reservationBody } from '../support/fixtures.js';
import { nightsOf, withShardDb } from '../support/db.js';

describe('worker killed with SIGKILL mid-stream', function () {
  this.timeout(180_000);
  let env: TestEnv;
  let api: RunningApi;
  const workers: ChildProcess[] = [];

  before(async () => {
    env = await createTestEnv({ SHARD_LEASE_MS: '1000', JOB_LOCK_MS: '2000', REPLY_TIMEOUT_MS: '4000' });
    api = await startApi(env.config);
  });
  after(async () => {
    // A live worker stops gracefully (it releases its leases); one that will not is killed.
    for (const w of workers) {
      if (w.exitCode !== null || w.signalCode !== null) continue;
      const gone = new Promise((r) => w.once('exit', r));
      w.kill('SIGTERM');
      const t = setTimeout(() => w.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(t);
    }
    await api?.close();
    await env?.cleanup();
  });

  it('keeps every acknowledged reservation exactly once and decides the waiting ones', async () => {
    const admin = new HttpClient(`http://127.0.0.1:${api.port}`, adminToken);
    const first = spawnPart('worker', env.vars);
    workers.push(first);
    await waitFor('the first worker to take its shards', async () => (await admin.get('/v1/ops/shards')).body.every((s: any) => s.owner));

    const hotel = await createHotel(admin);
    const rt = await createRoomType(admin, hotel.id, { totalInventory: 30 });
    const total = 600;
    const bodies = Array.from({ length: total }, (_, i) => {
      const start = 2 + (i % 5);
      return reservationBody(hotel.id, rt.id, dayFromToday(start), dayFromToday(start + 1 + (i % 3)));
    });
    const results: (HttpResult | undefined)[] = new Array(total);
    let next = 0;
    let done = 0;
    const client = async () => {
      while (next < total) {
        const i = next++;
        results[i] = await admin.post('/v1/reservations', bodies[i]);
        done++;
      }
    };
    const stream = Promise.all(Array.from({ length: 16 }, client));

    await waitFor('a third of the stream to be answered', async () => done >= total / 3, 60_000);
    const answeredBeforeKill = done;
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    expect(done, 'requests were still outstanding when the worker died').to.be.lessThan(total);
    // No owner for longer than REPLY_TIMEOUT_MS: the requests in flight are answered 202 and stay queued.
    await new Promise((r) => setTimeout(r, 5000));
    const second = spawnPart('worker', env.vars);
    workers.push(second);
    await stream;
    expect(answeredBeforeKill).to.be.greaterThan(0);

    const statusOf = results.map((r) => r!.status);
    for (const s of statusOf) expect([201, 202, 409], `status ${s}`).to.include(s);
    expect(statusOf.filter((s) => s === 202).length, 'some requests waited through the outage').to.be.greaterThan(0);

    // Requests answered 202 are decided once the new owner runs: poll each until it is no longer processing.
    const finalOf = new Map<string, number>();
    for (let i = 0; i < total; i++) {
      const id = bodies[i].reservationId;
      if (statusOf[i] !== 202) {
        finalOf.set(id, statusOf[i]);
        continue;
      }
      let g = await admin.get(`/v1/reservations/${id}`);
      await waitFor(`decision of ${id}`, async () => {
        g = await admin.get(`/v1/reservations/${id}`);
        return g.status !== 202;
      }, 60_000);
      expect([200, 404]).to.include(g.status);
      finalOf.set(id, g.status === 200 ? 201 : 409);
    }

    const ids = bodies.map((b) => b.reservationId);
    const rows = await withShardDb(env.config, hotel.id, async (c) =>
      (await c.query('SELECT id::text, count(*)::int AS n FROM reservations WHERE id = ANY($1::uuid[]) GROUP BY id', [ids])).rows,
    );
    const inDb = new Map(rows.map((r) => [r.id as string, r.n as number]));
    for (const [id, s] of finalOf) {
      if (s === 201) expect(inDb.get(id), `acknowledged ${id} is stored exactly once`).to.equal(1);
      else expect(inDb.get(id), `refused ${id} is not stored`).to.equal(undefined);
    }
    expect([...inDb.values()].every((n) => n === 1)).to.equal(true);

    for (const n of await nightsOf(env.config, hotel.id, rt.id)) {
      expect(n.reserved, n.date).to.be.at.most(n.sellableLimit);
      expect(n.reserved, n.date).to.equal(n.held);
    }
    // The new owner took the shard with a higher epoch (the dead one is fenced off).
    const shards = (await admin.get('/v1/ops/shards')).body as any[];
    expect(shards.some((s) => s.epoch >= 2)).to.equal(true);
    // Sold out in the end: the stream asked for far more rooms than the hotel has.
    expect([...finalOf.values()].filter((s) => s === 409).length).to.be.greaterThan(0);
  });
});
