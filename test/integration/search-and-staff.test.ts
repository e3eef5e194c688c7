// Search by dates (GET /v1/hotels with checkIn/checkOut/guests/rooms and each hotel's offer), `guests` on
// availability, and staff users (POST /v1/users with role "staff" by an admin; their sessions act as staff).
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createGuest, createHotel, createRoomType, dayFromToday, reservationBody } from '../support/fixtures.js';
import type { TestEnv } from '../support/env.js';
import { closeStack, openStack, type Stack } from '../support/stack.js';

describe('search by dates, and staff users', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let stack: Stack;
  const city = `Search-${randomUUID().slice(0, 8)}`;
  let cheap: any;
  let dear: any;
  let full: any;
  let family: any;

  before(async () => {
    ({ env, stack } = await openStack());
    cheap = await createHotel(stack.admin, { name: 'Cheap', city });
    dear = await createHotel(stack.admin, { name: 'Dear', city });
    full = await createHotel(stack.admin, { name: 'Full', city });
    await createRoomType(stack.admin, cheap.id, { name: 'Twin', maxGuests: 2, totalInventory: 3, baseRate: 10_000 });
    await createRoomType(stack.admin, dear.id, { name: 'Twin', maxGuests: 2, totalInventory: 3, baseRate: 20_000 });
    family = await createRoomType(stack.admin, dear.id, { name: 'Family', maxGuests: 4, totalInventory: 1, baseRate: 30_000 });
    await createRoomType(stack.admin, full.id, { name: 'Twin', maxGuests: 2, totalInventory: 0, baseRate: 5_000 });
  });
  after(() => closeStack(stack, env));

  const search = (q: string) => stack.admin.as(undefined).get(`/v1/hotels?city=${city}&checkIn=${dayFromToday(3)}&checkOut=${dayFromToday(5)}${q}`);

  it('lists hotels with an offer first, by the stay\'s price; a hotel with nothing free has offer null', async () => {
    const r = await search('');
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    expect(r.body.items.map((h: any) => h.name)).to.deep.equal(['Cheap', 'Dear', 'Full']);
    expect(r.body.items[0].offer).to.deep.include({ available: 3, fromPrice: 20_000 });
    expect(r.body.items[1].offer).to.deep.include({ fromPrice: 40_000 });
    expect(r.body.items[2].offer).to.equal(null);
    // Without dates the list is the plain one, with no offers.
    const plain = await stack.admin.as(undefined).get(`/v1/hotels?city=${city}`);
    expect(plain.body.items[0]).to.not.have.property('offer');
  });

  it('guests leaves out room types too small; rooms multiplies the price and needs that many free', async () => {
    const three = await search('&guests=3');
    expect(three.body.items.map((h: any) => [h.name, h.offer?.roomTypeId ?? null])).to.deep.equal([
      ['Dear', family.id],
      ['Cheap', null],
      ['Full', null],
    ]);
    expect(three.body.items[0].offer.fromPrice).to.equal(60_000);
    const two = await search('&rooms=2');
    expect(two.body.items[0]).to.deep.include({ name: 'Cheap' });
    expect(two.body.items[0].offer.fromPrice).to.equal(40_000);
    const four = await search('&rooms=4');
    expect(four.body.items.every((h: any) => h.offer === null)).to.equal(true);
  });

  it('pages through the same order with limit and cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r: any = await search(`&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).to.equal(200);
      seen.push(...r.body.items.map((h: any) => h.name));
      cursor = r.body.nextCursor;
    } while (cursor);
    expect(seen).to.deep.equal(['Cheap', 'Dear', 'Full']);
    // A cursor that names no hotel of the list: an empty page, as without dates (it restarted at the first).
    const unknown = await search(`&limit=1&cursor=${Buffer.from(randomUUID()).toString('base64url')}`);
    expect(unknown.status, JSON.stringify(unknown.body)).to.equal(200);
    expect(unknown.body).to.deep.equal({ items: [], nextCursor: null });
  });

  it('availability with guests leaves out room types whose maxGuests is smaller', async () => {
    const q = `checkIn=${dayFromToday(3)}&checkOut=${dayFromToday(5)}`;
    const all = await stack.admin.get(`/v1/hotels/${dear.id}/availability?${q}`);
    expect(all.body.roomTypes).to.have.length(2);
    const three = await stack.admin.get(`/v1/hotels/${dear.id}/availability?${q}&guests=3`);
    expect(three.body.roomTypes.map((t: any) => t.roomTypeId)).to.deep.equal([family.id]);
  });

  it('bad search input is 400 naming the field', async () => {
    const anon = stack.admin.as(undefined);
    const cases: [string, string][] = [
      [`checkIn=${dayFromToday(5)}&checkOut=${dayFromToday(3)}`, 'checkOut'],
      [`checkIn=${dayFromToday(1)}&checkOut=${dayFromToday(32)}`, 'checkOut'],
      [`checkIn=${dayFromToday(-3)}&checkOut=${dayFromToday(1)}`, 'checkIn'],
      [`checkIn=${dayFromToday(1)}&checkOut=${dayFromToday(2)}&guests=0`, 'guests'],
      [`checkIn=${dayFromToday(1)}&checkOut=${dayFromToday(2)}&guests=21`, 'guests'],
      [`checkIn=${dayFromToday(1)}&checkOut=${dayFromToday(2)}&rooms=11`, 'rooms'],
      [`checkIn=${dayFromToday(1)}`, 'checkOut'],
      [`checkIn=2027-02-30&checkOut=2027-03-02`, 'checkIn'],
      // Past the horizon in every time zone: a reservation's rule (it was 200 with every offer null).
      [`checkIn=${dayFromToday(env.config.horizonDays + 5)}&checkOut=${dayFromToday(env.config.horizonDays + 6)}`, 'checkOut'],
    ];
    for (const [q, field] of cases) {
      const r = await anon.get(`/v1/hotels?${q}`);
      expect(r.status, q).to.equal(400);
      expect(JSON.stringify(r.body.error.details), q).to.contain(field);
    }
    // A search asked for by guests alone says what the dates are required with.
    const guestsOnly = await anon.get('/v1/hotels?guests=2');
    expect(guestsOnly.status).to.equal(400);
    expect(guestsOnly.body.error.details.fields).to.deep.equal([{ field: 'checkIn', message: 'is required with guests' }]);
  });

  it('an admin makes a staff user, who signs in and acts as staff of those hotels only', async () => {
    const email = `staff-${randomUUID()}@example.com`;
    const made = await stack.admin.post('/v1/users', { email, password: 'front desk 123', name: 'Front Desk', role: 'staff', hotelIds: [cheap.id] });
    expect(made.status, JSON.stringify(made.body)).to.equal(201);
    expect(made.body).to.deep.include({ email, name: 'Front Desk', role: 'staff', hotelIds: [cheap.id] });
    const session = await stack.admin.as(undefined).post('/v1/sessions', { email, password: 'front desk 123' });
    expect(session.status).to.equal(201);
    const staff = stack.admin.as(session.body.token);
    expect((await staff.put(`/v1/hotels/${cheap.id}`, { name: 'Cheap and cheerful' })).status).to.equal(200);
    expect((await staff.put(`/v1/hotels/${dear.id}`, { name: 'Mine now' })).status).to.equal(403);
    const guest = stack.admin.as((await createGuest(stack.admin)).token);
    const rt = (await stack.admin.get(`/v1/hotels/${cheap.id}/room-types`)).body.items[0];
    expect((await guest.post('/v1/reservations', reservationBody(cheap.id, rt.id, dayFromToday(10), dayFromToday(11)))).status).to.equal(201);
    const list = await staff.get(`/v1/reservations?hotelId=${cheap.id}`);
    expect(list.status).to.equal(200);
    expect(list.body.items).to.have.length(1);
    expect((await staff.get(`/v1/reservations?hotelId=${dear.id}`)).status).to.equal(403);
  });

  it('a guest signs up as a guest; only an admin makes staff, and a staff user needs hotelIds', async () => {
    const anon = stack.admin.as(undefined);
    const g = await anon.post('/v1/users', { email: `g-${randomUUID()}@example.com`, password: 'guest password', name: 'G' });
    expect(g.status).to.equal(201);
    expect(g.body.role).to.equal('guest');
    // A sign-up may say the role it makes ("guest"); any other role is the admin's staff form.
    const said = await anon.post('/v1/users', { email: `g-${randomUUID()}@example.com`, password: 'guest password', name: 'G', role: 'guest' });
    expect(said.status, JSON.stringify(said.body)).to.equal(201);
    expect(said.body.role).to.equal('guest');
    expect((await anon.post('/v1/sessions', { email: said.body.email, password: 'guest password' })).status).to.equal(201);
    const staffBody = { email: `s-${randomUUID()}@example.com`, password: 'staff password', name: 'S', role: 'staff', hotelIds: [cheap.id] };
    expect((await anon.post('/v1/users', staffBody)).status).to.equal(401);
    const guest = stack.admin.as((await createGuest(stack.admin)).token);
    expect((await guest.post('/v1/users', staffBody)).status).to.equal(403);
    const noHotels = await stack.admin.post('/v1/users', { ...staffBody, hotelIds: [] });
    expect(noHotels.status).to.equal(400);
    expect(JSON.stringify(noHotels.body.error.details)).to.contain('hotelIds');
    const missing = await stack.admin.post('/v1/users', { email: staffBody.email, password: staffBody.password, name: 'S', role: 'staff' });
    expect(missing.status).to.equal(400);
    expect(JSON.stringify(missing.body.error.details)).to.contain('hotelIds');
    const admin = await stack.admin.post('/v1/users', { ...staffBody, role: 'admin' });
    expect(admin.status).to.equal(400);
    expect(JSON.stringify(admin.body.error.details)).to.contain('role');
    // Nothing was made: the e-mail is still free.
    expect((await stack.admin.post('/v1/users', staffBody)).status).to.equal(201);
  });
});
