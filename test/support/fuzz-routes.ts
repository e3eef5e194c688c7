// The fuzz test's knowledge of each route beyond the OpenAPI document (test/integration/fuzz.test.ts): who may call it,
// a valid body, its query parameters and the refusals the contract names that the document's schemas do not say
// (date rules, ids of nothing, a stay that cannot fit), and the arbitraries of path parameters and query strings.
import fc from 'fast-check';
import { reservationBody } from './fixtures.js';
import { anyDate, badUuid, cursorText, dayFromToday as D, type Part, type TokenKind } from './fuzz.js';

export interface Fixtures {
  H: string;
  H2: string;
  RT: string;
  RT2: string;
  R: string;
  RES: string;
  B: string;
  /** A webhook of the admin's. */
  W: string;
  spareKeyId: string;
  guestEmail: string;
  guestPassword: string;
  tokens: Record<string, string>;
}

/** What the suite knows of a route beyond the document: who may call it, a valid body, and its query. */
export interface RouteSpec {
  /** Token kinds that can pass the route's auth for the fixtures (a superset is safe: it only makes fewer breaks). */
  allowed: TokenKind[];
  /** A valid body; `u` is a fresh UUID for what must be unique. */
  body?: (f: Fixtures, u: string) => Record<string, unknown>;
  /** Pairs of dates with the contract's rules (`to` after `from`, not before today, within the horizon, max nights). */
  dates?: [string, string, number | undefined];
  /** Other refusals the contract names, that depend on the body alone (an id of nothing, a stay that cannot fit). */
  refusals?: (f: Fixtures) => fc.Arbitrary<{ patch: Record<string, unknown>; how: string }>[];
  query?: (f: Fixtures) => Record<string, fc.Arbitrary<string>>;
  /** The query has a stay (checkIn, checkOut). */
  stay?: boolean;
}

const everyone: TokenKind[] = ['none', 'admin', 'staff', 'partner', 'guest'];
const signedIn: TokenKind[] = ['admin', 'staff', 'partner', 'guest'];
const intText = (ok: string[]) =>
  fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...ok) }, { weight: 1, arbitrary: fc.constantFrom('0', '-1', '1.5', '1e2', '99999999999999999999999', ' 5', '0x10', '', 'ten', '\u0663', '+3', '007') });
const idText = (...ok: string[]) =>
  fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...ok) }, fc.uuid(), badUuid, fc.constantFrom(...ok).map((s) => s.toUpperCase()));
const pageQuery = () => ({ limit: intText(['1', '2', '50', '200', '201']), cursor: cursorText });

export const specs: Record<string, RouteSpec> = {
  'POST /v1/api-keys': { allowed: ['admin'], body: (f) => ({ name: 'fuzz key', role: 'partner', hotelIds: [f.H], rateLimitPerSecond: 5 }) },
  'DELETE /v1/api-keys/{id}': { allowed: ['admin'] },
  'POST /v1/users': { allowed: everyone, body: (_f, u) => ({ email: `fuzz-${u}@example.com`, password: 'long enough password', name: 'Fuzz' }) },
  'POST /v1/sessions': { allowed: everyone, body: (f) => ({ email: f.guestEmail, password: f.guestPassword }) },
  'POST /v1/hotels': { allowed: ['admin'], body: () => ({ name: 'Fuzz Hotel', city: 'Nantes', country: 'FR', timezone: 'Europe/Paris', currency: 'EUR', overbookingPercent: 5 }) },
  'GET /v1/hotels': { allowed: everyone, query: () => ({ ...pageQuery(), city: fc.constantFrom('Lyon', 'Grenoble', 'lyon', '', '%', 'x'.repeat(101)) }) },
  'GET /v1/hotels/{hotelId}': { allowed: everyone },
  'PUT /v1/hotels/{hotelId}': { allowed: ['admin', 'staff'], body: () => ({ name: 'Renamed', overbookingPercent: 20 }) },
  'DELETE /v1/hotels/{hotelId}': { allowed: ['admin'] },
  'PUT /v1/hotels/{hotelId}/pricing': {
    allowed: ['admin', 'staff'],
    body: () => ({ tiers: [{ occupancyPercent: 50, multiplierPercent: 120 }, { occupancyPercent: 80, multiplierPercent: 150 }] }),
  },
  'GET /v1/hotels/{hotelId}/pricing': { allowed: everyone },
  'POST /v1/hotels/{hotelId}/room-types': { allowed: ['admin', 'staff'], body: () => ({ name: 'Suite', maxGuests: 4, totalInventory: 3, baseRate: 30000 }) },
  'GET /v1/hotels/{hotelId}/room-types': { allowed: everyone, query: pageQuery },
  'GET /v1/hotels/{hotelId}/room-types/{roomTypeId}': { allowed: everyone },
  'PUT /v1/hotels/{hotelId}/room-types/{roomTypeId}': { allowed: ['admin', 'staff'], body: () => ({ name: 'Renamed', maxGuests: 3 }) },
  'DELETE /v1/hotels/{hotelId}/room-types/{roomTypeId}': { allowed: ['admin', 'staff'] },
  'PUT /v1/hotels/{hotelId}/room-types/{roomTypeId}/inventory': {
    allowed: ['admin', 'staff', 'partner'],
    body: () => ({ from: D(1), to: D(3), totalInventory: 7 }),
    dates: ['from', 'to', undefined],
  },
  'PUT /v1/hotels/{hotelId}/room-types/{roomTypeId}/rates': {
    allowed: ['admin', 'staff', 'partner'],
    body: () => ({ from: D(1), to: D(3), amount: 12345 }),
    dates: ['from', 'to', undefined],
  },
  'POST /v1/hotels/{hotelId}/rooms': {
    allowed: ['admin', 'staff'],
    body: (f, u) => ({ number: u.slice(0, 8), roomTypeId: f.RT2, floor: 3 }),
    refusals: () => [fc.uuid().map((u) => ({ patch: { roomTypeId: u }, how: 'roomTypeId of no room type (404)' }))],
  },
  'GET /v1/hotels/{hotelId}/rooms': { allowed: ['admin', 'staff'], query: pageQuery },
  'GET /v1/hotels/{hotelId}/rooms/{roomId}': { allowed: ['admin', 'staff'] },
  'PUT /v1/hotels/{hotelId}/rooms/{roomId}': {
    allowed: ['admin', 'staff'],
    body: (f) => ({ number: '102', roomTypeId: f.RT2, floor: 2 }),
    refusals: () => [fc.uuid().map((u) => ({ patch: { roomTypeId: u }, how: 'roomTypeId of no room type (404)' }))],
  },
  'DELETE /v1/hotels/{hotelId}/rooms/{roomId}': { allowed: ['admin', 'staff'] },
  'GET /v1/hotels/{hotelId}/availability': {
    allowed: everyone,
    query: (f) => ({ roomTypeId: idText(f.RT, f.RT2), rooms: intText(['1', '2', '10', '11']), guests: intText(['1', '2']) }),
    stay: true,
  },
  'GET /v1/hotels/{hotelId}/availability/stream': { allowed: everyone },
  'POST /v1/reservations': {
    allowed: signedIn,
    body: (f, u) => ({ ...reservationBody(f.H, f.RT, D(5), D(7)), reservationId: u, roomCount: 2 }),
    dates: ['checkIn', 'checkOut', 30],
    refusals: (f) => [
      fc.uuid().map((u) => ({ patch: { hotelId: u }, how: 'hotelId of no hotel (404)' })),
      fc.uuid().map((u) => ({ patch: { roomTypeId: u }, how: 'roomTypeId of no room type (404)' })),
      fc.constant({ patch: { hotelId: f.H2 }, how: 'a room type of another hotel (404)' }),
      // RT2 has 4 rooms, no overbooking allowance (floor(4 × 1.1) = 4) and nothing reserved: 5 or more never fit.
      fc.integer({ min: 5, max: 10 }).map((n) => ({ patch: { roomTypeId: f.RT2, roomCount: n }, how: `${n} rooms of 4 (409 sold_out)` })),
    ],
  },
  'GET /v1/reservations': {
    allowed: signedIn,
    query: (f) => ({ ...pageQuery(), hotelId: idText(f.H, f.H2), status: fc.constantFrom('pending', 'paid', 'rejected', 'canceled', 'refunded', 'PAID', 'processing', '') }),
  },
  'GET /v1/reservations/{id}': { allowed: signedIn },
  'DELETE /v1/reservations/{id}': { allowed: ['guest', 'staff', 'admin'] },
  'POST /v1/reservations/{id}/payment': { allowed: ['guest', 'admin'], body: () => ({ paymentMethod: 'pm_card_visa' }) },
  'POST /v1/batches': { allowed: ['partner', 'admin'], body: (f, u) => ({ items: [{ ...reservationBody(f.H, f.RT, D(8), D(9)), reservationId: u }], atomic: false }) },
  'GET /v1/batches/{batchId}': { allowed: signedIn },
  'POST /v1/webhooks': { allowed: ['admin', 'staff', 'partner'], body: (f) => ({ url: 'http://127.0.0.1:9/fuzz-hook', events: ['reservation.created', 'availability.changed'], hotelIds: [f.H] }) },
  'GET /v1/webhooks': { allowed: ['admin', 'staff', 'partner'], query: pageQuery },
  'GET /v1/webhooks/{id}': { allowed: ['admin'] },
  'PUT /v1/webhooks/{id}': { allowed: ['admin'], body: (f) => ({ url: 'http://127.0.0.1:9/renamed', events: ['reservation.paid'], hotelIds: [f.H, f.H2], enabled: false }) },
  'DELETE /v1/webhooks/{id}': { allowed: ['admin'] },
  'GET /v1/webhooks/{id}/deliveries': {
    allowed: ['admin'],
    query: () => ({ limit: intText(['1', '50', '200', '201']), status: fc.constantFrom('failed', 'succeeded', 'FAILED', '', 'pending'), cursor: fc.constantFrom('MTA', 'MQ', 'x', '', '-1', 'OTk5OTk5OTk5OTk5OTk5OTk5OTk5') }),
  },
  'POST /v1/webhooks/{id}/replay': { allowed: ['admin'], body: () => ({ since: new Date(Date.now() - 3600_000).toISOString() }) },
  'GET /v1/hotels/{hotelId}/audit': {
    allowed: ['admin', 'staff'],
    query: (f) => ({
      limit: intText(['1', '50', '200', '201']),
      reservationId: idText(f.RES),
      from: fc.constantFrom('2026-01-01T00:00:00Z', '1969-12-31T23:59:59Z', '0000-01-01T00:00:00Z', '2026-02-30T00:00:00Z', 'yesterday', '', '9999-12-31T23:59:59.999Z'),
      to: fc.constantFrom('2099-01-01T00:00:00Z', '2026-13-01T00:00:00Z', 'now'),
      cursor: fc.constantFrom('MTA', 'MQ', 'x', ''),
    }),
  },
  'GET /healthz': { allowed: everyone },
  'GET /readyz': { allowed: everyone },
  'GET /metrics': { allowed: ['admin'] },
  'GET /v1/ops/shards': { allowed: ['admin'] },
  // Moves and drains are fuzzed only with a broken part (as every mutating route), so no valid one ever runs here.
  'POST /v1/ops/shards/{shard}/move': { allowed: ['admin'], body: () => ({ database: 1 }) },
  'POST /v1/ops/shards/{shard}/drain': { allowed: ['admin'] },
  'GET /v1/ops/hotels/{hotelId}': { allowed: ['admin'] },
  'GET /openapi.json': { allowed: everyone },
  'GET /docs': { allowed: everyone },
};

/** Valid values of a path parameter, by route and name. */
export function validParams(f: Fixtures, path: string, name: string): string[] {
  if (name === 'id') return path.startsWith('/v1/api-keys') ? [f.spareKeyId] : path.startsWith('/v1/webhooks') ? [f.W] : [f.RES];
  const byName: Record<string, string[]> = { hotelId: [f.H, f.H2], roomTypeId: [f.RT, f.RT2], roomId: [f.R], batchId: [f.B], shard: ['0', '1', '3'] };
  return byName[name] ?? [];
}

/** Path parameter text: a valid id (either case), an id of nothing, no UUID at all, or junk escapes. */
export function paramPart(valid: string[]): fc.Arbitrary<Part<string>> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...valid), fc.boolean()).map(([v, up]) => ({ value: up ? v.toUpperCase() : v, broken: false, how: 'valid id' })) },
    { weight: 1, arbitrary: fc.uuid().map((u) => ({ value: u, broken: true, how: `unknown id ${u}` })) },
    { weight: 1, arbitrary: badUuid.map((s) => ({ value: encodeURIComponent(s), broken: true, how: `not a UUID ${JSON.stringify(s)}` })) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('%', '%zz', '%C0%80', '%00', '%2F', '%FF%FE', '..', '.', ';a=b', '~', '*', ':id', '%u0041', 'a%2F..%2Fb', '%E2%80%AE')
        .map((s) => ({ value: s, broken: true, how: `raw path text ${s}` })),
    },
  );
}

/**
 * A query string: each known key present or not, with a plausible or a junk value (a strict query schema refuses
 * the whole query for one bad key, so junk is kept to a share that lets most queries reach the store); now and then
 * unknown, repeated or bracketed keys, and raw escapes.
 */
export function queryPart(known: Record<string, fc.Arbitrary<string>>, stay = false): fc.Arbitrary<string> {
  const keys = Object.keys(known);
  const junkPair = fc.oneof(
    fc.tuple(fc.constantFrom('limit[]', 'a[b]', '__proto__', 'constructor', 'foo', '', ...keys), fc.string({ maxLength: 10 })),
    ...(keys.length ? [fc.constantFrom(...keys).chain((k) => known[k].map((v) => [k, v] as [string, string]))] : []),
  );
  const pairs = fc
    .tuple(
      fc.record(Object.fromEntries(keys.map((k) => [k, known[k]])), { requiredKeys: [] }),
      fc.option(fc.array(junkPair, { minLength: 1, maxLength: 3 }), { freq: 5 }),
      stay ? fc.option(stayPair, { freq: 8 }) : fc.constant(null),
    )
    .map(([r, extra, dates]) => [...(dates ?? []), ...Object.entries(r as Record<string, string>), ...(extra ?? [])]);
  const encoded = fc.tuple(pairs, fc.boolean()).map(([ps, rawValues]) =>
    ps.map(([k, v]) => `${encodeURIComponent(k)}=${rawValues ? v.replace(/[^\x21-\x7e]|#/g, (c) => encodeURIComponent(c)) : encodeURIComponent(v)}`).join('&'),
  );
  return fc.oneof(
    { weight: 8, arbitrary: encoded },
    { weight: 1, arbitrary: fc.constantFrom('', '&&&', '=', '==', 'limit', 'limit=1&limit=2', '%', '%zz=1', 'cursor=%00', 'a=%E0%A4%A') },
  );
}

/** checkIn and checkOut of a stay: mostly near the rules' edges (today, 92 nights, the horizon), sometimes junk. */
const stayPair: fc.Arbitrary<[string, string][]> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.integer({ min: -2, max: 735 }), fc.integer({ min: -2, max: 95 })).map(([x, n]) => [['checkIn', D(x)], ['checkOut', D(x + n)]] as [string, string][]) },
  { weight: 1, arbitrary: fc.tuple(anyDate, anyDate).map(([a, b]) => [['checkIn', a], ['checkOut', b]] as [string, string][]) },
);


/** Pairs of dates the contract refuses: not after the first, before today, past the horizon, too many nights. */
export function dateRuleBreaks(a: string, b: string, maxNights: number | undefined) {
  const breaks = [
    fc.tuple(fc.integer({ min: 1, max: 700 }), fc.integer({ min: 0, max: 10 })).map(([x, k]) => ({ patch: { [a]: D(x), [b]: D(x - k) }, how: `${b} not after ${a}` })),
    fc.tuple(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 20 })).map(([k, m]) => ({ patch: { [a]: D(-k), [b]: D(-k + m) }, how: `${a} before today` })),
    fc.tuple(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 1, max: 30 })).map(([x, m]) => ({ patch: { [a]: D(731 + x - m), [b]: D(731 + x) }, how: `${b} past the horizon` })),
  ];
  if (maxNights) {
    breaks.push(
      fc.tuple(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 1, max: 90 })).map(([x, k]) => ({ patch: { [a]: D(x), [b]: D(Math.min(x + maxNights + k, 729)) }, how: `more than ${maxNights} nights` })),
    );
  }
  return breaks;
}
