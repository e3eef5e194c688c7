// Many clients at once on one room type: exactly the sellable limit is sold, and the database agrees.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { TestEnv } from '../support/env.js';
import { closeStack, openStack, type Stack } from '../support/stack.js';
import { createHotel, createRoomType, dayFromToday, reservationBody } from '../support/fixtures.js';
import { nightsOf } from '../support/db.js';

describe('contention over HTTP (real Postgres and Redis)', function () {
  this.timeout(120_000);
  let env: TestEnv;
  let stack: Stack;

  before(async () => ({ env, stack } = await openStack()));
  after(() => closeStack(stack, env));

  it('300 concurrent requests for a 20-room type sell exactly 22 (10% overbooking) and 278 get sold_out', async () => {
    const hotel = await createHotel(stack.admin);
    const rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 20 });
    const checkIn = dayFromToday(10);
    const checkOut = dayFromToday(13);
    const results = await Promise.all(
      Array.from({ length: 300 }, () => stack.admin.post('/v1/reservations', reservationBody(hotel.id, rt.id, checkIn, checkOut))),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).to.have.length(22);
    expect(statuses.filter((s) => s === 409)).to.have.length(278);
    for (const r of results.filter((x) => x.status === 409)) expect(r.body.error.code).to.equal('sold_out');
    const created = new Set(results.filter((r) => r.status === 201).map((r) => r.body.id));
    expect(created.size).to.equal(22);

    const nights = await nightsOf(env.config, hotel.id, rt.id);
    const stay = nights.filter((n) => n.date >= checkIn && n.date < checkOut);
    expect(stay).to.have.length(3);
    for (const n of stay) {
      expect(n.sellableLimit, n.date).to.equal(22);
      expect(n.reserved, n.date).to.equal(22);
      expect(n.held, n.date).to.equal(22);
    }
    for (const n of nights.filter((x) => x.date < checkIn || x.date >= checkOut)) expect(n.reserved, n.date).to.equal(0);

    const a = await stack.admin.get(`/v1/hotels/${hotel.id}/availability?checkIn=${checkIn}&checkOut=${checkOut}`);
    expect(a.status).to.equal(200);
    expect(a.body.roomTypes[0].available).to.equal(0);
  });

  it('overlapping stays of mixed lengths and room counts never oversell any night', async () => {
    const hotel = await createHotel(stack.admin, { overbookingPercent: 0 });
    const rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 7 });
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const bodies = Array.from({ length: 250 }, () => {
      const start = 5 + rand(12);
      const len = 1 + rand(6);
      return reservationBody(hotel.id, rt.id, dayFromToday(start), dayFromToday(start + len), { roomCount: 1 + rand(3) });
    });
    const results = await Promise.all(bodies.map((b) => stack.admin.post('/v1/reservations', b)));
    for (const r of results) expect([201, 409], JSON.stringify(r.body)).to.include(r.status);
    const won = results.filter((r) => r.status === 201);
    expect(won.length).to.be.greaterThan(0);
    expect(results.filter((r) => r.status === 409).length).to.be.greaterThan(0);

    const nights = await nightsOf(env.config, hotel.id, rt.id);
    let busiest = 0;
    for (const n of nights) {
      expect(n.reserved, `night ${n.date}`).to.be.at.most(n.sellableLimit);
      expect(n.reserved, `night ${n.date} matches its reservations`).to.equal(n.held);
      busiest = Math.max(busiest, n.reserved);
    }
    expect(busiest).to.equal(7);

    // Every 201 is in the database, once, with the answered room count.
    const expected = new Map<string, number>();
    for (const r of won) expected.set(r.body.id, r.body.roomCount);
    const perNight = new Map<string, number>();
    for (const r of won) {
      for (let d = r.body.checkIn; d < r.body.checkOut; d = nextDay(d)) perNight.set(d, (perNight.get(d) ?? 0) + r.body.roomCount);
    }
    for (const n of nights) expect(n.reserved, n.date).to.equal(perNight.get(n.date) ?? 0);
  });

  it('a reservationId reused for a different stay is refused even under concurrency with its first use', async () => {
    const hotel = await createHotel(stack.admin);
    const rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 5 });
    const id = randomUUID();
    const a = reservationBody(hotel.id, rt.id, dayFromToday(3), dayFromToday(4), { reservationId: id });
    const b = reservationBody(hotel.id, rt.id, dayFromToday(3), dayFromToday(5), { reservationId: id });
    const [ra, rb] = await Promise.all([stack.admin.post('/v1/reservations', a), stack.admin.post('/v1/reservations', b)]);
    expect([ra.status, rb.status].sort()).to.deep.equal([201, 422]);
    const nights = await nightsOf(env.config, hotel.id, rt.id);
    expect(nights.reduce((s, n) => s + n.reserved, 0)).to.equal(ra.status === 201 ? 1 : 2);
  });
});

function nextDay(d: string): string {
  const t = new Date(`${d}T00:00:00Z`);
  t.setUTCDate(t.getUTCDate() + 1);
  return t.toISOString().slice(0, 10);
}
