// Property-based fuzzing (fast-check) of every route of the OpenAPI document (/openapi.json): malformed bodies, path
// and query parameters, headers and tokens of every kind. What must hold for every request:
// - never a 5xx;
// - every 4xx has the contract's error body, with a code of API.md's list at that code's status, and a
//   validation_failed names each bad field;
// - a request to a route that changes state is refused, since at least one of its parts is broken
//   (test/support/fuzz.ts says which parts are; test/support/fuzz-routes.ts what the suite knows of each route
//   beyond the document);
// - after each route's runs, availability, every list and every stored row are as they were before.
// Controls show the other half: each route's valid request, unbroken, is accepted and changes the snapshot.
//
// The seed is fixed and can be changed: FUZZ_SEED=<n>. Runs per route: FUZZ_RUNS=<n> (default 100).
// FUZZ_VERBOSE=1 prints every request and its answer. A counterexample found once stays below as a regression case.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import pg from 'pg';
import { createHotel, createRoomType, reservationBody } from '../support/fixtures.js';
import { adminToken } from '../support/env.js';
import {
  authorization,
  bodyText,
  brokenBody,
  closeAgent,
  dayFromToday as D,
  headerValue,
  noiseHeaders,
  sendRaw,
  tokenKinds,
  type Body,
  type Headers,
  type JsonSchema,
  type Part,
  type RawResult,
  type TokenKind,
} from '../support/fuzz.js';
import { dateRuleBreaks, paramPart, queryPart, specs, validParams, type Fixtures } from '../support/fuzz-routes.js';
import { closeStack, openStack, waitFor, type Stack } from '../support/stack.js';
import type { TestEnv } from '../support/env.js';

const seed = Number(process.env.FUZZ_SEED ?? 20261205);
const runs = Number(process.env.FUZZ_RUNS ?? 100);
/** FUZZ_VERBOSE=1: print every request and its answer. */
const verbose = process.env.FUZZ_VERBOSE === '1';

/** API.md's error codes and their statuses. */
const contractCodes: Record<string, number> = {
  validation_failed: 400,
  unauthorized: 401,
  payment_declined: 402,
  forbidden: 403,
  not_found: 404,
  sold_out: 409,
  conflict: 409,
  invalid_status: 409,
  hold_expired: 409,
  inventory_below_reserved: 409,
  payload_too_large: 413,
  idempotency_mismatch: 422,
  rate_limited: 429,
  unavailable: 503,
};

interface Fuzzed {
  token: Part<{ kind: TokenKind; header: string | undefined }>;
  params: Part<string>[];
  query: string;
  headers: Headers;
  body: Part<Body | undefined>;
  chunked: boolean;
}

function describeRequest(method: string, path: string, r: Fuzzed): string {
  const b = r.body.value;
  const text = b ? bodyText(b) : undefined;
  return [
    `${method} ${path}`,
    `token ${r.token.value.kind}: ${JSON.stringify(r.token.value.header)?.slice(0, 120)}`,
    `headers ${JSON.stringify(r.headers)}`,
    `body ${text === undefined ? '(none)' : JSON.stringify(text.slice(0, 400))}${text && text.length > 400 ? ` … (${text.length} chars)` : ''}`,
    `broken parts: ${[r.token, ...r.params, r.body].filter((p) => p.broken).map((p) => p.how).join(' | ') || '(none)'}`,
  ].join('\n    ');
}

/** What every answer must be. Mutating routes got a request with a broken part: it must be refused. */
function checkAnswer(res: RawResult, mutating: boolean, what: string): void {
  expect(res.status, `a 5xx for client input is a bug:\n    ${what}\n    → ${res.status} ${res.text.slice(0, 300)}`).to.be.below(500);
  if (mutating) {
    expect(res.status, `a request with a broken part was not refused:\n    ${what}\n    → ${res.status} ${res.text.slice(0, 300)}`).to.be.within(400, 499);
  }
  if (res.status < 400) return;
  const shown = `\n    ${what}\n    → ${res.status} ${res.text.slice(0, 300)}`;
  expect(res.contentType, `an error body is JSON${shown}`).to.match(/^application\/json/);
  let body: any;
  expect(() => (body = JSON.parse(res.text)), `an error body parses${shown}`).to.not.throw();
  expect(body, `the contract's error shape${shown}`).to.be.an('object').with.property('error').that.is.an('object');
  expect(Object.keys(body), `nothing beside "error"${shown}`).to.deep.equal(['error']);
  const e = body.error;
  expect(Object.keys(e).every((k) => ['code', 'message', 'details'].includes(k)), `error has only code, message, details${shown}`).to.equal(true);
  expect(e.code, `a code of API.md's list${shown}`).to.be.oneOf(Object.keys(contractCodes));
  expect(res.status, `the status of ${e.code}${shown}`).to.equal(contractCodes[e.code]);
  expect(e.message, `a message${shown}`).to.be.a('string').and.not.equal('');
  if (e.details !== undefined) expect(e.details, `details is an object${shown}`).to.be.an('object');
  if (e.code === 'validation_failed') {
    // API.md: "validation_failed 400 (details list each bad field and why)".
    expect(e.details?.fields, `validation_failed lists the bad fields${shown}`).to.be.an('array').with.length.greaterThan(0);
    for (const x of e.details.fields) {
      expect(x.field, `each bad field is named${shown}`).to.be.a('string').and.not.equal('');
      expect(x.message, `each bad field says why${shown}`).to.be.a('string').and.not.equal('');
    }
  }
}

describe('fuzz: every route of the OpenAPI document, malformed input of every kind (fast-check)', function () {
  this.timeout(240_000);
  let env: TestEnv | undefined;
  let stack: Stack | undefined;
  let f: Fixtures;
  let doc: { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: JsonSchema }> } }>> };
  const dbs: pg.Client[] = [];
  let baseline: Snapshot;
  let previous: Snapshot;
  let sent = 0;
  const statuses = new Map<string, number>();

  type Snapshot = Record<string, unknown>;

  const get = async (path: string, token = adminToken) => {
    const r = await sendRaw(stack!.baseUrl, 'GET', path, { authorization: `Bearer ${token}` }, undefined);
    return { status: r.status, body: r.contentType.includes('json') ? JSON.parse(r.text) : r.text };
  };
  const digestQuery = (tables: string[]) =>
    `SELECT ${tables.map((t) => `(SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM ${t} x) AS ${t}`).join(', ')}`;

  /** Availability over the whole horizon, every list, and a digest of every table a request could change. */
  const snapshot = async (): Promise<Snapshot> => {
    const s: Snapshot = {};
    s.hotels = await get('/v1/hotels?limit=200');
    for (const h of [f.H, f.H2]) {
      s[`hotel ${h}`] = await get(`/v1/hotels/${h}`);
      s[`room types of ${h}`] = await get(`/v1/hotels/${h}/room-types?limit=200`);
      s[`rooms of ${h}`] = await get(`/v1/hotels/${h}/rooms?limit=200`);
      for (let from = 0; from < 730; from += 92) {
        s[`availability of ${h} from day ${from}`] = await get(`/v1/hotels/${h}/availability?checkIn=${D(from)}&checkOut=${D(Math.min(from + 92, 730))}`);
      }
    }
    s.reservations = await get('/v1/reservations?limit=200');
    s[`guest's reservations`] = await get('/v1/reservations?limit=200', f.tokens.guest);
    s.batch = await get(`/v1/batches/${f.B}`, f.tokens.partner);
    const [catalog, ...shards] = dbs;
    s.catalog = (await catalog.query(digestQuery(['users', 'api_keys', 'sessions', 'batches', 'idempotency_keys', 'webhooks', 'webhook_deliveries', 'shard_databases', 'shard_map', 'shard_moves']))).rows[0];
    // Drain asks live in Redis only.
    s['drain asks'] = (await stack!.api.ctx.redis.keys(`${env!.config.redisPrefix}:drain:*`)).sort();
    for (const [i, c] of shards.entries()) {
      s[`shard ${i}`] = (await c.query(digestQuery(['hotels', 'room_types', 'rooms', 'room_type_inventory', 'reservations']))).rows[0];
    }
    return s;
  };

  const changedParts = (a: Snapshot, b: Snapshot) => Object.keys(a).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));

  before(async () => {
    ({ env, stack } = await openStack({ REPLY_TIMEOUT_MS: '4000', WEBHOOK_ALLOW_PRIVATE: '1' }));
    const admin = stack.admin;
    const h = await createHotel(admin, { name: 'Fuzz', city: 'Grenoble' });
    const h2 = await createHotel(admin, { name: 'Fuzz Two', city: 'Lyon' });
    const rt = await createRoomType(admin, h.id);
    const rt2 = await createRoomType(admin, h.id, { name: 'Single', maxGuests: 1, totalInventory: 4, baseRate: 8000 });
    const room = await admin.post(`/v1/hotels/${h.id}/rooms`, { number: '101', roomTypeId: rt.id, floor: 1 });
    expect(room.status, JSON.stringify(room.body)).to.equal(201);
    const key = async (role: string, hotelIds: string[]) => {
      const r = await admin.post('/v1/api-keys', { name: `fuzz ${role}`, role, hotelIds });
      expect(r.status, JSON.stringify(r.body)).to.equal(201);
      return r.body as { id: string; token: string };
    };
    const staff = await key('staff', [h.id]);
    const partner = await key('partner', [h.id]);
    const spare = await key('partner', []);
    const guestEmail = `fuzz-guest-${randomUUID()}@example.com`;
    const guestPassword = 'correct horse battery';
    const u = await admin.as(undefined).post('/v1/users', { email: guestEmail, password: guestPassword, name: 'Guest' });
    expect(u.status, JSON.stringify(u.body)).to.equal(201);
    const s = await admin.as(undefined).post('/v1/sessions', { email: guestEmail, password: guestPassword });
    expect(s.status, JSON.stringify(s.body)).to.equal(201);
    const res = await admin.as(s.body.token).post('/v1/reservations', reservationBody(h.id, rt.id, D(3), D(5)));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const batch = await admin.as(partner.token).post('/v1/batches', { items: [reservationBody(h.id, rt.id, D(10), D(11))] });
    expect(batch.status, JSON.stringify(batch.body)).to.equal(202);
    // Done before the snapshot: the first GET that sees it done records it (a write).
    await waitFor('the fixture batch', async () => (await admin.as(partner.token).get(`/v1/batches/${batch.body.batchId}`)).body.status === 'done');
    const hook = await admin.post('/v1/webhooks', { url: 'http://127.0.0.1:9/fixture', events: ['reservation.created'] });
    expect(hook.status, JSON.stringify(hook.body)).to.equal(201);
    f = {
      W: hook.body.id,
      H: h.id,
      H2: h2.id,
      RT: rt.id,
      RT2: rt2.id,
      R: room.body.id,
      RES: res.body.id,
      B: batch.body.batchId,
      spareKeyId: spare.id,
      guestEmail,
      guestPassword,
      tokens: { admin: adminToken, staff: staff.token, partner: partner.token, guest: s.body.token },
    };
    for (const url of [env.config.catalogUrl, ...env.config.shardDatabaseUrls]) {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      dbs.push(c);
    }
    doc = (await get('/openapi.json')).body;
    baseline = await snapshot();
    previous = baseline;
  });

  after(async () => {
    const byStatus = [...statuses].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([k, n]) => `${k}: ${n}`).join(', ');
    console.log(`      fuzz: ${sent} requests (FUZZ_SEED=${seed}, FUZZ_RUNS=${runs}); answers ${byStatus}`);
    for (const c of dbs) await c.end().catch(() => {});
    closeAgent();
    await closeStack(stack, env);
  });

  /**
   * An operation's body schema as the fuzzer reads it (an object's properties): of a body that is one of several forms
   * (POST /v1/users: a guest's sign-up, or an admin's staff user), the first, which is the form its spec sends.
   */
  const bodySchemaOf = (op: any): JsonSchema | undefined => {
    const s = op.requestBody?.content['application/json']?.schema;
    return s?.oneOf ? s.oneOf[0] : s;
  };

  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })));

  it('the suite knows every operation of the document, and each known body is valid for its schema', () => {
    const ops = operations();
    expect(ops.length).to.be.greaterThan(20);
    for (const { method, path, op } of ops) {
      const spec = specs[`${method} ${path}`];
      expect(spec, `no fuzz spec for ${method} ${path}: add one`).to.not.equal(undefined);
      const schema = bodySchemaOf(op);
      expect(Boolean(spec.body), `${method} ${path}: a body in the document iff in the spec`).to.equal(Boolean(schema));
      if (schema && spec.body) {
        const body = spec.body(f, randomUUID());
        for (const k of Object.keys(body)) expect(schema.properties, `${method} ${path}: ${k}`).to.have.property(k);
        for (const k of schema.required ?? []) expect(body, `${method} ${path}: required ${k}`).to.have.property(k);
      }
    }
    expect(Object.keys(specs).length, 'no spec for a route the document does not have').to.equal(ops.length);
  });

  /** The fuzzed requests of one operation. */
  function arbitraryOf(method: string, path: string, schema: JsonSchema | undefined): fc.Arbitrary<Fuzzed> {
    const spec = specs[`${method} ${path}`];
    const mutating = method !== 'GET';
    const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    const token = fc.constantFrom(...tokenKinds).chain((kind) =>
      authorization(kind, f.tokens).map((header) => ({ value: { kind, header }, broken: !spec.allowed.includes(kind), how: `token ${kind}` })),
    );
    const params = fc.tuple(...names.map((n) => paramPart(validParams(f, path, n))));
    const query = spec.query ? queryPart(spec.query(f), spec.stay) : fc.oneof(fc.constant(''), queryPart({}));
    let body: fc.Arbitrary<Part<Body | undefined>>;
    if (schema && spec.body) {
      const dateBreaks = [...(spec.dates ? dateRuleBreaks(...spec.dates) : []), ...(spec.refusals?.(f) ?? [])];
      body = fc.oneof(
        { weight: 1, arbitrary: fc.uuid().map((u) => ({ value: { value: spec.body!(f, u) } as Body, broken: false, how: 'valid body' })) },
        { weight: 4, arbitrary: fc.uuid().chain((u) => brokenBody(schema, spec.body!(f, u), dateBreaks)) },
      );
    } else {
      // A body where none is read: noise, never a reason for a refusal.
      body = fc.option(fc.oneof(fc.json({ maxDepth: 1 }), headerValue(20)), { freq: 4 }).map((t) => ({ value: t === null ? undefined : { text: t }, broken: false, how: 'ignored body' }));
    }
    return fc
      .record({ token, params, query, headers: noiseHeaders, body, chunked: fc.boolean() })
      .filter((r) => !mutating || [r.token, ...r.params, r.body].some((p) => p.broken));
  }

  for (const key of Object.keys(specs)) {
    const [method, path] = key.split(' ');
    it(`${key}: never a 5xx, the contract's errors${method === 'GET' ? '' : ', refused, nothing changed'}`, async () => {
      const op = doc.paths[path]?.[method.toLowerCase()];
      expect(op, `${key} is in the document`).to.not.equal(undefined);
      const schema = bodySchemaOf(op);
      const routeSeed = seed + [...key].reduce((h, c) => (h * 31 + c.charCodeAt(0)) | 0, 0);
      const property = fc.asyncProperty(arbitraryOf(method, path, schema), async (r) => {
        let i = 0;
        const url = path.replace(/\{(\w+)\}/g, () => r.params[i++].value) + (r.query ? `?${r.query}` : '');
        const headers: Headers = { ...r.headers };
        if (r.token.value.header !== undefined) headers.authorization = r.token.value.header;
        const text = r.body.value ? bodyText(r.body.value) : undefined;
        if (text !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
        sent++;
        const res = await sendRaw(stack!.baseUrl, method, url, headers, text, r.chunked);
        const code = res.status >= 400 ? ` ${(/"code":"(\w+)"/.exec(res.text) ?? [])[1]}` : '';
        statuses.set(`${res.status}${code}`, (statuses.get(`${res.status}${code}`) ?? 0) + 1);
        const what = describeRequest(method, url, r);
        if (verbose) console.log(`    ${what}\n    → ${res.status} ${res.text.slice(0, 200)}`);
        checkAnswer(res, method !== 'GET', what);
      });
      try {
        await fc.assert(property, { seed: routeSeed, numRuns: runs, endOnFailure: false });
      } catch (err) {
        const cause = (err as Error & { cause?: Error }).cause;
        throw new Error(`${key}: FUZZ_SEED=${seed} (route seed ${routeSeed}) found a counterexample:\n${(err as Error).message}\n${cause?.message ?? ''}`);
      }
      // Against the state before this route (the baseline, unless an earlier route changed something and failed).
      const now = await snapshot();
      const changed = changedParts(previous, now);
      previous = now;
      expect(changed, `${key}: nothing changed, but these did: ${changed.join('; ')}`).to.deep.equal([]);
    });
  }

  it('after all the fuzzing, availability, every list and every table are as before', async () => {
    const changed = changedParts(baseline, await snapshot());
    expect(changed, `these changed: ${changed.join('; ')}`).to.deep.equal([]);
  });

  // Counterexamples the fuzzer found, kept as they were found.
  describe('regressions', () => {
    const cursorOf = (text: string) => Buffer.from(text).toString('base64url');
    const regressions: [string, () => string, string?][] = [
      // 500: the cursor decoded to 36 characters of hex digits and dashes, which Postgres refused as a uuid.
      ['GET /v1/hotels, cursor of 36 zeros (seed 20261205)', () => `/v1/hotels?cursor=${cursorOf('0'.repeat(36))}`],
      ['GET /v1/hotels/:id/rooms, cursor of 36 zeros (seed 20261205)', () => `/v1/hotels/${f.H}/rooms?cursor=${cursorOf('0'.repeat(36))}`],
      ['GET /v1/reservations, cursor of 36 dashes', () => `/v1/reservations?cursor=${cursorOf('-'.repeat(36))}`],
      ['GET /v1/reservations as a guest, cursor of 36 a', () => `/v1/reservations?cursor=${cursorOf('a'.repeat(36))}`, 'guest'],
      ['GET /v1/hotels/:id/room-types, cursor of 36 dashes', () => `/v1/hotels/${f.H}/room-types?cursor=${cursorOf('-'.repeat(36))}`],
    ];
    for (const [name, path, token] of regressions) {
      it(`${name} → 400 validation_failed naming cursor`, async () => {
        const r = await sendRaw(stack!.baseUrl, 'GET', path(), { authorization: `Bearer ${f.tokens[token ?? 'admin']}` }, undefined);
        checkAnswer(r, false, `GET ${path()}`);
        expect(r.status, r.text).to.equal(400);
        const e = JSON.parse(r.text).error;
        expect(e.code).to.equal('validation_failed');
        expect(e.details.fields.map((x: { field: string }) => x.field)).to.include('cursor');
      });
    }

    // 400 validation_failed without the details API.md requires (each bad field and why): errors of Express's
    // router and of the body parser, and an unknown query key with an empty name, whose field was "".
    const shapes: [string, string, string, Headers, string | undefined, string][] = [
      ['a gzip Content-Encoding on a body that is not gzip', 'POST', '/v1/hotels', { 'content-encoding': 'gzip', 'content-type': 'application/json' }, '{}', 'body'],
      ['a gzip Content-Encoding on the body of a GET', 'GET', '/v1/hotels', { 'content-encoding': 'gzip', 'content-type': 'application/json' }, 'null', 'body'],
      ['an unknown Content-Encoding', 'PUT', '/v1/hotels/{H}', { 'content-encoding': 'x-junk', 'content-type': 'application/json' }, '{}', 'Content-Encoding'],
      ['a charset other than UTF-8', 'POST', '/v1/hotels', { 'content-type': 'application/json; charset=latin1' }, '{}', 'Content-Type'],
      ['a path escape that does not decode', 'GET', '/v1/hotels/%', {}, undefined, 'path'],
      ['a path escape that does not decode, on a write', 'DELETE', '/v1/reservations/%zz', {}, undefined, 'path'],
      ['a query key with an empty name', 'GET', '/v1/hotels?=x', {}, undefined, '""'],
      // Was 200, and a new hotel version: the empty body was read as {}, a valid update of nothing (FUZZ_SEED=11).
      ['an empty JSON body on PUT /v1/hotels/:id (FUZZ_SEED=11)', 'PUT', '/v1/hotels/{H}', { 'content-type': 'application/json' }, '', 'body'],
      ['an empty JSON body on PUT …/room-types/:id', 'PUT', '/v1/hotels/{H}/room-types/{RT}', { 'content-type': 'application/json' }, '', 'body'],
      ['an empty chunked JSON body on PUT …/rooms/:id', 'PUT', '/v1/hotels/{H}/rooms/{R}', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, '', 'body'],
    ];
    for (const [name, method, path, headers, body, field] of shapes) {
      it(`${name} → 400 validation_failed naming ${field}, nothing changed`, async () => {
        const before = await snapshot();
        const url = path.replace('{H}', f.H).replace('{RT}', f.RT).replace('{R}', f.R);
        const r = await sendRaw(stack!.baseUrl, method, url, { authorization: `Bearer ${adminToken}`, ...headers }, body);
        checkAnswer(r, false, `${method} ${url}`);
        expect(r.status, r.text).to.equal(400);
        expect(JSON.parse(r.text).error.details.fields.map((x: { field: string }) => x.field), r.text).to.include(field);
        expect(changedParts(before, await snapshot())).to.deep.equal([]);
      });
    }

    it('a cursor the server made still pages (hotels, rooms, room types, reservations)', async () => {
      for (const list of ['/v1/hotels', `/v1/hotels/${f.H}/room-types`, '/v1/reservations']) {
        const first = await get(`${list}?limit=1`);
        expect(first.status, JSON.stringify(first.body)).to.equal(200);
        expect(first.body.nextCursor, list).to.be.a('string');
        const second = await get(`${list}?limit=1&cursor=${first.body.nextCursor}`);
        expect(second.status, JSON.stringify(second.body)).to.equal(200);
        expect(second.body.items[0]?.id, list).to.not.equal(first.body.items[0].id);
      }
    });
  });

  // The other half of the proof: each route's valid body, sent without a broken part, is accepted, and the snapshot
  // sees what it changed. So a refusal above came from the broken part, and a change would not have gone unseen.
  describe('controls (after the fuzzing): the same requests unbroken change what the snapshot sees', () => {
    const controls: [string, TokenKind, (f: Fixtures) => string[], number][] = [
      ['POST /v1/api-keys', 'admin', () => [], 201],
      ['DELETE /v1/api-keys/{id}', 'admin', (f) => [f.spareKeyId], 204],
      ['POST /v1/users', 'none', () => [], 201],
      ['POST /v1/sessions', 'none', () => [], 201],
      ['POST /v1/hotels', 'admin', () => [], 201],
      ['PUT /v1/hotels/{hotelId}', 'staff', (f) => [f.H], 200],
      ['PUT /v1/hotels/{hotelId}/pricing', 'staff', (f) => [f.H], 200],
      ['POST /v1/hotels/{hotelId}/room-types', 'staff', (f) => [f.H], 201],
      ['PUT /v1/hotels/{hotelId}/room-types/{roomTypeId}', 'admin', (f) => [f.H, f.RT2], 200],
      ['PUT /v1/hotels/{hotelId}/room-types/{roomTypeId}/inventory', 'partner', (f) => [f.H, f.RT], 200],
      ['PUT /v1/hotels/{hotelId}/room-types/{roomTypeId}/rates', 'partner', (f) => [f.H, f.RT], 200],
      ['POST /v1/hotels/{hotelId}/rooms', 'staff', (f) => [f.H], 201],
      ['PUT /v1/hotels/{hotelId}/rooms/{roomId}', 'admin', (f) => [f.H, f.R], 200],
      ['POST /v1/reservations', 'guest', () => [], 201],
      ['POST /v1/reservations/{id}/payment', 'guest', (f) => [f.RES], 200],
      ['DELETE /v1/reservations/{id}', 'guest', (f) => [f.RES], 200],
      ['POST /v1/batches', 'partner', () => [], 202],
      ['POST /v1/webhooks', 'partner', () => [], 201],
      ['POST /v1/webhooks/{id}/replay', 'admin', (f) => [f.W], 202],
      ['PUT /v1/webhooks/{id}', 'admin', (f) => [f.W], 200],
      ['DELETE /v1/webhooks/{id}', 'admin', (f) => [f.W], 204],
      ['DELETE /v1/hotels/{hotelId}/rooms/{roomId}', 'staff', (f) => [f.H, f.R], 204],
      ['DELETE /v1/hotels/{hotelId}/room-types/{roomTypeId}', 'staff', (f) => [f.H, f.RT2], 204],
      ['DELETE /v1/hotels/{hotelId}', 'admin', (f) => [f.H2], 204],
      // Last: they hand a shard over and move one.
      ['POST /v1/ops/shards/{shard}/drain', 'admin', () => ['3'], 202],
      ['POST /v1/ops/shards/{shard}/move', 'admin', () => ['0'], 202],
    ];

    it('every route that changes state has a control', () => {
      const mutating = Object.keys(specs).filter((k) => !k.startsWith('GET '));
      expect(controls.map((c) => c[0]).sort()).to.deep.equal(mutating.sort());
    });

    for (const [key, token, params, status] of controls) {
      it(`${key} as ${token} → ${status}, and the snapshot changes`, async () => {
        const [method, path] = key.split(' ');
        const ids = params(f);
        let i = 0;
        const url = path.replace(/\{(\w+)\}/g, () => ids[i++]);
        const body = specs[key].body?.(f, randomUUID());
        const headers: Headers = token === 'none' ? {} : { authorization: `Bearer ${f.tokens[token]}` };
        if (body) headers['content-type'] = 'application/json';
        const before = await snapshot();
        const r = await sendRaw(stack!.baseUrl, method, url, headers, body && JSON.stringify(body));
        expect(r.status, r.text).to.equal(status);
        expect(changedParts(before, await snapshot()), 'the snapshot sees the change').to.not.deep.equal([]);
      });
    }
  });
});
