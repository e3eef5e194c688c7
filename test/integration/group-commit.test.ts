// Group commit on the writer's side: jobs waiting in a shard's queue are drained into one decision round and one
// transaction, and batches of different shards of one database that meet while a commit is in flight go together.
// Each batch still learns its own outcome: a fenced shard or a batch the database refuses fails alone.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { reserveCommandOf } from '../../engine/idempotency.js';
import { commitsInFlightPerDatabaseMax } from '../../engine/limits.js';
import { createLogger } from '../../engine/log.js';
import { ShardOwner } from '../../engine/shard-owner.js';
import { databaseOfShard, shardOf } from '../../engine/shard-map.js';
import { createPool, type Pool } from '../../engine/store/pg.js';
import { createWriterPool, FencedError, ShardStore, type CommitBatch } from '../../engine/store/shard-store.js';
import type { Reservation } from '../../engine/core/types.js';
import { parseDay } from '../../engine/core/dates.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { closeStack, openStack, waitFor, type Stack } from '../support/stack.js';
import { createHotel, createRoomType, dayFromToday, reservationBody } from '../support/fixtures.js';
import { nightsOf, withShardDb } from '../support/db.js';

describe('group commit: jobs drained from a shard queue', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let stack: Stack;

  before(async () => ({ env, stack } = await openStack()));
  after(() => closeStack(stack, env));

  it('decides waiting jobs in queue order and commits them in one transaction', async () => {
    const hotel = await createHotel(stack.admin);
    const rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 3 });
    const shard = shardOf(hotel.id, env.config.shardCount);
    // Nobody consumes the queue while the jobs are put in it.
    await stack.owner.stop();
    const jobs = Array.from({ length: 6 }, (_, i) => ({
      shard,
      jobKey: randomUUID(),
      commands: [
        {
          requestId: `r${i}`,
          command: reserveCommandOf(
            { kind: 'admin', id: 'admin' },
            { reservationId: randomUUID(), hotelId: hotel.id, roomTypeId: rt.id, checkIn: dayFromToday(3), checkOut: dayFromToday(5), roomCount: 1, guest: { name: `g${i}`, email: 'g@example.com' } },
          ),
        },
      ],
    }));
    for (const j of jobs) await stack.api.ctx.router.enqueueJobs([j]);
    stack.owner = new ShardOwner(env.config, createLogger('worker', env.config.logLevel));
    await stack.owner.start();

    const pool = createPool(env.config.shardDatabaseUrls[databaseOfShard(shard, env.config.shardDatabaseUrls.length)], 1);
    try {
      const keys = jobs.map((j) => j.jobKey);
      const rowsOf = async () =>
        (await pool.query<{ job_id: string; replies: { requestId: string; reply: { ok: boolean; code?: string } }[]; at: string }>(
          'SELECT job_id, replies, applied_at::text AS at FROM applied_jobs WHERE job_id = ANY($1)',
          [keys],
        )).rows;
      await waitFor('all six jobs applied', async () => (await rowsOf()).length === 6);
      const rows = new Map((await rowsOf()).map((r) => [r.job_id, r]));
      // In queue order: the first three take the three rooms, the last three find them sold.
      const outcomes = keys.map((k) => {
        const reply = rows.get(k)?.replies[0]?.reply;
        return reply?.ok ? 'held' : reply?.code;
      });
      expect(outcomes).to.deep.equal(['held', 'held', 'held', 'sold_out', 'sold_out', 'sold_out']);
      // One transaction: applied_at is the transaction's start time, the same for every row it wrote.
      expect(new Set(keys.map((k) => rows.get(k)?.at)).size).to.equal(1);
    } finally {
      await pool.end();
    }
    const nights = (await nightsOf(env.config, hotel.id, rt.id)).filter((n) => n.reserved > 0);
    expect(nights.map((n) => [n.reserved, n.held])).to.deep.equal([
      [3, 3],
      [3, 3],
    ]);
  });

  it('a commit updates the nights it touches in place (heap-only updates, no index entries)', async () => {
    const hotel = await createHotel(stack.admin);
    const rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 10 });
    // Where each row is: (page, line). The room type's nights fill several pages, so the nights near today sit on
    // a page that its own rows filled up to the table's fillfactor.
    const where = () =>
      withShardDb(env.config, hotel.id, async (c) => ({
        nights: (await c.query<{ ctid: string }>(
          'SELECT ctid::text FROM room_type_inventory WHERE room_type_id = $1 AND date >= $2 AND date < $3 ORDER BY date',
          [rt.id, dayFromToday(3), dayFromToday(5)],
        )).rows.map((r) => r.ctid),
        pages: Number((await c.query('SELECT count(DISTINCT (ctid::text::point)[0]) AS n FROM room_type_inventory WHERE room_type_id = $1', [rt.id])).rows[0].n),
      }));
    const before = await where();
    expect(before.nights).to.have.length(2);
    expect(before.pages).to.be.greaterThan(2);
    const res = await stack.admin.post('/v1/reservations', reservationBody(hotel.id, rt.id, dayFromToday(3), dayFromToday(5)));
    expect(res.status).to.equal(201);
    const after = await where();
    const page = (ctid: string) => ctid.slice(1).split(',')[0];
    // A new row version on the same page, not a copy elsewhere with a new entry in every index.
    expect(after.nights).to.not.deep.equal(before.nights);
    expect(after.nights.map(page)).to.deep.equal(before.nights.map(page));
    expect((await nightsOf(env.config, hotel.id, rt.id)).filter((n) => n.reserved > 0).map((n) => n.reserved)).to.deep.equal([1, 1]);
  });

  it('still drains a burst that arrives after quiet traffic (it stops asking only for a few jobs)', async () => {
    const hotel = await createHotel(stack.admin);
    const rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 100 });
    const shard = shardOf(hotel.id, env.config.shardCount);
    const job = (i: number) => ({
      shard,
      jobKey: randomUUID(),
      commands: [
        {
          requestId: `b${i}`,
          command: reserveCommandOf(
            { kind: 'admin', id: 'admin' },
            { reservationId: randomUUID(), hotelId: hotel.id, roomTypeId: rt.id, checkIn: dayFromToday(3), checkOut: dayFromToday(4), roomCount: 1, guest: { name: `b${i}`, email: 'b@example.com' } },
          ),
        },
      ],
    });
    // Quiet traffic: one job at a time, each finding nobody behind it (enough for the longest back-off).
    for (let i = 0; i < 40; i++) {
      const res = await stack.admin.post('/v1/reservations', { reservationId: randomUUID(), hotelId: hotel.id, roomTypeId: rt.id, checkIn: dayFromToday(5), checkOut: dayFromToday(6), guest: { name: `q${i}`, email: 'q@example.com' } });
      expect(res.status).to.equal(201);
    }
    // Then a burst of 24 jobs at once (as a partner batch queues them).
    const burst = Array.from({ length: 24 }, (_, i) => job(i));
    await stack.api.ctx.router.enqueueJobs(burst);
    const pool = createPool(env.config.shardDatabaseUrls[databaseOfShard(shard, env.config.shardDatabaseUrls.length)], 1);
    try {
      const keys = burst.map((j) => j.jobKey);
      const appliedAt = async () =>
        (await pool.query<{ at: string }>('SELECT applied_at::text AS at FROM applied_jobs WHERE job_id = ANY($1)', [keys])).rows.map((r) => r.at);
      await waitFor('the burst applied', async () => (await appliedAt()).length === 24);
      // At most 7 jobs are taken alone before the owner asks again; the rest go in one round (one transaction).
      const groups = new Map<string, number>();
      for (const at of await appliedAt()) groups.set(at, (groups.get(at) ?? 0) + 1);
      expect(Math.max(...groups.values())).to.be.at.least(24 - 8);
    } finally {
      await pool.end();
    }
  });
});

describe('group commit: batches of different shards in one transaction', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let pool: Pool;
  let store: ShardStore;
  // Shards 0, 2 and 4 live in database 0 of two.
  const shards = [0, 2, 4];
  const epochs = new Map<number, number>();

  before(async () => {
    env = await createTestEnv({ SHARD_COUNT: '8' });
    pool = createWriterPool(env.config.shardDatabaseUrls[0], 4);
    store = new ShardStore(pool, env.config.horizonDays);
    for (const s of shards) epochs.set(s, await store.takeShard(s, 'test'));
  });
  after(async () => {
    await pool?.end();
    await env?.cleanup();
  });

  const batch = (shard: number, extra: Partial<CommitBatch> = {}): CommitBatch => ({
    shard,
    epoch: epochs.get(shard) as number,
    jobs: [{ jobKey: randomUUID(), replies: [{ requestId: 'x', reply: { ok: false, code: 'sold_out' } }] }],
    events: [],
    nights: [],
    versions: new Map(),
    reservations: new Map(),
    ...extra,
  });
  const appliedAt = async (keys: string[]) =>
    new Map(
      (await pool.query<{ job_id: string; at: string }>('SELECT job_id, applied_at::text AS at FROM applied_jobs WHERE job_id = ANY($1)', [keys])).rows.map((r) => [
        r.job_id,
        r.at,
      ]),
    );

  it('batches that arrive while commits are in flight are committed together', async () => {
    const batches = [0, 2, 4, 0, 2, 4].map((s) => batch(s));
    // As many commits start at once as the bound per database allows; all that arrive meanwhile go in one transaction.
    const inFlight = commitsInFlightPerDatabaseMax;
    await Promise.all(batches.map((b) => store.commit(b)));
    const at = await appliedAt(batches.map((b) => b.jobs[0].jobKey));
    expect(at.size).to.equal(6);
    expect(new Set(at.values()).size).to.equal(inFlight + 1);
    expect(new Set(batches.slice(inFlight).map((b) => at.get(b.jobs[0].jobKey))).size).to.equal(1);
  });

  it('a fenced shard fails alone; the batches committed with it are kept', async () => {
    const stale = batch(2);
    // Another owner takes shard 2: the epoch this test holds is now stale.
    epochs.set(2, await store.takeShard(2, 'someone else'));
    const others = [batch(0), batch(4), batch(0), batch(4)];
    const all = [others[0], others[1], stale, others[2], others[3]];
    const outcomes = await Promise.allSettled(all.map((b) => store.commit(b)));
    expect(outcomes.map((o) => o.status)).to.deep.equal(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((outcomes[2] as PromiseRejectedResult).reason).to.be.instanceOf(FencedError);
    const at = await appliedAt(all.map((b) => b.jobs[0].jobKey));
    expect(at.has(stale.jobs[0].jobKey)).to.equal(false);
    expect(others.every((b) => at.has(b.jobs[0].jobKey))).to.equal(true);
  });

  it('writes any text exactly: rows go over as typed arrays, replies as JSON; outbox events read back whole', async () => {
    const odd = ['a "quoted", {braced} name', 'back\\slash \\" and \\\\', 'NULL', '', 'ünïcødé 🛏️ , ; }{'];
    const now = new Date().toISOString();
    const made = odd.map((text, i) => ({
      id: randomUUID(),
      hotelId: randomUUID(),
      roomTypeId: randomUUID(),
      checkIn: '2031-02-03',
      checkOut: '2031-02-05',
      roomCount: 1 + i,
      status: 'pending' as const,
      totalAmount: 12_345 + i,
      currency: 'EUR',
      guest: { name: text || 'x', email: `${i}@example.com` },
      owner: { kind: 'partner' as const, id: text },
      fingerprint: text,
      createdAt: now,
      expiresAt: i % 2 ? null : now,
      cancelReason: null,
      payment: null,
      policy: { freeUntilHoursBefore: 0, penaltyPercent: 0 },
      money: null,
      moneyDueAt: null,
      version: 1,
      updatedAt: now,
    }));
    const created = batch(0, {
      reservations: new Map(made.map((r) => [r.id, { reservation: r, created: true }])),
      events: made.map((r) => ({ type: 'reservation.created' as const, version: 1, reservation: r })),
      jobs: [{ jobKey: randomUUID(), replies: odd.map((text) => ({ requestId: text, reply: { ok: false, code: 'x', message: text } })) }],
    });
    await store.commit(created);
    const changed = made.map((r, i) => ({ ...r, status: 'canceled' as const, cancelReason: odd[i], expiresAt: null, version: 2 }));
    await store.commit(
      batch(0, {
        reservations: new Map(changed.map((r) => [r.id, { reservation: r, created: false }])),
        events: changed.map((r) => ({ type: 'reservation.status' as const, version: 2, reservation: r, released: 1 })),
      }),
    );
    const loaded = new Map((await store.loadReservations(made.map((r) => r.id))).map((r) => [r.id, r]));
    for (const r of changed) expect(loaded.get(r.id)).to.deep.equal(r);
    // Each event reads back whole, as the reservation was at that event, though its outbox row holds only what can
    // change after creation (status, expiry, cancel reason, version, time) and refers to the reservation.
    const box = await pool.query<{ type: string; payload: unknown }>('SELECT type, payload FROM outbox_events WHERE hotel_id = ANY($1) ORDER BY id', [
      made.map((r) => r.hotelId),
    ]);
    expect(box.rows.map((x) => x.type)).to.deep.equal([...made.map(() => 'reservation.created'), ...made.map(() => 'reservation.canceled')]);
    // The writer's money bookkeeping stays out of events (it is no part of what happened to the reservation).
    const asEvent = ({ money: _money, moneyDueAt: _due, ...rest }: Reservation) => rest;
    expect(box.rows.map((x) => x.payload)).to.deep.equal([...made, ...changed].map(asEvent));
    const copies = await pool.query('SELECT count(*)::int AS n FROM outbox WHERE hotel_id = ANY($1) AND payload IS NOT NULL', [made.map((r) => r.hotelId)]);
    expect(copies.rows[0].n).to.equal(0);
    // A row written before shard migration 003, with its copy of the reservation, reads back as it was.
    const legacy = { ...made[0], id: randomUUID(), status: 'paid' };
    await pool.query(
      "INSERT INTO outbox (shard, hotel_id, version, type, payload) VALUES (0, $1, 9, 'reservation.paid', $2)",
      [legacy.hotelId, JSON.stringify(legacy)],
    );
    const old = await pool.query("SELECT payload FROM outbox_events WHERE hotel_id = $1 AND version = 9", [legacy.hotelId]);
    expect(old.rows[0].payload).to.deep.equal(legacy);
    expect(await store.appliedReplies(created.jobs[0].jobKey)).to.deep.equal(created.jobs[0].replies);
  });

  it('renews the commit statement\'s plan as the table grows, so a status change never reads the whole table (stale statistics)', async () => {
    // Statistics never change here (no autovacuum on the table, no ANALYZE): a prepared statement keeps the plan it
    // made first unless the store prepares it again.
    await pool.query('ALTER TABLE reservations SET (autovacuum_enabled = false)');
    const one = createWriterPool(env.config.shardDatabaseUrls[0], 1);
    try {
      const mine = new ShardStore(one, env.config.horizonDays, { planSizeCheckMs: 0 });
      const now = new Date().toISOString();
      const reservation = (i: number): Reservation => ({
        id: randomUUID(),
        hotelId: randomUUID(),
        roomTypeId: randomUUID(),
        checkIn: '2031-03-01',
        checkOut: '2031-03-02',
        roomCount: 1,
        status: 'pending',
        totalAmount: 100,
        currency: 'EUR',
        guest: { name: `g${i}`, email: 'g@example.com' },
        owner: { kind: 'partner', id: 'p' },
        fingerprint: 'f',
        createdAt: now,
        expiresAt: now,
        cancelReason: null,
        payment: null,
        policy: { freeUntilHoursBefore: 0, penaltyPercent: 0 },
        money: null,
        moneyDueAt: null,
        version: 1,
        updatedAt: now,
      });
      const creating = (n: number) => {
        const made = Array.from({ length: n }, (_, i) => reservation(i));
        return { made, batch: batch(0, { reservations: new Map(made.map((r) => [r.id, { reservation: r, created: true }])) }) };
      };
      const canceling = (some: Reservation[]) =>
        batch(0, { reservations: new Map(some.map((r) => [r.id, { reservation: { ...r, status: 'canceled' as const, expiresAt: null, version: 2 }, created: false }])) });
      // While the table is small: more than five executions, so the connection settles on a generic plan.
      const early = creating(10);
      await mine.commit(early.batch);
      for (let i = 0; i < 7; i++) await mine.commit(i % 2 ? canceling(early.made.slice(i, i + 1)) : creating(5).batch);
      // The table grows by 20,000 rows through the store.
      const grown: Reservation[] = [];
      for (let i = 0; i < 20; i++) {
        const c = creating(1_000);
        await mine.commit(c.batch);
        grown.push(...c.made.slice(0, 2));
      }
      const rowsRead = async () => {
        await one.query('SELECT pg_stat_force_next_flush()');
        const r = await one.query("SELECT seq_tup_read::int AS n FROM pg_stat_user_tables WHERE relname = 'reservations'");
        return r.rows[0].n as number;
      };
      const before = await rowsRead();
      // Seven status changes: past the five custom plans, on whatever plan the connection keeps.
      for (let i = 0; i < 7; i++) await mine.commit(canceling(grown.slice(i * 2, i * 2 + 2)));
      const read = (await rowsRead()) - before;
      expect(read, 'rows read by sequential scans of reservations during seven status changes').to.be.below(1_000);
      const statuses = (await one.query('SELECT status FROM reservations WHERE id = ANY($1)', [grown.slice(0, 14).map((r) => r.id)])).rows.map((r) => r.status);
      expect(statuses).to.deep.equal(Array(14).fill('canceled'));
    } finally {
      await one.end();
      await pool.query('ALTER TABLE reservations RESET (autovacuum_enabled)');
    }
  });

  it('a commit finds its nights by key, never by reading the whole inventory table: whatever its size, however the table grew since its first commit', async () => {
    const one = createWriterPool(env.config.shardDatabaseUrls[0], 1);
    try {
      const hotelId = randomUUID();
      await one.query(
        `INSERT INTO hotels (id, shard, name, city, country, timezone, currency, overbooking_percent, created_at)
         VALUES ($1, 0, 'big', 'c', 'FR', 'UTC', 'EUR', 10, now())`,
        [hotelId],
      );
      // Its first commits while the inventory table is empty: their plan is made for an empty table.
      const mine = new ShardStore(one, env.config.horizonDays, { planSizeCheckMs: 0 });
      for (let i = 1; i <= 6; i++) await mine.commit(batch(0, { versions: new Map([[hotelId, i]]) }));
      // Then the table grows (another owner's hotels would do the same): 100 room types × 730 nights, 73,000 rows.

      const roomTypes = (
        await one.query<{ id: string }>(
          `INSERT INTO room_types (id, hotel_id, name, max_guests, total_inventory, base_rate, created_at)
           SELECT gen_random_uuid(), $1, 'rt', 2, 50, 100, now() FROM generate_series(1, 100) RETURNING id`,
          [hotelId],
        )
      ).rows.map((r) => r.id);
      const firstDay = parseDay('2031-01-01') as number;
      await one.query(
        `INSERT INTO room_type_inventory (hotel_id, room_type_id, date, total_inventory, sellable_limit, reserved, rate)
         SELECT $1, t, d::date, 50, 55, 0, 100 FROM unnest($2::uuid[]) t, generate_series('2031-01-01'::date, '2031-12-31'::date + 365, interval '1 day') d`,
        [hotelId, roomTypes],
      );
      // A commit of 5,000 nights (one partner batch's worth): 50 nights of each room type.
      const nights = roomTypes.flatMap((roomTypeId) =>
        Array.from({ length: 50 }, (_, i) => ({ hotelId, roomTypeId, day: firstDay + 7 * i, delta: 1, total: null, limit: null, rate: null })),
      );
      const rowsRead = async () => {
        await one.query('SELECT pg_stat_force_next_flush()');
        const r = await one.query("SELECT seq_tup_read::int AS n FROM pg_stat_user_tables WHERE relname = 'room_type_inventory'");
        return r.rows[0].n as number;
      };
      const before = await rowsRead();
      await mine.commit(batch(0, { nights }));
      expect((await rowsRead()) - before, 'inventory rows read by sequential scans in the commit').to.equal(0);
      const reserved = await one.query<{ n: number; total: number }>(
        'SELECT count(*)::int AS n, sum(reserved)::int AS total FROM room_type_inventory WHERE hotel_id = $1 AND reserved > 0',
        [hotelId],
      );
      expect(reserved.rows[0]).to.deep.equal({ n: 5_000, total: 5_000 });
    } finally {
      await one.end();
    }
  });

  it('a batch the database refuses fails alone; the batches grouped with it are kept', async () => {
    // A night row that does not exist: the statement refuses the whole commit it is in.
    const bad = batch(4, {
      nights: [{ hotelId: randomUUID(), roomTypeId: randomUUID(), day: 20_000, delta: 1, total: null, limit: null, rate: null }],
    });
    const good = [batch(0), batch(2), batch(0), batch(2)];
    const all = [good[0], good[1], good[2], bad, good[3]];
    const outcomes = await Promise.allSettled(all.map((b) => store.commit(b)));
    expect(outcomes.map((o) => o.status)).to.deep.equal(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    const at = await appliedAt(all.map((b) => b.jobs[0].jobKey));
    expect(at.has(bad.jobs[0].jobKey)).to.equal(false);
    expect(good.every((b) => at.has(b.jobs[0].jobKey))).to.equal(true);
  });
});
