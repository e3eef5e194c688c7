// The live availability stream and the writer-owned cache behind it, over real HTTP, Postgres and Redis:
// version order and contents of the events, resume with Last-Event-ID, reset, heartbeats, monotonic reads,
// read-your-writes, the cache stamped by the writer and `stale: true` while the shard databases are unreachable.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { startApi, type RunningApi } from '../../api/server.js';
import { cacheKeys, changeLogEntriesMax } from '../../engine/availability-cache.js';
import { hotelVersion } from '../support/db.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { createHotel, createRoomType, dayFromToday, reservationBody } from '../support/fixtures.js';
import { HttpClient } from '../support/http.js';
import { SseClient, type SseEvent } from '../support/sse.js';
import { startStack, type Stack } from '../support/stack.js';

interface Change {
  roomTypeId: string;
  date: string;
  totalInventory: number;
  reserved: number;
  available: number;
  /** The price of one more room (the base rate here: these hotels have no pricing tiers), and the base rate. */
  rate: number;
  baseRate: number;
}

interface AvailabilityData {
  hotelId: string;
  version: number;
  changes: Change[];
}

const limitOf = (total: number, overbookingPercent = 10) => Math.floor((total * (100 + overbookingPercent)) / 100);
const dataOf = (e: SseEvent) => JSON.parse(e.data) as AvailabilityData;
const nightsOfStay = (inOffset: number, outOffset: number) => Array.from({ length: outOffset - inOffset }, (_, i) => dayFromToday(inOffset + i));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('live availability: SSE stream and writer-owned cache (real Postgres and Redis)', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let stack: Stack;
  let redis: Redis;
  const open: SseClient[] = [];

  before(async () => {
    env = await createTestEnv({ SSE_HEARTBEAT_MS: '300' });
    stack = await startStack(env.config);
    redis = new Redis(env.config.redisUrl, { maxRetriesPerRequest: 1 });
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });
  after(async () => {
    for (const c of open.splice(0)) c.close();
    redis?.disconnect();
    await stack?.stop();
    await env?.cleanup();
  });

  const streamUrl = (hotelId: string) => `${stack.baseUrl}/v1/hotels/${hotelId}/availability/stream`;

  /** Open a stream and wait until the server has registered it (its `: connected` comment). */
  async function connect(hotelId: string, lastEventId?: string | number): Promise<SseClient> {
    const c = await SseClient.open(streamUrl(hotelId), { lastEventId });
    open.push(c);
    expect(c.status, JSON.stringify((c as { body?: unknown }).body)).to.equal(200);
    expect(String(c.headers['content-type'])).to.match(/^text\/event-stream/);
    await c.until('the connected comment', (x) => x.comments.some((m) => m.text === 'connected'));
    return c;
  }

  async function availability(hotelId: string, inOffset: number, outOffset: number, via: HttpClient = stack.admin) {
    const r = await via.as(undefined).get(`/v1/hotels/${hotelId}/availability?checkIn=${dayFromToday(inOffset)}&checkOut=${dayFromToday(outOffset)}`);
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    return r.body as {
      version: number;
      stale: boolean;
      roomTypes: { roomTypeId: string; available: number; totalPrice: number; nights: (Omit<Change, 'roomTypeId'>)[] }[];
    };
  }

  /** A model of what is reserved: key `${roomTypeId}/${date}`. */
  class Model {
    readonly reserved = new Map<string, number>();
    book(roomTypeId: string, inOffset: number, outOffset: number, rooms: number) {
      for (const d of nightsOfStay(inOffset, outOffset)) this.reserved.set(`${roomTypeId}/${d}`, this.get(roomTypeId, d) + rooms);
    }
    get(roomTypeId: string, date: string) {
      return this.reserved.get(`${roomTypeId}/${date}`) ?? 0;
    }
  }

  async function book(hotelId: string, roomTypeId: string, inOffset: number, outOffset: number, roomCount = 1) {
    const r = await stack.admin.post('/v1/reservations', reservationBody(hotelId, roomTypeId, dayFromToday(inOffset), dayFromToday(outOffset), { roomCount }));
    expect(r.status, JSON.stringify(r.body)).to.equal(201);
    return r.body;
  }

  /** Each availability event: strictly increasing ids, id = data.version, the right hotel. */
  function checkOrder(events: SseEvent[], hotelId: string, after = -1) {
    let last = after;
    for (const e of events) {
      const d = dataOf(e);
      expect(e.id, 'every availability event has an id').to.be.a('string');
      expect(Number(e.id), `id ${e.id} equals data.version`).to.equal(d.version);
      expect(d.version, `versions strictly increase (${events.map((x) => x.id).join(',')})`).to.be.greaterThan(last);
      expect(d.hotelId).to.equal(hotelId);
      last = d.version;
    }
  }

  it('sends one availability event per committed change, in version order, with the right nights and counts', async () => {
    const hotel = await createHotel(stack.admin);
    const double = await createRoomType(stack.admin, hotel.id, { name: 'Double', totalInventory: 20, baseRate: 15000 });
    const suite = await createRoomType(stack.admin, hotel.id, { name: 'Suite', totalInventory: 4, baseRate: 40000 });
    const rates = new Map([
      [double.id, 15000],
      [suite.id, 40000],
    ]);
    const totals = new Map([
      [double.id, 20],
      [suite.id, 4],
    ]);
    const stream = await connect(hotel.id);

    // Overlapping stays on both room types, made one after another: each is its own job and its own event.
    const stays: [string, number, number, number][] = [
      [double.id, 5, 8, 1],
      [double.id, 6, 9, 2],
      [suite.id, 5, 7, 1],
      [double.id, 5, 6, 3],
      [suite.id, 6, 10, 2],
      [double.id, 8, 12, 1],
      [suite.id, 5, 6, 1],
      [double.id, 7, 9, 1],
    ];
    const model = new Model();
    const expectedPerEvent: Change[][] = [];
    for (const [rt, from, to, rooms] of stays) {
      await book(hotel.id, rt, from, to, rooms);
      model.book(rt, from, to, rooms);
      expectedPerEvent.push(
        nightsOfStay(from, to).map((date) => ({
          roomTypeId: rt,
          date,
          totalInventory: totals.get(rt)!,
          reserved: model.get(rt, date),
          available: Math.max(0, limitOf(totals.get(rt)!) - model.get(rt, date)),
          rate: rates.get(rt)!,
          baseRate: rates.get(rt)!,
        })),
      );
    }
    // A rate change is a committed change too: its event carries the new rate and its id is the answered version.
    const put = await stack.admin.put(`/v1/hotels/${hotel.id}/room-types/${double.id}/rates`, { from: dayFromToday(7), to: dayFromToday(9), amount: 17000 });
    expect(put.status, JSON.stringify(put.body)).to.equal(200);
    expectedPerEvent.push(
      nightsOfStay(7, 9).map((date) => ({
        roomTypeId: double.id,
        date,
        totalInventory: 20,
        reserved: model.get(double.id, date),
        available: limitOf(20) - model.get(double.id, date),
        rate: 17000,
        baseRate: 17000,
      })),
    );

    await stream.untilCount('availability', expectedPerEvent.length);
    await sleep(200); // nothing more should come
    const events = stream.of('availability');
    expect(stream.of('reset'), 'no reset on a live stream').to.have.length(0);
    expect(events, 'one event per committed change').to.have.length(expectedPerEvent.length);
    checkOrder(events, hotel.id);
    events.forEach((e, i) => {
      const byKey = (a: Change, b: Change) => (a.roomTypeId + a.date < b.roomTypeId + b.date ? -1 : 1);
      expect([...dataOf(e).changes].sort(byKey), `event ${i} (id ${e.id})`).to.deep.equal([...expectedPerEvent[i]].sort(byKey));
    });
    expect(Number(events.at(-1)!.id), 'the rate change event has the version the PUT answered').to.equal(put.body.version);

    // The last event of every night matches the availability JSON read afterwards, and the versions agree.
    const a = await availability(hotel.id, 5, 12);
    expect(a.stale).to.equal(false);
    expect(a.version, 'the last event carries the hotel version').to.equal(Number(events.at(-1)!.id));
    const lastSeen = new Map<string, Change>();
    for (const e of events) for (const c of dataOf(e).changes) lastSeen.set(`${c.roomTypeId}/${c.date}`, c);
    let compared = 0;
    for (const rt of a.roomTypes) {
      for (const n of rt.nights) {
        const c = lastSeen.get(`${rt.roomTypeId}/${n.date}`);
        expect(n.reserved, `${rt.roomTypeId} ${n.date}`).to.equal(model.get(rt.roomTypeId, n.date));
        if (!c) continue;
        compared++;
        expect({ roomTypeId: rt.roomTypeId, ...n }, `${rt.roomTypeId} ${n.date}`).to.deep.equal(c);
      }
    }
    expect(compared).to.equal(lastSeen.size);
  });

  it('resumes with Last-Event-ID: exactly the missed changes, no duplicates, then live ones', async () => {
    const hotel = await createHotel(stack.admin);
    const rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 30 });
    const witness = await connect(hotel.id); // stays connected throughout: the ground truth
    const first = await connect(hotel.id);

    for (let i = 0; i < 3; i++) await book(hotel.id, rt.id, 5 + i, 7 + i);
    await first.untilCount('availability', 3);
    const lastSeen = first.lastEventId!;
    first.close();

    // Missed while away: reservations and an inventory change.
    for (let i = 0; i < 3; i++) await book(hotel.id, rt.id, 10 + i, 11 + i, 2);
    const inv = await stack.admin.put(`/v1/hotels/${hotel.id}/room-types/${rt.id}/inventory`, { from: dayFromToday(5), to: dayFromToday(8), totalInventory: 25 });
    expect(inv.status, JSON.stringify(inv.body)).to.equal(200);
    await witness.untilCount('availability', 7);
    const missed = witness.of('availability').filter((e) => Number(e.id) > Number(lastSeen));
    expect(missed).to.have.length(4);

    const resumed = await connect(hotel.id, lastSeen);
    await resumed.untilCount('availability', 4);
    await sleep(200);
    expect(resumed.of('reset'), 'the gap is kept: no reset').to.have.length(0);
    expect(resumed.of('availability').map((e) => ({ id: e.id, data: dataOf(e) })), 'exactly the missed changes').to.deep.equal(
      missed.map((e) => ({ id: e.id, data: dataOf(e) })),
    );

    // Then live ones, in order, none repeated.
    for (let i = 0; i < 2; i++) await book(hotel.id, rt.id, 20 + i, 21 + i);
    await witness.untilCount('availability', 9);
    await resumed.untilCount('availability', 6);
    await sleep(200);
    const got = resumed.of('availability');
    expect(got).to.have.length(6);
    checkOrder(got, hotel.id, Number(lastSeen));
    expect(got.map((e) => e.data)).to.deep.equal(witness.of('availability').slice(3).map((e) => e.data));
    expect(Number(got.at(-1)!.id)).to.equal((await availability(hotel.id, 5, 25)).version);
    expect(Number(got.at(-1)!.id)).to.equal(await hotelVersion(env.config, hotel.id));
  });

  it('resuming from the current version sends nothing old, only live changes', async () => {
    const hotel = await createHotel(stack.admin);
    const rt = await createRoomType(stack.admin, hotel.id);
    await book(hotel.id, rt.id, 5, 6);
    const v = (await availability(hotel.id, 5, 6)).version;
    const s = await connect(hotel.id, v);
    await sleep(300);
    expect(s.events.filter((e) => e.event !== 'message'), 'nothing to catch up').to.have.length(0);
    await book(hotel.id, rt.id, 5, 6);
    await s.untilCount('availability', 1);
    expect(Number(s.of('availability')[0].id)).to.be.greaterThan(v);
    expect(s.of('reset')).to.have.length(0);
  });

  it('an update that changes nothing makes no new version and sends nothing (a reset would make every client refetch)', async () => {
    const hotel = await createHotel(stack.admin);
    const rt = await createRoomType(stack.admin, hotel.id, { name: 'Double' });
    const s = await connect(hotel.id);
    await sleep(200);
    const same = await stack.admin.put(`/v1/hotels/${hotel.id}`, {});
    expect(same.status, JSON.stringify(same.body)).to.equal(200);
    expect(same.body).to.deep.equal(hotel);
    expect((await stack.admin.put(`/v1/hotels/${hotel.id}`, { name: hotel.name, overbookingPercent: hotel.overbookingPercent })).body).to.deep.equal(hotel);
    expect((await stack.admin.put(`/v1/hotels/${hotel.id}/room-types/${rt.id}`, { name: 'Double' })).status).to.equal(200);
    await sleep(300);
    expect(s.events.filter((e) => e.event !== 'message'), 'nothing sent').to.have.length(0);
    // A real change still goes out.
    expect((await stack.admin.put(`/v1/hotels/${hotel.id}/room-types/${rt.id}`, { name: 'Twin' })).status).to.equal(200);
    await s.untilCount('reset', 1);
  });

  it('tells an open stream that its hotel was deleted (reset, then the stream ends), and a reconnect gets 404', async () => {
    const hotel = await createHotel(stack.admin);
    await createRoomType(stack.admin, hotel.id);
    const s = await connect(hotel.id);
    await sleep(200);
    expect((await stack.admin.delete(`/v1/hotels/${hotel.id}`)).status).to.equal(204);
    await s.until('the stream to end', (c) => c.ended);
    expect(s.of('reset'), 'one reset before the end').to.have.length(1);
    expect(dataOf(s.of('reset')[0]).hotelId).to.equal(hotel.id);
    const again = await fetch(streamUrl(hotel.id));
    expect(again.status).to.equal(404);
    await again.body?.cancel();
  });

  it('says reset when the change log no longer reaches back (log trimmed in Redis), then streams live changes', async () => {
    const hotel = await createHotel(stack.admin);
    const rt = await createRoomType(stack.admin, hotel.id);
    const s = await connect(hotel.id);
    for (let i = 0; i < 3; i++) await book(hotel.id, rt.id, 5 + i, 6 + i);
    await s.untilCount('availability', 3);
    const oldId = s.of('availability')[0].id!;
    s.close();

    const key = cacheKeys(env.config.redisPrefix, env.config.shardCount, hotel.id).changes;
    expect(await redis.xlen(key), 'the writer keeps a change log').to.be.greaterThan(0);
    await redis.xtrim(key, 'MAXLEN', 0);

    const r = await connect(hotel.id, oldId);
    await r.untilCount('reset', 1);
    expect(r.events.filter((e) => e.event !== 'message')[0].event, 'reset comes first').to.equal('reset');
    expect(r.of('availability'), 'no partial replay').to.have.length(0);
    const reset = JSON.parse(r.of('reset')[0].data);
    expect(reset.hotelId).to.equal(hotel.id);

    // After the reset the client refetches and keeps receiving live changes.
    await book(hotel.id, rt.id, 9, 10);
    await r.untilCount('availability', 1);
    const live = r.of('availability')[0];
    expect(Number(live.id)).to.equal((await availability(hotel.id, 9, 10)).version);
  });

  it('says reset when the gap fell out of the capped change log (>1000 changes), and still resumes recent gaps', async function () {
    const hotel = await createHotel(stack.admin);
    const rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 10 });
    const start = (await availability(hotel.id, 5, 6)).version;
    const key = cacheKeys(env.config.redisPrefix, env.config.shardCount, hotel.id).changes;
    // Inventory PUTs, a few in flight at once (each job is one change-log entry), until the writer's capped log
    // (MAXLEN ~ changeLogEntriesMax) no longer reaches back to `start`.
    const oldestFrom = async () => {
      const first = await redis.xrange(key, '-', '+', 'COUNT', 1);
      const f = first[0]?.[1] ?? [];
      return Number(f[f.indexOf('from') + 1]);
    };
    let sent = 0;
    while ((await oldestFrom()) <= start + 1) {
      expect(sent, 'the change log is never trimmed').to.be.below(3 * changeLogEntriesMax);
      await Promise.all(
        Array.from({ length: 4 }, async (_, w) => {
          for (let i = 0; i < 25; i++) {
            const r = await stack.admin.put(`/v1/hotels/${hotel.id}/room-types/${rt.id}/inventory`, {
              from: dayFromToday(5),
              to: dayFromToday(6),
              totalInventory: 10 + ((w + i) % 7),
            });
            expect(r.status, JSON.stringify(r.body)).to.equal(200);
          }
        }),
      );
      sent += 100;
    }
    const len = await redis.xlen(key);
    expect(len, `the log is capped near ${changeLogEntriesMax} entries`).to.be.within(changeLogEntriesMax, changeLogEntriesMax + 200);

    const r = await connect(hotel.id, start);
    await r.untilCount('reset', 1);
    await sleep(200);
    expect(r.of('availability'), 'no partial replay of an incomplete gap').to.have.length(0);

    // A recent id inside the log still resumes exactly: every kept entry after it, in order.
    const current = (await availability(hotel.id, 5, 6)).version;
    const after = current - 5;
    const expected = (await redis.xrange(key, `${after + 1}-0`, '+')).map(([id]) => id.replace(/-0$/, ''));
    expect(expected.at(-1)).to.equal(String(current));
    const recent = await connect(hotel.id, after);
    await recent.untilCount('availability', expected.length);
    await sleep(200);
    expect(recent.of('reset')).to.have.length(0);
    expect(recent.of('availability').map((e) => e.id)).to.deep.equal(expected);
  });

  it('says reset for a Last-Event-ID newer than the hotel version, and the stream then delivers live changes', async () => {
    const hotel = await createHotel(stack.admin);
    const rt = await createRoomType(stack.admin, hotel.id);
    await book(hotel.id, rt.id, 5, 6);
    const v = (await availability(hotel.id, 5, 6)).version;

    const r = await connect(hotel.id, v + 1000);
    await r.untilCount('reset', 1);
    expect(r.of('availability')).to.have.length(0);

    // The client refetches (version v) and must now hear about the next change, whose version is far below v+1000.
    await book(hotel.id, rt.id, 5, 6);
    const next = (await availability(hotel.id, 5, 6)).version;
    expect(next).to.be.greaterThan(v);
    await r.untilCount('availability', 1, 3_000);
    expect(Number(r.of('availability')[0].id)).to.equal(next);
  });

  it('sends a heartbeat comment at least every SSE_HEARTBEAT_MS (300 ms) on an idle stream', async () => {
    const hotel = await createHotel(stack.admin);
    await createRoomType(stack.admin, hotel.id);
    const s = await connect(hotel.id);
    const t0 = performance.now();
    await sleep(1_500);
    const pings = s.comments.filter((c) => c.text !== 'connected' && c.at >= t0);
    expect(pings.length, `comments in 1.5 s: ${pings.length}`).to.be.at.least(3);
    const times = [t0, ...pings.map((p) => p.at), performance.now()];
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    expect(Math.max(...gaps), `gaps ${gaps.map((g) => g.toFixed(0)).join(',')} ms`).to.be.lessThan(800);
    expect(s.events.filter((e) => e.event !== 'message'), 'an idle stream sends no events').to.have.length(0);
    expect(s.ended).to.equal(false);
  });

  it('never serves a version older than one already served, and reads its own writes (concurrent bookings and reads)', async () => {
    const hotel = await createHotel(stack.admin);
    const rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 50 });
    const nights = 40;
    const bookers = 4;
    let booking = true;
    const path = `/v1/hotels/${hotel.id}/availability?checkIn=${dayFromToday(5)}&checkOut=${dayFromToday(5 + nights)}`;
    const reader = stack.admin.as(undefined);
    // A second API process on the same Redis and databases: a client balanced over both must not go back either.
    const second = await startApi(env.config);
    const readers2 = [reader, new HttpClient(`http://127.0.0.1:${second.port}`)];

    // Each reader reads one after another: its versions never go down, nor any night's reserved count (nothing is
    // canceled), and a version never comes with different numbers.
    const byVersion = new Map<number, string>();
    const readerLoop = async (id: number) => {
      const seen: number[] = [];
      let lastNights: number[] | undefined;
      while (booking) {
        const r = await readers2[(id + seen.length) % 2].get(path);
        expect(r.status, JSON.stringify(r.body)).to.equal(200);
        const v = r.body.version as number;
        const reserved = (r.body.roomTypes[0].nights as Change[]).map((x) => x.reserved);
        if (seen.length) expect(v, `reader ${id}: versions ${seen.slice(-5).join(',')} then ${v}`).to.be.at.least(seen.at(-1)!);
        if (lastNights) reserved.forEach((x, i) => expect(x, `reader ${id}: night ${i} went back at version ${v}`).to.be.at.least(lastNights![i]));
        const fingerprint = JSON.stringify(reserved);
        if (byVersion.has(v)) expect(fingerprint, `version ${v} served with different numbers`).to.equal(byVersion.get(v));
        else byVersion.set(v, fingerprint);
        seen.push(v);
        lastNights = reserved;
      }
      return seen.length;
    };

    // Each booker books its own nights (one booking per night), then at once reads that night back.
    const bookerLoop = async (b: number) => {
      for (let k = b; k < nights; k += bookers) {
        const day = 5 + k;
        const before = Date.now();
        await book(hotel.id, rt.id, day, day + 1);
        const a = await reader.get(`/v1/hotels/${hotel.id}/availability?checkIn=${dayFromToday(day)}&checkOut=${dayFromToday(day + 1)}`);
        expect(a.status).to.equal(200);
        expect(a.body.roomTypes[0].nights[0].reserved, `booking of ${dayFromToday(day)} (201 after ${Date.now() - before} ms) not visible in the next read`).to.equal(1);
      }
    };

    const readers = Array.from({ length: 6 }, (_, i) => readerLoop(i));
    for (const p of readers) p.catch(() => {}); // awaited below; a failing reader must not be an unhandled rejection
    try {
      await Promise.all(Array.from({ length: bookers }, (_, b) => bookerLoop(b)));
    } finally {
      booking = false;
      await Promise.allSettled(readers);
      await second.close();
    }
    const reads = await Promise.all(readers);
    expect(reads.reduce((s, n) => s + n, 0), 'the readers did read during the bookings').to.be.greaterThan(20);

    const final = await availability(hotel.id, 5, 5 + nights);
    expect(final.roomTypes[0].nights.every((n) => n.reserved === 1)).to.equal(true);
    expect(final.version).to.equal(await hotelVersion(env.config, hotel.id));
  });

  it('keeps the cache stamped by the writer with the committed version, and answers stale: true from it while the shard databases are unreachable', async () => {
    const hotel = await createHotel(stack.admin);
    const rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 8 });
    await book(hotel.id, rt.id, 5, 8, 2);
    const keys = cacheKeys(env.config.redisPrefix, env.config.shardCount, hotel.id);
    const pgVersion = await hotelVersion(env.config, hotel.id);
    expect(Number(await redis.hget(keys.meta, 'v')), 'cache version right after the 201').to.equal(pgVersion);
    await book(hotel.id, rt.id, 6, 7, 1);
    const pgVersion2 = await hotelVersion(env.config, hotel.id);
    expect(pgVersion2).to.be.greaterThan(pgVersion);
    expect(Number(await redis.hget(keys.meta, 'v'))).to.equal(pgVersion2);
    const live = await availability(hotel.id, 4, 9);
    expect(live.version).to.equal(pgVersion2);
    expect(live.stale).to.equal(false);
    expect(live.roomTypes[0].nights.map((n) => n.reserved)).to.deep.equal([0, 2, 3, 2, 0]);

    // A second API process with the same Redis prefix whose shard databases are unreachable.
    const down = { ...env.config, port: 0, shardDatabaseUrls: env.config.shardDatabaseUrls.map(() => 'postgres://127.0.0.1:1/x') };
    let api: RunningApi | undefined;
    try {
      api = await startApi(down);
      const via = new HttpClient(`http://127.0.0.1:${api.port}`);
      const first = await via.get(`/v1/hotels/${hotel.id}/availability?checkIn=${dayFromToday(4)}&checkOut=${dayFromToday(9)}`);
      expect(first.status, JSON.stringify(first.body)).to.equal(200);
      expect(first.body.stale, 'first answer of a process whose databases are down').to.equal(true);
      await sleep(1_200); // past a probe period of the reader
      const stale = await availability(hotel.id, 4, 9, via);
      expect(stale.stale).to.equal(true);
      expect(stale.version).to.equal(pgVersion2);
      expect(stale.roomTypes).to.deep.equal(live.roomTypes);
      // The main API, whose databases are fine, still says not stale.
      expect((await availability(hotel.id, 4, 9)).stale).to.equal(false);
    } finally {
      await api?.close();
    }
  });

  it('subscribes to a hotel\'s announcements only while it streams that hotel, and again when a stream returns', async () => {
    const hotel = await createHotel(stack.admin);
    const rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 5 });
    const other = await createHotel(stack.admin);
    const otherRt = await createRoomType(stack.admin, other.id, { totalInventory: 5 });
    const subscribers = async (hotelId: string) => {
      const r = (await redis.pubsub('NUMSUB', cacheKeys(env.config.redisPrefix, env.config.shardCount, hotelId).channel)) as [string, number];
      return Number(r[1]);
    };
    expect(await subscribers(hotel.id)).to.equal(0);
    const a = await connect(hotel.id);
    const b = await connect(hotel.id);
    // One subscription for the two streams of the hotel (it is live when `: connected` arrives), none for the other.
    expect(await subscribers(hotel.id)).to.equal(1);
    expect(await subscribers(other.id)).to.equal(0);
    await book(other.id, otherRt.id, 2, 3);
    await book(hotel.id, rt.id, 2, 3);
    await a.until('the event', (x) => x.events.some((e) => e.event === 'availability'));
    expect(a.events.filter((e) => e.event === 'availability').map((e) => dataOf(e).hotelId)).to.deep.equal([hotel.id]);
    a.close();
    await sleep(100);
    expect(await subscribers(hotel.id), 'one stream still open').to.equal(1);
    b.close();
    const deadline = Date.now() + 5_000;
    while ((await subscribers(hotel.id)) !== 0 && Date.now() < deadline) await sleep(20);
    expect(await subscribers(hotel.id), 'no stream left').to.equal(0);
    // A stream that comes back subscribes again and is live at once.
    const c = await connect(hotel.id);
    expect(await subscribers(hotel.id)).to.equal(1);
    await book(hotel.id, rt.id, 3, 4);
    await c.until('the new event', (x) => x.events.some((e) => e.event === 'availability'));
    const d = dataOf(c.events.find((e) => e.event === 'availability') as SseEvent);
    expect(d.changes.map((x) => x.date)).to.deep.equal([dayFromToday(3)]);
  });

  it('answers 404 for an unknown hotel stream and 400 for a hotel id that is not a UUID', async () => {
    const unknown = await SseClient.open(streamUrl(randomUUID()));
    expect(unknown.status).to.equal(404);
    expect(String(unknown.headers['content-type'])).to.match(/json/);
    expect(unknown.body.error.code).to.equal('not_found');
    const bad = await SseClient.open(streamUrl('not-a-uuid'));
    expect(bad.status).to.equal(400);
    expect(String(bad.headers['content-type'])).to.match(/json/);
    expect(bad.body.error.code).to.equal('validation_failed');
  });
});
