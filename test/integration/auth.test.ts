// Who may do what (API.md "Principals and auth"): 401 without or with a bad token, 403 for the wrong role or
// hotel scope, 404 for another principal's reservation, public reads, key revocation, users and sessions.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import pg from 'pg';
import { nightsOf } from '../support/db.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { createGuest, createHotel, createKey, createRoomType, dayFromToday, reservationBody } from '../support/fixtures.js';
import type { HttpClient, HttpResult } from '../support/http.js';
import { startStack, type Stack } from '../support/stack.js';

const D = dayFromToday;

function expectError(r: HttpResult, status: number, code: string): void {
  const shown = JSON.stringify(r.body);
  expect(r.status, shown).to.equal(status);
  expect(r.body?.error?.code, shown).to.equal(code);
  expect(r.body.error.message, shown).to.be.a('string').and.not.equal('');
}

describe('auth: principals, roles and scopes', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let stack: Stack;
  let admin: HttpClient;
  let anon: HttpClient;
  // Hotel A and hotel B, each with a room type, a room and a pending reservation made by admin.
  let A: { hotel: any; rt: any; room: any; res: any };
  let B: { hotel: any; rt: any; room: any; res: any };
  let staffA: HttpClient;
  let partnerA: HttpClient;
  let partnerB: HttpClient;
  let guest1: HttpClient;
  let guest2: HttpClient;

  const setUpHotel = async (name: string) => {
    const hotel = await createHotel(admin, { name });
    const rt = await createRoomType(admin, hotel.id);
    const room = await admin.post(`/v1/hotels/${hotel.id}/rooms`, { number: '1', roomTypeId: rt.id });
    expect(room.status, JSON.stringify(room.body)).to.equal(201);
    const res = await admin.post('/v1/reservations', reservationBody(hotel.id, rt.id, D(10), D(12)));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return { hotel, rt, room: room.body, res: res.body };
  };

  before(async () => {
    env = await createTestEnv();
    stack = await startStack(env.config);
    admin = stack.admin;
    anon = admin.as(undefined);
    A = await setUpHotel('Hotel A');
    B = await setUpHotel('Hotel B');
    staffA = admin.as(await createKey(admin, 'staff', [A.hotel.id]));
    partnerA = admin.as(await createKey(admin, 'partner', [A.hotel.id]));
    partnerB = admin.as(await createKey(admin, 'partner', [B.hotel.id]));
    guest1 = admin.as((await createGuest(admin)).token);
    guest2 = admin.as((await createGuest(admin)).token);
  });

  after(async () => {
    await stack?.stop();
    await env?.cleanup();
  });

  /** Every route that needs a token, with a body that would otherwise be valid. */
  const protectedRoutes = (): { method: string; path: string; body?: unknown }[] => {
    const h = A.hotel.id;
    const t = A.rt.id;
    return [
      { method: 'POST', path: '/v1/api-keys', body: { name: 'k', role: 'partner' } },
      { method: 'DELETE', path: `/v1/api-keys/${randomUUID()}` },
      { method: 'POST', path: '/v1/hotels', body: { name: 'N', city: 'C', country: 'FR', timezone: 'UTC', currency: 'EUR' } },
      { method: 'PUT', path: `/v1/hotels/${h}`, body: { name: 'Renamed' } },
      { method: 'DELETE', path: `/v1/hotels/${h}` },
      { method: 'POST', path: `/v1/hotels/${h}/room-types`, body: { name: 'X', maxGuests: 2, totalInventory: 1, baseRate: 100 } },
      { method: 'PUT', path: `/v1/hotels/${h}/room-types/${t}`, body: { name: 'Renamed' } },
      { method: 'DELETE', path: `/v1/hotels/${h}/room-types/${t}` },
      { method: 'POST', path: `/v1/hotels/${h}/rooms`, body: { number: '2', roomTypeId: t } },
      { method: 'GET', path: `/v1/hotels/${h}/rooms` },
      { method: 'GET', path: `/v1/hotels/${h}/rooms/${A.room.id}` },
      { method: 'PUT', path: `/v1/hotels/${h}/rooms/${A.room.id}`, body: { floor: 3 } },
      { method: 'DELETE', path: `/v1/hotels/${h}/rooms/${A.room.id}` },
      { method: 'PUT', path: `/v1/hotels/${h}/room-types/${t}/inventory`, body: { from: D(1), to: D(2), totalInventory: 1 } },
      { method: 'PUT', path: `/v1/hotels/${h}/room-types/${t}/rates`, body: { from: D(1), to: D(2), amount: 1 } },
      { method: 'POST', path: '/v1/reservations', body: reservationBody(h, t, D(3), D(4)) },
      { method: 'GET', path: '/v1/reservations' },
      { method: 'GET', path: `/v1/reservations?hotelId=${h}` },
      { method: 'GET', path: `/v1/reservations/${A.res.id}` },
      { method: 'DELETE', path: `/v1/reservations/${A.res.id}` },
    ];
  };

  describe('401 unauthorized', () => {
    it('every route that needs a token answers 401 without one, and changes nothing', async () => {
      const nightsBefore = await nightsOf(env.config, A.hotel.id, A.rt.id);
      for (const r of protectedRoutes()) {
        const res = await anon.request(r.method, r.path, r.body);
        expect(res.status, `${r.method} ${r.path}: ${JSON.stringify(res.body)}`).to.equal(401);
        expectError(res, 401, 'unauthorized');
      }
      expect(await nightsOf(env.config, A.hotel.id, A.rt.id)).to.deep.equal(nightsBefore);
      expect((await admin.get(`/v1/reservations/${A.res.id}`)).body.status).to.equal('pending');
      expect((await admin.get(`/v1/hotels/${A.hotel.id}`)).body.name).to.equal('Hotel A');
    });

    it('a write without a token is 401 even when its body is malformed JSON', async () => {
      expectError(await anon.post('/v1/hotels', '{"name": '), 401, 'unauthorized');
      expectError(await anon.post('/v1/reservations', '{"x'), 401, 'unauthorized');
      expectError(await anon.put(`/v1/hotels/${A.hotel.id}/room-types/${A.rt.id}/inventory`, '{'), 401, 'unauthorized');
    });

    it('every route that needs a token answers 401 with a garbage token', async () => {
      const bad = admin.as('garbage-token');
      for (const r of protectedRoutes()) {
        const res = await bad.request(r.method, r.path, r.body);
        expect(res.status, `${r.method} ${r.path}: ${JSON.stringify(res.body)}`).to.equal(401);
        expectError(res, 401, 'unauthorized');
      }
    });

    it('a given but invalid token is 401 on public routes too', async () => {
      const publicRoutes = [
        `/v1/hotels`,
        `/v1/hotels/${A.hotel.id}`,
        `/v1/hotels/${A.hotel.id}/room-types`,
        `/v1/hotels/${A.hotel.id}/room-types/${A.rt.id}`,
        `/v1/hotels/${A.hotel.id}/availability?checkIn=${D(1)}&checkOut=${D(2)}`,
      ];
      for (const token of ['garbage', 'bk_looks-like-a-key-but-is-not', 'bs_looks-like-a-session-but-is-not', 'test-admin-token-0123456789x']) {
        for (const p of publicRoutes) expectError(await admin.as(token).get(p), 401, 'unauthorized');
        expectError(
          await admin.as(token).post('/v1/users', { email: `${randomUUID()}@example.com`, password: 'long enough', name: 'X' }),
          401,
          'unauthorized',
        );
        expectError(await admin.as(token).post('/v1/sessions', { email: 'x@example.com', password: 'long enough' }), 401, 'unauthorized');
      }
    });

    it('an Authorization header that is not "Bearer <token>" is 401', async () => {
      for (const header of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', 'test-admin-token-0123456789']) {
        expectError(await anon.request('GET', '/v1/hotels', undefined, { authorization: header }), 401, 'unauthorized');
        expectError(await anon.request('GET', '/v1/reservations', undefined, { authorization: header }), 401, 'unauthorized');
      }
    });
  });

  describe('403 forbidden', () => {
    const hotelBody = { name: 'N', city: 'C', country: 'FR', timezone: 'UTC', currency: 'EUR' };

    it('only admin creates hotels', async () => {
      for (const c of [partnerA, staffA, guest1]) expectError(await c.post('/v1/hotels', hotelBody), 403, 'forbidden');
    });

    it('only admin deletes hotels (staff of the hotel included)', async () => {
      for (const c of [staffA, partnerA, guest1]) expectError(await c.delete(`/v1/hotels/${A.hotel.id}`), 403, 'forbidden');
      expect((await anon.get(`/v1/hotels/${A.hotel.id}`)).status).to.equal(200);
    });

    it('only admin creates and revokes API keys', async () => {
      for (const c of [staffA, partnerA, guest1]) {
        expectError(await c.post('/v1/api-keys', { name: 'k', role: 'admin' }), 403, 'forbidden');
        expectError(await c.delete(`/v1/api-keys/${randomUUID()}`), 403, 'forbidden');
      }
    });

    it('a guest cannot set inventory or rates, nor manage room types and rooms', async () => {
      const h = A.hotel.id;
      const t = A.rt.id;
      expectError(await guest1.put(`/v1/hotels/${h}/room-types/${t}/inventory`, { from: D(1), to: D(2), totalInventory: 1 }), 403, 'forbidden');
      expectError(await guest1.put(`/v1/hotels/${h}/room-types/${t}/rates`, { from: D(1), to: D(2), amount: 1 }), 403, 'forbidden');
      expectError(await guest1.post(`/v1/hotels/${h}/room-types`, { name: 'X', maxGuests: 1, totalInventory: 1, baseRate: 1 }), 403, 'forbidden');
      expectError(await guest1.put(`/v1/hotels/${h}`, { name: 'Mine' }), 403, 'forbidden');
      expectError(await guest1.get(`/v1/hotels/${h}/rooms`), 403, 'forbidden');
    });

    it('a partner pushes inventory and rates only for the hotels of its key', async () => {
      const before = await nightsOf(env.config, B.hotel.id, B.rt.id);
      expectError(
        await partnerA.put(`/v1/hotels/${B.hotel.id}/room-types/${B.rt.id}/inventory`, { from: D(1), to: D(2), totalInventory: 1 }),
        403,
        'forbidden',
      );
      expectError(await partnerA.put(`/v1/hotels/${B.hotel.id}/room-types/${B.rt.id}/rates`, { from: D(1), to: D(2), amount: 1 }), 403, 'forbidden');
      expect(await nightsOf(env.config, B.hotel.id, B.rt.id)).to.deep.equal(before);
      // ... and for its own hotel it may.
      const ok = await partnerA.put(`/v1/hotels/${A.hotel.id}/room-types/${A.rt.id}/rates`, { from: D(100), to: D(101), amount: 16000 });
      expect(ok.status, JSON.stringify(ok.body)).to.equal(200);
      const inv = await partnerA.put(`/v1/hotels/${A.hotel.id}/room-types/${A.rt.id}/inventory`, { from: D(100), to: D(101), totalInventory: 21 });
      expect(inv.status, JSON.stringify(inv.body)).to.equal(200);
    });

    it('a partner does not manage hotels, room types or rooms, even of its own hotel', async () => {
      const h = A.hotel.id;
      expectError(await partnerA.put(`/v1/hotels/${h}`, { name: 'P' }), 403, 'forbidden');
      expectError(await partnerA.post(`/v1/hotels/${h}/room-types`, { name: 'X', maxGuests: 1, totalInventory: 1, baseRate: 1 }), 403, 'forbidden');
      expectError(await partnerA.delete(`/v1/hotels/${h}/room-types/${A.rt.id}`), 403, 'forbidden');
      expectError(await partnerA.post(`/v1/hotels/${h}/rooms`, { number: '9', roomTypeId: A.rt.id }), 403, 'forbidden');
    });

    it("staff of hotel A cannot touch hotel B's hotel, room types, rooms, inventory, rates or reservations", async () => {
      const h = B.hotel.id;
      const t = B.rt.id;
      const nightsBefore = await nightsOf(env.config, h, t);
      expectError(await staffA.put(`/v1/hotels/${h}`, { name: 'Taken over' }), 403, 'forbidden');
      expectError(await staffA.post(`/v1/hotels/${h}/room-types`, { name: 'X', maxGuests: 1, totalInventory: 1, baseRate: 1 }), 403, 'forbidden');
      expectError(await staffA.put(`/v1/hotels/${h}/room-types/${t}`, { name: 'X' }), 403, 'forbidden');
      expectError(await staffA.delete(`/v1/hotels/${h}/room-types/${t}`), 403, 'forbidden');
      expectError(await staffA.post(`/v1/hotels/${h}/rooms`, { number: '77', roomTypeId: t }), 403, 'forbidden');
      expectError(await staffA.get(`/v1/hotels/${h}/rooms`), 403, 'forbidden');
      expectError(await staffA.get(`/v1/hotels/${h}/rooms/${B.room.id}`), 403, 'forbidden');
      expectError(await staffA.put(`/v1/hotels/${h}/rooms/${B.room.id}`, { floor: 5 }), 403, 'forbidden');
      expectError(await staffA.delete(`/v1/hotels/${h}/rooms/${B.room.id}`), 403, 'forbidden');
      expectError(await staffA.put(`/v1/hotels/${h}/room-types/${t}/inventory`, { from: D(1), to: D(2), totalInventory: 0 }), 403, 'forbidden');
      expectError(await staffA.put(`/v1/hotels/${h}/room-types/${t}/rates`, { from: D(1), to: D(2), amount: 1 }), 403, 'forbidden');
      expectError(await staffA.post('/v1/reservations', reservationBody(h, t, D(3), D(4))), 403, 'forbidden');
      expectError(await staffA.get(`/v1/reservations?hotelId=${h}`), 403, 'forbidden');
      // Another hotel's reservation does not exist for this key.
      expectError(await staffA.get(`/v1/reservations/${B.res.id}`), 404, 'not_found');
      expectError(await staffA.delete(`/v1/reservations/${B.res.id}`), 404, 'not_found');
      // Nothing moved.
      expect(await nightsOf(env.config, h, t)).to.deep.equal(nightsBefore);
      expect((await admin.get(`/v1/reservations/${B.res.id}`)).body.status).to.equal('pending');
      expect((await anon.get(`/v1/hotels/${h}`)).body.name).to.equal('Hotel B');
      expect((await anon.get(`/v1/hotels/${h}/room-types/${t}`)).body.name).to.equal('Double');
      expect((await admin.get(`/v1/hotels/${h}/rooms/${B.room.id}`)).body.floor).to.equal(null);
      const list = await staffA.get('/v1/reservations');
      expect(list.status).to.equal(200);
      expect(list.body.items.map((r: any) => r.hotelId)).to.not.include(h);
    });
  });

  describe('staff scoped to its hotel manages it', () => {
    it('updates the hotel, creates/updates/deletes room types and rooms, sets inventory and rates', async () => {
      const h = A.hotel.id;
      const put = await staffA.put(`/v1/hotels/${h}`, { city: 'Annecy' });
      expect(put.status, JSON.stringify(put.body)).to.equal(200);
      expect(put.body.city).to.equal('Annecy');
      const rt = await staffA.post(`/v1/hotels/${h}/room-types`, { name: 'Suite', maxGuests: 4, totalInventory: 3, baseRate: 30000 });
      expect(rt.status, JSON.stringify(rt.body)).to.equal(201);
      const rtPut = await staffA.put(`/v1/hotels/${h}/room-types/${rt.body.id}`, { name: 'Grand Suite' });
      expect(rtPut.status, JSON.stringify(rtPut.body)).to.equal(200);
      const inv = await staffA.put(`/v1/hotels/${h}/room-types/${rt.body.id}/inventory`, { from: D(1), to: D(4), totalInventory: 5 });
      expect(inv.status, JSON.stringify(inv.body)).to.equal(200);
      expect(inv.body.updatedNights).to.equal(3);
      const rates = await staffA.put(`/v1/hotels/${h}/room-types/${rt.body.id}/rates`, { from: D(1), to: D(4), amount: 31000 });
      expect(rates.status, JSON.stringify(rates.body)).to.equal(200);
      const room = await staffA.post(`/v1/hotels/${h}/rooms`, { number: '501', roomTypeId: rt.body.id, floor: 5 });
      expect(room.status, JSON.stringify(room.body)).to.equal(201);
      expect((await staffA.get(`/v1/hotels/${h}/rooms`)).status).to.equal(200);
      expect((await staffA.get(`/v1/hotels/${h}/rooms/${room.body.id}`)).status).to.equal(200);
      expect((await staffA.put(`/v1/hotels/${h}/rooms/${room.body.id}`, { floor: 6 })).body.floor).to.equal(6);
      expect((await staffA.delete(`/v1/hotels/${h}/rooms/${room.body.id}`)).status).to.equal(204);
      expect((await staffA.delete(`/v1/hotels/${h}/room-types/${rt.body.id}`)).status).to.equal(204);
    });

    it("sees, lists and cancels its hotel's reservations, and creates reservations there", async () => {
      const g = await guest1.post('/v1/reservations', reservationBody(A.hotel.id, A.rt.id, D(30), D(31)));
      expect(g.status, JSON.stringify(g.body)).to.equal(201);
      expect((await staffA.get(`/v1/reservations/${g.body.id}`)).status).to.equal(200);
      const list = await staffA.get(`/v1/reservations?hotelId=${A.hotel.id}`);
      expect(list.status).to.equal(200);
      expect(list.body.items.map((r: any) => r.id)).to.include.members([g.body.id, A.res.id]);
      const all = await staffA.get('/v1/reservations');
      expect(all.body.items.map((r: any) => r.id)).to.include(g.body.id);
      const del = await staffA.delete(`/v1/reservations/${g.body.id}`);
      expect(del.status, JSON.stringify(del.body)).to.equal(200);
      expect(del.body.status).to.equal('canceled');
      const own = await staffA.post('/v1/reservations', reservationBody(A.hotel.id, A.rt.id, D(32), D(33)));
      expect(own.status, JSON.stringify(own.body)).to.equal(201);
    });
  });

  describe("another principal's reservation is 404", () => {
    it('guest B neither sees nor cancels guest A’s reservation', async () => {
      const r = await guest1.post('/v1/reservations', reservationBody(A.hotel.id, A.rt.id, D(40), D(41)));
      expect(r.status, JSON.stringify(r.body)).to.equal(201);
      expectError(await guest2.get(`/v1/reservations/${r.body.id}`), 404, 'not_found');
      expectError(await guest2.delete(`/v1/reservations/${r.body.id}`), 404, 'not_found');
      const list = await guest2.get('/v1/reservations');
      expect(list.status).to.equal(200);
      expect(list.body.items.map((x: any) => x.id)).to.not.include(r.body.id);
      const listByHotel = await guest2.get(`/v1/reservations?hotelId=${A.hotel.id}`);
      expect(listByHotel.body.items.map((x: any) => x.id)).to.not.include(r.body.id);
      // The owner still sees it pending.
      const mine = await guest1.get(`/v1/reservations/${r.body.id}`);
      expect(mine.status).to.equal(200);
      expect(mine.body.status).to.equal('pending');
    });

    it('a partner neither sees nor cancels another partner’s reservation (even for its own hotel)', async () => {
      const r = await partnerB.post('/v1/reservations', reservationBody(A.hotel.id, A.rt.id, D(42), D(43)));
      expect(r.status, JSON.stringify(r.body)).to.equal(201);
      expectError(await partnerA.get(`/v1/reservations/${r.body.id}`), 404, 'not_found');
      expectError(await partnerA.delete(`/v1/reservations/${r.body.id}`), 404, 'not_found');
      expect((await partnerA.get('/v1/reservations')).body.items.map((x: any) => x.id)).to.not.include(r.body.id);
      expect((await partnerA.get(`/v1/reservations?hotelId=${A.hotel.id}`)).body.items.map((x: any) => x.id)).to.not.include(r.body.id);
      const mine = await partnerB.get(`/v1/reservations/${r.body.id}`);
      expect(mine.status).to.equal(200);
      expect(mine.body.status).to.equal('pending');
    });

    it('a guest does not see a reservation made by admin or a partner, nor staff of another hotel', async () => {
      expectError(await guest1.get(`/v1/reservations/${A.res.id}`), 404, 'not_found');
      expectError(await guest1.delete(`/v1/reservations/${A.res.id}`), 404, 'not_found');
      expectError(await partnerA.get(`/v1/reservations/${A.res.id}`), 404, 'not_found');
      expect((await admin.get(`/v1/reservations/${A.res.id}`)).body.status).to.equal('pending');
    });
  });

  describe('public reads', () => {
    it('GET of hotels, room types, availability and /healthz work without a token', async () => {
      const list = await anon.get('/v1/hotels');
      expect(list.status).to.equal(200);
      expect(list.body.items.map((h: any) => h.id)).to.include.members([A.hotel.id, B.hotel.id]);
      expect((await anon.get(`/v1/hotels/${A.hotel.id}`)).status).to.equal(200);
      expect((await anon.get(`/v1/hotels/${A.hotel.id}/room-types`)).status).to.equal(200);
      expect((await anon.get(`/v1/hotels/${A.hotel.id}/room-types/${A.rt.id}`)).status).to.equal(200);
      const av = await anon.get(`/v1/hotels/${A.hotel.id}/availability?checkIn=${D(1)}&checkOut=${D(3)}`);
      expect(av.status, JSON.stringify(av.body)).to.equal(200);
      expect((await anon.get('/healthz')).status).to.equal(200);
    });

    it('/healthz and /readyz answer a probe that carries a bad token (they are public), where a public read gets 401', async () => {
      const stale = anon.as('not-a-valid-token');
      expect((await stale.get('/healthz')).status).to.equal(200);
      const ready = await stale.get('/readyz');
      expect(ready.status, JSON.stringify(ready.body)).to.equal(200);
      expect(ready.body.status).to.equal('ready');
      expect((await stale.get('/v1/hotels')).status).to.equal(401);
    });
  });

  describe('API keys', () => {
    it('DELETE /v1/api-keys/:id makes its token 401 at once', async () => {
      const created = await admin.post('/v1/api-keys', { name: 'short-lived', role: 'partner', hotelIds: [A.hotel.id] });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      const key = admin.as(created.body.token);
      // Used once, so that it is cached as valid.
      expect((await key.get('/v1/reservations')).status).to.equal(200);
      expect((await key.get('/v1/hotels')).status).to.equal(200);
      const del = await admin.delete(`/v1/api-keys/${created.body.id}`);
      expect(del.status, JSON.stringify(del.body)).to.equal(204);
      expectError(await key.get('/v1/reservations'), 401, 'unauthorized');
      expectError(await key.get('/v1/hotels'), 401, 'unauthorized');
      expectError(await key.put(`/v1/hotels/${A.hotel.id}/room-types/${A.rt.id}/rates`, { from: D(1), to: D(2), amount: 5 }), 401, 'unauthorized');
      // Revoking twice: the key is gone.
      expectError(await admin.delete(`/v1/api-keys/${created.body.id}`), 404, 'not_found');
    });

    it('an admin key made through the API has every right; its token is shown once and stored hashed', async () => {
      const created = await admin.post('/v1/api-keys', { name: 'second admin', role: 'admin' });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      expect(created.body).to.have.keys(['id', 'name', 'role', 'hotelIds', 'token']);
      const h = await admin.as(created.body.token).post('/v1/hotels', { name: 'By key', city: 'Nice', country: 'FR', timezone: 'UTC', currency: 'EUR' });
      expect(h.status, JSON.stringify(h.body)).to.equal(201);
      const c = new pg.Client({ connectionString: env.config.catalogUrl });
      await c.connect();
      try {
        const rows = await c.query('SELECT t::text AS row FROM api_keys t WHERE id = $1', [created.body.id]);
        expect(rows.rowCount).to.equal(1);
        expect(rows.rows[0].row).to.not.include(created.body.token);
        expect(rows.rows[0].row).to.not.include(Buffer.from(created.body.token).toString('hex'));
      } finally {
        await c.end();
      }
    });
  });

  describe('users and sessions', () => {
    it('POST /v1/users answers 409 conflict on a taken e-mail, whatever its case', async () => {
      const local = `Taken-${randomUUID()}`;
      const first = await anon.post('/v1/users', { email: `${local}@Example.com`, password: 'first password', name: 'First' });
      expect(first.status, JSON.stringify(first.body)).to.equal(201);
      expect(first.body).to.have.keys(['id', 'email', 'name', 'role']);
      expectError(await anon.post('/v1/users', { email: `${local}@Example.com`, password: 'second password', name: 'Second' }), 409, 'conflict');
      expectError(
        await anon.post('/v1/users', { email: `${local.toLowerCase()}@example.com`, password: 'second password', name: 'Second' }),
        409,
        'conflict',
      );
      expectError(
        await anon.post('/v1/users', { email: `${local.toUpperCase()}@EXAMPLE.COM`, password: 'second password', name: 'Second' }),
        409,
        'conflict',
      );
      // The first password still opens the account; the refused ones do not.
      const s = await anon.post('/v1/sessions', { email: `${local.toLowerCase()}@example.com`, password: 'first password' });
      expect(s.status, JSON.stringify(s.body)).to.equal(201);
      expect(s.body.userId).to.equal(first.body.id);
      expectError(await anon.post('/v1/sessions', { email: `${local}@Example.com`, password: 'second password' }), 401, 'unauthorized');
    });

    it('POST /v1/sessions answers 401 on a bad password or an unknown e-mail, 201 with a working token otherwise', async () => {
      const email = `login-${randomUUID()}@example.com`;
      expect((await anon.post('/v1/users', { email, password: 'the right password', name: 'L' })).status).to.equal(201);
      expectError(await anon.post('/v1/sessions', { email, password: 'the wrong password' }), 401, 'unauthorized');
      expectError(await anon.post('/v1/sessions', { email, password: '' }), 401, 'unauthorized');
      expectError(await anon.post('/v1/sessions', { email: `nobody-${randomUUID()}@example.com`, password: 'the right password' }), 401, 'unauthorized');
      const s = await anon.post('/v1/sessions', { email, password: 'the right password' });
      expect(s.status, JSON.stringify(s.body)).to.equal(201);
      expect(s.body).to.have.keys(['token', 'userId', 'expiresAt']);
      expect(Date.parse(s.body.expiresAt)).to.be.greaterThan(Date.now());
      const me = admin.as(s.body.token);
      expect((await me.get('/v1/reservations')).status).to.equal(200);
      // A session is a guest: no admin rights.
      expectError(await me.post('/v1/hotels', { name: 'N', city: 'C', country: 'FR', timezone: 'UTC', currency: 'EUR' }), 403, 'forbidden');
    });

    it('an account opens with the e-mail exactly as it was registered (surrounding spaces included)', async () => {
      const typed = `  Padded-${randomUUID()}@Example.com `;
      const u = await anon.post('/v1/users', { email: typed, password: 'padded password', name: 'P' });
      expect(u.status, JSON.stringify(u.body)).to.equal(201);
      expect(u.body.email).to.equal(typed.trim());
      const trimmed = await anon.post('/v1/sessions', { email: typed.trim(), password: 'padded password' });
      expect(trimmed.status, JSON.stringify(trimmed.body)).to.equal(201);
      const asTyped = await anon.post('/v1/sessions', { email: typed, password: 'padded password' });
      expect(asTyped.status, `the same e-mail string that registered the account: ${JSON.stringify(asTyped.body)}`).to.equal(201);
    });

    it('the password is not stored in clear', async () => {
      const email = `hash-${randomUUID()}@example.com`;
      const password = 'a very distinctive password 42';
      expect((await anon.post('/v1/users', { email, password, name: 'H' })).status).to.equal(201);
      const c = new pg.Client({ connectionString: env.config.catalogUrl });
      await c.connect();
      try {
        const r = await c.query('SELECT password_hash, u::text AS row FROM users u WHERE lower(email) = lower($1)', [email]);
        expect(r.rowCount).to.equal(1);
        const hash = r.rows[0].password_hash as string;
        expect(hash).to.be.a('string').and.not.equal('');
        expect(hash).to.not.include(password);
        expect(hash).to.not.include(Buffer.from(password).toString('base64'));
        expect(hash).to.not.include(Buffer.from(password).toString('hex'));
        expect(r.rows[0].row).to.not.include(password);
        // Salted: the same password makes another hash for another user.
        const email2 = `hash-${randomUUID()}@example.com`;
        expect((await anon.post('/v1/users', { email: email2, password, name: 'H2' })).status).to.equal(201);
        const r2 = await c.query('SELECT password_hash FROM users WHERE lower(email) = lower($1)', [email2]);
        expect(r2.rows[0].password_hash).to.not.equal(hash);
      } finally {
        await c.end();
      }
    });
  });
});
