// Bad input on every route of API.md's "Principals and auth", "Hotels, room types, rooms", "Inventory and rates",
// "Availability" (JSON read) and "Reservations" (payment excepted). One table: each row is a request the contract
// refuses, the status and error code it must get, and (for validation_failed) a field its details must name.
// Every row is also checked for what must always hold: never a 500, the contract's error body, and nothing
// changed (the hotel's version and nights, and a digest of every catalog and shard table).
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import pg from 'pg';
import { hotelVersion, nightsOf } from '../support/db.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { createGuest, createHotel, createKey, createRoomType, dayFromToday, reservationBody } from '../support/fixtures.js';
import type { HttpClient, HttpResult } from '../support/http.js';
import { startStack, type Stack } from '../support/stack.js';

type TokenName = 'admin' | 'staff' | 'partner' | 'guest' | 'none';

interface Ids {
  H: string;
  RT: string;
  R: string;
  RES: string;
  NOPE: string;
}

interface Case {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** `{H}`, `{RT}`, `{R}`, `{RES}` and `{NOPE}` (a UUID of nothing) are replaced by the suite's ids. */
  path: string;
  /** A value (sent as JSON), a raw string (sent as is), or a function of the ids. Undefined: no body. */
  body?: unknown;
  token: TokenName;
  expectStatus: number;
  expectCode: string;
  /** For validation_failed: a field that details.fields must name. */
  field?: string;
}

const D = dayFromToday;
const NOT_UUID = 'not-a-uuid';
const NUL = 'a\u0000b';
const huge = 'x'.repeat(1024 * 1024 + 10);

const without = (o: Record<string, unknown>, key: string) => {
  const c = { ...o };
  delete c[key];
  return c;
};

// Valid bodies (each case changes one thing).
const hotel = { name: 'Bad Input Hotel', city: 'Lyon', country: 'FR', timezone: 'UTC', currency: 'EUR' };
const roomType = { name: 'Twin', maxGuests: 2, totalInventory: 5, baseRate: 9000 };
const apiKey = { name: 'k', role: 'partner', hotelIds: [] as string[] };
const user = { email: 'someone@example.com', password: 'long enough password', name: 'Someone' };
const session = { email: 'someone@example.com', password: 'long enough password' };
const inventory = { from: D(1), to: D(3), totalInventory: 7 };
const rates = { from: D(1), to: D(3), amount: 12000 };
const tier = { occupancyPercent: 50, multiplierPercent: 120 };
const pricing = { tiers: [tier] };
const room = (ids: Ids, extra: Record<string, unknown> = {}) => ({ number: '901', roomTypeId: ids.RT, floor: 9, ...extra });
const reservation = (ids: Ids, extra: Record<string, unknown> = {}) => reservationBody(ids.H, ids.RT, D(3), D(5), extra);
const reservationWithout = (key: string) => (ids: Ids) => without(reservation(ids), key);

/** Malformed JSON, an unknown field, a JSON array and no body at all, for any route that reads a body. */
function basics(method: Case['method'], path: string, valid: unknown, token: TokenName, label: string): Case[] {
  const withBogus =
    typeof valid === 'function' ? (ids: Ids) => ({ ...(valid as (i: Ids) => object)(ids), bogus: 1 }) : { ...(valid as object), bogus: 1 };
  return [
    { name: `${label}: malformed JSON`, method, path, body: '{"name": "x",', token, expectStatus: 400, expectCode: 'validation_failed', field: 'body' },
    { name: `${label}: unknown body field`, method, path, body: withBogus, token, expectStatus: 400, expectCode: 'validation_failed', field: 'bogus' },
    { name: `${label}: JSON array body`, method, path, body: '[]', token, expectStatus: 400, expectCode: 'validation_failed' },
    { name: `${label}: no body`, method, path, body: undefined, token, expectStatus: 400, expectCode: 'validation_failed' },
  ];
}

const v = (name: string, method: Case['method'], path: string, body: unknown, token: TokenName, field: string): Case => ({
  name,
  method,
  path,
  body,
  token,
  expectStatus: 400,
  expectCode: 'validation_failed',
  field,
});
const nf = (name: string, method: Case['method'], path: string, body: unknown, token: TokenName): Case => ({
  name,
  method,
  path,
  body,
  token,
  expectStatus: 404,
  expectCode: 'not_found',
});
const tooLarge = (name: string, method: Case['method'], path: string, token: TokenName, body: unknown): Case => ({
  name,
  method,
  path,
  body,
  token,
  expectStatus: 413,
  expectCode: 'payload_too_large',
});

const RT_PATH = '/v1/hotels/{H}/room-types/{RT}';
const INV = `${RT_PATH}/inventory`;
const RATES = `${RT_PATH}/rates`;
const AV = '/v1/hotels/{H}/availability';
const PRICING = '/v1/hotels/{H}/pricing';

const cases: Case[] = [
  // Principals and auth ------------------------------------------------------------------------------------------
  ...basics('POST', '/v1/api-keys', apiKey, 'admin', 'POST /v1/api-keys'),
  v('POST /v1/api-keys: name missing', 'POST', '/v1/api-keys', without(apiKey, 'name'), 'admin', 'name'),
  v('POST /v1/api-keys: role missing', 'POST', '/v1/api-keys', without(apiKey, 'role'), 'admin', 'role'),
  v('POST /v1/api-keys: role "superuser"', 'POST', '/v1/api-keys', { ...apiKey, role: 'superuser' }, 'admin', 'role'),
  v('POST /v1/api-keys: role "guest" (not a key role)', 'POST', '/v1/api-keys', { ...apiKey, role: 'guest' }, 'admin', 'role'),
  v('POST /v1/api-keys: role "ADMIN"', 'POST', '/v1/api-keys', { ...apiKey, role: 'ADMIN' }, 'admin', 'role'),
  v('POST /v1/api-keys: empty name', 'POST', '/v1/api-keys', { ...apiKey, name: '' }, 'admin', 'name'),
  v('POST /v1/api-keys: name is a number', 'POST', '/v1/api-keys', { ...apiKey, name: 42 }, 'admin', 'name'),
  v('POST /v1/api-keys: hotelIds not UUIDs', 'POST', '/v1/api-keys', { ...apiKey, hotelIds: [NOT_UUID] }, 'admin', 'hotelIds.0'),
  v('POST /v1/api-keys: hotelIds a string', 'POST', '/v1/api-keys', { ...apiKey, hotelIds: 'abc' }, 'admin', 'hotelIds'),
  v('POST /v1/api-keys: rateLimitPerSecond -1', 'POST', '/v1/api-keys', { ...apiKey, rateLimitPerSecond: -1 }, 'admin', 'rateLimitPerSecond'),
  v('POST /v1/api-keys: rateLimitPerSecond 1.5', 'POST', '/v1/api-keys', { ...apiKey, rateLimitPerSecond: 1.5 }, 'admin', 'rateLimitPerSecond'),
  tooLarge('POST /v1/api-keys: body over 1 MiB', 'POST', '/v1/api-keys', 'admin', { ...apiKey, name: huge }),
  v('DELETE /v1/api-keys/:id: id not a UUID', 'DELETE', `/v1/api-keys/${NOT_UUID}`, undefined, 'admin', 'id'),
  nf('DELETE /v1/api-keys/:id: unknown id', 'DELETE', '/v1/api-keys/{NOPE}', undefined, 'admin'),

  ...basics('POST', '/v1/users', user, 'none', 'POST /v1/users'),
  v('POST /v1/users: email missing', 'POST', '/v1/users', without(user, 'email'), 'none', 'email'),
  v('POST /v1/users: password missing', 'POST', '/v1/users', without(user, 'password'), 'none', 'password'),
  v('POST /v1/users: name missing', 'POST', '/v1/users', without(user, 'name'), 'none', 'name'),
  v('POST /v1/users: email not an e-mail', 'POST', '/v1/users', { ...user, email: 'not-an-email' }, 'none', 'email'),
  v('POST /v1/users: email a number', 'POST', '/v1/users', { ...user, email: 42 }, 'none', 'email'),
  v('POST /v1/users: password of 7 characters', 'POST', '/v1/users', { ...user, password: '1234567' }, 'none', 'password'),
  v('POST /v1/users: password of 201 characters', 'POST', '/v1/users', { ...user, password: 'p'.repeat(201) }, 'none', 'password'),
  v('POST /v1/users: empty name', 'POST', '/v1/users', { ...user, name: '' }, 'none', 'name'),
  v('POST /v1/users: NUL byte in name', 'POST', '/v1/users', { ...user, name: NUL }, 'none', 'name'),
  tooLarge('POST /v1/users: body over 1 MiB', 'POST', '/v1/users', 'none', { ...user, name: huge }),

  ...basics('POST', '/v1/sessions', session, 'none', 'POST /v1/sessions'),
  v('POST /v1/sessions: password missing', 'POST', '/v1/sessions', without(session, 'password'), 'none', 'password'),
  v('POST /v1/sessions: email missing', 'POST', '/v1/sessions', without(session, 'email'), 'none', 'email'),
  v('POST /v1/sessions: email a number', 'POST', '/v1/sessions', { ...session, email: 5 }, 'none', 'email'),
  v('POST /v1/sessions: NUL byte in email', 'POST', '/v1/sessions', { ...session, email: `x${NUL}@example.com` }, 'none', 'email'),
  tooLarge('POST /v1/sessions: body over 1 MiB', 'POST', '/v1/sessions', 'none', { ...session, password: huge }),

  // Hotels ----------------------------------------------------------------------------------------------------------
  ...basics('POST', '/v1/hotels', hotel, 'admin', 'POST /v1/hotels'),
  ...['name', 'city', 'country', 'timezone', 'currency'].map((f) =>
    v(`POST /v1/hotels: ${f} missing`, 'POST', '/v1/hotels', without(hotel, f), 'admin', f),
  ),
  v('POST /v1/hotels: empty name', 'POST', '/v1/hotels', { ...hotel, name: '' }, 'admin', 'name'),
  v('POST /v1/hotels: blank name', 'POST', '/v1/hotels', { ...hotel, name: '   ' }, 'admin', 'name'),
  v('POST /v1/hotels: name of 201 characters', 'POST', '/v1/hotels', { ...hotel, name: 'n'.repeat(201) }, 'admin', 'name'),
  v('POST /v1/hotels: name a number', 'POST', '/v1/hotels', { ...hotel, name: 7 }, 'admin', 'name'),
  v('POST /v1/hotels: country "FRA"', 'POST', '/v1/hotels', { ...hotel, country: 'FRA' }, 'admin', 'country'),
  v('POST /v1/hotels: country "fr"', 'POST', '/v1/hotels', { ...hotel, country: 'fr' }, 'admin', 'country'),
  v('POST /v1/hotels: country "XX"', 'POST', '/v1/hotels', { ...hotel, country: 'XX' }, 'admin', 'country'),
  v('POST /v1/hotels: country a number', 'POST', '/v1/hotels', { ...hotel, country: 33 }, 'admin', 'country'),
  v('POST /v1/hotels: currency "eur"', 'POST', '/v1/hotels', { ...hotel, currency: 'eur' }, 'admin', 'currency'),
  v('POST /v1/hotels: currency "EURO"', 'POST', '/v1/hotels', { ...hotel, currency: 'EURO' }, 'admin', 'currency'),
  v('POST /v1/hotels: currency "XYZ"', 'POST', '/v1/hotels', { ...hotel, currency: 'XYZ' }, 'admin', 'currency'),
  v('POST /v1/hotels: timezone "Mars/Olympus"', 'POST', '/v1/hotels', { ...hotel, timezone: 'Mars/Olympus' }, 'admin', 'timezone'),
  v('POST /v1/hotels: timezone "+02:00"', 'POST', '/v1/hotels', { ...hotel, timezone: '+02:00' }, 'admin', 'timezone'),
  v('POST /v1/hotels: timezone ""', 'POST', '/v1/hotels', { ...hotel, timezone: '' }, 'admin', 'timezone'),
  v('POST /v1/hotels: overbookingPercent 51', 'POST', '/v1/hotels', { ...hotel, overbookingPercent: 51 }, 'admin', 'overbookingPercent'),
  v('POST /v1/hotels: overbookingPercent -1', 'POST', '/v1/hotels', { ...hotel, overbookingPercent: -1 }, 'admin', 'overbookingPercent'),
  v('POST /v1/hotels: overbookingPercent 10.5', 'POST', '/v1/hotels', { ...hotel, overbookingPercent: 10.5 }, 'admin', 'overbookingPercent'),
  v('POST /v1/hotels: overbookingPercent "10"', 'POST', '/v1/hotels', { ...hotel, overbookingPercent: '10' }, 'admin', 'overbookingPercent'),
  v('POST /v1/hotels: id given (server-made)', 'POST', '/v1/hotels', { ...hotel, id: randomUUID() }, 'admin', 'id'),
  v('POST /v1/hotels: __proto__ field', 'POST', '/v1/hotels', `{"name":"P","city":"Lyon","country":"FR","timezone":"UTC","currency":"EUR","__proto__":{"x":1}}`, 'admin', '__proto__'),
  v('POST /v1/hotels: NUL byte in name', 'POST', '/v1/hotels', { ...hotel, name: NUL }, 'admin', 'name'),
  v('POST /v1/hotels: unpaired surrogate in name', 'POST', '/v1/hotels', { ...hotel, name: 'a\ud800b' }, 'admin', 'name'),
  tooLarge('POST /v1/hotels: body over 1 MiB', 'POST', '/v1/hotels', 'admin', { ...hotel, name: huge }),

  v('GET /v1/hotels: limit 0', 'GET', '/v1/hotels?limit=0', undefined, 'none', 'limit'),
  v('GET /v1/hotels: limit 201', 'GET', '/v1/hotels?limit=201', undefined, 'none', 'limit'),
  v('GET /v1/hotels: limit -1', 'GET', '/v1/hotels?limit=-1', undefined, 'none', 'limit'),
  v('GET /v1/hotels: limit "ten"', 'GET', '/v1/hotels?limit=ten', undefined, 'none', 'limit'),
  v('GET /v1/hotels: limit 1.5', 'GET', '/v1/hotels?limit=1.5', undefined, 'none', 'limit'),
  v('GET /v1/hotels: city given twice', 'GET', '/v1/hotels?city=a&city=b', undefined, 'none', 'city'),
  v('GET /v1/hotels: NUL byte in city', 'GET', '/v1/hotels?city=a%00b', undefined, 'none', 'city'),
  v('GET /v1/hotels/:hotelId: not a UUID', 'GET', `/v1/hotels/${NOT_UUID}`, undefined, 'none', 'hotelId'),
  nf('GET /v1/hotels/:hotelId: unknown', 'GET', '/v1/hotels/{NOPE}', undefined, 'none'),

  ...basics('PUT', '/v1/hotels/{H}', { name: 'Renamed' }, 'admin', 'PUT /v1/hotels/:hotelId'),
  v('PUT /v1/hotels/:hotelId: overbookingPercent 51', 'PUT', '/v1/hotels/{H}', { overbookingPercent: 51 }, 'admin', 'overbookingPercent'),
  v('PUT /v1/hotels/:hotelId: country "fr"', 'PUT', '/v1/hotels/{H}', { country: 'fr' }, 'admin', 'country'),
  v('PUT /v1/hotels/:hotelId: currency "EURO"', 'PUT', '/v1/hotels/{H}', { currency: 'EURO' }, 'admin', 'currency'),
  v('PUT /v1/hotels/:hotelId: timezone "Nowhere/Town"', 'PUT', '/v1/hotels/{H}', { timezone: 'Nowhere/Town' }, 'staff', 'timezone'),
  v('PUT /v1/hotels/:hotelId: empty name', 'PUT', '/v1/hotels/{H}', { name: '' }, 'staff', 'name'),
  v('PUT /v1/hotels/:hotelId: id in body', 'PUT', '/v1/hotels/{H}', { id: randomUUID() }, 'admin', 'id'),
  v('PUT /v1/hotels/:hotelId: createdAt in body', 'PUT', '/v1/hotels/{H}', { createdAt: '2020-01-01T00:00:00Z' }, 'admin', 'createdAt'),
  v('PUT /v1/hotels/:hotelId: hotelId not a UUID', 'PUT', `/v1/hotels/${NOT_UUID}`, { name: 'x' }, 'admin', 'hotelId'),
  nf('PUT /v1/hotels/:hotelId: unknown hotel', 'PUT', '/v1/hotels/{NOPE}', { name: 'x' }, 'admin'),
  tooLarge('PUT /v1/hotels/:hotelId: body over 1 MiB', 'PUT', '/v1/hotels/{H}', 'admin', { name: huge }),
  v('DELETE /v1/hotels/:hotelId: not a UUID', 'DELETE', `/v1/hotels/${NOT_UUID}`, undefined, 'admin', 'hotelId'),
  nf('DELETE /v1/hotels/:hotelId: unknown', 'DELETE', '/v1/hotels/{NOPE}', undefined, 'admin'),

  // Room types ------------------------------------------------------------------------------------------------------
  ...basics('POST', '/v1/hotels/{H}/room-types', roomType, 'admin', 'POST room-types'),
  ...['name', 'maxGuests', 'totalInventory', 'baseRate'].map((f) =>
    v(`POST room-types: ${f} missing`, 'POST', '/v1/hotels/{H}/room-types', without(roomType, f), 'admin', f),
  ),
  v('POST room-types: maxGuests 0', 'POST', '/v1/hotels/{H}/room-types', { ...roomType, maxGuests: 0 }, 'admin', 'maxGuests'),
  v('POST room-types: maxGuests 21', 'POST', '/v1/hotels/{H}/room-types', { ...roomType, maxGuests: 21 }, 'staff', 'maxGuests'),
  v('POST room-types: maxGuests 1.5', 'POST', '/v1/hotels/{H}/room-types', { ...roomType, maxGuests: 1.5 }, 'admin', 'maxGuests'),
  v('POST room-types: maxGuests "2"', 'POST', '/v1/hotels/{H}/room-types', { ...roomType, maxGuests: '2' }, 'admin', 'maxGuests'),
  v('POST room-types: totalInventory -1', 'POST', '/v1/hotels/{H}/room-types', { ...roomType, totalInventory: -1 }, 'admin', 'totalInventory'),
  v('POST room-types: totalInventory 10001', 'POST', '/v1/hotels/{H}/room-types', { ...roomType, totalInventory: 10001 }, 'staff', 'totalInventory'),
  v('POST room-types: totalInventory null', 'POST', '/v1/hotels/{H}/room-types', { ...roomType, totalInventory: null }, 'admin', 'totalInventory'),
  v('POST room-types: baseRate 0', 'POST', '/v1/hotels/{H}/room-types', { ...roomType, baseRate: 0 }, 'admin', 'baseRate'),
  v('POST room-types: baseRate -100', 'POST', '/v1/hotels/{H}/room-types', { ...roomType, baseRate: -100 }, 'admin', 'baseRate'),
  v('POST room-types: baseRate 99.5', 'POST', '/v1/hotels/{H}/room-types', { ...roomType, baseRate: 99.5 }, 'admin', 'baseRate'),
  v('POST room-types: baseRate 1e20', 'POST', '/v1/hotels/{H}/room-types', { ...roomType, baseRate: 1e20 }, 'admin', 'baseRate'),
  v('POST room-types: empty name', 'POST', '/v1/hotels/{H}/room-types', { ...roomType, name: '' }, 'admin', 'name'),
  v('POST room-types: hotelId not a UUID', 'POST', `/v1/hotels/${NOT_UUID}/room-types`, roomType, 'admin', 'hotelId'),
  nf('POST room-types: unknown hotel', 'POST', '/v1/hotels/{NOPE}/room-types', roomType, 'admin'),
  tooLarge('POST room-types: body over 1 MiB', 'POST', '/v1/hotels/{H}/room-types', 'admin', { ...roomType, name: huge }),

  v('GET room-types: limit 0', 'GET', '/v1/hotels/{H}/room-types?limit=0', undefined, 'none', 'limit'),
  v('GET room-types: limit 201', 'GET', '/v1/hotels/{H}/room-types?limit=201', undefined, 'none', 'limit'),
  v('GET room-types: hotelId not a UUID', 'GET', `/v1/hotels/${NOT_UUID}/room-types`, undefined, 'none', 'hotelId'),
  nf('GET room-types: unknown hotel', 'GET', '/v1/hotels/{NOPE}/room-types', undefined, 'none'),
  v('GET room-type: roomTypeId not a UUID', 'GET', `/v1/hotels/{H}/room-types/${NOT_UUID}`, undefined, 'none', 'roomTypeId'),
  nf('GET room-type: unknown room type', 'GET', '/v1/hotels/{H}/room-types/{NOPE}', undefined, 'none'),
  nf('GET room-type: unknown hotel', 'GET', '/v1/hotels/{NOPE}/room-types/{RT}', undefined, 'none'),

  ...basics('PUT', RT_PATH, { name: 'Renamed' }, 'admin', 'PUT room-type'),
  v('PUT room-type: maxGuests 0', 'PUT', RT_PATH, { maxGuests: 0 }, 'admin', 'maxGuests'),
  v('PUT room-type: maxGuests 21', 'PUT', RT_PATH, { maxGuests: 21 }, 'staff', 'maxGuests'),
  v('PUT room-type: empty name', 'PUT', RT_PATH, { name: '' }, 'admin', 'name'),
  v('PUT room-type: totalInventory (not updatable here)', 'PUT', RT_PATH, { totalInventory: 3 }, 'admin', 'totalInventory'),
  v('PUT room-type: baseRate (not updatable here)', 'PUT', RT_PATH, { baseRate: 3 }, 'admin', 'baseRate'),
  v('PUT room-type: roomTypeId not a UUID', 'PUT', `/v1/hotels/{H}/room-types/${NOT_UUID}`, { name: 'x' }, 'admin', 'roomTypeId'),
  nf('PUT room-type: unknown room type', 'PUT', '/v1/hotels/{H}/room-types/{NOPE}', { name: 'x' }, 'admin'),
  v('DELETE room-type: roomTypeId not a UUID', 'DELETE', `/v1/hotels/{H}/room-types/${NOT_UUID}`, undefined, 'admin', 'roomTypeId'),
  v('DELETE room-type: hotelId not a UUID', 'DELETE', `/v1/hotels/${NOT_UUID}/room-types/{RT}`, undefined, 'admin', 'hotelId'),
  nf('DELETE room-type: unknown room type', 'DELETE', '/v1/hotels/{H}/room-types/{NOPE}', undefined, 'admin'),

  // Rooms -----------------------------------------------------------------------------------------------------------
  ...basics('POST', '/v1/hotels/{H}/rooms', room, 'admin', 'POST rooms'),
  v('POST rooms: number missing', 'POST', '/v1/hotels/{H}/rooms', (ids: Ids) => without(room(ids), 'number'), 'admin', 'number'),
  v('POST rooms: roomTypeId missing', 'POST', '/v1/hotels/{H}/rooms', (ids: Ids) => without(room(ids), 'roomTypeId'), 'admin', 'roomTypeId'),
  v('POST rooms: roomTypeId not a UUID', 'POST', '/v1/hotels/{H}/rooms', (ids: Ids) => room(ids, { roomTypeId: NOT_UUID }), 'admin', 'roomTypeId'),
  nf('POST rooms: unknown roomTypeId', 'POST', '/v1/hotels/{H}/rooms', (ids: Ids) => room(ids, { roomTypeId: ids.NOPE }), 'admin'),
  v('POST rooms: number a number', 'POST', '/v1/hotels/{H}/rooms', (ids: Ids) => room(ids, { number: 901 }), 'staff', 'number'),
  v('POST rooms: empty number', 'POST', '/v1/hotels/{H}/rooms', (ids: Ids) => room(ids, { number: '' }), 'admin', 'number'),
  v('POST rooms: number of 21 characters', 'POST', '/v1/hotels/{H}/rooms', (ids: Ids) => room(ids, { number: '1'.repeat(21) }), 'admin', 'number'),
  v('POST rooms: floor "3"', 'POST', '/v1/hotels/{H}/rooms', (ids: Ids) => room(ids, { floor: '3' }), 'admin', 'floor'),
  v('POST rooms: floor 1.5', 'POST', '/v1/hotels/{H}/rooms', (ids: Ids) => room(ids, { floor: 1.5 }), 'admin', 'floor'),
  v('POST rooms: NUL byte in number', 'POST', '/v1/hotels/{H}/rooms', (ids: Ids) => room(ids, { number: NUL }), 'admin', 'number'),
  v('POST rooms: hotelId not a UUID', 'POST', `/v1/hotels/${NOT_UUID}/rooms`, room, 'admin', 'hotelId'),
  nf('POST rooms: unknown hotel', 'POST', '/v1/hotels/{NOPE}/rooms', room, 'admin'),
  tooLarge('POST rooms: body over 1 MiB', 'POST', '/v1/hotels/{H}/rooms', 'admin', { number: huge }),
  v('GET rooms: limit 0', 'GET', '/v1/hotels/{H}/rooms?limit=0', undefined, 'staff', 'limit'),
  v('GET rooms: limit 201', 'GET', '/v1/hotels/{H}/rooms?limit=201', undefined, 'admin', 'limit'),
  v('GET room: roomId not a UUID', 'GET', `/v1/hotels/{H}/rooms/${NOT_UUID}`, undefined, 'admin', 'roomId'),
  nf('GET room: unknown room', 'GET', '/v1/hotels/{H}/rooms/{NOPE}', undefined, 'admin'),
  ...basics('PUT', '/v1/hotels/{H}/rooms/{R}', { floor: 2 }, 'admin', 'PUT room'),
  v('PUT room: floor "x"', 'PUT', '/v1/hotels/{H}/rooms/{R}', { floor: 'x' }, 'admin', 'floor'),
  v('PUT room: roomTypeId not a UUID', 'PUT', '/v1/hotels/{H}/rooms/{R}', { roomTypeId: NOT_UUID }, 'admin', 'roomTypeId'),
  nf('PUT room: unknown roomTypeId', 'PUT', '/v1/hotels/{H}/rooms/{R}', (ids: Ids) => ({ roomTypeId: ids.NOPE }), 'admin'),
  v('PUT room: roomId not a UUID', 'PUT', `/v1/hotels/{H}/rooms/${NOT_UUID}`, { floor: 2 }, 'admin', 'roomId'),
  nf('PUT room: unknown room', 'PUT', '/v1/hotels/{H}/rooms/{NOPE}', { floor: 2 }, 'admin'),
  v('DELETE room: roomId not a UUID', 'DELETE', `/v1/hotels/{H}/rooms/${NOT_UUID}`, undefined, 'admin', 'roomId'),
  nf('DELETE room: unknown room', 'DELETE', '/v1/hotels/{H}/rooms/{NOPE}', undefined, 'staff'),

  // Inventory and rates -------------------------------------------------------------------------------------------
  ...basics('PUT', INV, inventory, 'admin', 'PUT inventory'),
  ...['from', 'to', 'totalInventory'].map((f) => v(`PUT inventory: ${f} missing`, 'PUT', INV, without(inventory, f), 'admin', f)),
  v('PUT inventory: from 2027-02-30', 'PUT', INV, { ...inventory, from: '2027-02-30' }, 'admin', 'from'),
  v('PUT inventory: from "tomorrow"', 'PUT', INV, { ...inventory, from: 'tomorrow' }, 'admin', 'from'),
  v('PUT inventory: to 2027-13-01', 'PUT', INV, { ...inventory, to: '2027-13-01' }, 'admin', 'to'),
  v('PUT inventory: from with a time', 'PUT', INV, { ...inventory, from: `${D(1)}T00:00:00Z` }, 'admin', 'from'),
  v('PUT inventory: to = from', 'PUT', INV, { ...inventory, to: inventory.from }, 'admin', 'to'),
  v('PUT inventory: to before from', 'PUT', INV, { ...inventory, from: D(5), to: D(2) }, 'partner', 'to'),
  v('PUT inventory: from yesterday', 'PUT', INV, { ...inventory, from: D(-1) }, 'admin', 'from'),
  v('PUT inventory: to past the 730-day horizon', 'PUT', INV, { ...inventory, from: D(700), to: D(731) }, 'staff', 'to'),
  v('PUT inventory: totalInventory -1', 'PUT', INV, { ...inventory, totalInventory: -1 }, 'admin', 'totalInventory'),
  v('PUT inventory: totalInventory 10001', 'PUT', INV, { ...inventory, totalInventory: 10001 }, 'admin', 'totalInventory'),
  v('PUT inventory: totalInventory 1.5', 'PUT', INV, { ...inventory, totalInventory: 1.5 }, 'admin', 'totalInventory'),
  v('PUT inventory: totalInventory "5"', 'PUT', INV, { ...inventory, totalInventory: '5' }, 'partner', 'totalInventory'),
  v('PUT inventory: roomTypeId not a UUID', 'PUT', `/v1/hotels/{H}/room-types/${NOT_UUID}/inventory`, inventory, 'admin', 'roomTypeId'),
  nf('PUT inventory: unknown room type', 'PUT', '/v1/hotels/{H}/room-types/{NOPE}/inventory', inventory, 'admin'),
  nf('PUT inventory: unknown hotel', 'PUT', '/v1/hotels/{NOPE}/room-types/{RT}/inventory', inventory, 'admin'),
  tooLarge('PUT inventory: body over 1 MiB', 'PUT', INV, 'admin', { ...inventory, from: huge }),

  ...basics('PUT', RATES, rates, 'admin', 'PUT rates'),
  ...['from', 'to', 'amount'].map((f) => v(`PUT rates: ${f} missing`, 'PUT', RATES, without(rates, f), 'admin', f)),
  v('PUT rates: amount 0', 'PUT', RATES, { ...rates, amount: 0 }, 'admin', 'amount'),
  v('PUT rates: amount -1', 'PUT', RATES, { ...rates, amount: -1 }, 'admin', 'amount'),
  v('PUT rates: amount 10.5', 'PUT', RATES, { ...rates, amount: 10.5 }, 'partner', 'amount'),
  v('PUT rates: amount "100"', 'PUT', RATES, { ...rates, amount: '100' }, 'admin', 'amount'),
  v('PUT rates: amount 1e20', 'PUT', RATES, { ...rates, amount: 1e20 }, 'admin', 'amount'),
  v('PUT rates: from 2027-02-30', 'PUT', RATES, { ...rates, from: '2027-02-30' }, 'admin', 'from'),
  v('PUT rates: to "tomorrow"', 'PUT', RATES, { ...rates, to: 'tomorrow' }, 'admin', 'to'),
  v('PUT rates: to = from', 'PUT', RATES, { ...rates, to: rates.from }, 'staff', 'to'),
  v('PUT rates: from yesterday', 'PUT', RATES, { ...rates, from: D(-1) }, 'admin', 'from'),
  v('PUT rates: to past the 730-day horizon', 'PUT', RATES, { ...rates, from: D(729), to: D(731) }, 'admin', 'to'),
  nf('PUT rates: unknown room type', 'PUT', '/v1/hotels/{H}/room-types/{NOPE}/rates', rates, 'admin'),
  v('PUT rates: hotelId not a UUID', 'PUT', `/v1/hotels/${NOT_UUID}/room-types/{RT}/rates`, rates, 'admin', 'hotelId'),

  // Occupancy pricing -------------------------------------------------------------------------------------------------
  ...basics('PUT', PRICING, pricing, 'admin', 'PUT pricing'),
  v('PUT pricing: tiers missing', 'PUT', PRICING, {}, 'admin', 'tiers'),
  v('PUT pricing: tiers an object', 'PUT', PRICING, { tiers: tier }, 'staff', 'tiers'),
  v('PUT pricing: occupancyPercent 101', 'PUT', PRICING, { tiers: [{ ...tier, occupancyPercent: 101 }] }, 'admin', 'tiers.0.occupancyPercent'),
  v('PUT pricing: occupancyPercent -1', 'PUT', PRICING, { tiers: [tier, { ...tier, occupancyPercent: -1 }] }, 'admin', 'tiers.1.occupancyPercent'),
  v('PUT pricing: occupancyPercent 12.5', 'PUT', PRICING, { tiers: [{ ...tier, occupancyPercent: 12.5 }] }, 'staff', 'tiers.0.occupancyPercent'),
  v('PUT pricing: multiplierPercent 49', 'PUT', PRICING, { tiers: [{ ...tier, multiplierPercent: 49 }] }, 'admin', 'tiers.0.multiplierPercent'),
  v('PUT pricing: multiplierPercent 501', 'PUT', PRICING, { tiers: [{ ...tier, multiplierPercent: 501 }] }, 'admin', 'tiers.0.multiplierPercent'),
  v('PUT pricing: multiplierPercent "120"', 'PUT', PRICING, { tiers: [{ ...tier, multiplierPercent: '120' }] }, 'admin', 'tiers.0.multiplierPercent'),
  v('PUT pricing: a repeated occupancyPercent', 'PUT', PRICING, { tiers: [tier, { occupancyPercent: 50, multiplierPercent: 150 }] }, 'admin', 'tiers.1.occupancyPercent'),
  v('PUT pricing: 11 tiers', 'PUT', PRICING, { tiers: Array.from({ length: 11 }, (_, i) => ({ occupancyPercent: i * 10, multiplierPercent: 100 })) }, 'admin', 'tiers'),
  v('PUT pricing: unknown field in a tier', 'PUT', PRICING, { tiers: [{ ...tier, currency: 'EUR' }] }, 'admin', 'currency'),
  v('PUT pricing: hotelId not a UUID', 'PUT', `/v1/hotels/${NOT_UUID}/pricing`, pricing, 'admin', 'hotelId'),
  nf('PUT pricing: unknown hotel', 'PUT', '/v1/hotels/{NOPE}/pricing', pricing, 'admin'),
  v('GET pricing: hotelId not a UUID', 'GET', `/v1/hotels/${NOT_UUID}/pricing`, undefined, 'none', 'hotelId'),
  nf('GET pricing: unknown hotel', 'GET', '/v1/hotels/{NOPE}/pricing', undefined, 'none'),

  // Availability ----------------------------------------------------------------------------------------------------
  v('GET availability: checkIn missing', 'GET', `${AV}?checkOut=${D(3)}`, undefined, 'none', 'checkIn'),
  v('GET availability: checkOut missing', 'GET', `${AV}?checkIn=${D(1)}`, undefined, 'none', 'checkOut'),
  v('GET availability: checkIn 2027-02-30', 'GET', `${AV}?checkIn=2027-02-30&checkOut=${D(3)}`, undefined, 'none', 'checkIn'),
  v('GET availability: checkIn "tomorrow"', 'GET', `${AV}?checkIn=tomorrow&checkOut=${D(3)}`, undefined, 'none', 'checkIn'),
  v('GET availability: checkOut = checkIn', 'GET', `${AV}?checkIn=${D(2)}&checkOut=${D(2)}`, undefined, 'none', 'checkOut'),
  v('GET availability: checkOut before checkIn', 'GET', `${AV}?checkIn=${D(5)}&checkOut=${D(2)}`, undefined, 'none', 'checkOut'),
  v('GET availability: 93 nights', 'GET', `${AV}?checkIn=${D(1)}&checkOut=${D(94)}`, undefined, 'none', 'checkOut'),
  v('GET availability: checkIn yesterday', 'GET', `${AV}?checkIn=${D(-1)}&checkOut=${D(2)}`, undefined, 'none', 'checkIn'),
  v('GET availability: past the 730-day horizon', 'GET', `${AV}?checkIn=${D(700)}&checkOut=${D(731)}`, undefined, 'none', 'checkOut'),
  v('GET availability: rooms 0', 'GET', `${AV}?checkIn=${D(1)}&checkOut=${D(2)}&rooms=0`, undefined, 'none', 'rooms'),
  v('GET availability: rooms 11', 'GET', `${AV}?checkIn=${D(1)}&checkOut=${D(2)}&rooms=11`, undefined, 'none', 'rooms'),
  v('GET availability: rooms "two"', 'GET', `${AV}?checkIn=${D(1)}&checkOut=${D(2)}&rooms=two`, undefined, 'none', 'rooms'),
  v('GET availability: roomTypeId not a UUID', 'GET', `${AV}?checkIn=${D(1)}&checkOut=${D(2)}&roomTypeId=${NOT_UUID}`, undefined, 'none', 'roomTypeId'),
  v('GET availability: hotelId not a UUID', 'GET', `/v1/hotels/${NOT_UUID}/availability?checkIn=${D(1)}&checkOut=${D(2)}`, undefined, 'none', 'hotelId'),
  nf('GET availability: unknown hotel', 'GET', `/v1/hotels/{NOPE}/availability?checkIn=${D(1)}&checkOut=${D(2)}`, undefined, 'none'),
  nf('GET availability: unknown roomTypeId', 'GET', `${AV}?checkIn=${D(1)}&checkOut=${D(2)}&roomTypeId={NOPE}`, undefined, 'none'),

  // Reservations ----------------------------------------------------------------------------------------------------
  ...basics('POST', '/v1/reservations', reservation, 'guest', 'POST /v1/reservations'),
  ...['reservationId', 'hotelId', 'roomTypeId', 'checkIn', 'checkOut', 'guest'].map((f) =>
    v(`POST /v1/reservations: ${f} missing`, 'POST', '/v1/reservations', reservationWithout(f), 'guest', f),
  ),
  v('POST /v1/reservations: guest.name missing', 'POST', '/v1/reservations', (ids: Ids) => reservation(ids, { guest: { email: 'a@example.com' } }), 'guest', 'guest.name'),
  v('POST /v1/reservations: guest.email missing', 'POST', '/v1/reservations', (ids: Ids) => reservation(ids, { guest: { name: 'A' } }), 'guest', 'guest.email'),
  v('POST /v1/reservations: guest.email not an e-mail', 'POST', '/v1/reservations', (ids: Ids) => reservation(ids, { guest: { name: 'A', email: 'nope' } }), 'partner', 'guest.email'),
  v('POST /v1/reservations: unknown field in guest', 'POST', '/v1/reservations', (ids: Ids) => reservation(ids, { guest: { name: 'A', email: 'a@example.com', phone: '1' } }), 'guest', 'phone'),
  v('POST /v1/reservations: guest a string', 'POST', '/v1/reservations', (ids: Ids) => reservation(ids, { guest: 'Ada' }), 'guest', 'guest'),
  v('POST /v1/reservations: reservationId not a UUID', 'POST', '/v1/reservations', (ids: Ids) => reservation(ids, { reservationId: NOT_UUID }), 'guest', 'reservationId'),
  v('POST /v1/reservations: reservationId a number', 'POST', '/v1/reservations', (ids: Ids) => reservation(ids, { reservationId: 12 }), 'guest', 'reservationId'),
  v('POST /v1/reservations: hotelId not a UUID', 'POST', '/v1/reservations', (ids: Ids) => reservation(ids, { hotelId: NOT_UUID }), 'admin', 'hotelId'),
  v('POST /v1/reservations: roomTypeId not a UUID', 'POST', '/v1/reservations', (ids: Ids) => reservation(ids, { roomTypeId: NOT_UUID }), 'guest', 'roomTypeId'),
  v('POST /v1/reservations: roomCount 0', 'POST', '/v1/reservations', (ids: Ids) => reservation(ids, { roomCount: 0 }), 'guest', 'roomCount'),
  v('POST /v1/reservations: roomCount 11', 'POST', '/v1/reservations', (ids: Ids) => reservation(ids, { roomCount: 11 }), 'partner', 'roomCount'),
  v('POST /v1/reservations: roomCount 1.5', 'POST', '/v1/reservations', (ids: Ids) => reservation(ids, { roomCount: 1.5 }), 'guest', 'roomCount'),
  v('POST /v1/reservations: roomCount "2"', 'POST', '/v1/reservations', (ids: Ids) => reservation(ids, { roomCount: '2' }), 'staff', 'roomCount'),
  v('POST /v1/reservations: checkIn 2027-02-30', 'POST', '/v1/reservations', (ids: Ids) => reservation(ids, { checkIn: '2027-02-30' }), 'guest', 'checkIn'),
  v('POST /v1/reservations: checkIn "tomorrow"', 'POST', '/v1/reservations', (ids: Ids) => reservation(ids, { checkIn: 'tomorrow' }), 'guest', 'checkIn'),
  v('POST /v1/reservations: checkOut 2027-02-29', 'POST', '/v1/reservations', (ids: Ids) => reservation(ids, { checkOut: '2027-02-29' }), 'guest', 'checkOut'),
  v('POST /v1/reservations: checkOut = checkIn', 'POST', '/v1/reservations', (ids: Ids) => reservation(ids, { checkIn: D(4), checkOut: D(4) }), 'guest', 'checkOut'),
  v('POST /v1/reservations: checkOut before checkIn', 'POST', '/v1/reservations', (ids: Ids) => reservation(ids, { checkIn: D(6), checkOut: D(4) }), 'partner', 'checkOut'),
  v('POST /v1/reservations: 31 nights', 'POST', '/v1/reservations', (ids: Ids) => reservation(ids, { checkIn: D(1), checkOut: D(32) }), 'guest', 'checkOut'),
  v('POST /v1/reservations: checkIn yesterday', 'POST', '/v1/reservations', (ids: Ids) => reservation(ids, { checkIn: D(-1), checkOut: D(1) }), 'guest', 'checkIn'),
  v('POST /v1/reservations: past the 730-day horizon', 'POST', '/v1/reservations', (ids: Ids) => reservation(ids, { checkIn: D(729), checkOut: D(731) }), 'admin', 'checkOut'),
  v('POST /v1/reservations: NUL byte in guest.name', 'POST', '/v1/reservations', (ids: Ids) => reservation(ids, { guest: { name: NUL, email: 'a@example.com' } }), 'guest', 'guest.name'),
  v('POST /v1/reservations: unpaired surrogate in guest.name', 'POST', '/v1/reservations', (ids: Ids) => reservation(ids, { guest: { name: '\udc00x', email: 'a@example.com' } }), 'guest', 'guest.name'),
  nf('POST /v1/reservations: unknown hotel', 'POST', '/v1/reservations', (ids: Ids) => reservation(ids, { hotelId: ids.NOPE }), 'guest'),
  nf('POST /v1/reservations: unknown room type', 'POST', '/v1/reservations', (ids: Ids) => reservation(ids, { roomTypeId: ids.NOPE }), 'guest'),
  tooLarge('POST /v1/reservations: body over 1 MiB', 'POST', '/v1/reservations', 'guest', { guest: { name: huge } }),

  v('GET /v1/reservations/:id: not a UUID', 'GET', `/v1/reservations/${NOT_UUID}`, undefined, 'admin', 'id'),
  nf('GET /v1/reservations/:id: unknown', 'GET', '/v1/reservations/{NOPE}', undefined, 'guest'),
  v('GET /v1/reservations: limit 0', 'GET', '/v1/reservations?limit=0', undefined, 'admin', 'limit'),
  v('GET /v1/reservations: limit 201', 'GET', '/v1/reservations?limit=201', undefined, 'guest', 'limit'),
  v('GET /v1/reservations: status "bogus"', 'GET', '/v1/reservations?status=bogus', undefined, 'staff', 'status'),
  v('GET /v1/reservations: status "PENDING"', 'GET', '/v1/reservations?status=PENDING', undefined, 'admin', 'status'),
  v('GET /v1/reservations: hotelId not a UUID', 'GET', `/v1/reservations?hotelId=${NOT_UUID}`, undefined, 'admin', 'hotelId'),
  v('DELETE /v1/reservations/:id: not a UUID', 'DELETE', `/v1/reservations/${NOT_UUID}`, undefined, 'guest', 'id'),
  nf('DELETE /v1/reservations/:id: unknown', 'DELETE', '/v1/reservations/{NOPE}', undefined, 'admin'),
];

/** Every row of every table the API writes, as digests, plus the suite hotel's version and nights. */
interface Snapshot {
  version: number;
  nights: unknown;
  digests: Record<string, string | null>;
}

describe('bad input: every refused request answers its 4xx and changes nothing', function () {
  this.timeout(120_000);
  let env: TestEnv;
  let stack: Stack;
  let ids: Ids;
  const clients = new Map<TokenName, HttpClient>();
  const dbs: pg.Client[] = [];

  const digestQuery = (tables: string[]) =>
    `SELECT ${tables.map((t) => `(SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM ${t} x) AS ${t}`).join(', ')}`;

  const snapshot = async (): Promise<Snapshot> => {
    const [catalog, ...shards] = dbs;
    const [version, nights, catalogRow, ...shardRows] = await Promise.all([
      hotelVersion(env.config, ids.H),
      nightsOf(env.config, ids.H, ids.RT),
      catalog.query(digestQuery(['users', 'api_keys', 'sessions'])).then((r) => r.rows[0]),
      ...shards.map((c) => c.query(digestQuery(['hotels', 'room_types', 'rooms', 'room_type_inventory', 'reservations'])).then((r) => r.rows[0])),
    ]);
    const digests: Record<string, string | null> = {};
    for (const [k, d] of Object.entries(catalogRow)) digests[`catalog.${k}`] = d as string;
    shardRows.forEach((row, i) => {
      for (const [k, d] of Object.entries(row)) digests[`shard${i}.${k}`] = d as string;
    });
    return { version, nights, digests };
  };

  before(async () => {
    // A short reply timeout: a refused command that the engine never answers (a bug) fails fast instead of in 10 s.
    env = await createTestEnv({ REPLY_TIMEOUT_MS: '4000' });
    stack = await startStack(env.config);
    const admin = stack.admin;
    const h = await createHotel(admin, { name: 'Bad Input', city: 'Grenoble' });
    const rt = await createRoomType(admin, h.id);
    const room = await admin.post(`/v1/hotels/${h.id}/rooms`, { number: '101', roomTypeId: rt.id, floor: 1 });
    expect(room.status, JSON.stringify(room.body)).to.equal(201);
    const res = await admin.post('/v1/reservations', reservationBody(h.id, rt.id, D(20), D(22)));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    ids = { H: h.id, RT: rt.id, R: room.body.id, RES: res.body.id, NOPE: randomUUID() };
    clients.set('admin', admin);
    clients.set('none', admin.as(undefined));
    clients.set('staff', admin.as(await createKey(admin, 'staff', [h.id])));
    clients.set('partner', admin.as(await createKey(admin, 'partner', [h.id])));
    clients.set('guest', admin.as((await createGuest(admin)).token));
    for (const url of [env.config.catalogUrl, ...env.config.shardDatabaseUrls]) {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      dbs.push(c);
    }
  });

  after(async () => {
    for (const c of dbs) await c.end().catch(() => {});
    await stack?.stop();
    await env?.cleanup();
  });

  const resolvePath = (p: string) =>
    p.replace(/\{(H|RT|R|RES|NOPE)\}/g, (_m, k: keyof Ids) => ids[k]);

  const send = (c: Case): Promise<HttpResult> => {
    const client = clients.get(c.token) as HttpClient;
    const body = typeof c.body === 'function' ? (c.body as (i: Ids) => unknown)(ids) : c.body;
    return client.request(c.method, resolvePath(c.path), body);
  };

  it('the table covers every route of the sections under test', () => {
    const routes = new Set(cases.map((c) => `${c.method} ${c.path.split('?')[0].replace(NOT_UUID, '{X}').replace(/\{(H|RT|R|RES|NOPE)\}/g, '{X}')}`));
    for (const r of [
      'POST /v1/api-keys',
      'DELETE /v1/api-keys/{X}',
      'POST /v1/users',
      'POST /v1/sessions',
      'POST /v1/hotels',
      'GET /v1/hotels',
      'GET /v1/hotels/{X}',
      'PUT /v1/hotels/{X}',
      'DELETE /v1/hotels/{X}',
      'POST /v1/hotels/{X}/room-types',
      'GET /v1/hotels/{X}/room-types',
      'GET /v1/hotels/{X}/room-types/{X}',
      'PUT /v1/hotels/{X}/room-types/{X}',
      'DELETE /v1/hotels/{X}/room-types/{X}',
      'POST /v1/hotels/{X}/rooms',
      'GET /v1/hotels/{X}/rooms',
      'GET /v1/hotels/{X}/rooms/{X}',
      'PUT /v1/hotels/{X}/rooms/{X}',
      'DELETE /v1/hotels/{X}/rooms/{X}',
      'PUT /v1/hotels/{X}/room-types/{X}/inventory',
      'PUT /v1/hotels/{X}/room-types/{X}/rates',
      'PUT /v1/hotels/{X}/pricing',
      'GET /v1/hotels/{X}/pricing',
      'GET /v1/hotels/{X}/availability',
      'POST /v1/reservations',
      'GET /v1/reservations/{X}',
      'GET /v1/reservations',
      'DELETE /v1/reservations/{X}',
    ]) {
      expect(routes.has(r), r).to.equal(true);
    }
  });

  // The snapshot taken after a passing case is the next case's "before" (nothing else writes meanwhile).
  let previous: Snapshot | undefined;
  for (const c of cases) {
    it(`${c.name} → ${c.expectStatus} ${c.expectCode}`, async () => {
      const before = previous ?? (await snapshot());
      previous = undefined;
      const r = await send(c);
      const shown = JSON.stringify(r.body).slice(0, 500);
      expect(r.status, `a 5xx for client input is a bug: ${shown}`).to.not.be.within(500, 599);
      expect(r.status, shown).to.equal(c.expectStatus);
      expect(r.headers.get('content-type') ?? '', 'error bodies are JSON').to.match(/application\/json/);
      expect(r.body, shown).to.be.an('object').with.property('error');
      const e = r.body.error;
      expect(Object.keys(e).every((k) => ['code', 'message', 'details'].includes(k)), shown).to.equal(true);
      expect(e.code, shown).to.equal(c.expectCode);
      expect(e.message, shown).to.be.a('string').and.not.equal('');
      if (c.expectCode === 'validation_failed') {
        expect(e.details?.fields, `validation_failed lists the bad fields: ${shown}`).to.be.an('array').with.length.greaterThan(0);
        for (const f of e.details.fields) {
          expect(f.field, shown).to.be.a('string');
          expect(f.message, shown).to.be.a('string');
        }
        if (c.field) {
          const named = (e.details.fields as { field: string }[]).some((f) =>
            f.field.split(/,\s*/).some((part) => part === c.field || part.endsWith(`.${c.field}`)),
          );
          expect(named, `details.fields names "${c.field}": ${shown}`).to.equal(true);
        }
      }
      const after = await snapshot();
      expect(after.version, 'the hotel version did not move').to.equal(before.version);
      expect(after.nights, 'the inventory did not move').to.deep.equal(before.nights);
      expect(after.digests, 'no table changed').to.deep.equal(before.digests);
      previous = after;
    });
  }

  it('a body over 1 MiB is 413 whatever its content type (one that is not JSON is not read, but still too large)', async () => {
    for (const type of ['text/plain', 'application/octet-stream']) {
      const r = await fetch(`${stack.admin.baseUrl}/v1/hotels`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.admin.token}`, 'content-type': type },
        body: 'x'.repeat(1024 * 1024 + 1),
      });
      expect(r.status, type).to.equal(413);
      expect(((await r.json()) as { error: { code: string } }).error.code).to.equal('payload_too_large');
    }
  });

  it('a JSON body sent with another Content-Type is 400 saying to send application/json (not "is required")', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const r = await fetch(`${stack.admin.baseUrl}/v1/hotels/${ids.H}/room-types`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.admin.token}`, 'content-type': type },
        body: JSON.stringify(roomType),
      });
      expect(r.status, type).to.equal(400);
      const body = (await r.json()) as { error: { code: string; details: { fields: unknown[] } } };
      expect(body.error.code).to.equal('validation_failed');
      expect(body.error.details.fields).to.deep.equal([{ field: 'body', message: 'must be sent with Content-Type: application/json' }]);
    }
  });

  it('a wrong type is reported as a wrong type, not as a missing field', async () => {
    const r = await stack.admin.post(`/v1/hotels/${ids.H}/room-types`, { ...roomType, maxGuests: '2' });
    expect(r.status).to.equal(400);
    const f = (r.body.error.details.fields as { field: string; message: string }[]).find((x) => x.field === 'maxGuests');
    expect(f, JSON.stringify(r.body)).to.not.equal(undefined);
    expect(f?.message, JSON.stringify(r.body)).to.not.equal('is required');
  });

  it('a refused reservation (NUL byte) does not take down valid reservations decided alongside it', async () => {
    // Send many reservations at once so that they share shard jobs; one of them carries a NUL byte.
    const admin = stack.admin;
    const rt2 = await createRoomType(admin, ids.H, { name: 'Collateral', totalInventory: 100 });
    const bodies = Array.from({ length: 25 }, (_, i) =>
      reservationBody(ids.H, rt2.id, D(40), D(41), i === 2 ? { guest: { name: NUL, email: 'a@example.com' } } : {}),
    );
    const answers = await Promise.all(bodies.map((b) => admin.post('/v1/reservations', b)));
    const others = answers.filter((_, i) => i !== 2).map((a) => a.status);
    expect(others, 'every valid reservation is held').to.deep.equal(others.map(() => 201));
    const bad = answers[2];
    expect(bad.status, JSON.stringify(bad.body)).to.equal(400);
  });
});
