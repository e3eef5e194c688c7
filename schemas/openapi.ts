// The OpenAPI 3.1 document, built from the same zod schemas the API validates with, so the two cannot drift.
import { z } from 'zod';
import * as http from './http.js';

const json = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });

const errorBody = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object' } },
    },
  },
};

type Op = {
  summary: string;
  body?: z.ZodType;
  ok: number;
  okDescription: string;
  auth?: string;
  errors?: number[];
  /** The operation honours an `Idempotency-Key` header (API.md, Idempotency). */
  idempotencyKey?: boolean;
};

const idempotencyKeyHeader = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'The same key with the same body gets the first answer again (creates: the same resource); another body 422.',
  schema: { type: 'string', maxLength: 200 },
};

function operation(op: Op) {
  const responses: Record<string, unknown> = {
    [op.ok]: { description: op.okDescription },
  };
  for (const s of op.errors ?? [400, 401, 403, 404]) responses[s] = { description: 'error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  // Any operation answers 503 unavailable (with Retry-After) when Postgres or Redis cannot be reached.
  responses[503] ??= { description: 'unavailable: a database or the queue is unreachable (Retry-After)', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  return {
    summary: op.summary,
    ...(op.auth ? { description: `Who: ${op.auth}.` } : {}),
    ...(op.idempotencyKey ? { parameters: [idempotencyKeyHeader] } : {}),
    ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: json(op.body) } } } } : {}),
    responses,
    ...(op.auth === 'public' ? { security: [] } : {}),
  };
}

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {
    '/v1/api-keys': { post: operation({ summary: 'Create an API key', body: http.apiKeyBody, ok: 201, okDescription: '{id, name, role, hotelIds, token}', auth: 'admin' }) },
    '/v1/api-keys/{id}': { delete: operation({ summary: 'Revoke an API key', ok: 204, okDescription: 'revoked', auth: 'admin' }) },
    '/v1/users': { post: operation({ summary: 'Sign up', body: http.userBody, ok: 201, okDescription: '{id, email, name}', auth: 'public', errors: [400, 409] }) },
    '/v1/sessions': { post: operation({ summary: 'Log in', body: http.sessionBody, ok: 201, okDescription: '{token, userId, expiresAt}', auth: 'public', errors: [400, 401] }) },
    '/v1/hotels': {
      post: operation({ summary: 'Create a hotel (Idempotency-Key honoured: the same key and body create one hotel)', body: http.hotelCreateBody, ok: 201, okDescription: 'Hotel', auth: 'admin', errors: [400, 401, 403, 422], idempotencyKey: true }),
      get: operation({ summary: 'List hotels (?city=, ?limit=, ?cursor=)', ok: 200, okDescription: '{items: Hotel[], nextCursor}', auth: 'public', errors: [400] }),
    },
    '/v1/hotels/{hotelId}': {
      get: operation({ summary: 'A hotel', ok: 200, okDescription: 'Hotel', auth: 'public', errors: [400, 404] }),
      put: operation({ summary: 'Update a hotel', body: http.hotelUpdateBody, ok: 200, okDescription: 'Hotel', auth: 'admin, staff of it', errors: [400, 401, 403, 404, 409] }),
      delete: operation({ summary: 'Delete a hotel', ok: 204, okDescription: 'deleted', auth: 'admin', errors: [400, 401, 403, 404, 409] }),
    },
    '/v1/hotels/{hotelId}/room-types': {
      post: operation({ summary: 'Create a room type (Idempotency-Key honoured: the same key and body create one room type)', body: http.roomTypeCreateBody, ok: 201, okDescription: 'RoomType', auth: 'admin, staff', errors: [400, 401, 403, 404, 422], idempotencyKey: true }),
      get: operation({ summary: 'List room types', ok: 200, okDescription: '{items: RoomType[], nextCursor}', auth: 'public', errors: [400, 404] }),
    },
    '/v1/hotels/{hotelId}/room-types/{roomTypeId}': {
      get: operation({ summary: 'A room type', ok: 200, okDescription: 'RoomType', auth: 'public', errors: [400, 404] }),
      put: operation({ summary: 'Update a room type', body: http.roomTypeUpdateBody, ok: 200, okDescription: 'RoomType', auth: 'admin, staff' }),
      delete: operation({ summary: 'Delete a room type', ok: 204, okDescription: 'deleted', auth: 'admin, staff', errors: [400, 401, 403, 404, 409] }),
    },
    '/v1/hotels/{hotelId}/room-types/{roomTypeId}/inventory': {
      put: operation({ summary: 'Set inventory for [from, to)', body: http.inventoryBody, ok: 200, okDescription: '{updatedNights, version}', auth: 'admin, staff, partner of it', errors: [400, 401, 403, 404, 409] }),
    },
    '/v1/hotels/{hotelId}/room-types/{roomTypeId}/rates': {
      put: operation({ summary: 'Set rates for [from, to)', body: http.ratesBody, ok: 200, okDescription: '{updatedNights, version}', auth: 'admin, staff, partner of it' }),
    },
    '/v1/hotels/{hotelId}/pricing': {
      put: operation({ summary: 'Set the occupancy pricing tiers (replaces them all; a new version, and a reset on the stream)', body: http.pricingBody, ok: 200, okDescription: '{tiers (by occupancyPercent ascending), version}', auth: 'admin, staff of it' }),
      get: operation({ summary: 'The occupancy pricing tiers', ok: 200, okDescription: '{tiers, version} (tiers: [] by default)', auth: 'public', errors: [400, 404] }),
    },
    '/v1/hotels/{hotelId}/rooms': {
      post: operation({ summary: 'Create a room', body: http.roomCreateBody, ok: 201, okDescription: 'Room', auth: 'admin, staff', errors: [400, 401, 403, 404, 409] }),
      get: operation({ summary: 'List rooms', ok: 200, okDescription: '{items: Room[], nextCursor}', auth: 'admin, staff' }),
    },
    '/v1/hotels/{hotelId}/rooms/{roomId}': {
      get: operation({ summary: 'A room', ok: 200, okDescription: 'Room', auth: 'admin, staff' }),
      put: operation({ summary: 'Update a room', body: http.roomUpdateBody, ok: 200, okDescription: 'Room', auth: 'admin, staff', errors: [400, 401, 403, 404, 409] }),
      delete: operation({ summary: 'Delete a room', ok: 204, okDescription: 'deleted', auth: 'admin, staff' }),
    },
    '/v1/hotels/{hotelId}/availability': {
      get: operation({ summary: 'Availability (?checkIn=&checkOut=&roomTypeId=&rooms=)', ok: 200, okDescription: '{hotelId, checkIn, checkOut, version, stale, roomTypes: [{roomTypeId, name, available, totalPrice, nights: [{date, totalInventory, reserved, available, rate (the occupancy price), baseRate}]}]}', auth: 'public', errors: [400, 404, 503] }),
    },
    '/v1/hotels/{hotelId}/availability/stream': {
      get: operation({ summary: 'Server-Sent Events: `availability` events with id = version ({hotelId, version, changes: [{roomTypeId, date, totalInventory, reserved, available, rate, baseRate}]}); `reset`; resume with Last-Event-ID', ok: 200, okDescription: 'text/event-stream', auth: 'public', errors: [400, 404, 503] }),
    },
    '/v1/reservations': {
      post: operation({ summary: 'Reserve (idempotent on reservationId)', body: http.reservationBody, ok: 201, okDescription: 'Reservation (200 for a repeat; 202 {id, status: processing} when late)', auth: 'guest, partner, staff, admin', errors: [400, 401, 403, 404, 409, 422, 429, 503] }),
      get: operation({ summary: 'List reservations (?hotelId=&status=&limit=&cursor=)', ok: 200, okDescription: '{items: Reservation[], nextCursor}', auth: 'guest, partner: their own; staff, admin: a hotel\'s' }),
    },
    '/v1/reservations/{id}': {
      get: operation({ summary: 'A reservation (202 while it is being decided)', ok: 200, okDescription: 'Reservation', auth: 'its owner, staff of its hotel, admin' }),
      delete: operation({ summary: 'Cancel (pending → canceled, paid → refunded)', ok: 200, okDescription: 'Reservation', auth: 'its owner, staff, admin', errors: [400, 401, 404, 409] }),
    },
    '/v1/reservations/{id}/payment': {
      post: operation({ summary: 'Pay a pending reservation (Idempotency-Key honoured; test provider declines pm_card_declined)', body: http.paymentBody, ok: 200, okDescription: 'Reservation (paid)', auth: 'its owner, admin', errors: [400, 401, 402, 404, 409, 422, 503], idempotencyKey: true }),
    },
    '/v1/batches': {
      post: operation({ summary: 'Partner batch of up to 10,000 reservation bodies (Idempotency-Key honoured)', body: http.batchBody, ok: 202, okDescription: '{batchId, status, total}', auth: 'partner, admin', errors: [400, 401, 403, 413, 422, 503], idempotencyKey: true }),
    },
    '/v1/batches/{batchId}': {
      get: operation({ summary: 'A batch and its per-item results in item order', ok: 200, okDescription: '{batchId, status, total, held, rejected, results}', auth: 'its creator, admin' }),
    },
    '/v1/webhooks': {
      post: operation({ summary: 'Subscribe a URL to events (SSRF guard: loopback, private and link-local addresses refused)', body: http.webhookBody, ok: 201, okDescription: '{id, url, events, hotelIds, enabled, createdAt, secret} (the secret is shown only here)', auth: 'admin, staff, partner', errors: [400, 401, 403] }),
      get: operation({ summary: 'List my webhooks (?limit=&cursor=)', ok: 200, okDescription: '{items: Webhook[], nextCursor}', auth: 'admin (all), staff, partner (their own)', errors: [400, 401, 403] }),
    },
    '/v1/webhooks/{id}': {
      get: operation({ summary: 'A webhook', ok: 200, okDescription: 'Webhook {id, url, events, hotelIds, enabled, createdAt}', auth: 'its creator, admin' }),
      put: operation({ summary: 'Change a webhook (enabled: true turns a disabled one back on)', body: http.webhookUpdateBody, ok: 200, okDescription: 'Webhook', auth: 'its creator, admin' }),
      delete: operation({ summary: 'Delete a webhook', ok: 204, okDescription: 'deleted', auth: 'its creator, admin' }),
    },
    '/v1/webhooks/{id}/deliveries': {
      get: operation({ summary: 'Deliveries, newest first (?status=failed|succeeded&limit=&cursor=)', ok: 200, okDescription: '{items: [{eventId, type, attempts, lastStatusCode, lastError, nextAttemptAt, deliveredAt}], nextCursor}', auth: 'its creator, admin' }),
    },
    '/v1/webhooks/{id}/replay': {
      post: operation({ summary: 'Deliver again every matching event since a time (within the retention period), with its original id', body: http.replayBody, ok: 202, okDescription: '{events}', auth: 'its creator, admin' }),
    },
    '/v1/hotels/{hotelId}/audit': {
      get: operation({ summary: 'Audit trail, newest first (?reservationId=&from=&to=&limit=&cursor=)', ok: 200, okDescription: '{items: [{sequence, at, actor: {kind, id}, command, outcome: {ok, status?, code?}, reservationId?, version}], nextCursor}', auth: 'admin, staff of it' }),
    },
    '/healthz': { get: operation({ summary: 'Liveness', ok: 200, okDescription: 'running', auth: 'public', errors: [] }) },
    '/readyz': { get: operation({ summary: 'Readiness (Redis and every Postgres database answer)', ok: 200, okDescription: 'ready', auth: 'public', errors: [503] }) },
    '/metrics': { get: operation({ summary: 'Prometheus metrics', ok: 200, okDescription: 'text', auth: 'public', errors: [] }) },
    '/v1/ops/shards': { get: operation({ summary: 'Shard table', ok: 200, okDescription: '[{shard, database, owner, epoch, queueDepth, oldestWaitingMs}]', auth: 'admin', errors: [401, 403] }) },
  };
  return {
    openapi: '3.1.0',
    info: { title: 'Reservation engine', version: '1.0.0', description: 'See docs/api.md for the full contract.' },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: errorBody },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
