// Inventory rows exist for every night of the horizon: when a hotel's rows stop short (the calendar moved on
// since they were made), its writer creates the missing nights from the room type's defaults when it loads it.
import { expect } from 'chai';
import type { TestEnv } from '../support/env.js';
import { closeStack, openStack, type Stack } from '../support/stack.js';
import { createHotel, createRoomType, dayFromToday, reservationBody } from '../support/fixtures.js';
import { withShardDb } from '../support/db.js';
import { ShardOwner } from '../../engine/shard-owner.js';
import { createLogger } from '../../engine/log.js';
import { formatDay } from '../../engine/core/dates.js';
import { databaseOfShard, shardOf } from '../../engine/shard-map.js';
import { createPool } from '../../engine/store/pg.js';
import { hotelWindow, ShardStore } from '../../engine/store/shard-store.js';

describe('inventory horizon', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let stack: Stack;

  before(async () => ({ env, stack } = await openStack({ INVENTORY_HORIZON_DAYS: '60' })));
  after(() => closeStack(stack, env));

  it('recreates nights missing at the end of the horizon when the hotel is loaded again', async () => {
    const hotel = await createHotel(stack.admin);
    const rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 4, baseRate: 7000 });
    // As if the rows had been made 10 days ago: the last 10 nights of today's horizon do not exist.
    await stack.owner.stop();
    await withShardDb(env.config, hotel.id, (c) => c.query('DELETE FROM room_type_inventory WHERE room_type_id = $1 AND date >= $2', [rt.id, dayFromToday(50)]));
    stack.owner = new ShardOwner(env.config, createLogger('worker', env.config.logLevel));
    await stack.owner.start();

    const r = await stack.admin.post('/v1/reservations', reservationBody(hotel.id, rt.id, dayFromToday(57), dayFromToday(60)));
    expect(r.status, JSON.stringify(r.body)).to.equal(201);
    expect(r.body.totalAmount).to.equal(3 * 7000);
    const rows = await withShardDb(env.config, hotel.id, (c) =>
      c.query('SELECT count(*)::int AS n, max(date)::text AS last FROM room_type_inventory WHERE room_type_id = $1 AND date >= $2', [rt.id, dayFromToday(0)]),
    );
    expect(rows.rows[0].n).to.equal(60);
    expect(rows.rows[0].last).to.equal(dayFromToday(59));
    const past = await stack.admin.post('/v1/reservations', reservationBody(hotel.id, rt.id, dayFromToday(59), dayFromToday(61)));
    expect(past.status).to.equal(400);
  });

  it("a hotel nobody asks about gets the night its local midnight brought into the horizon from its shard's owner", async () => {
    const hotel = await createHotel(stack.admin, { timezone: 'Asia/Tokyo' });
    const rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 4, baseRate: 7000 });
    const shard = shardOf(hotel.id, env.config.shardCount);
    const pool = createPool(env.config.shardDatabaseUrls[databaseOfShard(shard, env.config.shardDatabaseUrls.length)], 1);
    const lastNight = () =>
      withShardDb(env.config, hotel.id, async (c) => (await c.query('SELECT max(date)::text AS d FROM room_type_inventory WHERE room_type_id = $1', [rt.id])).rows[0].d);
    try {
      const store = new ShardStore(pool, env.config.horizonDays);
      const now = Date.now();
      await store.rollHorizon(shard, now);
      expect(await lastNight(), 'the horizon as made with the room type').to.equal(formatDay(hotelWindow(now, 'Asia/Tokyo', env.config.horizonDays).endDay - 1));
      // A day later (as the owner's timer finds it, the hotel not loaded by any command): one more night, its defaults.
      const tomorrow = now + 86_400_000;
      expect(await store.rollHorizon(shard, tomorrow)).to.be.at.least(1);
      const last = formatDay(hotelWindow(tomorrow, 'Asia/Tokyo', env.config.horizonDays).endDay - 1);
      expect(await lastNight()).to.equal(last);
      const row = await withShardDb(env.config, hotel.id, (c) =>
        c.query('SELECT total_inventory, sellable_limit, reserved, rate::int FROM room_type_inventory WHERE room_type_id = $1 AND date = $2', [rt.id, last]),
      );
      expect(row.rows).to.deep.equal([{ total_inventory: 4, sellable_limit: 4, reserved: 0, rate: 7000 }]);
      // Nothing left to make that day.
      const again = await withShardDb(env.config, hotel.id, async (c) => Number((await c.query('SELECT count(*) FROM room_type_inventory WHERE room_type_id = $1', [rt.id])).rows[0].count));
      await store.rollHorizon(shard, tomorrow);
      expect(await withShardDb(env.config, hotel.id, async (c) => Number((await c.query('SELECT count(*) FROM room_type_inventory WHERE room_type_id = $1', [rt.id])).rows[0].count))).to.equal(again);
    } finally {
      await pool.end();
    }
  });
});

describe('inventory after a time zone change', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let stack: Stack;
  before(async () => ({ env, stack } = await openStack()));
  after(() => closeStack(stack, env));

  it("a hotel moved to a zone further west has inventory on its new today (which is one or two days earlier)", async () => {
    const localToday = (timeZone: string) => new Intl.DateTimeFormat('en-CA', { timeZone }).format(new Date());
    // UTC+14, then UTC-11: the hotel's today goes back by a day (two in one hour of the day).
    const hotel = await createHotel(stack.admin, { timezone: 'Pacific/Kiritimati' });
    const rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 4, baseRate: 7000 });
    expect((await stack.admin.put(`/v1/hotels/${hotel.id}`, { timezone: 'Pacific/Pago_Pago' })).status).to.equal(200);
    const today = localToday('Pacific/Pago_Pago');
    expect(today < localToday('Pacific/Kiritimati')).to.equal(true);
    const tomorrow = new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const av = await stack.admin.get(`/v1/hotels/${hotel.id}/availability?checkIn=${today}&checkOut=${tomorrow}`);
    expect(av.status, JSON.stringify(av.body)).to.equal(200);
    const night = av.body.roomTypes.find((x: any) => x.roomTypeId === rt.id).nights[0];
    expect(night).to.include({ date: today, totalInventory: 4, available: 4 });
    const r = await stack.admin.post('/v1/reservations', reservationBody(hotel.id, rt.id, today, tomorrow));
    expect(r.status, JSON.stringify(r.body)).to.equal(201);
    expect(r.body.totalAmount).to.equal(7000);
    // And after the writer loads the hotel again from its rows.
    await stack.restartOwner();
    const again = await stack.admin.post('/v1/reservations', reservationBody(hotel.id, rt.id, today, tomorrow));
    expect(again.status, JSON.stringify(again.body)).to.equal(201);
  });

  it('a hotel moved to a zone further east sells and shows the night that enters its horizon at once', async () => {
    const localToday = (timeZone: string) => new Intl.DateTimeFormat('en-CA', { timeZone }).format(new Date());
    const nextDay = (day: string, n = 1) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
    // UTC-11, then UTC+14: the hotel's today moves on by a day (two in one hour of the day), and its horizon's end too.
    const hotel = await createHotel(stack.admin, { timezone: 'Pacific/Pago_Pago' });
    const rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 4, baseRate: 7000 });
    expect((await stack.admin.put(`/v1/hotels/${hotel.id}`, { timezone: 'Pacific/Kiritimati' })).status).to.equal(200);
    const last = nextDay(localToday('Pacific/Kiritimati'), env.config.horizonDays - 1);
    // No other command for the hotel first: the time zone's change made the night.
    const av = await stack.admin.get(`/v1/hotels/${hotel.id}/availability?checkIn=${last}&checkOut=${nextDay(last)}`);
    expect(av.status, JSON.stringify(av.body)).to.equal(200);
    expect(av.body.roomTypes.find((x: any) => x.roomTypeId === rt.id)).to.deep.include({ available: 4, totalPrice: 7000 });
    const r = await stack.admin.post('/v1/reservations', reservationBody(hotel.id, rt.id, last, nextDay(last)));
    expect(r.status, JSON.stringify(r.body)).to.equal(201);
    expect(r.body.totalAmount).to.equal(7000);
  });

  it('a room type made before nights started two before today gets the nights its hotel moved west needs, and keeps the rest', async () => {
    const localToday = (timeZone: string) => new Intl.DateTimeFormat('en-CA', { timeZone }).format(new Date());
    const nextDay = (day: string, n = 1) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
    const hotel = await createHotel(stack.admin, { timezone: 'Pacific/Kiritimati' });
    const rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 4, baseRate: 7000 });
    const oldToday = localToday('Pacific/Kiritimati');
    const held = await stack.admin.post('/v1/reservations', reservationBody(hotel.id, rt.id, oldToday, nextDay(oldToday)));
    expect(held.status, JSON.stringify(held.body)).to.equal(201);
    // As a room type made before a25c36e has them: no nights before the day it was made. The writer loads it so.
    await stack.owner.stop();
    await withShardDb(env.config, hotel.id, (c) => c.query('DELETE FROM room_type_inventory WHERE room_type_id = $1 AND date < $2', [rt.id, oldToday]));
    stack.owner = new ShardOwner(env.config, createLogger('worker', env.config.logLevel));
    await stack.owner.start();

    expect((await stack.admin.put(`/v1/hotels/${hotel.id}`, { timezone: 'Pacific/Pago_Pago' })).status).to.equal(200);
    const today = localToday('Pacific/Pago_Pago');
    expect(today < oldToday).to.equal(true);
    const av = await stack.admin.get(`/v1/hotels/${hotel.id}/availability?checkIn=${today}&checkOut=${nextDay(today)}`);
    expect(av.status, JSON.stringify(av.body)).to.equal(200);
    expect(av.body.roomTypes.find((x: any) => x.roomTypeId === rt.id).nights[0]).to.include({ date: today, totalInventory: 4, available: 4 });
    // Every night of the new window's first two (before today) on exists, from the room type's defaults; the night
    // reserved before the change keeps its reservation.
    const rows = await withShardDb(env.config, hotel.id, (c) =>
      c.query(`SELECT date::text, total_inventory, sellable_limit, reserved, rate::int FROM room_type_inventory
                WHERE room_type_id = $1 AND date >= $2 AND date <= $3 ORDER BY date`, [rt.id, nextDay(today, -2), oldToday]),
    );
    const expected = [];
    for (let d = nextDay(today, -2); d <= oldToday; d = nextDay(d)) {
      expected.push({ date: d, total_inventory: 4, sellable_limit: 4, reserved: d === oldToday ? 1 : 0, rate: 7000 });
    }
    expect(rows.rows).to.deep.equal(expected);
    const r = await stack.admin.post('/v1/reservations', reservationBody(hotel.id, rt.id, today, nextDay(today)));
    expect(r.status, JSON.stringify(r.body)).to.equal(201);
    expect(r.body.totalAmount).to.equal(7000);
  });
});

describe('stored replies retention', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let stack: Stack;
  before(async () => ({ env, stack } = await openStack()));
  after(() => closeStack(stack, env));

  it('prunes the stored replies of jobs committed longer ago than the retention, and only those', async () => {
    const { createWriterPool, ShardStore } = await import('../../engine/store/shard-store.js');
    const pool = createWriterPool(env.config.shardDatabaseUrls[0], 2);
    try {
      await pool.query(
        `INSERT INTO applied_jobs (job_id, shard, replies, applied_at) VALUES
           ('old-1', 0, '[]', now() - interval '15 days'), ('old-2', 0, '[]', now() - interval '20 days'),
           ('recent', 0, '[]', now() - interval '13 days'), ('other-shard', 2, '[]', now() - interval '30 days')`,
      );
      const store = new ShardStore(pool, env.config.horizonDays);
      expect(await store.pruneAppliedJobs(0, 14)).to.equal(2);
      const left = (await pool.query("SELECT job_id FROM applied_jobs WHERE job_id IN ('old-1','old-2','recent','other-shard') ORDER BY job_id")).rows.map((r) => r.job_id);
      expect(left).to.deep.equal(['other-shard', 'recent']);
    } finally {
      await pool.end();
    }
  });
});
