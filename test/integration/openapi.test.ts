// The OpenAPI document (/openapi.json) is valid OpenAPI 3.1, complete, and in step with the code: every route the
// app serves is documented with its method and every documented route is served; request bodies are the schemas the
// API validates with; answers are described by response schemas that real answers satisfy; /docs is a reference page
// served from this process alone.
import { validate } from '@readme/openapi-parser';
import { expect } from 'chai';
import type { z } from 'zod';
import * as res from '../../schemas/responses.js';
import { createHotel, createRoomType, dayFromToday as D, reservationBody } from '../support/fixtures.js';
import type { TestEnv } from '../support/env.js';
import { closeStack, openStack, waitFor, type Stack } from '../support/stack.js';

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** `METHOD /path/{param}` of every route in Express's router stack, routers within routers included. */
function servedRoutes(stack: Layer[], out: Set<string> = new Set()): Set<string> {
  for (const l of stack) {
    if (l.route) {
      for (const m of Object.keys(l.route.methods)) out.add(`${m.toUpperCase()} ${l.route.path.replace(/:(\w+)/g, '{$1}')}`);
    } else if (l.handle?.stack) servedRoutes(l.handle.stack, out);
  }
  return out;
}

type Doc = {
  paths: Record<string, Record<string, any>>;
  components: { schemas: Record<string, any>; securitySchemes: Record<string, any> };
  [k: string]: unknown;
};

describe('OpenAPI document', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let stack: Stack;
  let doc: Doc;

  before(async () => {
    ({ env, stack } = await openStack());
    const r = await stack.admin.as(undefined).get('/openapi.json');
    expect(r.status).to.equal(200);
    doc = r.body;
  });
  after(() => closeStack(stack, env));

  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, path, op })));

  it('is valid OpenAPI 3.1 (@readme/openapi-parser)', async () => {
    expect(doc.openapi).to.equal('3.1.0');
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, JSON.stringify(result.valid ? [] : result.errors, null, 1)).to.equal(true);
  });

  it('documents exactly the routes the app serves, each with its method', () => {
    const documented = new Set(operations().map((o) => o.key));
    const served = servedRoutes((stack.api.app as unknown as { router: { stack: Layer[] } }).router.stack);
    expect(served.size).to.be.greaterThan(30);
    expect([...served].filter((x) => !documented.has(x)), 'served but not documented: add a row to `routes` in schemas/openapi.ts').to.deep.equal([]);
    expect([...documented].filter((x) => !served.has(x)), 'documented but not served').to.deep.equal([]);
  });

  it('declares every path parameter, a response schema for every JSON answer, and the errors in the contract format', () => {
    for (const { key, path, op } of operations()) {
      const declared = (op.parameters ?? []).filter((p: any) => p.in === 'path').map((p: any) => p.name);
      expect(declared, `${key}: path parameters`).to.deep.equal([...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]));
      const statuses = Object.keys(op.responses);
      expect(statuses.some((s) => s.startsWith('2')), `${key}: a success answer`).to.equal(true);
      for (const [status, answer] of Object.entries<any>(op.responses)) {
        if (answer.$ref) {
          expect(answer.$ref, `${key} ${status}`).to.match(/^#\/components\/responses\/E[45]\d\d$/);
          expect(Number(status), `${key} ${status}`).to.be.at.least(400);
          continue;
        }
        const schema = answer.content?.['application/json']?.schema;
        if (schema && key !== 'GET /openapi.json') expect(schema.$ref, `${key} ${status}: a named response schema`).to.match(/^#\/components\/schemas\/\w+$/);
      }
      if (path.startsWith('/v1/')) expect(statuses, `${key}: 503 when a store is unreachable`).to.include('503');
    }
    const err = (doc.components as any).responses.E400.content['application/json'].schema;
    expect(err.$ref).to.equal('#/components/schemas/Error');
    expect(doc.components.schemas.Error.properties.error.required).to.include.members(['code', 'message']);
    expect(doc.components.securitySchemes.bearer).to.deep.include({ type: 'http', scheme: 'bearer' });
  });

  it('has the query parameters the API reads, and marks public routes as needing no token', () => {
    const names = (key: string) => {
      const [method, path] = key.split(' ');
      return (doc.paths[path][method.toLowerCase()].parameters ?? []).filter((p: any) => p.in === 'query').map((p: any) => p.name);
    };
    expect(names('GET /v1/hotels/{hotelId}/availability')).to.include.members(['checkIn', 'checkOut', 'roomTypeId', 'rooms']);
    expect(names('GET /v1/reservations')).to.include.members(['hotelId', 'status', 'limit', 'cursor']);
    expect(names('GET /v1/hotels')).to.include.members(['city', 'limit', 'cursor']);
    const checkIn = doc.paths['/v1/hotels/{hotelId}/availability'].get.parameters.find((p: any) => p.name === 'checkIn');
    expect(checkIn.required).to.equal(true);
    expect(doc.paths['/v1/hotels'].get.security).to.deep.equal([]);
    expect(doc.paths['/v1/reservations'].post.security).to.equal(undefined);
  });

  it('describes request bodies with the schemas the API validates with', () => {
    const body = doc.paths['/v1/reservations'].post.requestBody.content['application/json'].schema;
    expect(body.required).to.include.members(['reservationId', 'hotelId', 'roomTypeId', 'checkIn', 'checkOut', 'guest']);
    expect(body.additionalProperties).to.equal(false);
    expect(body.properties.roomCount.maximum).to.equal(10);
  });

  it('describes the contract’s shapes: Reservation with payment and refund, Hotel with its cancellation policy, Pricing', () => {
    const s = doc.components.schemas;
    expect(s.Reservation.required).to.include.members(['id', 'status', 'totalAmount', 'payment', 'expiresAt', 'cancelReason', 'version']);
    const payment = s.Reservation.properties.payment.anyOf.find((x: any) => x.$ref);
    expect(payment.$ref).to.equal('#/components/schemas/Payment');
    expect(s.Payment.required).to.include.members(['amount', 'reference', 'paidAt', 'refund']);
    const refund = s.Payment.properties.refund.anyOf.find((x: any) => x.type === 'object');
    expect(refund.properties.status.enum).to.deep.equal(['pending', 'done']);
    expect(s.Hotel.properties.cancellationPolicy.$ref).to.equal('#/components/schemas/CancellationPolicy');
    expect(s.CancellationPolicy.required).to.deep.equal(['freeUntilHoursBefore', 'penaltyPercent']);
    expect(s.Pricing.required).to.deep.equal(['tiers', 'version']);
    expect(doc.paths['/v1/reservations'].post.responses['202'].content['application/json'].schema.$ref).to.equal('#/components/schemas/Processing');
  });

  it('describes real answers: hotels, room types, rooms, availability, pricing, rates, reservations held, paid and refunded, batches, users, sessions, shards, errors satisfy their response schemas', async () => {
    const admin = stack.admin;
    const check = (schema: z.ZodType, body: unknown, what: string) => {
      const r = schema.safeParse(body);
      expect(r.success, `${what}: ${r.success ? '' : JSON.stringify(r.error.issues)}`).to.equal(true);
    };
    const h = await createHotel(admin);
    const rt = await createRoomType(admin, h.id);
    check(res.roomTypeSchema, rt, 'POST room-types');
    check(res.roomTypeListSchema, (await admin.get(`/v1/hotels/${h.id}/room-types`)).body, 'GET room-types');
    check(res.availabilitySchema, (await admin.get(`/v1/hotels/${h.id}/availability?checkIn=${D(2)}&checkOut=${D(4)}`)).body, 'GET availability');
    check(res.pricingSchema, (await admin.put(`/v1/hotels/${h.id}/pricing`, { tiers: [{ occupancyPercent: 50, multiplierPercent: 120 }] })).body, 'PUT pricing');
    check(res.ariUpdateSchema, (await admin.put(`/v1/hotels/${h.id}/room-types/${rt.id}/rates`, { from: D(1), to: D(3), amount: 9000 })).body, 'PUT rates');
    const room = await admin.post(`/v1/hotels/${h.id}/rooms`, { number: '101', roomTypeId: rt.id });
    check(res.roomSchema, room.body, 'POST rooms');
    const batch = await admin.post('/v1/batches', { items: [reservationBody(h.id, rt.id, D(5), D(6))] });
    check(res.batchAcceptedSchema, batch.body, 'POST batches');
    await waitFor('the batch', async () => (await admin.get(`/v1/batches/${batch.body.batchId}`)).body.status === 'done');
    check(res.batchSchema, (await admin.get(`/v1/batches/${batch.body.batchId}`)).body, 'GET batch');
    const user = await admin.as(undefined).post('/v1/users', { email: `oa-${h.id}@example.com`, password: 'long enough', name: 'Oa' });
    check(res.userSchema, user.body, 'POST users');
    check(res.sessionSchema, (await admin.as(undefined).post('/v1/sessions', { email: `oa-${h.id}@example.com`, password: 'long enough' })).body, 'POST sessions');
    check(res.shardTableSchema, (await admin.get('/v1/ops/shards')).body, 'GET ops/shards');
    check(res.errorSchema, (await admin.get(`/v1/hotels/${h.id}/availability?checkIn=x`)).body, '400');
    // Hotels and the whole life of a reservation: held, paid, refunded.
    check(res.hotelSchema, h, 'POST hotels');
    check(res.hotelSchema, (await admin.get(`/v1/hotels/${h.id}`)).body, 'GET hotel');
    check(res.hotelListSchema, (await admin.get('/v1/hotels')).body, 'GET hotels');
    const body = reservationBody(h.id, rt.id, D(10), D(12));
    const held = await admin.post('/v1/reservations', body);
    expect(held.status).to.equal(201);
    check(res.reservationSchema, held.body, 'POST reservations');
    const paid = await admin.post(`/v1/reservations/${body.reservationId}/payment`, { paymentMethod: 'pm_card_visa' });
    expect(paid.body.status).to.equal('paid');
    check(res.reservationSchema, paid.body, 'POST payment');
    const refunded = await admin.delete(`/v1/reservations/${body.reservationId}`);
    expect(refunded.body.status).to.equal('refunded');
    expect(refunded.body.payment.refund).to.not.equal(null);
    check(res.reservationSchema, refunded.body, 'DELETE reservation');
    check(res.reservationListSchema, (await admin.get(`/v1/reservations?hotelId=${h.id}`)).body, 'GET reservations');
  });

  it('serves /docs, a reference page whose scripts and styles all come from this server', async () => {
    const page = await stack.admin.as(undefined).get('/docs');
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    const html = page.body as string;
    expect(html).to.include('/openapi.json');
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).to.be.at.least(2);
    for (const ref of refs) {
      expect(ref, 'no external resource').to.match(/^\//);
      const asset = await stack.admin.as(undefined).get(ref);
      expect(asset.status, ref).to.equal(200);
    }
    expect(html).to.match(/validatorUrl: null/);
  });
});
