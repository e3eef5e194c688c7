// The OpenAPI 3.1 document, generated from one table of routes (`routes` below) and the same zod schemas the API
// validates with (schemas/http.ts) and answers with (schemas/responses.ts), so that the document cannot drift from
// the code. test/integration/openapi.test.ts checks that every route Express serves is in the table, and that the
// document is valid OpenAPI 3.1.
//
// To document a new route: add one row to `routes` (method, Express path, who may call it, the request body and
// query schemas, the success answers with their response schemas, the error statuses), and the response schema to
// schemas/responses.ts with `named(...)` if it is new.
import { z } from 'zod';
import * as http from './http.js';
import * as res from './responses.js';

export type Method = 'get' | 'post' | 'put' | 'delete';
type ErrorStatus = 400 | 401 | 402 | 403 | 404 | 409 | 413 | 422 | 429 | 503;

interface Answer {
  description: string;
  /** A JSON body; omitted: no body (204) or `contentType`'s. */
  schema?: z.ZodType;
  /** A body that is not JSON (text/event-stream, text/plain, text/html). */
  contentType?: string;
  headers?: Record<string, string>;
}

export interface RouteDoc {
  method: Method;
  /** The path as Express has it (`/v1/hotels/:hotelId`). */
  path: string;
  summary: string;
  /** Who may call it: `public`, or the roles of docs/api.md (`admin, staff of it`, ...). */
  who: string;
  /** The token is optional: public, but some fields need a role (an admin making a staff user). */
  optionalAuth?: boolean;
  /** Path parameters that are not UUIDs (every other `:name` is one). */
  params?: Record<string, z.ZodType>;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** The operation honours an `Idempotency-Key` header (API.md, Idempotency). */
  idempotencyKey?: boolean;
  answers: Record<number, Answer>;
  /** Error statuses beyond the ones every operation of its kind can give (see `errorStatuses`). */
  errors?: ErrorStatus[];
  /** What an error status also means for this operation, added to its general meaning (`errorMeaning`). */
  errorNotes?: Partial<Record<ErrorStatus, string>>;
  tag: string;
}

const empty = (description: string): Answer => ({ description });
const json = (schema: z.ZodType, description: string, headers?: Record<string, string>): Answer => ({ schema, description, ...(headers ? { headers } : {}) });
const location = { Location: 'the URL of the new resource' };

/**
 * `POST /v1/users` takes either form (API.md, Principals and auth): a guest signing up (public), or an admin making
 * a staff user (`role: "staff"` and `hotelIds`, admin token). The route tells them apart by `role`.
 */
const userBodies = z.xor([
  http.userBody.describe('a guest signs up (no token needed); `role`, if sent, is "guest"'),
  http.staffUserBody.describe('an admin makes a staff user of these hotels (admin token)'),
]);

/** Every route the API serves. */
export const routes: RouteDoc[] = [
  // Identity
  { tag: 'Identity', method: 'post', path: '/v1/api-keys', summary: 'Create an API key', who: 'admin', body: http.apiKeyBody, answers: { 201: json(res.apiKeySchema, 'the key; its token is shown only here') } },
  { tag: 'Identity', method: 'delete', path: '/v1/api-keys/:id', summary: 'Revoke an API key (its token stops working at once)', who: 'admin', answers: { 204: empty('revoked') }, errors: [404] },
  { tag: 'Identity', method: 'post', path: '/v1/users', summary: 'Sign up as a guest (an admin may make staff users)', who: 'public', optionalAuth: true, body: userBodies, answers: { 201: json(res.userSchema, 'the user: role "guest", or role "staff" with its hotelIds') }, errors: [409, 429] },
  { tag: 'Identity', method: 'post', path: '/v1/sessions', summary: 'Sign in: a session token for a user', who: 'public', body: http.sessionBody, answers: { 201: json(res.sessionSchema, 'the session') }, errors: [429] },
  // Hotels, room types, rooms
  { tag: 'Hotels', method: 'post', path: '/v1/hotels', summary: 'Create a hotel', who: 'admin', body: http.hotelCreateBody, idempotencyKey: true, answers: { 201: json(res.hotelSchema, 'the hotel', location) }, errors: [409, 422] },
  { tag: 'Hotels', method: 'get', path: '/v1/hotels', summary: 'List or search hotels', who: 'public', query: http.hotelListQuery, answers: { 200: json(res.hotelListSchema, 'a page of hotels') } },
  { tag: 'Hotels', method: 'get', path: '/v1/hotels/:hotelId', summary: 'A hotel', who: 'public', answers: { 200: json(res.hotelSchema, 'the hotel') }, errors: [404] },
  { tag: 'Hotels', method: 'put', path: '/v1/hotels/:hotelId', summary: 'Update a hotel (omitted fields keep their value)', who: 'admin, staff of it', body: http.hotelUpdateBody, answers: { 200: json(res.hotelSchema, 'the hotel') }, errors: [404, 409] },
  { tag: 'Hotels', method: 'delete', path: '/v1/hotels/:hotelId', summary: 'Delete a hotel (409 while it has pending or paid reservations that have not ended, or a refund or void not yet confirmed by the provider)', who: 'admin', answers: { 204: empty('deleted') }, errors: [404, 409] },
  { tag: 'Hotels', method: 'post', path: '/v1/hotels/:hotelId/room-types', summary: 'Create a room type (inventory and rates for every night of the horizon)', who: 'admin, staff of it', body: http.roomTypeCreateBody, idempotencyKey: true, answers: { 201: json(res.roomTypeSchema, 'the room type', location) }, errors: [404, 409, 422] },
  { tag: 'Hotels', method: 'get', path: '/v1/hotels/:hotelId/room-types', summary: 'List room types', who: 'public', query: http.pageQuery, answers: { 200: json(res.roomTypeListSchema, 'a page of room types') }, errors: [404] },
  { tag: 'Hotels', method: 'get', path: '/v1/hotels/:hotelId/room-types/:roomTypeId', summary: 'A room type', who: 'public', answers: { 200: json(res.roomTypeSchema, 'the room type') }, errors: [404] },
  { tag: 'Hotels', method: 'put', path: '/v1/hotels/:hotelId/room-types/:roomTypeId', summary: 'Update a room type', who: 'admin, staff of it', body: http.roomTypeUpdateBody, answers: { 200: json(res.roomTypeSchema, 'the room type') }, errors: [404] },
  { tag: 'Hotels', method: 'delete', path: '/v1/hotels/:hotelId/room-types/:roomTypeId', summary: 'Delete a room type (409 while it has pending or paid reservations that have not ended)', who: 'admin, staff of it', answers: { 204: empty('deleted') }, errors: [404, 409] },
  { tag: 'Hotels', method: 'post', path: '/v1/hotels/:hotelId/rooms', summary: 'Create a room', who: 'admin, staff of it', body: http.roomCreateBody, answers: { 201: json(res.roomSchema, 'the room', location) }, errors: [404, 409] },
  { tag: 'Hotels', method: 'get', path: '/v1/hotels/:hotelId/rooms', summary: 'List rooms', who: 'admin, staff of it', query: http.pageQuery, answers: { 200: json(res.roomListSchema, 'a page of rooms') }, errors: [404] },
  { tag: 'Hotels', method: 'get', path: '/v1/hotels/:hotelId/rooms/:roomId', summary: 'A room', who: 'admin, staff of it', answers: { 200: json(res.roomSchema, 'the room') }, errors: [404] },
  { tag: 'Hotels', method: 'put', path: '/v1/hotels/:hotelId/rooms/:roomId', summary: 'Update a room', who: 'admin, staff of it', body: http.roomUpdateBody, answers: { 200: json(res.roomSchema, 'the room') }, errors: [404, 409] },
  { tag: 'Hotels', method: 'delete', path: '/v1/hotels/:hotelId/rooms/:roomId', summary: 'Delete a room', who: 'admin, staff of it', answers: { 204: empty('deleted') }, errors: [404] },
  // Inventory, rates and prices
  { tag: 'Inventory and rates', method: 'put', path: '/v1/hotels/:hotelId/room-types/:roomTypeId/inventory', summary: 'Set the inventory of the nights [from, to) (all or nothing)', who: 'admin, staff of it, partner of it', body: http.inventoryBody, answers: { 200: json(res.ariUpdateSchema, 'the nights changed and the hotel’s new version') }, errors: [404, 409] },
  { tag: 'Inventory and rates', method: 'put', path: '/v1/hotels/:hotelId/room-types/:roomTypeId/rates', summary: 'Set the base rate of the nights [from, to)', who: 'admin, staff of it, partner of it', body: http.ratesBody, answers: { 200: json(res.ariUpdateSchema, 'the nights changed and the hotel’s new version') }, errors: [404] },
  { tag: 'Inventory and rates', method: 'put', path: '/v1/hotels/:hotelId/pricing', summary: 'Set the occupancy pricing tiers (replaces them all)', who: 'admin, staff of it', body: http.pricingBody, answers: { 200: json(res.pricingSchema, 'the tiers by occupancyPercent, and the hotel’s new version') }, errors: [404] },
  { tag: 'Inventory and rates', method: 'get', path: '/v1/hotels/:hotelId/pricing', summary: 'The occupancy pricing tiers (none by default)', who: 'public', answers: { 200: json(res.pricingSchema, 'the tiers') }, errors: [404] },
  // Availability
  { tag: 'Availability', method: 'get', path: '/v1/hotels/:hotelId/availability', summary: 'Availability and prices of a stay, night by night (at most 92 nights; with guests, room types whose maxGuests is smaller are left out)', who: 'public', query: http.availabilityQuery, answers: { 200: json(res.availabilitySchema, 'availability') }, errors: [404] },
  {
    tag: 'Availability',
    method: 'get',
    path: '/v1/hotels/:hotelId/availability/stream',
    summary: 'Live availability (Server-Sent Events, resumable with Last-Event-ID)',
    who: 'public',
    answers: {
      200: {
        contentType: 'text/event-stream',
        description:
          '`event: availability`, `id: <version>`, `data: {hotelId, version, changes: [{roomTypeId, date, totalInventory, reserved, available, rate, baseRate}]}` per committed change; `event: reset` when the changes after Last-Event-ID are no longer kept; a comment at least every 15 s',
      },
    },
    errors: [404],
  },
  // Reservations
  {
    tag: 'Reservations',
    method: 'post',
    path: '/v1/reservations',
    summary: 'Reserve: hold rooms until expiresAt (idempotent on reservationId)',
    who: 'guest, partner, staff, admin',
    body: http.reservationBody,
    answers: {
      201: json(res.reservationSchema, 'held (pending)'),
      200: json(res.reservationSchema, 'the same body again: the reservation as it is now'),
      202: json(res.processingSchema, 'not decided within REPLY_TIMEOUT_MS; it will be, exactly once', { Location: 'GET it until it is decided' }),
    },
    errors: [404, 409, 422],
  },
  { tag: 'Reservations', method: 'get', path: '/v1/reservations', summary: 'List reservations (guests and partners: their own; staff and admin: a hotel’s)', who: 'guest, partner, staff, admin', query: http.reservationListQuery, answers: { 200: json(res.reservationListSchema, 'a page of reservations') } },
  {
    tag: 'Reservations',
    method: 'get',
    path: '/v1/reservations/:id',
    summary: 'A reservation',
    who: 'its owner, staff of its hotel, admin',
    answers: { 200: json(res.reservationSchema, 'the reservation'), 202: json(res.processingSchema, 'still being decided') },
    errors: [404],
  },
  {
    tag: 'Reservations',
    method: 'delete',
    path: '/v1/reservations/:id',
    summary: 'Cancel: pending → canceled, paid → refunded (refund per the hotel’s cancellation policy, in payment.refund)',
    who: 'its owner, staff of its hotel, admin',
    answers: { 200: json(res.reservationSchema, 'canceled or refunded; repeating it answers the same') },
    errors: [404, 409],
  },
  {
    tag: 'Reservations',
    method: 'post',
    path: '/v1/reservations/:id/payment',
    summary: 'Pay a pending reservation (the test provider approves pm_card_visa and declines pm_card_declined)',
    who: 'its owner, admin',
    body: http.paymentBody,
    idempotencyKey: true,
    answers: { 200: json(res.reservationSchema, 'paid') },
    errors: [402, 404, 409, 422],
    errorNotes: { 503: 'also when the payment provider cannot be reached (nothing charged; the reservation stays pending)' },
  },
  // Batches
  { tag: 'Batches', method: 'post', path: '/v1/batches', summary: 'A partner batch of up to 10,000 reservation bodies', who: 'partner, admin', body: http.batchBody, idempotencyKey: true, answers: { 202: json(res.batchAcceptedSchema, 'accepted; poll the Location', { Location: 'the batch' }) }, errors: [413, 422] },
  { tag: 'Batches', method: 'get', path: '/v1/batches/:batchId', summary: 'A batch and its per-item results in item order', who: 'its creator, admin', answers: { 200: json(res.batchSchema, 'the batch') }, errors: [404] },
  // Operations
  { tag: 'Operations', method: 'get', path: '/healthz', summary: 'Liveness', who: 'public', answers: { 200: json(res.healthSchema, 'the process runs') } },
  { tag: 'Operations', method: 'get', path: '/readyz', summary: 'Readiness: Redis and every Postgres database answer, and every shard database is migrated', who: 'public', answers: { 200: json(res.readinessSchema, 'ready'), 503: json(res.readinessSchema, 'not ready: the checks say why') } },
  { tag: 'Webhooks', method: 'post', path: '/v1/webhooks', summary: 'Subscribe a URL to events (SSRF guard: loopback, private and link-local addresses refused)', who: 'admin, staff, partner', body: http.webhookBody, answers: { 201: json(res.webhookCreatedSchema, 'the webhook; its secret is shown only here', location) } },
  { tag: 'Webhooks', method: 'get', path: '/v1/webhooks', summary: 'List my webhooks', who: 'admin (all), staff, partner (their own)', query: http.webhooksListQuery, answers: { 200: json(res.webhookListSchema, 'a page of webhooks') } },
  { tag: 'Webhooks', method: 'get', path: '/v1/webhooks/:id', summary: 'A webhook', who: 'its creator, admin', answers: { 200: json(res.webhookSchema, 'the webhook') }, errors: [404] },
  { tag: 'Webhooks', method: 'put', path: '/v1/webhooks/:id', summary: 'Change a webhook (enabled: true turns a disabled one back on)', who: 'its creator, admin', body: http.webhookUpdateBody, answers: { 200: json(res.webhookSchema, 'the webhook') }, errors: [404] },
  { tag: 'Webhooks', method: 'delete', path: '/v1/webhooks/:id', summary: 'Delete a webhook', who: 'its creator, admin', answers: { 204: empty('deleted') }, errors: [404] },
  { tag: 'Webhooks', method: 'get', path: '/v1/webhooks/:id/deliveries', summary: 'Deliveries, newest first', who: 'its creator, admin', query: http.deliveriesQuery, answers: { 200: json(res.webhookDeliveryListSchema, 'a page of deliveries') }, errors: [404] },
  { tag: 'Webhooks', method: 'post', path: '/v1/webhooks/:id/replay', summary: 'Deliver again every matching event since a time (within the retention period), with its original id', who: 'its creator, admin', body: http.replayBody, answers: { 202: json(res.webhookReplaySchema, 'how many events will be delivered again') }, errors: [404] },
  { tag: 'Audit', method: 'get', path: '/v1/hotels/:hotelId/audit', summary: 'Audit trail of a hotel, newest first', who: 'admin, staff of it', query: http.auditQuery, answers: { 200: json(res.auditListSchema, 'a page of audit records') }, errors: [404] },
  { tag: 'Operations', method: 'get', path: '/metrics', summary: 'Prometheus metrics of this API process (workers serve theirs on METRICS_PORT)', who: 'admin', answers: { 200: { contentType: 'text/plain', description: 'Prometheus text exposition format (version 0.0.4)' } }, errors: [401, 403] },
  { tag: 'Operations', method: 'get', path: '/v1/ops/shards', summary: 'The shard table: owner, epoch and queue of every virtual shard', who: 'admin', answers: { 200: json(res.shardTableSchema, 'one row per virtual shard') } },
  { tag: 'Operations', method: 'post', path: '/v1/ops/shards/:shard/move', summary: 'Move a virtual shard to another shard database (an id of GET /v1/ops/shards, or a new postgres:// URL, migrated and added) while it keeps serving', who: 'admin', params: { shard: http.shardParam }, body: http.shardMoveBody, answers: { 202: json(res.shardMoveAcceptedSchema, 'the move is queued in the shard\'s turn; GET /v1/ops/shards shows it moving, then its new database') }, errors: [404] },
  { tag: 'Operations', method: 'post', path: '/v1/ops/shards/:shard/drain', summary: 'Ask the owner of a virtual shard to hand it over to another worker (after its job in hand)', who: 'admin', params: { shard: http.shardParam }, answers: { 202: json(res.shardDrainSchema, 'the owner was asked') }, errors: [404] },
  { tag: 'Operations', method: 'get', path: '/v1/ops/hotels/:hotelId', summary: 'Where a hotel lives: its virtual shard and shard database', who: 'admin', answers: { 200: json(res.hotelPlacementSchema, 'the hotel\'s placement') }, errors: [404] },
  { tag: 'Operations', method: 'get', path: '/openapi.json', summary: 'This document', who: 'public', answers: { 200: { contentType: 'application/json', description: 'OpenAPI 3.1' } } },
  { tag: 'Operations', method: 'get', path: '/docs', summary: 'A readable reference page of this document', who: 'public', answers: { 200: { contentType: 'text/html', description: 'the reference page' } } },
];

/** What each error status means in the contract, with its codes (docs/api.md). */
const errorMeaning: Record<ErrorStatus, string> = {
  400: 'validation_failed: details.fields lists each bad field and why',
  401: 'unauthorized: no valid token',
  402: 'payment_declined: the provider declined; the reservation is rejected',
  403: 'forbidden: the token’s role or hotels do not allow it',
  404: 'not_found (another principal’s reservation is not_found too)',
  409: 'conflict, sold_out (details.alternatives), invalid_status, hold_expired or inventory_below_reserved',
  413: 'payload_too_large: over 1 MiB (16 MiB for /v1/batches)',
  422: 'idempotency_mismatch: the same key with another body, principal or hotel',
  429: 'rate_limited: retry after Retry-After seconds',
  503: 'unavailable: Redis or a database cannot be reached, or a shard database is not migrated; retry after Retry-After seconds',
};

/** The error statuses an operation can give: what its kind can always give, and its own. */
function errorStatuses(r: RouteDoc): ErrorStatus[] {
  const out = new Set<ErrorStatus>(r.errors ?? []);
  const api = r.path.startsWith('/v1/');
  if (api) {
    out.add(503);
    out.add(401); // a token that is sent must be valid, also on public routes
    out.add(429); // and is held to its rate limit there too
  }
  if (api && (r.body || r.query || r.params || /:\w+/.test(r.path))) out.add(400);
  if (r.body) out.add(413);
  if (api && r.who !== 'public') out.add(403);
  if (r.optionalAuth) out.add(403);
  return [...out].sort();
}

const componentRef = (s: z.ZodType) => {
  const meta = res.components.get(s);
  if (!meta) throw new Error('a response schema must be named in schemas/responses.ts');
  return { $ref: `#/components/schemas/${meta.id}` };
};

/** An input schema (request body or parameter) as JSON Schema 2020-12, inline. */
const input = (s: z.ZodType) => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

const uuidParam = { type: 'string', format: 'uuid' };

/** What a query parameter means, where its schema (a text turned into a number, say) cannot say it. */
const queryHelp: Record<string, string> = {
  limit: 'page size, 1..200 (default 50)',
  cursor: 'the nextCursor of the previous page',
  checkIn: 'first night, YYYY-MM-DD, not before today in the hotel’s time zone',
  checkOut: 'day of departure, YYYY-MM-DD, after checkIn',
  rooms: 'rooms wanted, 1..10 (default 1)',
  guests: 'guests per room, 1..20 (default 1)',
  roomTypeId: 'only this room type',
  city: 'hotels of this city',
  hotelId: 'reservations of this hotel',
  status: 'reservations with this status',
};

function parameters(r: RouteDoc): unknown[] {
  const out: unknown[] = [];
  for (const m of r.path.matchAll(/:(\w+)/g)) {
    const name = m[1];
    const schema = r.params?.[name] ? input(r.params[name]) : uuidParam;
    out.push({ name, in: 'path', required: true, schema });
  }
  for (const [name, field] of Object.entries(r.query?.shape ?? {})) {
    const f = field as z.ZodType;
    const { description, ...schema } = input(f);
    const help = (description as string | undefined) ?? queryHelp[name];
    out.push({ name, in: 'query', required: !f.safeParse(undefined).success, schema, ...(help ? { description: help } : {}) });
  }
  out.push({
    name: 'X-Request-Id',
    in: 'header',
    required: false,
    description: 'Kept as the request id when 1..128 characters of [A-Za-z0-9._-], else a new UUID is made; every answer carries it in X-Request-Id.',
    schema: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,128}$' },
  });
  if (r.idempotencyKey) {
    out.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description: 'The same key with the same body gets the first answer again; another body 422 idempotency_mismatch.',
      schema: { type: 'string', maxLength: 200 },
    });
  }
  return out;
}

function answer(a: Answer) {
  const content = a.schema
    ? { content: { 'application/json': { schema: componentRef(a.schema) } } }
    : a.contentType
      ? { content: { [a.contentType]: { schema: a.contentType === 'application/json' ? { type: 'object' } : { type: 'string' } } } }
      : {};
  const headers = a.headers
    ? { headers: Object.fromEntries(Object.entries(a.headers).map(([k, d]) => [k, { description: d, schema: { type: 'string' } }])) }
    : {};
  return { description: a.description, ...headers, ...content };
}

/** An error answer in the contract's format; 429 and 503 carry Retry-After. */
function errorResponse(status: ErrorStatus, description: string) {
  return {
    description,
    ...(status === 429 || status === 503 ? { headers: { 'Retry-After': { description: 'seconds', schema: { type: 'integer' } } } } : {}),
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  };
}

export const openApiPath = (expressPath: string) => expressPath.replace(/:(\w+)/g, '{$1}');

function operation(r: RouteDoc) {
  const responses: Record<string, unknown> = {};
  for (const [status, a] of Object.entries(r.answers)) responses[status] = answer(a);
  for (const s of errorStatuses(r)) {
    const note = r.errorNotes?.[s];
    responses[s] ??= note ? errorResponse(s, `${errorMeaning[s]}; ${note}`) : { $ref: `#/components/responses/E${s}` };
  }
  const params = parameters(r);
  return {
    operationId: `${r.method}${r.path.replace(/:(\w+)/g, 'By-$1').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    tags: [r.tag],
    summary: r.summary,
    description: `Who: ${r.who}.`,
    ...(params.length ? { parameters: params } : {}),
    ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: input(r.body) } } } } : {}),
    responses,
    ...(r.who === 'public' ? { security: r.optionalAuth ? [{}, { bearer: [] }] : [] } : {}),
  };
}

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) (paths[openApiPath(r.path)] ??= {})[r.method] = operation(r);
  const generated = z.toJSONSchema(res.components, { io: 'input', uri: (id) => `#/components/schemas/${id}` }).schemas;
  const schemas = Object.fromEntries(
    Object.entries(generated).map(([name, s]) => {
      const { $schema: _s, $id: _i, ...rest } = s as Record<string, unknown>;
      return [name, rest];
    }),
  );
  const responses = Object.fromEntries(
    (Object.entries(errorMeaning) as [string, string][]).map(([status, meaning]) => [`E${status}`, errorResponse(Number(status) as ErrorStatus, meaning)]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'Reservation engine',
      version: '1.0.0',
      description:
        'Hotel reservations with live availability, for booking sites, partner channels and hotel staff. Bodies are JSON; unknown body fields are refused (400); ids are UUIDs; dates YYYY-MM-DD; money in minor units of the hotel’s currency. The full contract is docs/api.md.',
    },
    servers: [{ url: '/' }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key, a session token (POST /v1/sessions) or ADMIN_API_KEY' } },
      schemas,
      responses,
    },
  };
}
