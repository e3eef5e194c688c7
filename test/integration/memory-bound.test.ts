// The writer's memory is bounded (WORKER_HOTELS_MB): beyond the budget the least recently used hotels are evicted,
// and a hotel evicted is loaded again from the database when a command names it, with nothing lost.
import { expect } from 'chai';
import type { TestEnv } from '../support/env.js';
import { closeStack, openStack, type Stack } from '../support/stack.js';
import { createHotel, createRoomType, dayFromToday, reservationBody } from '../support/fixtures.js';
import { nightsOf } from '../support/db.js';

describe('writer memory bound', function () {
  this.timeout(120_000);
  let env: TestEnv;
  let stack: Stack;

  // 1 MB over 4 shards, ten years of nights per room type (about 37 KB each): a few hotels per shard fit.
  before(async () => ({ env, stack } = await openStack({ WORKER_HOTELS_MB: '1', INVENTORY_HORIZON_DAYS: '3650' })));
  after(() => closeStack(stack, env));

  it('holds no more than its budget, and an evicted hotel decides as if it had never left', async () => {
    const hotels: { id: string; rt: string; first: ReturnType<typeof reservationBody> }[] = [];
    for (let i = 0; i < 40; i++) {
      const hotel = await createHotel(stack.admin, { name: `Hotel ${i}` });
      const rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 2 });
      hotels.push({ id: hotel.id, rt: rt.id, first: reservationBody(hotel.id, rt.id, dayFromToday(10), dayFromToday(12)) });
    }
    for (const h of hotels) expect((await stack.admin.post('/v1/reservations', h.first)).status).to.equal(201);

    const shards = stack.owner.ownedShards();
    const held = shards.reduce((n, s) => n + s.hotelsLoaded, 0);
    const bytes = shards.reduce((n, s) => n + s.hotelBytes, 0);
    expect(bytes).to.be.at.most(1024 * 1024);
    expect(held).to.be.below(30);
    expect(held).to.be.above(0);

    // The hotels booked first were evicted long ago: each still sells exactly its one room left.
    for (const h of hotels.slice(0, 5)) {
      const again = await stack.admin.post('/v1/reservations', h.first);
      expect(again.status, 'a retry is the same reservation').to.equal(200);
      const second = await stack.admin.post('/v1/reservations', reservationBody(h.id, h.rt, dayFromToday(11), dayFromToday(12)));
      expect(second.status).to.equal(201);
      const third = await stack.admin.post('/v1/reservations', reservationBody(h.id, h.rt, dayFromToday(10), dayFromToday(11)));
      // Sellable limit floor(2 × 1.1) = 2: the night of day 10 holds the first reservation and this one.
      expect(third.status).to.equal(201);
      const fourth = await stack.admin.post('/v1/reservations', reservationBody(h.id, h.rt, dayFromToday(10), dayFromToday(12)));
      expect(fourth.status).to.equal(409);
      expect(fourth.body.error.code).to.equal('sold_out');
      const nights = (await nightsOf(env.config, h.id, h.rt)).filter((n) => n.reserved > 0);
      expect(nights.map((n) => [n.date, n.reserved, n.held])).to.deep.equal([
        [dayFromToday(10), 2, 2],
        [dayFromToday(11), 2, 2],
      ]);
    }
  });
});
