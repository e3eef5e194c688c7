// The writer's cache updates against a real Redis: after a commit the writer sends only the nights that changed,
// as runs of consecutive nights per room type, and only the fields the change set. Whatever the runs look like
// (single nights, long runs, runs that cross either edge of the cached window), a read answers exactly what the
// writer holds for the fields that changed, and leaves every other value as it was.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { AvailabilityCache, cachedFields, type CachedNight, type ChangeMessage } from '../../engine/availability-cache.js';
import { RedisKeys } from '../../engine/redis.js';
import { newHotelState } from '../../engine/core/evolve.js';
import { mulberry32 as random } from '../../engine/core/random.js';
import { newNightTable } from '../../engine/core/night-table.js';
import type { HotelState, NightTable } from '../../engine/core/types.js';
import { createTestEnv, type TestEnv } from '../support/env.js';


describe('availability cache: runs of changed nights', function () {
  this.timeout(30_000);
  let env: TestEnv;
  let redis: Redis;
  let cache: AvailabilityCache;
  const firstDay = 20_000;
  const endDay = firstDay + 40;

  before(async () => {
    env = await createTestEnv();
    redis = new Redis(env.config.redisUrl, { maxRetriesPerRequest: 1 });
    cache = new AvailabilityCache(redis, new RedisKeys(env.config.redisPrefix), env.config.shardCount);
  });
  after(async () => {
    redis?.disconnect();
    await env?.cleanup();
  });

  function hotelState(roomTypes: string[]): HotelState {
    const state = newHotelState(
      { id: randomUUID(), name: 'h', city: 'c', country: 'FR', timezone: 'UTC', currency: 'EUR', overbookingPercent: 10, cancellationPolicy: { freeUntilHoursBefore: 0, penaltyPercent: 0 }, createdAt: new Date().toISOString(), version: 1 },
      firstDay,
      endDay,
    );
    for (const id of roomTypes) {
      const nights = newNightTable(firstDay, endDay);
      nights.total.fill(10);
      nights.limit.fill(11);
      nights.rate.fill(100);
      state.roomTypes.set(id, { roomType: { id, hotelId: state.hotel.id, name: id.slice(0, 4), maxGuests: 2, totalInventory: 10, baseRate: 100 }, nights });
    }
    return state;
  }

  const copy = (t: NightTable): NightTable => ({ firstDay: t.firstDay, total: t.total.slice(), limit: t.limit.slice(), reserved: t.reserved.slice(), rate: t.rate.slice() });

  async function read(state: HotelState) {
    const got = await cache.read(state.hotel.id, firstDay, endDay);
    expect(got, 'the cache holds the hotel').to.not.equal(undefined);
    return got as NonNullable<typeof got>;
  }

  for (const seed of [1, 7, 2026]) {
    it(`seed ${seed}: a read answers the changed fields of the changed nights and nothing else moves`, async () => {
      const next = random(seed);
      const rts = [randomUUID(), randomUUID(), randomUUID()];
      const state = hotelState(rts);
      await cache.writeSnapshot(state);
      // What the cache must hold: starts as the snapshot, then follows each change's flagged fields.
      const expected = new Map([...state.roomTypes].map(([id, rt]) => [id, copy(rt.nights)]));
      for (let version = 2; version <= 12; version++) {
        const nights: CachedNight[] = [];
        const touched = new Set<string>();
        for (let k = 0, count = 1 + Math.floor(next() * 6); k < count; k++) {
          const rt = rts[Math.floor(next() * rts.length)];
          // Stays of 1–5 nights anywhere in the window, including its first and last nights.
          const start = firstDay + Math.floor(next() * 40);
          const len = 1 + Math.floor(next() * 5);
          const changed = next() < 0.7 ? cachedFields.reserved : [cachedFields.total | cachedFields.limit, cachedFields.rate, 15][Math.floor(next() * 3)];
          for (let day = start; day < Math.min(start + len, endDay); day++) {
            if (touched.has(`${rt}:${day}`)) continue;
            touched.add(`${rt}:${day}`);
            const i = day - firstDay;
            const mem = (state.roomTypes.get(rt) as { nights: NightTable }).nights;
            // The writer moves the flagged fields of the night; the cache is sent only those.
            mem.total[i] = changed & cachedFields.total ? 5 + Math.floor(next() * 20) : mem.total[i];
            mem.limit[i] = changed & cachedFields.limit ? mem.total[i] + Math.floor(next() * 3) : mem.limit[i];
            mem.reserved[i] = changed & cachedFields.reserved ? Math.floor(next() * 10) : mem.reserved[i];
            mem.rate[i] = changed & cachedFields.rate ? 50 + Math.floor(next() * 1000) : mem.rate[i];
            nights.push({ roomTypeId: rt, day, total: mem.total[i], limit: mem.limit[i], reserved: mem.reserved[i], rate: mem.rate[i], changed });
            const e = expected.get(rt) as NightTable;
            if (changed & cachedFields.total) e.total[i] = mem.total[i];
            if (changed & cachedFields.limit) e.limit[i] = mem.limit[i];
            if (changed & cachedFields.reserved) e.reserved[i] = mem.reserved[i];
            if (changed & cachedFields.rate) e.rate[i] = mem.rate[i];
          }
        }
        // Shuffled: the cache orders them into runs itself.
        nights.sort(() => next() - 0.5);
        const msg: ChangeMessage = { hotelId: state.hotel.id, from: version, version, changes: [] };
        const p = redis.pipeline();
        cache.stage(p, state, msg, nights);
        const [[err]] = (await p.exec()) as [Error | null, unknown][];
        expect(err).to.equal(null);
      }
      const got = await read(state);
      expect(got.version).to.equal(12);
      for (const rt of got.roomTypes) {
        const e = expected.get(rt.roomTypeId) as NightTable;
        expect(rt.nights.map((n) => n.totalInventory), 'totals').to.deep.equal([...e.total]);
        expect(rt.nights.map((n) => n.limit), 'limits').to.deep.equal([...e.limit]);
        expect(rt.nights.map((n) => n.reserved), 'reserved').to.deep.equal([...e.reserved]);
        expect(rt.nights.map((n) => n.rate), 'rates').to.deep.equal([...e.rate]);
      }
    });
  }

  it('a run that reaches past either edge of the cached window writes only the nights inside it', async () => {
    const rt = randomUUID();
    const state = hotelState([rt]);
    await cache.writeSnapshot(state);
    const run = (from: number, to: number, reserved: number): CachedNight[] =>
      Array.from({ length: to - from }, (_, k) => ({ roomTypeId: rt, day: from + k, total: 10, limit: 11, reserved: reserved + k, rate: 100, changed: cachedFields.reserved }));
    const p = redis.pipeline();
    cache.stage(p, state, { hotelId: state.hotel.id, from: 2, version: 2, changes: [] }, [...run(firstDay - 3, firstDay + 2, 1), ...run(endDay - 2, endDay + 4, 7)]);
    await p.exec();
    const got = (await read(state)).roomTypes[0].nights.map((n) => n.reserved);
    const want = Array<number>(40).fill(0);
    want[0] = 4;
    want[1] = 5;
    want[38] = 7;
    want[39] = 8;
    expect(got).to.deep.equal(want);
    // An older version changes nothing.
    const q = redis.pipeline();
    cache.stage(q, state, { hotelId: state.hotel.id, from: 2, version: 2, changes: [] }, run(firstDay + 10, firstDay + 12, 9));
    await q.exec();
    expect((await read(state)).roomTypes[0].nights.map((n) => n.reserved)).to.deep.equal(want);
  });

  it('the snapshot carries the hotel\'s pricing tiers to readers, and a delta keeps them', async () => {
    const rt = randomUUID();
    const state = hotelState([rt]);
    expect((await (async () => (await cache.writeSnapshot(state), read(state)))()).tiers, 'no tiers').to.deep.equal([]);
    state.pricing = [
      { occupancyPercent: 50, multiplierPercent: 120 },
      { occupancyPercent: 80, multiplierPercent: 150 },
    ];
    state.hotel = { ...state.hotel, version: 2 };
    await cache.writeSnapshot(state);
    expect((await read(state)).tiers).to.deep.equal(state.pricing);
    const p = redis.pipeline();
    cache.stage(p, state, { hotelId: state.hotel.id, from: 3, version: 3, changes: [] }, [{ roomTypeId: rt, day: firstDay, total: 10, limit: 11, reserved: 6, rate: 100, changed: cachedFields.reserved }]);
    await p.exec();
    const got = await read(state);
    expect(got.version).to.equal(3);
    expect(got.tiers, 'a delta leaves the tiers as they were').to.deep.equal(state.pricing);
    expect(got.roomTypes[0].nights[0]).to.include({ reserved: 6, rate: 100 });
  });
});
