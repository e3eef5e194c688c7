// Prices follow occupancy (API.md, "Inventory and rates"), over real HTTP, Postgres and Redis: tiers set with
// PUT /v1/hotels/:hotelId/pricing through the hotel's writer (a new version, a reset on the stream); bookings that
// push a night's occupancy across a tier change that night's `rate` in availability, from the cache and from the
// database alike, and in the stream's change for that night; every reservation keeps the totalAmount it was priced
// at (the occupancy before it); bad tiers are refused with 400 and change nothing.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { cacheKeys } from '../../engine/availability-cache.js';
import { hotelVersion } from '../support/db.js';
import { createHotel, createKey, createRoomType, dayFromToday as D, reservationBody } from '../support/fixtures.js';
import type { HttpClient } from '../support/http.js';
import { SseClient, type SseEvent } from '../support/sse.js';
import type { TestEnv } from '../support/env.js';
import { createLogger } from '../../engine/log.js';
import { ShardOwner } from '../../engine/shard-owner.js';
import { closeStack, openStack, waitFor, type Stack } from '../support/stack.js';

interface Night {
  date: string;
  totalInventory: number;
  reserved: number;
  available: number;
  rate: number;
  baseRate: number;
}
interface Availability {
  version: number;
  stale: boolean;
  roomTypes: { roomTypeId: string; name: string; available: number; totalPrice: number; nights: Night[] }[];
}
interface Change extends Night {
  roomTypeId: string;
}

/** API.md's formula, written here on its own: round(rate × m / 100), halves up. */
const priceOf = (rate: number, m: number) => Math.round((rate * m) / 100);

describe('occupancy pricing: tiers, prices in availability and on the stream, locked totals (real Postgres and Redis)', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let stack: Stack;
  let redis: Redis;
  const open: SseClient[] = [];

  before(async () => {
    ({ env, stack } = await openStack());
    redis = new Redis(env.config.redisUrl, { maxRetriesPerRequest: 1 });
  });
  after(async () => {
    for (const c of open.splice(0)) c.close();
    redis?.disconnect();
    await closeStack(stack, env);
  });

  async function connect(hotelId: string): Promise<SseClient> {
    const c = await SseClient.open(`${stack.baseUrl}/v1/hotels/${hotelId}/availability/stream`);
    open.push(c);
    expect(c.status).to.equal(200);
    await c.until('the connected comment', (x) => x.comments.some((m) => m.text === 'connected'));
    return c;
  }

  async function availability(hotelId: string, from: number, to: number, rooms = 1): Promise<Availability> {
    const r = await stack.admin.as(undefined).get(`/v1/hotels/${hotelId}/availability?checkIn=${D(from)}&checkOut=${D(to)}&rooms=${rooms}`);
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    return r.body as Availability;
  }

  /**
   * The same window read from the cache (once the writer has brought it to the committed version), then, its cache
   * entry removed, from the database: both must agree.
   */
  async function availabilityBothWays(hotelId: string, from: number, to: number, rooms = 1): Promise<Availability> {
    const meta = cacheKeys(env.config.redisPrefix, env.config.shardCount, hotelId).meta;
    const version = await hotelVersion(env.config, hotelId);
    await waitFor('the cache at the committed version', async () => Number(await redis.hget(meta, 'v')) === version);
    const cached = await availability(hotelId, from, to, rooms);
    expect(cached.version).to.equal(version);
    await redis.del(meta);
    const stored = await availability(hotelId, from, to, rooms);
    expect(stored, 'availability from the database equals availability from the cache').to.deep.equal(cached);
    return cached;
  }

  async function book(hotelId: string, roomTypeId: string, from: number, to: number, roomCount: number) {
    const r = await stack.admin.post('/v1/reservations', reservationBody(hotelId, roomTypeId, D(from), D(to), { roomCount }));
    expect(r.status, JSON.stringify(r.body)).to.equal(201);
    return r.body as { id: string; totalAmount: number; version: number };
  }

  const changesOf = (e: SseEvent) => (JSON.parse(e.data) as { changes: Change[] }).changes;

  it('GET pricing answers {tiers: [], version} for a new hotel, and 404 for an unknown one', async () => {
    const hotel = await createHotel(stack.admin);
    await createRoomType(stack.admin, hotel.id);
    const r = await stack.admin.as(undefined).get(`/v1/hotels/${hotel.id}/pricing`);
    expect(r.status).to.equal(200);
    expect(r.body).to.deep.equal({ tiers: [], version: await hotelVersion(env.config, hotel.id) });
    const none = await stack.admin.as(undefined).get('/v1/hotels/0190a0a0-0000-7000-8000-000000000000/pricing');
    expect(none.status).to.equal(404);
    expect(none.body.error.code).to.equal('not_found');
  });

  it('occupancy crossing a tier changes the night\'s rate in availability (cache and database) and on the stream; totals stay as booked', async () => {
    const hotel = await createHotel(stack.admin);
    // 10 rooms at an odd base rate, so that 150% falls on a half: 10,001 × 1.5 = 15,001.5 → 15,002.
    const rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 10, baseRate: 10_001 });
    const stream = await connect(hotel.id);

    // Set the tiers (sent out of order): a new version, answered in threshold order, and a reset on the stream.
    const before = await hotelVersion(env.config, hotel.id);
    const put = await stack.admin.put(`/v1/hotels/${hotel.id}/pricing`, {
      tiers: [
        { occupancyPercent: 80, multiplierPercent: 150 },
        { occupancyPercent: 50, multiplierPercent: 120 },
      ],
    });
    expect(put.status, JSON.stringify(put.body)).to.equal(200);
    const tiers = [
      { occupancyPercent: 50, multiplierPercent: 120 },
      { occupancyPercent: 80, multiplierPercent: 150 },
    ];
    expect(put.body).to.deep.equal({ tiers, version: before + 1 });
    expect((await stack.admin.as(undefined).get(`/v1/hotels/${hotel.id}/pricing`)).body).to.deep.equal({ tiers, version: before + 1 });
    await stream.untilCount('reset', 1);
    expect(stream.of('reset')[0].id, 'the reset carries the new version').to.equal(String(before + 1));

    // Nights 5 and 6. Empty: the base rate.
    let a = await availabilityBothWays(hotel.id, 5, 7);
    expect(a.roomTypes[0].nights.map((n) => [n.rate, n.baseRate])).to.deep.equal([
      [10_001, 10_001],
      [10_001, 10_001],
    ]);

    // 4 rooms at 0%, then 1 at 40%: both at the base rate. The second one takes the nights to 50%.
    const r1 = await book(hotel.id, rt.id, 5, 7, 4);
    expect(r1.totalAmount).to.equal(2 * 10_001 * 4);
    const r2 = await book(hotel.id, rt.id, 5, 7, 1);
    expect(r2.totalAmount, 'priced at the occupancy before it (40%)').to.equal(2 * 10_001);
    await stream.untilCount('availability', 2);
    const crossed = stream.of('availability')[1];
    expect(changesOf(crossed).map((c) => [c.reserved, c.rate, c.baseRate]), 'the change that crossed 50% carries the new price').to.deep.equal([
      [5, priceOf(10_001, 120), 10_001],
      [5, priceOf(10_001, 120), 10_001],
    ]);

    // Now at 50%: 12,001 per night (12,001.2 rounded). 3 rooms more, to 80%: then 15,002 (15,001.5 rounded up).
    a = await availabilityBothWays(hotel.id, 5, 7, 2);
    expect(a.roomTypes[0].nights.map((n) => [n.reserved, n.rate, n.baseRate])).to.deep.equal([
      [5, 12_001, 10_001],
      [5, 12_001, 10_001],
    ]);
    expect(a.roomTypes[0].totalPrice, 'totalPrice: the prices for ?rooms=2').to.equal(2 * 2 * 12_001);
    const r3 = await book(hotel.id, rt.id, 5, 7, 3);
    expect(r3.totalAmount).to.equal(2 * 12_001 * 3);
    await stream.untilCount('availability', 3);
    expect(changesOf(stream.of('availability')[2]).map((c) => [c.reserved, c.rate])).to.deep.equal([
      [8, 15_002],
      [8, 15_002],
    ]);
    // A stay reaching past the booked nights: night 5 at 80%, night 7 at 0%.
    a = await availabilityBothWays(hotel.id, 5, 8);
    expect(a.roomTypes[0].nights.map((n) => n.rate)).to.deep.equal([15_002, 15_002, 10_001]);
    expect(a.roomTypes[0].totalPrice).to.equal(15_002 * 2 + 10_001);
    const r4 = await book(hotel.id, rt.id, 5, 8, 1);
    expect(r4.totalAmount).to.equal(15_002 * 2 + 10_001);

    // A rate change moves the base and the price with it, on the stream too.
    const rates = await stack.admin.put(`/v1/hotels/${hotel.id}/room-types/${rt.id}/rates`, { from: D(5), to: D(6), amount: 20_000 });
    expect(rates.status).to.equal(200);
    await stream.untilCount('availability', 5);
    const rateChange = stream.of('availability').find((e) => Number(e.id) === rates.body.version) as SseEvent;
    expect(changesOf(rateChange).map((c) => [c.date, c.reserved, c.rate, c.baseRate])).to.deep.equal([[D(5), 9, 30_000, 20_000]]);
    a = await availabilityBothWays(hotel.id, 5, 8);
    expect(a.roomTypes[0].nights.map((n) => [n.rate, n.baseRate])).to.deep.equal([
      [30_000, 20_000],
      [15_002, 10_001],
      [priceOf(10_001, 100), 10_001],
    ]);

    // Cancel r3: nights 5 and 6 fall back to 60%: 120%.
    const del = await stack.admin.delete(`/v1/reservations/${r3.id}`);
    expect(del.status).to.equal(200);
    expect(del.body.totalAmount, 'a canceled reservation keeps its amount').to.equal(2 * 12_001 * 3);
    await stream.untilCount('availability', 6);
    expect(changesOf(stream.of('availability')[5]).map((c) => [c.reserved, c.rate])).to.deep.equal([
      [6, 24_000],
      [6, 12_001],
    ]);

    // Every reservation keeps the totalAmount it was priced at.
    for (const [r, amount] of [
      [r1, 2 * 10_001 * 4],
      [r2, 2 * 10_001],
      [r3, 2 * 12_001 * 3],
      [r4, 15_002 * 2 + 10_001],
    ] as const) {
      const got = await stack.admin.get(`/v1/reservations/${r.id}`);
      expect(got.body.totalAmount, `reservation ${r.id}`).to.equal(amount);
    }

    // Tiers taken away: a reset again, every night back at its rate.
    const resets = stream.of('reset').length;
    const cleared = await stack.admin.put(`/v1/hotels/${hotel.id}/pricing`, { tiers: [] });
    expect(cleared.status).to.equal(200);
    expect(cleared.body.tiers).to.deep.equal([]);
    await stream.untilCount('reset', resets + 1);
    a = await availabilityBothWays(hotel.id, 5, 8);
    expect(a.roomTypes[0].nights.map((n) => n.rate)).to.deep.equal([20_000, 10_001, 10_001]);
    expect(stream.of('availability').every((e) => changesOf(e).every((c) => Number.isInteger(c.rate) && Number.isInteger(c.baseRate)))).to.equal(true);
  });

  it('a night without inventory sells at its rate even under a 0% tier; other room types follow their own occupancy', async () => {
    const hotel = await createHotel(stack.admin);
    const closed = await createRoomType(stack.admin, hotel.id, { name: 'Closed', totalInventory: 0, baseRate: 9_000 });
    const open5 = await createRoomType(stack.admin, hotel.id, { name: 'Open', totalInventory: 5, baseRate: 9_000 });
    const put = await stack.admin.put(`/v1/hotels/${hotel.id}/pricing`, { tiers: [{ occupancyPercent: 0, multiplierPercent: 300 }] });
    expect(put.status).to.equal(200);
    const a = await availabilityBothWays(hotel.id, 1, 2);
    const byId = new Map(a.roomTypes.map((t) => [t.roomTypeId, t]));
    expect(byId.get(closed.id)?.nights[0]).to.include({ totalInventory: 0, available: 0, rate: 9_000, baseRate: 9_000 });
    expect(byId.get(open5.id)?.nights[0]).to.include({ totalInventory: 5, rate: 27_000, baseRate: 9_000 });
    expect(byId.get(open5.id)?.totalPrice).to.equal(27_000);
  });

  it('who may set tiers: admin and staff of the hotel; not partners, other staff or anyone without a token', async () => {
    const hotel = await createHotel(stack.admin);
    const other = await createHotel(stack.admin);
    const body = { tiers: [{ occupancyPercent: 90, multiplierPercent: 200 }] };
    const as = async (client: HttpClient, status: number) => {
      const r = await client.put(`/v1/hotels/${hotel.id}/pricing`, body);
      expect(r.status, JSON.stringify(r.body)).to.equal(status);
    };
    await as(stack.admin.as(undefined), 401);
    await as(stack.admin.as(await createKey(stack.admin, 'partner', [hotel.id])), 403);
    await as(stack.admin.as(await createKey(stack.admin, 'staff', [other.id])), 403);
    await as(stack.admin.as(await createKey(stack.admin, 'staff', [hotel.id])), 200);
    await as(stack.admin, 200);
  });

  it('bad tiers are 400 validation_failed naming the field, and change nothing', async () => {
    const hotel = await createHotel(stack.admin);
    const rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 10, baseRate: 10_000 });
    const good = { occupancyPercent: 50, multiplierPercent: 120 };
    expect((await stack.admin.put(`/v1/hotels/${hotel.id}/pricing`, { tiers: [good] })).status).to.equal(200);
    const pricingBefore = (await stack.admin.get(`/v1/hotels/${hotel.id}/pricing`)).body;
    const availabilityBefore = await availability(hotel.id, 1, 3);
    const cases: [string, unknown, string][] = [
      ['occupancyPercent 101', { tiers: [{ occupancyPercent: 101, multiplierPercent: 120 }] }, 'tiers.0.occupancyPercent'],
      ['occupancyPercent -1', { tiers: [good, { occupancyPercent: -1, multiplierPercent: 120 }] }, 'tiers.1.occupancyPercent'],
      ['occupancyPercent 50.5', { tiers: [{ occupancyPercent: 50.5, multiplierPercent: 120 }] }, 'tiers.0.occupancyPercent'],
      ['occupancyPercent "50"', { tiers: [{ occupancyPercent: '50', multiplierPercent: 120 }] }, 'tiers.0.occupancyPercent'],
      ['multiplierPercent 49', { tiers: [{ occupancyPercent: 10, multiplierPercent: 49 }] }, 'tiers.0.multiplierPercent'],
      ['multiplierPercent 501', { tiers: [{ occupancyPercent: 10, multiplierPercent: 501 }] }, 'tiers.0.multiplierPercent'],
      ['multiplierPercent missing', { tiers: [{ occupancyPercent: 10 }] }, 'tiers.0.multiplierPercent'],
      ['a repeated threshold', { tiers: [good, { occupancyPercent: 80, multiplierPercent: 150 }, { occupancyPercent: 50, multiplierPercent: 130 }] }, 'tiers.2.occupancyPercent'],
      ['11 tiers', { tiers: Array.from({ length: 11 }, (_, i) => ({ occupancyPercent: i * 10, multiplierPercent: 100 })) }, 'tiers'],
      ['an unknown field in a tier', { tiers: [{ ...good, note: 'x' }] }, 'note'],
      ['an unknown body field', { tiers: [good], currency: 'EUR' }, 'currency'],
      ['tiers missing', {}, 'tiers'],
      ['tiers an object', { tiers: good }, 'tiers'],
    ];
    for (const [name, body, field] of cases) {
      const r = await stack.admin.put(`/v1/hotels/${hotel.id}/pricing`, body);
      expect(r.status, `${name}: ${JSON.stringify(r.body)}`).to.equal(400);
      expect(r.body.error.code, name).to.equal('validation_failed');
      const fields = (r.body.error.details.fields as { field: string }[]).map((f) => f.field);
      expect(fields.some((f) => f === field || f.endsWith(`.${field}`)), `${name}: details name ${field} (${fields.join(', ')})`).to.equal(true);
    }
    expect((await stack.admin.get(`/v1/hotels/${hotel.id}/pricing`)).body, 'tiers and version unchanged').to.deep.equal(pricingBefore);
    expect(await availability(hotel.id, 1, 3), 'availability unchanged').to.deep.equal(availabilityBefore);
    expect(rt.id).to.be.a('string');
  });

  it('tiers survive a restart of the writer: loaded with the hotel, and written into the cache again', async () => {
    const hotel = await createHotel(stack.admin);
    const rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 4, baseRate: 10_000 });
    expect((await stack.admin.put(`/v1/hotels/${hotel.id}/pricing`, { tiers: [{ occupancyPercent: 25, multiplierPercent: 200 }] })).status).to.equal(200);
    // A new owner: its memory is empty, so the next command loads the hotel (and its tiers) from the database.
    await stack.owner.stop();
    await redis.del(cacheKeys(env.config.redisPrefix, env.config.shardCount, hotel.id).meta);
    stack.owner = new ShardOwner(env.config, createLogger('worker', env.config.logLevel));
    await stack.owner.start();
    const r1 = await book(hotel.id, rt.id, 3, 4, 1);
    expect(r1.totalAmount, 'at 0%: the rate').to.equal(10_000);
    const r2 = await book(hotel.id, rt.id, 3, 4, 1);
    expect(r2.totalAmount, 'at 25%: 200%, so the loaded state has the tiers').to.equal(20_000);
    const a = await availabilityBothWays(hotel.id, 3, 4);
    expect(a.roomTypes[0].nights[0]).to.include({ reserved: 2, rate: 20_000, baseRate: 10_000 });
  });
});
