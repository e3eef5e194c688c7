// Partner batches: split per shard off the event loop, queued in bulk, each item decided as if posted alone.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { startStack, waitFor, type Stack } from '../support/stack.js';
import { createHotel, createKey, createRoomType, dayFromToday, reservationBody } from '../support/fixtures.js';
import { nightsOf } from '../support/db.js';
import { createPool } from '../../engine/store/pg.js';
import type { HttpClient } from '../support/http.js';

async function finished(client: HttpClient, batchId: string): Promise<any> {
  let body: any;
  await waitFor(`batch ${batchId}`, async () => {
    const r = await client.get(`/v1/batches/${batchId}`);
    body = r.body;
    return r.status === 200 && r.body.status === 'done';
  }, 60_000);
  return body;
}

describe('partner batches', function () {
  this.timeout(120_000);
  let env: TestEnv;
  let stack: Stack;
  let partner: HttpClient;

  before(async () => {
    env = await createTestEnv();
    stack = await startStack(env.config);
    partner = stack.admin.as(await createKey(stack.admin, 'partner'));
  });
  after(async () => {
    await stack?.stop();
    await env?.cleanup();
  });

  it('decides 2,000 items across hotels in item order, with invalid items rejected and the database in agreement', async () => {
    const hotels = await Promise.all([0, 1, 2, 3].map(() => createHotel(stack.admin)));
    const types = await Promise.all(hotels.map((h) => createRoomType(stack.admin, h.id, { totalInventory: 200 })));
    const items: any[] = Array.from({ length: 2000 }, (_, i) =>
      reservationBody(hotels[i % 4].id, types[i % 4].id, dayFromToday(5 + (i % 3)), dayFromToday(7 + (i % 3))),
    );
    items[7] = { ...items[7], roomCount: 0 };
    items[11] = { ...items[11], checkIn: 'soon' };
    const posted = await partner.post('/v1/batches', { items });
    expect(posted.status, JSON.stringify(posted.body)).to.equal(202);
    expect(posted.body).to.include({ status: 'processing', total: 2000 });
    const done = await finished(partner, posted.body.batchId);
    expect(done.results).to.have.length(2000);
    done.results.forEach((r: any, i: number) => expect(r.reservationId).to.equal(items[i].reservationId));
    expect(done.results[7]).to.deep.include({ status: 'rejected' });
    expect(done.results[7].error.code).to.equal('validation_failed');
    expect(done.results[11].error.code).to.equal('validation_failed');
    expect(done.held + done.rejected).to.equal(2000);
    // The plan and results (written once, read by every poll) are stored lz4-compressed where the server has lz4.
    const catalog = createPool(env.config.catalogUrl, 1);
    try {
      const c = await catalog.query(
        `SELECT pg_column_compression(plan) AS plan, pg_column_compression(results) AS results,
                (SELECT 'lz4' = ANY (enumvals) FROM pg_settings WHERE name = 'default_toast_compression') AS lz4
           FROM batches WHERE id = $1`,
        [posted.body.batchId],
      );
      const want = c.rows[0].lz4 ? 'lz4' : 'pglz';
      expect(c.rows[0]).to.deep.include({ plan: want, results: want });
    } finally {
      await catalog.end();
    }
    // 200 rooms at 10% sell 220 per night; each hotel gets 500 items over three overlapping stays.
    const heldIds = new Set(done.results.filter((r: any) => r.status === 'pending').map((r: any) => r.reservationId));
    expect(heldIds.size).to.equal(done.held);
    for (let h = 0; h < 4; h++) {
      const nights = await nightsOf(env.config, hotels[h].id, types[h].id);
      for (const n of nights) {
        expect(n.reserved).to.be.at.most(n.sellableLimit);
        expect(n.reserved).to.equal(n.held);
      }
      expect(Math.max(...nights.map((n) => n.reserved))).to.equal(220);
    }
    for (const r of done.results.filter((x: any) => x.status === 'rejected' && x.error.code !== 'validation_failed')) {
      expect(r.error.code).to.equal('sold_out');
    }
    // Items are idempotent like single requests: a held item posted alone answers 200 with the same reservation.
    const i = done.results.findIndex((r: any) => r.status === 'pending');
    const alone = await partner.post('/v1/reservations', items[i]);
    expect(alone.status).to.equal(200);
    expect(alone.body.id).to.equal(items[i].reservationId);
  });

  it('atomic: every item held, or none (sold_out for all) and nothing changes', async () => {
    const hotel = await createHotel(stack.admin, { overbookingPercent: 0 });
    const rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 5 });
    const fits = Array.from({ length: 5 }, () => reservationBody(hotel.id, rt.id, dayFromToday(3), dayFromToday(5)));
    const ok = await finished(partner, (await partner.post('/v1/batches', { items: fits, atomic: true })).body.batchId);
    expect(ok.held).to.equal(5);
    expect(ok.results.every((r: any) => r.status === 'pending')).to.equal(true);

    const before = await nightsOf(env.config, hotel.id, rt.id);
    const tooMany = Array.from({ length: 3 }, () => reservationBody(hotel.id, rt.id, dayFromToday(4), dayFromToday(6)));
    const no = await finished(partner, (await partner.post('/v1/batches', { items: tooMany, atomic: true })).body.batchId);
    expect(no.held).to.equal(0);
    expect(no.rejected).to.equal(3);
    for (const r of no.results) expect(r.error.code).to.equal('sold_out');
    expect(await nightsOf(env.config, hotel.id, rt.id)).to.deep.equal(before);

    const other = await createHotel(stack.admin);
    const rt2 = await createRoomType(stack.admin, other.id);
    const mixed = await partner.post('/v1/batches', {
      atomic: true,
      items: [reservationBody(hotel.id, rt.id, dayFromToday(9), dayFromToday(10)), reservationBody(other.id, rt2.id, dayFromToday(9), dayFromToday(10))],
    });
    expect(mixed.status).to.equal(400);
    expect(mixed.body.error.code).to.equal('validation_failed');
  });

  it('honours Idempotency-Key: the same body gives the same batch, a different one 422', async () => {
    const hotel = await createHotel(stack.admin);
    const rt = await createRoomType(stack.admin, hotel.id);
    const body = { items: [reservationBody(hotel.id, rt.id, dayFromToday(2), dayFromToday(3))] };
    const key = randomUUID();
    const a = await partner.post('/v1/batches', body, { 'Idempotency-Key': key });
    const b = await partner.post('/v1/batches', body, { 'Idempotency-Key': key });
    expect(a.status).to.equal(202);
    expect(b.status).to.equal(202);
    expect(b.body.batchId).to.equal(a.body.batchId);
    const c = await partner.post('/v1/batches', { items: [reservationBody(hotel.id, rt.id, dayFromToday(2), dayFromToday(3))] }, { 'Idempotency-Key': key });
    expect(c.status).to.equal(422);
    expect(c.body.error.code).to.equal('idempotency_mismatch');
    const done = await finished(partner, a.body.batchId);
    expect(done.held).to.equal(1);
    // Once it is done, the same body still gets the first answer; so does one with its fields in another order.
    const reordered = { atomic: false, items: body.items.map((i) => Object.fromEntries(Object.entries(i).reverse())) };
    const first = await partner.post('/v1/batches', JSON.stringify({ items: body.items }), { 'Idempotency-Key': key });
    expect(first.status).to.equal(202);
    expect(first.body).to.deep.equal(a.body);
    const key2 = randomUUID();
    const e = await partner.post('/v1/batches', { items: body.items, atomic: false }, { 'Idempotency-Key': key2 });
    expect(e.status, JSON.stringify(e.body)).to.equal(202);
    const f = await partner.post('/v1/batches', reordered, { 'Idempotency-Key': key2 });
    expect(f.status, JSON.stringify(f.body)).to.equal(202);
    expect(f.body).to.deep.equal(e.body);
  });

  it('the same batch sent again with other white space, or with a byte order mark, is the same body; another charset is 400', async () => {
    const hotel = await createHotel(stack.admin);
    const rt = await createRoomType(stack.admin, hotel.id);
    const items = [reservationBody(hotel.id, rt.id, dayFromToday(2), dayFromToday(3))];
    const key = randomUUID();
    const a = await partner.post('/v1/batches', JSON.stringify({ items }), { 'Idempotency-Key': key });
    expect(a.status, JSON.stringify(a.body)).to.equal(202);
    const b = await partner.post('/v1/batches', `${JSON.stringify({ items }, null, 2)}\n`, { 'Idempotency-Key': key });
    expect(b.status, JSON.stringify(b.body)).to.equal(202);
    expect(b.body.batchId).to.equal(a.body.batchId);
    const bom = await partner.post('/v1/batches', `\ufeff${JSON.stringify({ items: [reservationBody(hotel.id, rt.id, dayFromToday(3), dayFromToday(4))] })}`);
    expect(bom.status, JSON.stringify(bom.body)).to.equal(202);
    const latin1 = await partner.post('/v1/batches', JSON.stringify({ items }), { 'content-type': 'application/json; charset=latin1' });
    expect(latin1.status, JSON.stringify(latin1.body)).to.equal(400);
    expect(latin1.body.error.code).to.equal('validation_failed');
    // held counts the items that hold rooms: one repeating a canceled reservation is not one of them.
    const canceled = reservationBody(hotel.id, rt.id, dayFromToday(5), dayFromToday(6));
    expect((await partner.post('/v1/reservations', canceled)).status).to.equal(201);
    expect((await partner.delete(`/v1/reservations/${canceled.reservationId}`)).body.status).to.equal('canceled');
    const repeat = await partner.post('/v1/batches', { items: [canceled, reservationBody(hotel.id, rt.id, dayFromToday(6), dayFromToday(7))] });
    const done = await finished(partner, repeat.body.batchId);
    expect(done.results.map((x: any) => x.status)).to.deep.equal(['canceled', 'pending']);
    expect([done.held, done.rejected]).to.deep.equal([1, 1]);
  });

  it('rejects bad batches whole and hides other creators\' batches', async () => {
    expect((await partner.post('/v1/batches', '{"items": [')).status).to.equal(400);
    expect((await partner.post('/v1/batches', { items: [] })).status).to.equal(400);
    // An unknown field is named as on every other route (it was "body: unknown field(s) extra").
    const extra = await partner.post('/v1/batches', { items: [{}], extra: 1 });
    expect(extra.status).to.equal(400);
    expect(extra.body.error.details.fields).to.deep.include({ field: 'extra', message: 'unknown field' });
    expect((await stack.admin.as(undefined).post('/v1/batches', { items: [{}] })).status).to.equal(401);
    const staff = stack.admin.as(await createKey(stack.admin, 'staff'));
    expect((await staff.post('/v1/batches', { items: [{}] })).status).to.equal(403);
    const hotel = await createHotel(stack.admin);
    const rt = await createRoomType(stack.admin, hotel.id);
    const posted = await partner.post('/v1/batches', { items: [reservationBody(hotel.id, rt.id, dayFromToday(2), dayFromToday(3))] });
    const otherPartner = stack.admin.as(await createKey(stack.admin, 'partner'));
    expect((await otherPartner.get(`/v1/batches/${posted.body.batchId}`)).status).to.equal(404);
    // Staff and guests never make batches: their role is refused.
    expect((await staff.get(`/v1/batches/${posted.body.batchId}`)).status).to.equal(403);
    expect((await stack.admin.get(`/v1/batches/${posted.body.batchId}`)).status).to.equal(200);
  });
});
