// The fast path (api/fast-path.ts) must answer `POST /v1/reservations` exactly as the Express route does. Every
// request of the table is sent twice, once as is (the fast path takes it) and once with a query string (which the
// fast path never takes; Express's route matches it all the same), each with its own reservation ids, and the two
// answers must be the same: status, Content-Type, Location, Retry-After and body, with the ids masked. A counter
// shows which path answered, so that a fast path that stopped taking requests fails here too.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { closeStack, openStack, type Stack } from '../support/stack.js';
import type { TestEnv } from '../support/env.js';
import { createGuest, createHotel, createKey, createRoomType, dayFromToday, reservationBody } from '../support/fixtures.js';

interface Sent {
  status: number;
  headers: Record<string, string | null>;
  text: string;
}

interface Row {
  name: string;
  /** Token to send (undefined: no Authorization header). */
  token: () => string | undefined;
  /** The raw body, given fresh ids; `send` may be called more than once per row (see `times`). */
  body: (ids: Ids) => string;
  contentType?: string;
  /** Send the same body this many times and compare the last answers (idempotent repeats). */
  times?: number;
  /** Before the compared request, send this body once (e.g. to take the reservation id). */
  first?: (ids: Ids) => string;
  status: number;
}

interface Ids {
  reservationId: string;
}

describe('fast path of POST /v1/reservations', function () {
  this.timeout(120_000);
  let env: TestEnv;
  let stack: Stack;
  let hotel: any;
  let otherHotel: any;
  let rt: any;
  let small: any;
  const tokens: Record<string, string> = {};

  before(async () => {
    ({ env, stack } = await openStack());
    hotel = await createHotel(stack.admin);
    otherHotel = await createHotel(stack.admin);
    rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 100 });
    small = await createRoomType(stack.admin, hotel.id, { totalInventory: 2 });
    tokens.partner = await createKey(stack.admin, 'partner');
    tokens.staff = await createKey(stack.admin, 'staff', [hotel.id]);
    tokens.otherStaff = await createKey(stack.admin, 'staff', [otherHotel.id]);
    tokens.guest = (await createGuest(stack.admin)).token;
  });
  after(() => closeStack(stack, env));

  const fastCount = async () => {
    const m = /^http_fast_path_requests_total (\d+)$/m.exec(await stack.api.ctx.metrics.render());
    return m ? Number(m[1]) : 0;
  };

  async function send(path: string, token: string | undefined, contentType: string, body: string): Promise<Sent> {
    const headers: Record<string, string> = { 'content-type': contentType };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${stack.baseUrl}${path}`, { method: 'POST', headers, body });
    const pick = ['content-type', 'location', 'retry-after'];
    return { status: res.status, headers: Object.fromEntries(pick.map((h) => [h, res.headers.get(h)])), text: await res.text() };
  }

  /** Send a row on one path; the answer with its ids replaced by "<id>", and how many requests the fast path took. */
  async function run(row: Row, path: string): Promise<{ answer: Sent; fast: number }> {
    const ids: Ids = { reservationId: randomUUID() };
    const contentType = row.contentType ?? 'application/json';
    const before = await fastCount();
    if (row.first) await send(path, row.token(), contentType, row.first(ids));
    let answer!: Sent;
    for (let i = 0; i < (row.times ?? 1); i++) answer = await send(path, row.token(), contentType, row.body(ids));
    const mask = (s: string | null) => s && s.replaceAll(ids.reservationId, '<id>');
    const body = answer.text ? JSON.parse(answer.text) : undefined;
    if (body && typeof body === 'object') for (const k of ['createdAt', 'expiresAt']) if (k in body) body[k] = '<time>';
    return {
      answer: { ...answer, text: mask(JSON.stringify(body))!, headers: { ...answer.headers, location: mask(answer.headers.location) } },
      fast: (await fastCount()) - before,
    };
  }

  const stay = (ids: Ids, extra: Record<string, unknown> = {}) => ({
    ...reservationBody(hotel.id, rt.id, dayFromToday(30), dayFromToday(32), extra),
    reservationId: ids.reservationId,
  });
  const json = (ids: Ids, extra: Record<string, unknown> = {}) => JSON.stringify(stay(ids, extra));

  const rows: Row[] = [
    { name: 'created (partner)', token: () => tokens.partner, body: (ids) => json(ids), status: 201 },
    { name: 'created (guest)', token: () => tokens.guest, body: (ids) => json(ids), status: 201 },
    { name: 'created (staff of the hotel)', token: () => tokens.staff, body: (ids) => json(ids), status: 201 },
    { name: 'created (admin), charset given', token: () => adminToken(), body: (ids) => json(ids), contentType: 'application/json; charset=utf-8', status: 201 },
    { name: 'created, body with a byte order mark', token: () => tokens.partner, body: (ids) => '\ufeff' + json(ids), status: 201 },
    { name: 'repeated: the same reservation', token: () => tokens.partner, body: (ids) => json(ids), times: 3, status: 200 },
    {
      name: 'same id, another body',
      token: () => tokens.partner,
      first: (ids) => json(ids),
      body: (ids) => json(ids, { roomCount: 2 }),
      status: 422,
    },
    { name: 'sold out', token: () => tokens.partner, body: (ids) => json(ids, { roomTypeId: small.id, roomCount: 9 }), status: 409 },
    { name: 'no token', token: () => undefined, body: (ids) => json(ids), status: 401 },
    { name: 'invalid token', token: () => 'bk_not_a_key', body: (ids) => json(ids), status: 401 },
    { name: 'invalid token and malformed JSON: 401 first', token: () => 'bk_not_a_key', body: () => '{"hotelId":', status: 401 },
    { name: 'no token and malformed JSON: 401 first', token: () => undefined, body: () => '{', status: 401 },
    { name: 'staff of another hotel', token: () => tokens.otherStaff, body: (ids) => json(ids), status: 403 },
    { name: 'malformed JSON', token: () => tokens.partner, body: () => '{"hotelId":', status: 400 },
    { name: 'JSON that is not an object', token: () => tokens.partner, body: () => '"a string"', status: 400 },
    { name: 'JSON null', token: () => tokens.partner, body: () => 'null', status: 400 },
    { name: 'an array', token: () => tokens.partner, body: (ids) => `[${json(ids)}]`, status: 400 },
    { name: 'whitespace only', token: () => tokens.partner, body: () => '   ', status: 400 },
    { name: 'a missing field', token: () => tokens.partner, body: (ids) => JSON.stringify({ ...stay(ids), checkIn: undefined }), status: 400 },
    { name: 'an unknown field', token: () => tokens.partner, body: (ids) => json(ids, { upgrade: true }), status: 400 },
    { name: 'checkOut before checkIn', token: () => tokens.partner, body: (ids) => json(ids, { checkOut: dayFromToday(29) }), status: 400 },
    { name: 'an unknown hotel', token: () => tokens.partner, body: (ids) => json(ids, { hotelId: randomUUID() }), status: 404 },
    { name: 'a room type of another hotel', token: () => tokens.partner, body: (ids) => json(ids, { hotelId: otherHotel.id }), status: 404 },
  ];

  for (const row of rows) {
    it(`answers as Express does: ${row.name} (${row.status})`, async () => {
      const viaFast = await run(row, '/v1/reservations');
      const viaExpress = await run(row, '/v1/reservations?via=express');
      expect(viaFast.answer.status, viaFast.answer.text).to.equal(row.status);
      expect(viaFast.answer).to.deep.equal(viaExpress.answer);
      expect(viaFast.fast, 'requests the fast path answered').to.equal((row.times ?? 1) + (row.first ? 1 : 0));
      expect(viaExpress.fast, 'a query string goes to Express').to.equal(0);
    });
  }

  it('leaves every other shape of the request to Express, which answers it', async () => {
    const before = await fastCount();
    const vendorType = await send('/v1/reservations', tokens.partner, 'application/vnd.booking+json', json({ reservationId: randomUUID() }));
    expect(vendorType.status, vendorType.text).to.equal(201);
    const latin1 = await send('/v1/reservations', tokens.partner, 'application/json; charset=latin1', json({ reservationId: randomUUID() }));
    expect(latin1.status, latin1.text).to.be.within(400, 499);
    expect(JSON.parse(latin1.text).error.code).to.be.a('string');
    const empty = await send('/v1/reservations', tokens.partner, 'application/json', '');
    expect(empty.status, empty.text).to.equal(400);
    const trailingSlash = await send('/v1/reservations/', tokens.partner, 'application/json', json({ reservationId: randomUUID() }));
    expect(trailingSlash.status, trailingSlash.text).to.equal(201);
    expect((await fastCount()) - before).to.equal(0);
  });

  it('answers a body over the size limit with 413, through Express', async () => {
    const before = await fastCount();
    const big = await send('/v1/reservations', tokens.partner, 'application/json', JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }));
    expect(big.status).to.equal(413);
    expect(JSON.parse(big.text).error.code).to.equal('payload_too_large');
    expect((await fastCount()) - before).to.equal(0);
  });

  function adminToken(): string {
    return stack.admin.token!;
  }
});
