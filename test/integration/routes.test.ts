// The happy paths of API.md's hotels, room types, rooms, inventory and rates, availability and reservations, with
// the exact shapes the contract promises.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { hotelVersion, nightsOf } from '../support/db.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { createGuest, createHotel, createKey, createRoomType, dayFromToday, reservationBody } from '../support/fixtures.js';
import type { HttpClient, HttpResult } from '../support/http.js';
import { startStack, type Stack } from '../support/stack.js';

const D = dayFromToday;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const HOTEL_KEYS = ['id', 'name', 'city', 'country', 'timezone', 'currency', 'overbookingPercent', 'cancellationPolicy', 'createdAt'];
const ROOM_TYPE_KEYS = ['id', 'hotelId', 'name', 'maxGuests', 'totalInventory', 'baseRate'];
const ROOM_KEYS = ['id', 'hotelId', 'roomTypeId', 'number', 'floor'];
const RESERVATION_KEYS = [
  'id',
  'hotelId',
  'roomTypeId',
  'checkIn',
  'checkOut',
  'roomCount',
  'status',
  'totalAmount',
  'currency',
  'guest',
  'createdAt',
  'expiresAt',
  'cancelReason',
  'payment',
  'version',
];
const ALTERNATIVE_KEYS = ['roomTypeId', 'checkIn', 'checkOut', 'available', 'totalPrice'];

function ok(r: HttpResult, status: number): any {
  expect(r.status, JSON.stringify(r.body).slice(0, 800)).to.equal(status);
  return r.body;
}

function expectError(r: HttpResult, status: number, code: string): any {
  const shown = JSON.stringify(r.body).slice(0, 800);
  expect(r.status, shown).to.equal(status);
  expect(r.body?.error?.code, shown).to.equal(code);
  expect(r.body.error.message, shown).to.be.a('string').and.not.equal('');
  return r.body.error;
}

const daysBetween = (a: string, b: string) => Math.round((Date.parse(b) - Date.parse(a)) / 86_400_000);

/** Every date of [from, to). */
function datesOf(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = Date.parse(from); d < Date.parse(to); d += 86_400_000) out.push(new Date(d).toISOString().slice(0, 10));
  return out;
}

/** Today in an IANA time zone, as YYYY-MM-DD. */
const todayIn = (timeZone: string) =>
  new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
const plusDays = (day: string, n: number) => new Date(Date.parse(day) + n * 86_400_000).toISOString().slice(0, 10);

/** Every page of a list route, following nextCursor. */
async function allPages(client: HttpClient, path: string, limit: number): Promise<{ pages: any[][]; items: any[] }> {
  const pages: any[][] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 50; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const body = ok(await client.get(`${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`), 200);
    expect(body).to.have.keys(['items', 'nextCursor']);
    pages.push(body.items);
    cursor = body.nextCursor;
    if (cursor === null) break;
    expect(cursor).to.be.a('string').and.not.equal('');
  }
  return { pages, items: pages.flat() };
}

describe('routes: happy paths and shapes', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let stack: Stack;
  let admin: HttpClient;
  let anon: HttpClient;

  before(async () => {
    env = await createTestEnv();
    stack = await startStack(env.config);
    admin = stack.admin;
    anon = admin.as(undefined);
  });

  after(async () => {
    await stack?.stop();
    await env?.cleanup();
  });

  // Hotels ------------------------------------------------------------------------------------------------------------

  describe('hotels', () => {
    it('POST /v1/hotels → 201 with Location and every field; overbookingPercent defaults to 10', async () => {
      const sent = { name: 'Grand Hotel', city: 'Roma', country: 'IT', timezone: 'Europe/Rome', currency: 'EUR' };
      const r = await admin.post('/v1/hotels', sent);
      const h = ok(r, 201);
      expect(h).to.have.keys(HOTEL_KEYS);
      expect(h.id).to.match(UUID_V7);
      expect(r.headers.get('location')).to.equal(`/v1/hotels/${h.id}`);
      expect(h).to.include({ ...sent, overbookingPercent: 10 });
      expect(Math.abs(Date.parse(h.createdAt) - Date.now())).to.be.below(60_000);
      const zero = ok(await admin.post('/v1/hotels', { ...sent, overbookingPercent: 0 }), 201);
      expect(zero.overbookingPercent).to.equal(0);
      const fifty = ok(await admin.post('/v1/hotels', { ...sent, overbookingPercent: 50, currency: 'JPY', country: 'JP', timezone: 'Asia/Tokyo' }), 201);
      expect(fifty).to.include({ overbookingPercent: 50, currency: 'JPY', country: 'JP', timezone: 'Asia/Tokyo' });
      // A zone written in another letter case is stored in its own ("europe/paris" was kept as sent); a link
      // stays the zone it names.
      expect(ok(await admin.post('/v1/hotels', { ...sent, timezone: 'europe/paris' }), 201).timezone).to.equal('Europe/Paris');
      expect(ok(await admin.post('/v1/hotels', { ...sent, timezone: 'US/Pacific' }), 201).timezone).to.equal('US/Pacific');
    });

    it('GET /v1/hotels/:hotelId answers the hotel as created', async () => {
      const h = await createHotel(admin, { name: 'Readable' });
      const got = ok(await anon.get(`/v1/hotels/${h.id}`), 200);
      expect(got).to.deep.equal(h);
    });

    it('GET /v1/hotels?city= filters, and limit/cursor page through every hotel once', async () => {
      const city = `Pagetown-${randomUUID().slice(0, 8)}`;
      const made: string[] = [];
      for (let i = 0; i < 5; i++) made.push((await createHotel(admin, { name: `Page ${i}`, city })).id);
      const elsewhere = await createHotel(admin, { name: 'Elsewhere', city: `Other-${randomUUID().slice(0, 8)}` });

      const whole = ok(await anon.get(`/v1/hotels?city=${encodeURIComponent(city)}`), 200);
      expect(whole).to.have.keys(['items', 'nextCursor']);
      expect(whole.nextCursor).to.equal(null);
      expect(whole.items.map((h: any) => h.id)).to.have.members(made);
      for (const h of whole.items) {
        expect(h).to.have.keys(HOTEL_KEYS);
        expect(h.city).to.equal(city);
      }

      const { pages, items } = await allPages(anon, `/v1/hotels?city=${encodeURIComponent(city)}`, 2);
      expect(pages.map((p) => p.length)).to.deep.equal([2, 2, 1]);
      expect(items.map((h: any) => h.id)).to.have.members(made);
      expect(new Set(items.map((h: any) => h.id)).size).to.equal(5);

      // Unfiltered, every hotel shows up exactly once across pages (hotels live in several shard databases).
      const every = await allPages(anon, '/v1/hotels', 3);
      const ids = every.items.map((h: any) => h.id);
      expect(new Set(ids).size).to.equal(ids.length);
      expect(ids).to.include.members([...made, elsewhere.id]);
      expect(every.pages.slice(0, -1).every((p) => p.length === 3)).to.equal(true);
    });

    it('PUT /v1/hotels/:hotelId changes the given fields and keeps the omitted ones', async () => {
      const h = await createHotel(admin, { name: 'Before', city: 'Lyon', overbookingPercent: 15 });
      const renamed = ok(await admin.put(`/v1/hotels/${h.id}`, { name: 'After' }), 200);
      expect(renamed).to.have.keys(HOTEL_KEYS);
      expect(renamed).to.deep.equal({ ...h, name: 'After' });
      const more = ok(await admin.put(`/v1/hotels/${h.id}`, { city: 'Paris', currency: 'USD', overbookingPercent: 20 }), 200);
      expect(more).to.deep.equal({ ...h, name: 'After', city: 'Paris', currency: 'USD', overbookingPercent: 20 });
      expect(ok(await anon.get(`/v1/hotels/${h.id}`), 200)).to.deep.equal(more);
      const same = ok(await admin.put(`/v1/hotels/${h.id}`, {}), 200);
      expect(same).to.deep.equal(more);
      // A new overbooking percent is what sells: 20 rooms at 20% → 24.
      await createRoomType(admin, h.id, { totalInventory: 20 });
      const av = ok(await anon.get(`/v1/hotels/${h.id}/availability?checkIn=${D(1)}&checkOut=${D(2)}`), 200);
      expect(av.roomTypes[0].available).to.equal(24);
      ok(await admin.put(`/v1/hotels/${h.id}`, { overbookingPercent: 5 }), 200);
      const av2 = ok(await anon.get(`/v1/hotels/${h.id}/availability?checkIn=${D(1)}&checkOut=${D(2)}`), 200);
      expect(av2.roomTypes[0].available).to.equal(21);
    });

    it('DELETE /v1/hotels/:hotelId → 204, then 404 everywhere (the hotel, its room types and rooms)', async () => {
      const h = await createHotel(admin, { name: 'Doomed', city: `Doom-${randomUUID().slice(0, 8)}` });
      const rt = await createRoomType(admin, h.id);
      const room = ok(await admin.post(`/v1/hotels/${h.id}/rooms`, { number: '1', roomTypeId: rt.id }), 201);
      const del = await admin.delete(`/v1/hotels/${h.id}`);
      expect(del.status).to.equal(204);
      expect(del.body).to.equal('');
      expectError(await anon.get(`/v1/hotels/${h.id}`), 404, 'not_found');
      expect(ok(await anon.get(`/v1/hotels?city=${encodeURIComponent(h.city)}`), 200).items).to.deep.equal([]);
      // Every route under the deleted hotel answers 404 not_found.
      const after: [string, Promise<HttpResult>][] = [
        ['GET hotel', anon.get(`/v1/hotels/${h.id}`)],
        ['PUT hotel', admin.put(`/v1/hotels/${h.id}`, { name: 'Back' })],
        ['DELETE hotel', admin.delete(`/v1/hotels/${h.id}`)],
        ['GET room types', anon.get(`/v1/hotels/${h.id}/room-types`)],
        ['GET room type', anon.get(`/v1/hotels/${h.id}/room-types/${rt.id}`)],
        ['PUT room type', admin.put(`/v1/hotels/${h.id}/room-types/${rt.id}`, { name: 'X' })],
        ['PUT inventory', admin.put(`/v1/hotels/${h.id}/room-types/${rt.id}/inventory`, { from: D(1), to: D(2), totalInventory: 1 })],
        ['GET availability', anon.get(`/v1/hotels/${h.id}/availability?checkIn=${D(1)}&checkOut=${D(2)}`)],
        ['GET rooms', admin.get(`/v1/hotels/${h.id}/rooms`)],
        ['GET room', admin.get(`/v1/hotels/${h.id}/rooms/${room.id}`)],
        ['PUT room', admin.put(`/v1/hotels/${h.id}/rooms/${room.id}`, { floor: 7 })],
        ['POST reservation', admin.post('/v1/reservations', reservationBody(h.id, rt.id, D(1), D(2)))],
      ];
      const answers: Record<string, string> = {};
      for (const [label, p] of after) {
        const r = await p;
        answers[label] = `${r.status} ${r.body?.error?.code ?? JSON.stringify(r.body).slice(0, 120)}`;
      }
      expect(answers).to.deep.equal(Object.fromEntries(after.map(([label]) => [label, '404 not_found'])));
    });

    it('DELETE /v1/hotels/:hotelId → 409 conflict while a pending reservation exists, 204 once it is canceled', async () => {
      const h = await createHotel(admin, { name: 'Busy' });
      const rt = await createRoomType(admin, h.id);
      const res = ok(await admin.post('/v1/reservations', reservationBody(h.id, rt.id, D(5), D(6))), 201);
      const v = await hotelVersion(env.config, h.id);
      expectError(await admin.delete(`/v1/hotels/${h.id}`), 409, 'conflict');
      expect(await hotelVersion(env.config, h.id)).to.equal(v);
      expect(ok(await anon.get(`/v1/hotels/${h.id}`), 200).id).to.equal(h.id);
      ok(await admin.delete(`/v1/reservations/${res.id}`), 200);
      expect((await admin.delete(`/v1/hotels/${h.id}`)).status).to.equal(204);
      expectError(await anon.get(`/v1/hotels/${h.id}`), 404, 'not_found');
    });
  });

  // Room types --------------------------------------------------------------------------------------------------------

  describe('room types', () => {
    let hotel: any;
    before(async () => {
      hotel = await createHotel(admin, { name: 'Room Type Hotel' });
    });

    it('POST → 201 with Location and every field; inventory and rates exist for every night of the horizon', async () => {
      const sent = { name: 'Deluxe', maxGuests: 3, totalInventory: 20, baseRate: 15000 };
      const r = await admin.post(`/v1/hotels/${hotel.id}/room-types`, sent);
      const t = ok(r, 201);
      expect(t).to.have.keys(ROOM_TYPE_KEYS);
      expect(t.id).to.match(UUID_V7);
      expect(t).to.include({ ...sent, hotelId: hotel.id });
      expect(r.headers.get('location')).to.equal(`/v1/hotels/${hotel.id}/room-types/${t.id}`);
      const nights = await nightsOf(env.config, hotel.id, t.id);
      // The horizon's 730 nights from today, and the two before it (a later time zone further west moves today back).
      expect(nights.length).to.equal(732);
      expect(nights[0].date).to.equal(D(-2));
      expect(nights[2].date).to.equal(D(0));
      expect(nights[731].date).to.equal(D(729));
      expect(nights.every((n) => n.sellableLimit === 22 && n.reserved === 0)).to.equal(true);
      // The last night of the horizon is bookable at once.
      const av = ok(await anon.get(`/v1/hotels/${hotel.id}/availability?checkIn=${D(729)}&checkOut=${D(730)}&roomTypeId=${t.id}`), 200);
      expect(av.roomTypes[0].nights).to.deep.equal([{ date: D(729), totalInventory: 20, reserved: 0, available: 22, rate: 15000, baseRate: 15000 }]);
    });

    it('GET one and GET the list (with limit/cursor) answer the room types', async () => {
      const h = await createHotel(admin, { name: 'Three Types' });
      const made = [];
      for (const name of ['A', 'B', 'C']) made.push(await createRoomType(admin, h.id, { name }));
      for (const t of made) expect(ok(await anon.get(`/v1/hotels/${h.id}/room-types/${t.id}`), 200)).to.deep.equal(t);
      const list = ok(await anon.get(`/v1/hotels/${h.id}/room-types`), 200);
      expect(list).to.have.keys(['items', 'nextCursor']);
      expect(list.nextCursor).to.equal(null);
      expect(list.items).to.have.deep.members(made);
      const { pages, items } = await allPages(anon, `/v1/hotels/${h.id}/room-types`, 2);
      expect(pages.map((p) => p.length)).to.deep.equal([2, 1]);
      expect(items).to.have.deep.members(made);
    });

    it('PUT changes name and maxGuests and keeps the rest', async () => {
      const t = await createRoomType(admin, hotel.id, { name: 'Twin', maxGuests: 2, totalInventory: 4, baseRate: 8000 });
      const renamed = ok(await admin.put(`/v1/hotels/${hotel.id}/room-types/${t.id}`, { name: 'Twin Deluxe' }), 200);
      expect(renamed).to.deep.equal({ ...t, name: 'Twin Deluxe' });
      const bigger = ok(await admin.put(`/v1/hotels/${hotel.id}/room-types/${t.id}`, { maxGuests: 4 }), 200);
      expect(bigger).to.deep.equal({ ...t, name: 'Twin Deluxe', maxGuests: 4 });
      expect(ok(await anon.get(`/v1/hotels/${hotel.id}/room-types/${t.id}`), 200)).to.deep.equal(bigger);
    });

    it('DELETE → 204, then 404, and gone from the list and from availability', async () => {
      const t = await createRoomType(admin, hotel.id, { name: 'Gone' });
      expect((await admin.delete(`/v1/hotels/${hotel.id}/room-types/${t.id}`)).status).to.equal(204);
      expectError(await anon.get(`/v1/hotels/${hotel.id}/room-types/${t.id}`), 404, 'not_found');
      expectError(await admin.delete(`/v1/hotels/${hotel.id}/room-types/${t.id}`), 404, 'not_found');
      expect(ok(await anon.get(`/v1/hotels/${hotel.id}/room-types`), 200).items.map((x: any) => x.id)).to.not.include(t.id);
      const av = ok(await anon.get(`/v1/hotels/${hotel.id}/availability?checkIn=${D(1)}&checkOut=${D(2)}`), 200);
      expect(av.roomTypes.map((x: any) => x.roomTypeId)).to.not.include(t.id);
      expectError(await admin.post('/v1/reservations', reservationBody(hotel.id, t.id, D(1), D(2))), 404, 'not_found');
    });

    it('DELETE → 409 conflict while it holds a pending reservation, 204 once canceled', async () => {
      const t = await createRoomType(admin, hotel.id, { name: 'Held' });
      const res = ok(await admin.post('/v1/reservations', reservationBody(hotel.id, t.id, D(3), D(4))), 201);
      expectError(await admin.delete(`/v1/hotels/${hotel.id}/room-types/${t.id}`), 409, 'conflict');
      expect(ok(await anon.get(`/v1/hotels/${hotel.id}/room-types/${t.id}`), 200).id).to.equal(t.id);
      ok(await admin.delete(`/v1/reservations/${res.id}`), 200);
      expect((await admin.delete(`/v1/hotels/${hotel.id}/room-types/${t.id}`)).status).to.equal(204);
    });
  });

  // Rooms -----------------------------------------------------------------------------------------------------------

  describe('rooms', () => {
    let hotel: any;
    let rt: any;
    let rt2: any;
    before(async () => {
      hotel = await createHotel(admin, { name: 'Room Hotel' });
      rt = await createRoomType(admin, hotel.id);
      rt2 = await createRoomType(admin, hotel.id, { name: 'Single', maxGuests: 1 });
    });

    it('POST → 201 Room with Location; floor is optional (null)', async () => {
      const r = await admin.post(`/v1/hotels/${hotel.id}/rooms`, { number: '101', roomTypeId: rt.id, floor: 1 });
      const room = ok(r, 201);
      expect(room).to.have.keys(ROOM_KEYS);
      expect(room.id).to.match(UUID_V7);
      expect(room).to.deep.equal({ id: room.id, hotelId: hotel.id, roomTypeId: rt.id, number: '101', floor: 1 });
      expect(r.headers.get('location')).to.equal(`/v1/hotels/${hotel.id}/rooms/${room.id}`);
      const noFloor = ok(await admin.post(`/v1/hotels/${hotel.id}/rooms`, { number: 'Penthouse', roomTypeId: rt2.id }), 201);
      expect(noFloor.floor).to.equal(null);
    });

    it('POST → 409 conflict when the number exists in the hotel; the same number in another hotel is fine', async () => {
      ok(await admin.post(`/v1/hotels/${hotel.id}/rooms`, { number: '202', roomTypeId: rt.id }), 201);
      expectError(await admin.post(`/v1/hotels/${hotel.id}/rooms`, { number: '202', roomTypeId: rt2.id, floor: 2 }), 409, 'conflict');
      const other = await createHotel(admin, { name: 'Other Room Hotel' });
      const otherRt = await createRoomType(admin, other.id);
      ok(await admin.post(`/v1/hotels/${other.id}/rooms`, { number: '202', roomTypeId: otherRt.id }), 201);
    });

    it('GET one, GET the list, PUT keeps omitted fields, DELETE → 204 then 404', async () => {
      const room = ok(await admin.post(`/v1/hotels/${hotel.id}/rooms`, { number: '303', roomTypeId: rt.id, floor: 3 }), 201);
      expect(ok(await admin.get(`/v1/hotels/${hotel.id}/rooms/${room.id}`), 200)).to.deep.equal(room);
      const list = ok(await admin.get(`/v1/hotels/${hotel.id}/rooms`), 200);
      expect(list).to.have.keys(['items', 'nextCursor']);
      expect(list.items).to.deep.include(room);
      for (const x of list.items) expect(x).to.have.keys(ROOM_KEYS);
      const paged = await allPages(admin, `/v1/hotels/${hotel.id}/rooms`, 1);
      expect(paged.items.length).to.equal(list.items.length);
      expect(new Set(paged.items.map((x: any) => x.id)).size).to.equal(list.items.length);

      const moved = ok(await admin.put(`/v1/hotels/${hotel.id}/rooms/${room.id}`, { floor: 4 }), 200);
      expect(moved).to.deep.equal({ ...room, floor: 4 });
      const retyped = ok(await admin.put(`/v1/hotels/${hotel.id}/rooms/${room.id}`, { roomTypeId: rt2.id, number: '404' }), 200);
      expect(retyped).to.deep.equal({ ...room, floor: 4, roomTypeId: rt2.id, number: '404' });
      expect(ok(await admin.get(`/v1/hotels/${hotel.id}/rooms/${room.id}`), 200)).to.deep.equal(retyped);
      expectError(await admin.put(`/v1/hotels/${hotel.id}/rooms/${room.id}`, { number: '101' }), 409, 'conflict');

      expect((await admin.delete(`/v1/hotels/${hotel.id}/rooms/${room.id}`)).status).to.equal(204);
      expectError(await admin.get(`/v1/hotels/${hotel.id}/rooms/${room.id}`), 404, 'not_found');
      expectError(await admin.delete(`/v1/hotels/${hotel.id}/rooms/${room.id}`), 404, 'not_found');
      // Its number is free again.
      ok(await admin.post(`/v1/hotels/${hotel.id}/rooms`, { number: '404', roomTypeId: rt.id }), 201);
    });

    it('a room type deleted takes its rooms with it: they are no longer listed, and their numbers are free', async () => {
      const gone = await createRoomType(admin, hotel.id, { name: 'Suite' });
      const room = ok(await admin.post(`/v1/hotels/${hotel.id}/rooms`, { number: '900', roomTypeId: gone.id }), 201);
      expect((await admin.delete(`/v1/hotels/${hotel.id}/room-types/${gone.id}`)).status).to.equal(204);
      const listed = (await allPages(admin, `/v1/hotels/${hotel.id}/rooms`, 50)).items;
      expect(listed.map((x: any) => x.roomTypeId)).to.not.include(gone.id);
      expectError(await admin.get(`/v1/hotels/${hotel.id}/rooms/${room.id}`), 404, 'not_found');
      expectError(await admin.post(`/v1/hotels/${hotel.id}/rooms`, { number: '901', roomTypeId: gone.id }), 404, 'not_found');
      ok(await admin.post(`/v1/hotels/${hotel.id}/rooms`, { number: '900', roomTypeId: rt.id }), 201);
    });
  });

  // Inventory and rates ---------------------------------------------------------------------------------------------

  describe('inventory and rates', () => {
    let hotel: any;
    let rt: any;
    before(async () => {
      hotel = await createHotel(admin, { name: 'ARI Hotel' });
      rt = await createRoomType(admin, hotel.id, { totalInventory: 20, baseRate: 15000 });
    });

    it('PUT inventory and PUT rates → 200 {updatedNights, version}; the version grows; availability shows them', async () => {
      const v0 = await hotelVersion(env.config, hotel.id);
      const inv = ok(await admin.put(`/v1/hotels/${hotel.id}/room-types/${rt.id}/inventory`, { from: D(5), to: D(8), totalInventory: 5 }), 200);
      expect(inv).to.have.keys(['updatedNights', 'version']);
      expect(inv.updatedNights).to.equal(3);
      expect(inv.version).to.be.above(v0);
      expect(await hotelVersion(env.config, hotel.id)).to.equal(inv.version);
      const rates = ok(await admin.put(`/v1/hotels/${hotel.id}/room-types/${rt.id}/rates`, { from: D(6), to: D(7), amount: 20000 }), 200);
      expect(rates).to.have.keys(['updatedNights', 'version']);
      expect(rates.updatedNights).to.equal(1);
      expect(rates.version).to.be.above(inv.version);
      expect(await hotelVersion(env.config, hotel.id)).to.equal(rates.version);

      const av = ok(await anon.get(`/v1/hotels/${hotel.id}/availability?checkIn=${D(4)}&checkOut=${D(9)}`), 200);
      expect(av.version).to.equal(rates.version);
      expect(av.roomTypes).to.have.length(1);
      const t = av.roomTypes[0];
      expect(t.nights).to.deep.equal([
        { date: D(4), totalInventory: 20, reserved: 0, available: 22, rate: 15000, baseRate: 15000 },
        { date: D(5), totalInventory: 5, reserved: 0, available: 5, rate: 15000, baseRate: 15000 },
        { date: D(6), totalInventory: 5, reserved: 0, available: 5, rate: 20000, baseRate: 20000 },
        { date: D(7), totalInventory: 5, reserved: 0, available: 5, rate: 15000, baseRate: 15000 },
        { date: D(8), totalInventory: 20, reserved: 0, available: 22, rate: 15000, baseRate: 15000 },
      ]);
      expect(t.available).to.equal(5);
      expect(t.totalPrice).to.equal(80000);
      const nights = await nightsOf(env.config, hotel.id, rt.id);
      expect(nights.filter((n) => n.date >= D(4) && n.date <= D(8)).map((n) => n.sellableLimit)).to.deep.equal([22, 5, 5, 5, 22]);
      // The whole horizon in one request ([today, today + 730)).
      const all = ok(await admin.put(`/v1/hotels/${hotel.id}/room-types/${rt.id}/rates`, { from: D(0), to: D(730), amount: 14000 }), 200);
      expect(all.updatedNights).to.equal(730);
    });

    it('PUT inventory below what is reserved → 409 inventory_below_reserved, all or nothing', async () => {
      const res = ok(await admin.post('/v1/reservations', reservationBody(hotel.id, rt.id, D(10), D(12), { roomCount: 3 })), 201);
      const before = await nightsOf(env.config, hotel.id, rt.id);
      const v = await hotelVersion(env.config, hotel.id);
      // 2 rooms sell floor(2 × 1.1) = 2 < 3 reserved on D10 and D11; D9 and D12 alone would be fine.
      expectError(
        await admin.put(`/v1/hotels/${hotel.id}/room-types/${rt.id}/inventory`, { from: D(9), to: D(13), totalInventory: 2 }),
        409,
        'inventory_below_reserved',
      );
      expect(await nightsOf(env.config, hotel.id, rt.id)).to.deep.equal(before);
      expect(await hotelVersion(env.config, hotel.id)).to.equal(v);
      // 3 rooms sell floor(3 × 1.1) = 3: exactly what is reserved, accepted.
      const accepted = ok(await admin.put(`/v1/hotels/${hotel.id}/room-types/${rt.id}/inventory`, { from: D(9), to: D(13), totalInventory: 3 }), 200);
      expect(accepted.updatedNights).to.equal(4);
      const av = ok(await anon.get(`/v1/hotels/${hotel.id}/availability?checkIn=${D(9)}&checkOut=${D(13)}`), 200);
      expect(av.roomTypes[0].nights.map((n: any) => [n.totalInventory, n.reserved, n.available])).to.deep.equal([
        [3, 0, 3],
        [3, 3, 0],
        [3, 3, 0],
        [3, 0, 3],
      ]);
      expect(av.roomTypes[0].available).to.equal(0);
      ok(await admin.delete(`/v1/reservations/${res.id}`), 200);
    });
  });

  // Availability ----------------------------------------------------------------------------------------------------

  describe('availability', () => {
    let hotel: any;
    let double: any;
    let single: any;
    before(async () => {
      hotel = await createHotel(admin, { name: 'Availability Hotel' });
      double = await createRoomType(admin, hotel.id, { name: 'Double', totalInventory: 20, baseRate: 15000 });
      single = await createRoomType(admin, hotel.id, { name: 'Single', totalInventory: 7, baseRate: 9000 });
    });

    it('answers the documented shape, one night per date, version and stale:false', async () => {
      const av = ok(await anon.get(`/v1/hotels/${hotel.id}/availability?checkIn=${D(1)}&checkOut=${D(4)}`), 200);
      expect(av).to.have.keys(['hotelId', 'checkIn', 'checkOut', 'version', 'stale', 'roomTypes']);
      expect(av).to.include({ hotelId: hotel.id, checkIn: D(1), checkOut: D(4), stale: false });
      expect(av.version).to.equal(await hotelVersion(env.config, hotel.id));
      expect(av.roomTypes.map((t: any) => t.roomTypeId)).to.have.members([double.id, single.id]);
      for (const t of av.roomTypes) {
        expect(t).to.have.keys(['roomTypeId', 'name', 'available', 'totalPrice', 'nights']);
        expect(t.nights.map((n: any) => n.date)).to.deep.equal(datesOf(D(1), D(4)));
        for (const n of t.nights) expect(n).to.have.keys(['date', 'totalInventory', 'reserved', 'available', 'rate', 'baseRate']);
      }
      const d = av.roomTypes.find((t: any) => t.roomTypeId === double.id);
      expect(d).to.include({ name: 'Double', available: 22, totalPrice: 45000 });
      const s = av.roomTypes.find((t: any) => t.roomTypeId === single.id);
      // floor(7 × 1.1) = 7
      expect(s).to.include({ name: 'Single', available: 7, totalPrice: 27000 });
    });

    it('the sellable limit is floor(total × (100 + overbookingPercent) / 100)', async () => {
      for (const [percent, total, limit] of [
        [0, 20, 20],
        [10, 20, 22],
        [10, 9, 9],
        [25, 3, 3],
        [25, 4, 5],
        [50, 20, 30],
        [50, 0, 0],
      ]) {
        const h = await createHotel(admin, { name: `Overbook ${percent}`, overbookingPercent: percent });
        const t = await createRoomType(admin, h.id, { totalInventory: total });
        const av = ok(await anon.get(`/v1/hotels/${h.id}/availability?checkIn=${D(2)}&checkOut=${D(3)}`), 200);
        expect(av.roomTypes[0].available, `${total} rooms at ${percent}%`).to.equal(limit);
        expect(av.roomTypes[0].nights[0]).to.deep.include({ totalInventory: total, reserved: 0, available: limit });
        expect((await nightsOf(env.config, h.id, t.id))[2].sellableLimit).to.equal(limit);
      }
    });

    it('available is the minimum over the nights; totalPrice is for ?rooms= rooms', async () => {
      ok(await admin.put(`/v1/hotels/${hotel.id}/room-types/${double.id}/rates`, { from: D(21), to: D(22), amount: 18000 }), 200);
      ok(await admin.post('/v1/reservations', reservationBody(hotel.id, double.id, D(21), D(23), { roomCount: 4 })), 201);
      ok(await admin.post('/v1/reservations', reservationBody(hotel.id, double.id, D(22), D(23), { roomCount: 3 })), 201);
      const av = ok(await anon.get(`/v1/hotels/${hotel.id}/availability?checkIn=${D(20)}&checkOut=${D(24)}&roomTypeId=${double.id}&rooms=3`), 200);
      expect(av.roomTypes).to.have.length(1);
      const t = av.roomTypes[0];
      expect(t.nights.map((n: any) => [n.date, n.reserved, n.available, n.rate])).to.deep.equal([
        [D(20), 0, 22, 15000],
        [D(21), 4, 18, 18000],
        [D(22), 7, 15, 15000],
        [D(23), 0, 22, 15000],
      ]);
      expect(t.available).to.equal(15);
      expect(t.totalPrice).to.equal((15000 + 18000 + 15000 + 15000) * 3);
      const one = ok(await anon.get(`/v1/hotels/${hotel.id}/availability?checkIn=${D(20)}&checkOut=${D(24)}&roomTypeId=${double.id}`), 200);
      expect(one.roomTypes[0].totalPrice).to.equal(15000 + 18000 + 15000 + 15000);
    });

    it('?roomTypeId= keeps one room type; an unknown hotel or room type is 404', async () => {
      const av = ok(await anon.get(`/v1/hotels/${hotel.id}/availability?checkIn=${D(1)}&checkOut=${D(2)}&roomTypeId=${single.id}`), 200);
      expect(av.roomTypes.map((t: any) => t.roomTypeId)).to.deep.equal([single.id]);
      expectError(await anon.get(`/v1/hotels/${randomUUID()}/availability?checkIn=${D(1)}&checkOut=${D(2)}`), 404, 'not_found');
      expectError(
        await anon.get(`/v1/hotels/${hotel.id}/availability?checkIn=${D(1)}&checkOut=${D(2)}&roomTypeId=${randomUUID()}`),
        404,
        'not_found',
      );
    });

    it('accepts the bounds: 92 nights from today, and the last night of the horizon', async () => {
      const wide = ok(await anon.get(`/v1/hotels/${hotel.id}/availability?checkIn=${D(0)}&checkOut=${D(92)}&roomTypeId=${single.id}`), 200);
      expect(wide.roomTypes[0].nights).to.have.length(92);
      const last = ok(await anon.get(`/v1/hotels/${hotel.id}/availability?checkIn=${D(700)}&checkOut=${D(730)}&roomTypeId=${single.id}`), 200);
      expect(last.roomTypes[0].nights).to.have.length(30);
      expect(last.roomTypes[0].available).to.equal(7);
    });

    it("dates are the hotel's: today and the horizon follow its time zone", async () => {
      for (const timezone of ['Pacific/Kiritimati', 'Pacific/Pago_Pago', 'Asia/Kolkata']) {
        const h = await createHotel(admin, { name: `TZ ${timezone}`, timezone });
        const t = await createRoomType(admin, h.id, { totalInventory: 2 });
        const today = todayIn(timezone);
        const nights = await nightsOf(env.config, h.id, t.id);
        expect(nights[0].date, timezone).to.equal(plusDays(today, -2));
        expect(nights[2].date, timezone).to.equal(today);
        expect(nights[nights.length - 1].date, timezone).to.equal(plusDays(today, 729));
        const av = await anon.get(`/v1/hotels/${h.id}/availability?checkIn=${today}&checkOut=${plusDays(today, 1)}`);
        expect(ok(av, 200).roomTypes[0].available, timezone).to.equal(2);
        expectError(await anon.get(`/v1/hotels/${h.id}/availability?checkIn=${plusDays(today, -1)}&checkOut=${today}`), 400, 'validation_failed');
        const last = ok(await anon.get(`/v1/hotels/${h.id}/availability?checkIn=${plusDays(today, 729)}&checkOut=${plusDays(today, 730)}`), 200);
        expect(last.roomTypes[0].available, timezone).to.equal(2);
        ok(await admin.post('/v1/reservations', reservationBody(h.id, t.id, today, plusDays(today, 1))), 201);
        expectError(await admin.post('/v1/reservations', reservationBody(h.id, t.id, plusDays(today, -1), today)), 400, 'validation_failed');
        expectError(
          await admin.post('/v1/reservations', reservationBody(h.id, t.id, plusDays(today, 729), plusDays(today, 731))),
          400,
          'validation_failed',
        );
        ok(await admin.post('/v1/reservations', reservationBody(h.id, t.id, plusDays(today, 728), plusDays(today, 730))), 201);
      }
    });

    it('a hotel without room types answers an empty list', async () => {
      const h = await createHotel(admin, { name: 'Empty' });
      const av = ok(await anon.get(`/v1/hotels/${h.id}/availability?checkIn=${D(1)}&checkOut=${D(2)}`), 200);
      expect(av.roomTypes).to.deep.equal([]);
    });
  });

  // Reservations ----------------------------------------------------------------------------------------------------

  describe('reservations', () => {
    let hotel: any;
    let rt: any;
    let staff: HttpClient;
    let partner: HttpClient;
    let guest: HttpClient;
    let guestCreated: any;
    let partnerCreated: any;

    before(async () => {
      hotel = await createHotel(admin, { name: 'Reservation Hotel', currency: 'CHF', country: 'CH' });
      rt = await createRoomType(admin, hotel.id, { totalInventory: 10, baseRate: 15000 });
      staff = admin.as(await createKey(admin, 'staff', [hotel.id]));
      partner = admin.as(await createKey(admin, 'partner', []));
      guest = admin.as((await createGuest(admin)).token);
      ok(await admin.put(`/v1/hotels/${hotel.id}/room-types/${rt.id}/rates`, { from: D(3), to: D(4), amount: 17000 }), 200);
    });

    it('POST → 201 pending, totalAmount = sum of nightly rates × roomCount, expiresAt = createdAt + 900 s', async () => {
      const body = reservationBody(hotel.id, rt.id, D(2), D(5), { roomCount: 2, guest: { name: 'Grace Hopper', email: 'grace@example.com' } });
      const before = await hotelVersion(env.config, hotel.id);
      const sentAt = Date.now();
      const r = await guest.post('/v1/reservations', body);
      const res = ok(r, 201);
      expect(res).to.have.keys(RESERVATION_KEYS);
      expect(r.headers.get('location')).to.equal(`/v1/reservations/${body.reservationId}`);
      expect(res).to.deep.include({
        id: body.reservationId,
        hotelId: hotel.id,
        roomTypeId: rt.id,
        checkIn: D(2),
        checkOut: D(5),
        roomCount: 2,
        status: 'pending',
        totalAmount: (15000 + 17000 + 15000) * 2,
        currency: 'CHF',
        guest: { name: 'Grace Hopper', email: 'grace@example.com' },
        cancelReason: null,
      });
      expect(res.version).to.be.a('number');
      expect(Math.abs(Date.parse(res.createdAt) - sentAt)).to.be.below(30_000);
      expect(Date.parse(res.expiresAt) - Date.parse(res.createdAt)).to.equal(900_000);
      expect(Math.abs(Date.parse(res.expiresAt) - (sentAt + 900_000))).to.be.below(30_000);
      expect(await hotelVersion(env.config, hotel.id)).to.be.above(before);
      // The rooms are held: in the database and in availability.
      const nights = (await nightsOf(env.config, hotel.id, rt.id)).filter((n) => n.date >= D(2) && n.date < D(5));
      expect(nights.map((n) => [n.reserved, n.held])).to.deep.equal([
        [2, 2],
        [2, 2],
        [2, 2],
      ]);
      const av = ok(await anon.get(`/v1/hotels/${hotel.id}/availability?checkIn=${D(2)}&checkOut=${D(5)}`), 200);
      expect(av.roomTypes[0].nights.map((n: any) => n.reserved)).to.deep.equal([2, 2, 2]);
      expect(av.roomTypes[0].available).to.equal(9);
      // The same body again: 200 with the same reservation, nothing more held.
      const again = await guest.post('/v1/reservations', body);
      expect(ok(again, 200)).to.deep.equal(res);
      expect((await nightsOf(env.config, hotel.id, rt.id)).find((n) => n.date === D(2))?.reserved).to.equal(2);
      guestCreated = res;
    });

    it('roomCount defaults to 1', async () => {
      const body: Record<string, unknown> = reservationBody(hotel.id, rt.id, D(6), D(7));
      delete body.roomCount;
      const res = ok(await partner.post('/v1/reservations', body), 201);
      expect(res.roomCount).to.equal(1);
      expect(res.totalAmount).to.equal(15000);
      partnerCreated = res;
    });

    it('GET /v1/reservations/:id answers the owner, staff of the hotel and admin', async () => {
      for (const c of [guest, staff, admin]) expect(ok(await c.get(`/v1/reservations/${guestCreated.id}`), 200)).to.deep.equal(guestCreated);
      for (const c of [partner, staff, admin]) expect(ok(await c.get(`/v1/reservations/${partnerCreated.id}`), 200)).to.deep.equal(partnerCreated);
    });

    it('GET /v1/reservations lists a hotel’s for staff and admin (with ?status=), and only their own for guest and partner', async () => {
      const staffList = ok(await staff.get(`/v1/reservations?hotelId=${hotel.id}`), 200);
      expect(staffList).to.have.keys(['items', 'nextCursor']);
      expect(staffList.items.map((r: any) => r.id)).to.include.members([guestCreated.id, partnerCreated.id]);
      for (const r of staffList.items) {
        expect(r).to.have.keys(RESERVATION_KEYS);
        expect(r.hotelId).to.equal(hotel.id);
      }
      expect(staffList.items.find((r: any) => r.id === guestCreated.id)).to.deep.equal(guestCreated);
      const pending = ok(await staff.get(`/v1/reservations?hotelId=${hotel.id}&status=pending`), 200);
      expect(pending.items.map((r: any) => r.id)).to.include.members([guestCreated.id, partnerCreated.id]);
      expect(pending.items.every((r: any) => r.status === 'pending')).to.equal(true);
      expect(ok(await staff.get(`/v1/reservations?hotelId=${hotel.id}&status=canceled`), 200).items.map((r: any) => r.id)).to.not.include(
        guestCreated.id,
      );
      const adminList = ok(await admin.get(`/v1/reservations?hotelId=${hotel.id}`), 200);
      expect(adminList.items.map((r: any) => r.id)).to.include.members([guestCreated.id, partnerCreated.id]);
      expect(adminList.items.every((r: any) => r.hotelId === hotel.id)).to.equal(true);
      const paged = await allPages(admin, `/v1/reservations?hotelId=${hotel.id}`, 1);
      expect(paged.items.map((r: any) => r.id)).to.have.members(adminList.items.map((r: any) => r.id));

      const mine = ok(await guest.get('/v1/reservations'), 200);
      expect(mine.items.map((r: any) => r.id)).to.deep.equal([guestCreated.id]);
      expect(ok(await guest.get(`/v1/reservations?hotelId=${hotel.id}&status=pending`), 200).items.map((r: any) => r.id)).to.deep.equal([
        guestCreated.id,
      ]);
      expect(ok(await guest.get('/v1/reservations?status=canceled'), 200).items).to.deep.equal([]);
      const partnerList = ok(await partner.get('/v1/reservations'), 200);
      expect(partnerList.items.map((r: any) => r.id)).to.deep.equal([partnerCreated.id]);
    });

    it('DELETE a pending reservation → 200 canceled; again → the same 200; the rooms are given back', async () => {
      const before = ok(await anon.get(`/v1/hotels/${hotel.id}/availability?checkIn=${D(2)}&checkOut=${D(5)}`), 200);
      expect(before.roomTypes[0].available).to.equal(9);
      const first = await guest.delete(`/v1/reservations/${guestCreated.id}`);
      const canceled = ok(first, 200);
      expect(canceled).to.have.keys(RESERVATION_KEYS);
      expect(canceled).to.deep.include({ id: guestCreated.id, status: 'canceled', totalAmount: guestCreated.totalAmount, roomCount: 2 });
      expect(canceled.version).to.be.above(guestCreated.version);
      const second = ok(await guest.delete(`/v1/reservations/${guestCreated.id}`), 200);
      expect(second).to.deep.equal(canceled);
      expect(ok(await guest.get(`/v1/reservations/${guestCreated.id}`), 200)).to.deep.equal(canceled);
      const after = ok(await anon.get(`/v1/hotels/${hotel.id}/availability?checkIn=${D(2)}&checkOut=${D(5)}`), 200);
      expect(after.roomTypes[0].nights.map((n: any) => n.reserved)).to.deep.equal([0, 0, 0]);
      expect(after.roomTypes[0].available).to.equal(11);
      const nights = (await nightsOf(env.config, hotel.id, rt.id)).filter((n) => n.date >= D(2) && n.date < D(5));
      expect(nights.every((n) => n.reserved === 0 && n.held === 0)).to.equal(true);
      // Listed under its new status.
      expect(ok(await staff.get(`/v1/reservations?hotelId=${hotel.id}&status=canceled`), 200).items.map((r: any) => r.id)).to.include(
        guestCreated.id,
      );
      expect(ok(await guest.get('/v1/reservations?status=pending'), 200).items).to.deep.equal([]);
    });

    it('DELETE once the stay has begun → 409 invalid_status, and the rooms stay held', async () => {
      const res = ok(await guest.post('/v1/reservations', reservationBody(hotel.id, rt.id, D(0), D(2))), 201);
      const err = expectError(await guest.delete(`/v1/reservations/${res.id}`), 409, 'invalid_status');
      expect(err.message).to.be.a('string');
      expect(ok(await guest.get(`/v1/reservations/${res.id}`), 200).status).to.equal('pending');
      expect((await nightsOf(env.config, hotel.id, rt.id)).find((n) => n.date === D(0))).to.deep.include({ reserved: 1, held: 1 });
    });

    it('staff and admin cancel reservations of the hotel', async () => {
      const byStaff = ok(await staff.delete(`/v1/reservations/${partnerCreated.id}`), 200);
      expect(byStaff.status).to.equal('canceled');
      expect(ok(await partner.get(`/v1/reservations/${partnerCreated.id}`), 200).status).to.equal('canceled');
      const other = ok(await partner.post('/v1/reservations', reservationBody(hotel.id, rt.id, D(8), D(9))), 201);
      expect(ok(await admin.delete(`/v1/reservations/${other.id}`), 200).status).to.equal('canceled');
    });

    it('POST when a night lacks rooms → 409 sold_out with details.alternatives of the documented shape', async () => {
      const h = await createHotel(admin, { name: 'Sold Out Hotel' });
      // 1 room sells floor(1.1) = 1.
      const single = await createRoomType(admin, h.id, { name: 'Single', totalInventory: 1, baseRate: 10000 });
      const double = await createRoomType(admin, h.id, { name: 'Double', totalInventory: 20, baseRate: 15000 });
      ok(await admin.post('/v1/reservations', reservationBody(h.id, single.id, D(10), D(12))), 201);
      const nightsBefore = await nightsOf(env.config, h.id, single.id);
      const v = await hotelVersion(env.config, h.id);

      const body = reservationBody(h.id, single.id, D(10), D(12));
      const err = expectError(await guest.post('/v1/reservations', body), 409, 'sold_out');
      const alternatives = err.details?.alternatives;
      expect(alternatives, JSON.stringify(err)).to.be.an('array');
      expect(alternatives.length).to.be.within(1, 5);
      for (const a of alternatives) {
        expect(a).to.have.keys(ALTERNATIVE_KEYS);
        expect(a.available).to.be.at.least(1);
        expect(daysBetween(a.checkIn, a.checkOut)).to.equal(2);
      }
      // Other room types for the same dates first ...
      expect(alternatives[0]).to.deep.equal({ roomTypeId: double.id, checkIn: D(10), checkOut: D(12), available: 22, totalPrice: 30000 });
      // ... then the same room type shifted by up to 3 days (never over the sold-out nights).
      const shifted = alternatives.slice(1);
      expect(shifted.length).to.be.at.least(1);
      for (const a of shifted) {
        expect(a.roomTypeId).to.equal(single.id);
        const shift = daysBetween(D(10), a.checkIn);
        expect(Math.abs(shift)).to.be.within(2, 3);
        expect(a).to.deep.include({ available: 1, totalPrice: 20000 });
      }
      // Shifts of ±1 would overlap the sold-out nights; ±2 and ±3 fit in the five offered.
      expect(shifted.map((a: any) => a.checkIn)).to.have.members([D(12), D(8), D(13), D(7)]);
      // Nothing changed, and the reservation does not exist.
      expect(await nightsOf(env.config, h.id, single.id)).to.deep.equal(nightsBefore);
      expect(await hotelVersion(env.config, h.id)).to.equal(v);
      expectError(await guest.get(`/v1/reservations/${body.reservationId}`), 404, 'not_found');
      // An alternative is bookable as offered.
      const alt = alternatives[1];
      const booked = ok(await guest.post('/v1/reservations', reservationBody(h.id, alt.roomTypeId, alt.checkIn, alt.checkOut)), 201);
      expect(booked.totalAmount).to.equal(alt.totalPrice);
    });

    it('more rooms than are left on one night → sold_out; the rest of the stay is not held', async () => {
      const h = await createHotel(admin, { name: 'Partly Full' });
      const t = await createRoomType(admin, h.id, { totalInventory: 10 });
      ok(await admin.post('/v1/reservations', reservationBody(h.id, t.id, D(5), D(6), { roomCount: 10 })), 201);
      // 11 sellable, 10 held on D5: 2 more rooms do not fit.
      const before = await nightsOf(env.config, h.id, t.id);
      const err = expectError(await admin.post('/v1/reservations', reservationBody(h.id, t.id, D(3), D(7), { roomCount: 2 })), 409, 'sold_out');
      expect(err.details.alternatives).to.be.an('array');
      expect(await nightsOf(env.config, h.id, t.id)).to.deep.equal(before);
      ok(await admin.post('/v1/reservations', reservationBody(h.id, t.id, D(3), D(7), { roomCount: 1 })), 201);
    });
  });
});
