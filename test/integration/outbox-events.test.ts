// Every decision's events go to the outbox in the transaction that commits it, each with its hotel's gapless
// `sequence`, plus one availability.changed per hotel per commit; every decision, refusals too, is audited with its
// actor and outcome in the same transaction (API.md, "Notifications and webhooks", "Audit").
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { startStack, waitFor, type Stack } from '../support/stack.js';
import { createGuest, createKey, createHotel, createRoomType, dayFromToday, reservationBody } from '../support/fixtures.js';
import { withShardDb } from '../support/db.js';
import { createNotificationsQueue } from '../../engine/jobs.js';
import { OutboxRelay } from '../../engine/notify/relay.js';
import { Notifier } from '../../engine/notify/notifier.js';
import { availabilityData, epochMs, eventOfOutboxRow, outboxEventColumns } from '../../engine/notify/events.js';
import { markRecorded, readRanges } from '../../engine/notify/outbox-read.js';
import { createRedis, RedisKeys } from '../../engine/redis.js';
import { databaseOfShard, shardOf } from '../../engine/shard-map.js';
import { createPool } from '../../engine/store/pg.js';
import { auditColumnLiterals, type AuditColumns } from '../../engine/store/commit-statement.js';
import { loadedAuditSequence, ShardStore } from '../../engine/store/shard-store.js';
import type { HttpClient } from '../support/http.js';

describe('outbox: events with per-hotel sequences, and the audit trail', function () {
  this.timeout(90_000);
  let env: TestEnv;
  let stack: Stack;
  let guest: HttpClient;
  let guestId: string;

  /** The index of the shard database that holds a hotel. */
  const databaseOf = (hotelId: string) => databaseOfShard(shardOf(hotelId, env.config.shardCount), env.config.shardDatabaseUrls.length);
  /** A relay of its own over the database of a hotel, queueing into the stack's notifications queue. */
  const relayOfHotel = (hotelId: string, name: string) => {
    const connection = createRedis(env.config.redisUrl, name);
    const queue = createNotificationsQueue(connection, new RedisKeys(env.config.redisPrefix));
    const database = databaseOf(hotelId);
    const pool = createPool(env.config.shardDatabaseUrls[database], 2);
    const relay = new OutboxRelay({ pools: [{ database, pool }], queue, retentionHours: 24, auditRetentionDays: 30 });
    return { connection, queue, pool, relay, database };
  };

  before(async () => {
    env = await createTestEnv({ HOLD_TTL_SECONDS: '2' });
    stack = await startStack(env.config);
    const g = await createGuest(stack.admin);
    guest = stack.admin.as(g.token);
    guestId = g.userId;
  });
  after(async () => {
    await stack?.stop();
    await env?.cleanup();
  });

  const eventsOf = (hotelId: string) =>
    withShardDb(env.config, hotelId, async (c) =>
      (
        await c.query(
          `SELECT sequence::int AS sequence, type, version::int AS version, payload, (SELECT event_sequence::int FROM hotels WHERE id = $1) AS mark
             FROM outbox_events WHERE hotel_id = $1 ORDER BY sequence`,
          [hotelId],
        )
      ).rows.map((r) => ({ ...r, payload: r.type === 'availability.changed' ? availabilityData(r.payload) : r.payload })) as any[],
    );

  it('after 200 concurrent reservations over two hotels, each hotel has a gapless sequence whose events match its reservations', async () => {
    const hotels = [await createHotel(stack.admin), await createHotel(stack.admin)];
    const types = [await createRoomType(stack.admin, hotels[0].id, { totalInventory: 50 }), await createRoomType(stack.admin, hotels[1].id, { totalInventory: 50 })];
    const bodies = Array.from({ length: 200 }, (_, i) => reservationBody(hotels[i % 2].id, types[i % 2].id, dayFromToday(3 + (i % 5)), dayFromToday(5 + (i % 5))));
    const answers = await Promise.all(bodies.map((b) => stack.admin.post('/v1/reservations', b)));
    const held = new Set(bodies.filter((_, i) => answers[i].status === 201).map((b) => b.reservationId));
    expect(answers.every((a) => a.status === 201 || (a.status === 409 && a.body.error.code === 'sold_out')), JSON.stringify(answers.map((a) => a.status))).to.equal(true);
    for (const h of hotels) {
      const rows = await eventsOf(h.id);
      expect(rows.map((r) => r.sequence)).to.deep.equal(rows.map((_, i) => i + 1));
      expect(rows[rows.length - 1].mark, 'the hotel row holds its last sequence').to.equal(rows.length);
      const created = rows.filter((r) => r.type === 'reservation.created');
      expect(new Set(created.map((r) => r.payload.id))).to.deep.equal(new Set(bodies.filter((b) => b.hotelId === h.id && held.has(b.reservationId)).map((b) => b.reservationId)));
      const avail = rows.filter((r) => r.type === 'availability.changed');
      expect(avail.length).to.be.greaterThan(0);
      for (const a of avail) {
        expect(a.payload.roomTypeId).to.equal(types[hotels.indexOf(h)].id);
        expect(a.payload.changes.length).to.be.greaterThan(0);
        for (const n of a.payload.changes) expect(Object.keys(n).sort()).to.deep.equal(['available', 'date', 'rate', 'reserved', 'roomTypeId', 'totalInventory']);
      }
      // An availability.changed follows the reservation events of its commit, and carries the nights as committed.
      const last = avail[avail.length - 1];
      const nights = await withShardDb(env.config, h.id, async (c) => (await c.query(`SELECT to_char(date, 'YYYY-MM-DD') AS d, reserved FROM room_type_inventory WHERE hotel_id = $1 AND reserved > 0`, [h.id])).rows);
      const latest = new Map<string, number>();
      for (const a of avail) for (const n of a.payload.changes) latest.set(n.date, n.reserved);
      for (const n of nights) expect(latest.get(n.d), n.d).to.equal(n.reserved);
      expect(last.version).to.be.greaterThan(0);
    }
  });

  it('status changes are events named after the status reached, in order; the audit has every decision with its actor and outcome', async () => {
    const hotel = await createHotel(stack.admin);
    const rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 1 });
    const paid = reservationBody(hotel.id, rt.id, dayFromToday(3), dayFromToday(4));
    expect((await guest.post('/v1/reservations', paid)).status).to.equal(201);
    // The only room (plus overbooking: 1 × 110% floors to 1) is held: the next is sold out, and audited as refused.
    const refused = reservationBody(hotel.id, rt.id, dayFromToday(3), dayFromToday(4));
    const r = await guest.post('/v1/reservations', refused);
    expect(r.status).to.equal(409);
    expect((await guest.post(`/v1/reservations/${paid.reservationId}/payment`, { paymentMethod: 'pm_card_visa' })).status).to.equal(200);
    expect((await guest.delete(`/v1/reservations/${paid.reservationId}`)).body.status).to.equal('refunded');
    const expiring = reservationBody(hotel.id, rt.id, dayFromToday(6), dayFromToday(7));
    expect((await guest.post('/v1/reservations', expiring)).status).to.equal(201);
    await waitFor('the hold to expire', async () => (await guest.get(`/v1/reservations/${expiring.reservationId}`)).body.status === 'canceled', 20_000);
    await waitFor('the refund to be confirmed', async () => (await guest.get(`/v1/reservations/${paid.reservationId}`)).body.payment?.refund?.status === 'done', 20_000);

    const rows = await eventsOf(hotel.id);
    expect(rows.map((x) => x.sequence)).to.deep.equal(rows.map((_, i) => i + 1));
    const ofPaid = rows.filter((x) => x.type.startsWith('reservation.') && x.payload.id === paid.reservationId);
    expect(ofPaid.map((x) => [x.type, x.payload.status])).to.deep.equal([
      ['reservation.created', 'pending'],
      ['reservation.paid', 'paid'],
      ['reservation.refunded', 'refunded'],
    ]);
    const ofExpired = rows.filter((x) => x.type.startsWith('reservation.') && x.payload.id === expiring.reservationId);
    expect(ofExpired.map((x) => [x.type, x.payload.cancelReason])).to.deep.equal([
      ['reservation.created', null],
      ['reservation.canceled', 'hold_expired'],
    ]);

    const audit = await withShardDb(env.config, hotel.id, async (c) =>
      (await c.query(`SELECT actor_kind, actor_id, command, ok, status, code, reservation_id::text AS rid, version::int AS version FROM audit WHERE hotel_id = $1 ORDER BY id`, [hotel.id])).rows,
    );
    const pick = (rid: string) => audit.filter((a) => a.rid === rid).map((a) => [a.command, a.actor_kind, a.actor_id, a.ok, a.status, a.code]);
    expect(pick(refused.reservationId)).to.deep.equal([['reserve', 'guest', guestId, false, null, 'sold_out']]);
    expect(pick(paid.reservationId)).to.deep.equal([
      ['reserve', 'guest', guestId, true, 'pending', null],
      // A payment is two decisions around the provider's charge; the reconciler then records the refund.
      ['beginPayment', 'guest', guestId, true, 'pending', null],
      ['completePayment', 'guest', guestId, true, 'paid', null],
      ['cancel', 'guest', guestId, true, 'refunded', null],
      ['settleMoney', 'system', 'payment-reconciler', true, 'refunded', null],
    ]);
    expect(pick(expiring.reservationId)).to.deep.equal([
      ['reserve', 'guest', guestId, true, 'pending', null],
      ['expireHold', 'system', 'hold-sweeper', true, 'canceled', null],
    ]);
    expect(audit.filter((a) => a.command === 'createRoomType').map((a) => [a.actor_kind, a.actor_id, a.ok])).to.deep.equal([['admin', 'admin', true]]);
    // Versions follow the decisions: never going back.
    for (let i = 1; i < audit.length; i++) expect(audit[i].version).to.be.at.least(audit[i - 1].version);

    // The notifier and replays build each event from the outbox's columns: the same events as from the
    // outbox_events view's documents (created, paid with its payment, refunded, an expired hold, availability).
    const [fromView, fromColumns] = await withShardDb(env.config, hotel.id, async (c) => [
      // The view's rows carry their document: the first five columns of outboxEventColumns are all that is read.
      (await c.query({ text: `SELECT hotel_id::text, sequence, type, ${epochMs('created_at')}, payload FROM outbox_events WHERE hotel_id = $1 ORDER BY sequence`, values: [hotel.id], rowMode: 'array' })).rows.map(eventOfOutboxRow),
      (await c.query({ text: `SELECT ${outboxEventColumns} FROM outbox o LEFT JOIN reservations r ON r.id = o.reservation_id WHERE o.hotel_id = $1 ORDER BY o.sequence`, values: [hotel.id], rowMode: 'array' })).rows.map(eventOfOutboxRow),
    ]);
    expect(fromColumns).to.deep.equal(fromView);
    expect(new Set(fromColumns.map((e) => e.type))).to.include.members(['reservation.created', 'reservation.paid', 'reservation.refunded', 'reservation.canceled', 'availability.changed']);
    expect(fromColumns.find((e) => e.type === 'reservation.refunded')?.data.payment).to.be.an('object');
    // `data` is the Reservation as GET /v1/reservations/:id shows it: the same keys in the same order (no policy),
    // its payment's too.
    const shown = (await guest.get(`/v1/reservations/${paid.reservationId}`)).body;
    for (const e of [...fromColumns, ...fromView].filter((x) => x.type === 'reservation.refunded')) {
      expect(Object.keys(e.data)).to.deep.equal(Object.keys(shown));
      expect(Object.keys(e.data.payment as object)).to.deep.equal(Object.keys(shown.payment));
      // The refund was pending then (no reference yet), done now.
      const refundKeys = Object.keys((e.data.payment as { refund: object }).refund);
      expect(refundKeys).to.deep.equal(Object.keys(shown.payment.refund).slice(0, refundKeys.length));
    }

    // GET /v1/hotels/:hotelId/audit: newest first, filtered by reservation, paged; staff of it only.
    const mineStaff = stack.admin.as(await createKey(stack.admin, 'staff', [hotel.id]));
    const otherStaff = stack.admin.as(await createKey(stack.admin, 'staff', [randomUUID()]));
    expect((await otherStaff.get(`/v1/hotels/${hotel.id}/audit`)).status).to.equal(403);
    expect((await guest.get(`/v1/hotels/${hotel.id}/audit`)).status).to.equal(403);
    expect((await stack.admin.as(undefined).get(`/v1/hotels/${hotel.id}/audit`)).status).to.equal(401);
    const all = await mineStaff.get(`/v1/hotels/${hotel.id}/audit?limit=200`);
    expect(all.status).to.equal(200);
    expect(all.body.items.length).to.equal(audit.length);
    const seqs = all.body.items.map((x: any) => x.sequence);
    // The hotel's own count of its decisions, newest first: its creation is 1, and there is no gap.
    expect(seqs).to.deep.equal(seqs.map((_: number, i: number) => seqs.length - i));
    // A writer that loads the hotel (after a restart, or in another database after a move) counts on from the last.
    const pool = createPool(env.config.shardDatabaseUrls[databaseOf(hotel.id)], 1);
    try {
      const loaded = await new ShardStore(pool, env.config.horizonDays).loadHotels([hotel.id], Date.now());
      expect(loadedAuditSequence(loaded.get(hotel.id)!)).to.equal(seqs[0]);
    } finally {
      await pool.end();
    }
    const soldOut = await mineStaff.get(`/v1/hotels/${hotel.id}/audit?reservationId=${refused.reservationId}`);
    expect(soldOut.body.items.map((x: any) => ({ ...x, at: typeof x.at, sequence: typeof x.sequence, version: typeof x.version }))).to.deep.equal([
      { sequence: 'number', at: 'string', actor: { kind: 'guest', id: guestId }, command: 'reserve', outcome: { ok: false, code: 'sold_out' }, reservationId: refused.reservationId, version: 'number' },
    ]);
    const expiry = await stack.admin.get(`/v1/hotels/${hotel.id}/audit?reservationId=${expiring.reservationId}`);
    expect(expiry.body.items.map((x: any) => [x.command, x.actor, x.outcome])).to.deep.equal([
      ['expireHold', { kind: 'system', id: 'hold-sweeper' }, { ok: true, status: 'canceled' }],
      ['reserve', { kind: 'guest', id: guestId }, { ok: true, status: 'pending' }],
    ]);
    // A payment is `pay` (API.md's name): the writer's two decisions around the provider's charge, newest first.
    const paidAudit = (await stack.admin.get(`/v1/hotels/${hotel.id}/audit?reservationId=${paid.reservationId}`)).body.items;
    expect(paidAudit.map((x: any) => [x.command, x.actor, x.outcome])).to.deep.equal([
      ['settleMoney', { kind: 'system', id: 'payment-reconciler' }, { ok: true, status: 'refunded' }],
      ['cancel', { kind: 'guest', id: guestId }, { ok: true, status: 'refunded' }],
      ['pay', { kind: 'guest', id: guestId }, { ok: true, status: 'paid' }],
      ['pay', { kind: 'guest', id: guestId }, { ok: true, status: 'pending' }],
      ['reserve', { kind: 'guest', id: guestId }, { ok: true, status: 'pending' }],
    ]);
    // Pages: two at a time, newest first, together the whole list.
    const paged: number[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page: any = await mineStaff.get(`/v1/hotels/${hotel.id}/audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).to.equal(200);
      paged.push(...page.body.items.map((x: any) => x.sequence));
      cursor = page.body.nextCursor;
    }
    expect(paged).to.deep.equal(seqs);
    expect((await mineStaff.get(`/v1/hotels/${hotel.id}/audit?from=yesterday`)).status).to.equal(400);
    // Not a calendar date (Date.parse rolls it over to March 2).
    const rolled = await mineStaff.get(`/v1/hotels/${hotel.id}/audit?from=2026-02-30T00:00:00Z`);
    expect(rolled.status).to.equal(400);
    expect(JSON.stringify(rolled.body.error.details)).to.contain('from');
    expect((await stack.admin.get(`/v1/hotels/${randomUUID()}/audit`)).status).to.equal(404);
  });

  it('an atomic batch is audited item by item: the partner that sent it, and how each item ended, held or refused', async () => {
    const hotel = await createHotel(stack.admin);
    const rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 3 });
    const keyId = (await stack.admin.post('/v1/api-keys', { name: 'channel', role: 'partner' })).body;
    const partner = stack.admin.as(keyId.token);
    const items = (n: number) => Array.from({ length: n }, () => reservationBody(hotel.id, rt.id, dayFromToday(4), dayFromToday(5)));
    const held = items(2);
    // Two held, then a batch of two more that cannot be held in full (3 rooms: one left), so none of it is.
    const refused = items(2);
    for (const batch of [held, refused]) {
      const r = await partner.post('/v1/batches', { atomic: true, items: batch });
      expect(r.status, JSON.stringify(r.body)).to.equal(202);
      await waitFor('the batch', async () => (await partner.get(`/v1/batches/${r.body.batchId}`)).body.status === 'done');
    }
    const actor = { kind: 'partner', id: keyId.id };
    for (const [item, outcome] of [
      [held[0], { ok: true, status: 'pending' }],
      [held[1], { ok: true, status: 'pending' }],
      [refused[0], { ok: false, code: 'sold_out' }],
      [refused[1], { ok: false, code: 'sold_out' }],
    ] as const) {
      const a = await stack.admin.get(`/v1/hotels/${hotel.id}/audit?reservationId=${item.reservationId}`);
      expect(a.body.items.map((x: any) => [x.command, x.actor, x.outcome, x.reservationId]), item.reservationId).to.deep.equal([['reserveAtomic', actor, outcome, item.reservationId]]);
    }
    // Still the hotel's gapless count of decisions.
    const seqs = (await stack.admin.get(`/v1/hotels/${hotel.id}/audit?limit=200`)).body.items.map((x: any) => x.sequence);
    expect(seqs).to.deep.equal(seqs.map((_: number, i: number) => seqs.length - i));
  });

  it('the relay queues each hotel\'s events in sequence order, one job for the hotels of a round, and prunes only relayed rows older than the retention', async () => {
    const hotel = await createHotel(stack.admin);
    const rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 20 });
    for (let i = 0; i < 3; i++) expect((await stack.admin.post('/v1/reservations', reservationBody(hotel.id, rt.id, dayFromToday(3), dayFromToday(4)))).status).to.equal(201);
    // Another hotel of the same shard database, behind at the same time: its events travel in the same job.
    let other = await createHotel(stack.admin);
    while (databaseOf(other.id) !== databaseOf(hotel.id)) {
      other = await createHotel(stack.admin);
    }
    const otherRt = await createRoomType(stack.admin, other.id, { totalInventory: 20 });
    expect((await stack.admin.post('/v1/reservations', reservationBody(other.id, otherRt.id, dayFromToday(3), dayFromToday(4)))).status).to.equal(201);
    const { connection, queue, pool, relay, database } = relayOfHotel(hotel.id, 'relay-test');
    try {
      while ((await relay.relayOnce(pool, database)) > 0);
      const waiting = (await queue.getJobs(['waiting'])).map((j) => j.data);
      const both = waiting.filter((j) => j.ranges.some((h) => h.hotelId === hotel.id) && j.ranges.some((h) => h.hotelId === other.id));
      expect(both, 'one job with both hotels').to.have.length(1);
      const ranges = waiting.flatMap((j) => j.ranges).filter((h) => h.hotelId === hotel.id);
      const mark = await withShardDb(env.config, hotel.id, async (c) => Number((await c.query('SELECT event_sequence FROM hotels WHERE id = $1', [hotel.id])).rows[0].event_sequence));
      expect(ranges.map((x) => [x.database, x.hotelName])).to.deep.equal([[database, hotel.name]]);
      expect([ranges[0].after, ranges[0].upto]).to.deep.equal([0, mark]);
      // What the notifier reads for the range: the hotel's events 1..mark, in order, each made from its row.
      const read = await readRanges(pool, ranges, null);
      expect(read.map((h) => h.hotelId)).to.deep.equal([hotel.id]);
      expect(read[0].events.map((e) => e.sequence)).to.deep.equal(Array.from({ length: mark }, (_, i) => i + 1));
      expect(read[0].events.filter((e) => e.type === 'reservation.created').every((e) => e.data.hotelId === hotel.id && e.owner?.kind === 'admin')).to.equal(true);
      // One more event, not relayed yet; then everything of the hotel made old.
      expect((await stack.admin.post('/v1/reservations', reservationBody(hotel.id, rt.id, dayFromToday(5), dayFromToday(6)))).status).to.equal(201);
      await withShardDb(env.config, hotel.id, async (c) => {
        await c.query("UPDATE outbox SET created_at = now() - interval '25 hours' WHERE hotel_id = $1", [hotel.id]);
        await c.query("UPDATE audit_log SET at = now() - interval '31 days' WHERE hotel_id = $1 AND 'createHotel' = ANY(command)", [hotel.id]);
      });
      // Queued but not yet recorded by a notifier: the job still refers to the rows, so none is pruned.
      const rowsOfHotel = () => withShardDb(env.config, hotel.id, async (c) => Number((await c.query('SELECT count(*) FROM outbox WHERE hotel_id = $1', [hotel.id])).rows[0].count));
      const all = await rowsOfHotel();
      expect(all).to.be.greaterThan(mark);
      const before = await relay.prune(pool);
      expect(await rowsOfHotel()).to.equal(all);
      expect(before.audit).to.be.at.least(1);
      await markRecorded(pool, ranges);
      const pruned = await relay.prune(pool);
      expect(pruned.outbox).to.be.at.least(mark);
      const left = await withShardDb(env.config, hotel.id, async (c) => (await c.query('SELECT sequence::int AS s FROM outbox WHERE hotel_id = $1 ORDER BY sequence', [hotel.id])).rows.map((r) => r.s));
      expect(left.length).to.be.greaterThan(0);
      expect(Math.min(...left)).to.be.greaterThan(mark);
      const audited = await withShardDb(env.config, hotel.id, async (c) => (await c.query('SELECT command FROM audit WHERE hotel_id = $1', [hotel.id])).rows.map((r) => r.command));
      expect(audited).to.not.include('createHotel');
      expect(audited).to.include('reserve');
      // Every audit row of the hotel old: all go but the newest, from which a writer loading the hotel counts on.
      const newest = await withShardDb(env.config, hotel.id, async (c) => {
        await c.query("UPDATE audit_log SET at = now() - interval '31 days' WHERE hotel_id = $1", [hotel.id]);
        return Number((await c.query('SELECT max(id) AS s FROM audit WHERE hotel_id = $1', [hotel.id])).rows[0].s);
      });
      await relay.prune(pool);
      const kept = await withShardDb(env.config, hotel.id, async (c) => (await c.query('SELECT first_seq::int AS f, cardinality(command) AS n FROM audit_log WHERE hotel_id = $1', [hotel.id])).rows);
      expect(kept).to.have.length(1);
      expect(kept[0].f + kept[0].n - 1).to.equal(newest);
    } finally {
      await queue.close();
      connection.disconnect();
      await pool.end();
    }
  });
  it('a relay that died between queueing and moving its cursor queues again, and the events committed since are not lost', async () => {
    const hotel = await createHotel(stack.admin);
    const rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 20 });
    expect((await stack.admin.post('/v1/reservations', reservationBody(hotel.id, rt.id, dayFromToday(3), dayFromToday(4)))).status).to.equal(201);
    const { connection, queue, pool, relay, database } = relayOfHotel(hotel.id, 'relay-crash-test');
    const cursorOf = () => withShardDb(env.config, hotel.id, async (c) => Number((await c.query('SELECT sequence FROM outbox_cursors WHERE hotel_id = $1', [hotel.id])).rows[0]?.sequence ?? 0));
    try {
      while ((await relay.relayOnce(pool, database)) > 0);
      const first = await cursorOf();
      expect(first).to.be.greaterThan(0);
      // The crash: the jobs are in the queue (nobody took them yet), the cursor as if it had never moved.
      await withShardDb(env.config, hotel.id, (c) => c.query('DELETE FROM outbox_cursors WHERE hotel_id = $1', [hotel.id]));
      // More events commit before the next relay starts; it queues from the same first event, with more after it.
      expect((await stack.admin.post('/v1/reservations', reservationBody(hotel.id, rt.id, dayFromToday(5), dayFromToday(6)))).status).to.equal(201);
      while ((await relay.relayOnce(pool, database)) > 0);
      const mark = await cursorOf();
      expect(mark).to.be.greaterThan(first);
      const ranges = (await queue.getJobs(['waiting'])).flatMap((j) => j.data.ranges).filter((h) => h.hotelId === hotel.id);
      const queued = new Set((await readRanges(pool, ranges, null)).flatMap((h) => h.events.map((e) => e.sequence)));
      expect(Array.from({ length: mark }, (_, i) => i + 1).filter((s) => !queued.has(s))).to.deep.equal([]);
    } finally {
      await queue.close();
      connection.disconnect();
      await pool.end();
    }
  });
  it('a notifier stopped while the catalog is away puts its job back in the queue instead of failing it', async () => {
    const connection = createRedis(env.config.redisUrl, 'notifier-stop-test');
    const blocking = createRedis(env.config.redisUrl, 'notifier-stop-worker', { blocking: true });
    // A prefix of its own: the stack's notifier must not take this job.
    const prefix = `${env.config.redisPrefix}-stop`;
    const queue = createNotificationsQueue(connection, new RedisKeys(prefix));
    // A catalog nobody answers on: recording is retried in place.
    const catalog = createPool('postgres://127.0.0.1:9/nowhere', 1);
    const notifier = new Notifier({ catalog, shardPool: () => catalog, connection: blocking, prefix, allowPrivate: true, retryScale: 1, mailDir: '/tmp/notifier-stop-test' });
    const hotelId = randomUUID();
    const event = { id: `${hotelId}.1`, type: 'reservation.created', hotelId, sequence: 1, createdAt: new Date().toISOString(), data: {} };
    try {
      const job = await queue.add('events', { hotels: [{ hotelId, hotelName: 'Nowhere', events: [event] }] } as any, { jobId: `${hotelId}.1-1` });
      notifier.start();
      await waitFor('the job taken', async () => (await job.getState()) === 'active', 10_000);
      await notifier.stop();
      expect(await job.getState()).to.be.oneOf(['delayed', 'waiting']);
    } finally {
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      connection.disconnect();
      blocking.disconnect();
      await catalog.end().catch(() => {});
    }
  });
  it('the audit columns the writer groups by hotel reach Postgres as the arrays they were (quotes, backslashes, braces, NULL and "NULL")', async () => {
    const pool = createPool(env.config.shardDatabaseUrls[0], 1);
    try {
      const odd = ['a"b', 'c\\d', '{e,f}', 'NULL', '', 'plain'];
      const hotels: AuditColumns[] = [
        { hotelId: randomUUID(), first: 1, actorKind: odd, actorId: ['x', 'y', 'z', 'w', 'v', 'u'], command: odd, ok: ['t', 'f', 't', 'f', 't', 'f'], status: [null, 'paid', null, 'NULL', '', 'x'], code: odd.map(() => null), reservation: [randomUUID(), null, randomUUID(), null, null, null], version: [1, 2, 3, 4, 5, 6] },
        { hotelId: randomUUID(), first: 1, actorKind: ['one'], actorId: ['1'], command: ['reserve'], ok: ['t'], status: ['pending'], code: [null], reservation: [null], version: [9] },
      ];
      const [actorKind, , , ok, status, code, reservation, version] = auditColumnLiterals(hotels);
      const r = await pool.query(
        `SELECT v.actor_kind::text[] AS actor_kind, v.ok::boolean[] AS ok, v.status::text[] AS status, v.code::text[] AS code,
                v.reservation::uuid[] AS reservation, v.version::bigint[]::int[] AS version
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY
                AS v(actor_kind, ok, status, code, reservation, version, n) ORDER BY v.n`,
        [actorKind, ok, status, code, reservation, version],
      );
      expect(r.rows.map((x) => x.actor_kind)).to.deep.equal(hotels.map((h) => h.actorKind));
      expect(r.rows.map((x) => x.ok)).to.deep.equal(hotels.map((h) => h.ok.map((b) => b === 't')));
      expect(r.rows.map((x) => x.status)).to.deep.equal(hotels.map((h) => h.status));
      expect(r.rows.map((x) => x.code)).to.deep.equal(hotels.map((h) => h.code));
      expect(r.rows.map((x) => x.reservation)).to.deep.equal(hotels.map((h) => h.reservation));
      expect(r.rows.map((x) => x.version)).to.deep.equal(hotels.map((h) => h.version));
    } finally {
      await pool.end();
    }
  });
});
