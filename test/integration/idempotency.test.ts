// reservationId is the idempotency key: however often and however concurrently a body is sent, one reservation.
import { expect } from 'chai';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { startStack, type Stack } from '../support/stack.js';
import { createGuest, createHotel, createKey, createRoomType, dayFromToday, reservationBody } from '../support/fixtures.js';
import { hotelVersion, nightsOf, reservationCount } from '../support/db.js';
import { databaseOfShard, shardOf } from '../../engine/shard-map.js';

describe('idempotency of POST /v1/reservations', function () {
  this.timeout(120_000);
  let env: TestEnv;
  let stack: Stack;
  let hotel: any;
  let rt: any;

  before(async () => {
    env = await createTestEnv();
    stack = await startStack(env.config);
    hotel = await createHotel(stack.admin);
    rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 10 });
  });
  after(async () => {
    await stack?.stop();
    await env?.cleanup();
  });

  it('50 concurrent copies of one request: one 201, forty-nine 200 with the same body, rooms held once', async () => {
    const partner = stack.admin.as(await createKey(stack.admin, 'partner'));
    const body = reservationBody(hotel.id, rt.id, dayFromToday(20), dayFromToday(23), { roomCount: 2 });
    const results = await Promise.all(Array.from({ length: 50 }, () => partner.post('/v1/reservations', body)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).to.have.length(1);
    expect(statuses.filter((s) => s === 200)).to.have.length(49);
    const first = results.find((r) => r.status === 201)!.body;
    for (const r of results) expect(r.body).to.deep.equal(first);
    expect(first.status).to.equal('pending');

    expect((await reservationCount(env.config, hotel.id, [body.reservationId])).get(body.reservationId)).to.equal(1);
    const nights = (await nightsOf(env.config, hotel.id, rt.id)).filter((n) => n.reserved > 0);
    expect(nights.map((n) => n.date)).to.deep.equal([dayFromToday(20), dayFromToday(21), dayFromToday(22)]);
    for (const n of nights) expect(n.reserved).to.equal(2);

    // A replay long after answers the current representation with 200.
    const again = await partner.post('/v1/reservations', body);
    expect(again.status).to.equal(200);
    expect(again.body).to.deep.equal(first);
  });

  it('a changed body, or the same body from another principal, gets 422 and changes nothing', async () => {
    const guest = await createGuest(stack.admin);
    const g = stack.admin.as(guest.token);
    const body = reservationBody(hotel.id, rt.id, dayFromToday(30), dayFromToday(31));
    expect((await g.post('/v1/reservations', body)).status).to.equal(201);
    const before = await nightsOf(env.config, hotel.id, rt.id);
    const versionBefore = await hotelVersion(env.config, hotel.id);

    const changes: Record<string, unknown>[] = [
      { roomCount: 2 },
      { checkOut: dayFromToday(32) },
      { guest: { name: 'Someone Else', email: 'ada@example.com' } },
    ];
    for (const change of changes) {
      const r = await g.post('/v1/reservations', { ...body, ...change });
      expect(r.status, JSON.stringify(change)).to.equal(422);
      expect(r.body.error.code).to.equal('idempotency_mismatch');
    }
    const other = await createGuest(stack.admin);
    const r = await stack.admin.as(other.token).post('/v1/reservations', body);
    expect(r.status).to.equal(422);
    expect(r.body.error.code).to.equal('idempotency_mismatch');
    // Another hotel whose rows live in the same shard database: refused too. (Ids are unique per shard database;
    // see docs/api.md for reuse across databases.)
    const dbOf = (id: string) => databaseOfShard(shardOf(id, env.config.shardCount), env.config.shardDatabaseUrls.length);
    let hotel2 = await createHotel(stack.admin);
    while (dbOf(hotel2.id) !== dbOf(hotel.id)) hotel2 = await createHotel(stack.admin);
    const rt2 = await createRoomType(stack.admin, hotel2.id);
    const cross = await g.post('/v1/reservations', { ...body, hotelId: hotel2.id, roomTypeId: rt2.id });
    expect(cross.status).to.equal(422);

    expect(await nightsOf(env.config, hotel.id, rt.id)).to.deep.equal(before);
    expect(await hotelVersion(env.config, hotel.id)).to.equal(versionBefore);
    const mine = await g.get(`/v1/reservations/${body.reservationId}`);
    expect(mine.status).to.equal(200);
    expect(mine.body.roomCount).to.equal(1);
  });

  it('concurrent duplicates across a sold-out race still hold the rooms once', async () => {
    const rtSmall = await createRoomType(stack.admin, hotel.id, { totalInventory: 1 });
    const body = reservationBody(hotel.id, rtSmall.id, dayFromToday(40), dayFromToday(41));
    const others = Array.from({ length: 10 }, () => reservationBody(hotel.id, rtSmall.id, dayFromToday(40), dayFromToday(41)));
    const results = await Promise.all([
      ...Array.from({ length: 10 }, () => stack.admin.post('/v1/reservations', body)),
      ...others.map((o) => stack.admin.post('/v1/reservations', o)),
    ]);
    const nights = (await nightsOf(env.config, hotel.id, rtSmall.id)).filter((n) => n.date === dayFromToday(40));
    expect(nights[0].reserved).to.equal(1);
    expect(nights[0].held).to.equal(1);
    expect(results.filter((r) => r.status === 201)).to.have.length(1);
  });

  it('a retry the writer no longer holds in memory (after a restart) is answered from the database, not booked again', async () => {
    const body = reservationBody(hotel.id, rt.id, dayFromToday(50), dayFromToday(52));
    const first = await stack.admin.post('/v1/reservations', body);
    expect(first.status).to.equal(201);
    // A new writer: its memory holds the hotel's nights but none of its reservations.
    await stack.restartOwner();
    const before = await nightsOf(env.config, hotel.id, rt.id);
    const again = await stack.admin.post('/v1/reservations', body);
    expect(again.status, JSON.stringify(again.body)).to.equal(200);
    expect(again.body).to.deep.equal(first.body);
    // With a fresh body and the same id, in the same job as a new reservation: refused, and the other still booked.
    const fresh = reservationBody(hotel.id, rt.id, dayFromToday(50), dayFromToday(52));
    const [changed, other] = await Promise.all([
      stack.admin.post('/v1/reservations', { ...body, roomCount: 2 }),
      stack.admin.post('/v1/reservations', fresh),
    ]);
    expect(changed.status).to.equal(422);
    expect(other.status).to.equal(201);
    const after = await nightsOf(env.config, hotel.id, rt.id);
    const at = (rows: typeof before, day: string) => rows.find((n) => n.date === day)?.reserved;
    expect(at(after, dayFromToday(50))).to.equal((at(before, dayFromToday(50)) ?? 0) + 1);
    expect((await reservationCount(env.config, hotel.id, [body.reservationId])).get(body.reservationId)).to.equal(1);
  });

  it('a retry the writer no longer holds, of the reservation that took the last room, gets the reservation, not sold_out', async () => {
    // One room (10% of 1 is no extra room): the reservation sells it out, so its retry would be refused if taken as new.
    const single = await createRoomType(stack.admin, hotel.id, { totalInventory: 1 });
    const body = reservationBody(hotel.id, single.id, dayFromToday(60), dayFromToday(62));
    const first = await stack.admin.post('/v1/reservations', body);
    expect(first.status).to.equal(201);
    const otherGuest = reservationBody(hotel.id, single.id, dayFromToday(60), dayFromToday(62));
    expect((await stack.admin.post('/v1/reservations', otherGuest)).body.error.code).to.equal('sold_out');
    await stack.restartOwner();
    const again = await stack.admin.post('/v1/reservations', body);
    expect(again.status, JSON.stringify(again.body)).to.equal(200);
    expect(again.body).to.deep.equal(first.body);
    // A changed body under the same id is a mismatch, not sold_out; a new id is still sold out.
    await stack.restartOwner();
    const changed = await stack.admin.post('/v1/reservations', { ...body, checkOut: dayFromToday(63) });
    expect(changed.status, JSON.stringify(changed.body)).to.equal(422);
    expect(changed.body.error.code).to.equal('idempotency_mismatch');
    const another = reservationBody(hotel.id, single.id, dayFromToday(60), dayFromToday(61));
    expect((await stack.admin.post('/v1/reservations', another)).body.error.code).to.equal('sold_out');
    const nights = await nightsOf(env.config, hotel.id, single.id);
    expect(nights.find((n) => n.date === dayFromToday(60))?.reserved).to.equal(1);
  });
});
