// Zod schemas of what the API answers (../shared/API.md, docs/api.md). They are documentation: the OpenAPI document
// (schemas/openapi.ts) is generated from them, and each one registered in `components` becomes a named schema of
// the document. Objects are not strict: a client must accept fields added later.
import { z } from 'zod';
import { eventTypes } from '../engine/notify/events.js';

/** The named schemas of the OpenAPI document (`#/components/schemas/<id>`). */
export const components = z.registry<{ id: string; description?: string }>();

function named<T extends z.ZodType>(id: string, schema: T, description?: string): T {
  components.add(schema, description === undefined ? { id } : { id, description });
  return schema;
}

const id = z.uuid();
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/).describe('YYYY-MM-DD');
const instant = z.iso.datetime({ offset: true });
const count = z.number().int().min(0);
const money = z.number().int().min(0).describe('minor units of the currency (cents)');
const version = z.number().int().min(0).describe('grows with every committed change of the hotel');
const page = <T extends z.ZodType>(name: string, item: T) =>
  named(`${name}List`, z.object({ items: z.array(item), nextCursor: z.string().nullable().describe('pass as ?cursor= for the next page; null on the last') }));

export const errorSchema = named(
  'Error',
  z.object({
    error: z.object({
      code: z.string().describe('snake_case; the list and their statuses are in docs/api.md'),
      message: z.string().describe('a human sentence'),
      details: z.record(z.string(), z.unknown()).optional().describe('validation_failed: {fields: [{field, message}]}; sold_out: {alternatives}'),
    }),
  }),
  'Every error answer.',
);

export const cancellationPolicySchema = named(
  'CancellationPolicy',
  z.object({
    freeUntilHoursBefore: z.number().int().min(0).max(8760).describe('full refund when canceled at least this many hours before the check-in day starts (hotel time)'),
    penaltyPercent: z.number().int().min(0).max(100).describe('later, the refund keeps back this share of totalAmount'),
  }),
);

export const offerSchema = named(
  'Offer',
  z.object({ roomTypeId: id, available: count, fromPrice: money.describe('the stay’s total for the requested rooms') }),
  'The cheapest room type that fits the search, for the whole stay.',
);

export const hotelSchema = named(
  'Hotel',
  z.object({
    id,
    name: z.string(),
    city: z.string(),
    country: z.string().describe('ISO 3166 alpha-2'),
    timezone: z.string().describe('IANA'),
    currency: z.string().describe('ISO 4217'),
    overbookingPercent: z.number().int().min(0).max(50),
    cancellationPolicy: cancellationPolicySchema,
    createdAt: instant,
    offer: offerSchema.nullable().optional().describe('only in a search with checkIn and checkOut'),
  }),
);
export const hotelListSchema = page('Hotel', hotelSchema);

export const roomTypeSchema = named(
  'RoomType',
  z.object({ id, hotelId: id, name: z.string(), maxGuests: z.number().int().min(1).max(20), totalInventory: count, baseRate: money }),
);
export const roomTypeListSchema = page('RoomType', roomTypeSchema);

export const roomSchema = named('Room', z.object({ id, hotelId: id, roomTypeId: id, number: z.string(), floor: z.number().int().nullable() }));
export const roomListSchema = page('Room', roomSchema);

export const ariUpdateSchema = named('AriUpdate', z.object({ updatedNights: count, version }));

export const pricingSchema = named(
  'Pricing',
  z.object({
    tiers: z.array(z.object({ occupancyPercent: z.number().int().min(0).max(100), multiplierPercent: z.number().int().min(50).max(500) })),
    version,
  }),
  'Occupancy pricing: a night is priced round(rate × m / 100), m of the highest tier at or below its occupancy.',
);

const nightSchema = z.object({
  date: day,
  totalInventory: count,
  reserved: count,
  available: count,
  rate: money.describe('the price of one more room on that night (occupancy pricing applied)'),
  baseRate: money.describe('the night’s base rate'),
});
export const availabilitySchema = named(
  'Availability',
  z.object({
    hotelId: id,
    checkIn: day,
    checkOut: day,
    version,
    stale: z.boolean().describe('true: answered from the cache while the database was unreachable'),
    roomTypes: z.array(
      z.object({
        roomTypeId: id,
        name: z.string(),
        available: count.describe('the minimum over the nights'),
        totalPrice: money.describe('the nights’ rates for the requested rooms'),
        nights: z.array(nightSchema),
      }),
    ),
  }),
);

export const paymentSchema = named(
  'Payment',
  z.object({
    amount: money,
    reference: z.string().describe('the provider’s reference of the charge'),
    paidAt: instant,
    refund: z
      .object({ status: z.enum(['pending', 'done']), amount: money, reference: z.string().optional().describe('the provider’s, once done') })
      .nullable()
      .describe('set when a paid reservation is canceled'),
  }),
);

export const reservationStatusSchema = z.enum(['pending', 'paid', 'rejected', 'canceled', 'refunded']);
export const reservationSchema = named(
  'Reservation',
  z.object({
    id,
    hotelId: id,
    roomTypeId: id,
    checkIn: day,
    checkOut: day,
    roomCount: z.number().int().min(1).max(10),
    status: reservationStatusSchema,
    totalAmount: money,
    currency: z.string(),
    guest: z.object({ name: z.string(), email: z.string() }),
    createdAt: instant,
    expiresAt: instant.nullable().describe('while pending: when the hold runs out'),
    cancelReason: z.string().nullable().describe('"hold_expired" when the hold ran out'),
    payment: paymentSchema.nullable().describe('null until a payment succeeds'),
    version: z.number().int().min(0),
  }),
);
export const reservationListSchema = page('Reservation', reservationSchema);

export const processingSchema = named(
  'Processing',
  z.object({ id, status: z.literal('processing') }),
  'The request is queued and will be decided exactly once; GET the Location until it is.',
);

export const batchAcceptedSchema = named('BatchAccepted', z.object({ batchId: id, status: z.enum(['processing', 'done']), total: count }));
export const batchSchema = named(
  'Batch',
  z.object({
    batchId: id,
    status: z.enum(['processing', 'done']),
    total: count,
    held: count,
    rejected: count,
    results: z.array(
      z.object({
        reservationId: z.string(),
        status: z.union([reservationStatusSchema, z.literal('processing')]),
        error: z.object({ code: z.string() }).optional(),
      }),
    ),
  }),
);

export const apiKeySchema = named(
  'ApiKey',
  z.object({ id, name: z.string(), role: z.enum(['admin', 'staff', 'partner']), hotelIds: z.array(id), token: z.string().describe('shown only here') }),
);
export const userSchema = named(
  'User',
  z.object({ id, email: z.string(), name: z.string(), role: z.enum(['guest', 'staff']).optional(), hotelIds: z.array(id).optional().describe('staff users') }),
);
export const sessionSchema = named('Session', z.object({ token: z.string(), userId: id, expiresAt: instant }));

export const healthSchema = named('Health', z.object({ status: z.literal('ok') }));
export const readinessSchema = named(
  'Readiness',
  z.object({ status: z.enum(['ready', 'not_ready']), checks: z.record(z.string(), z.string()).describe('"ok", or why not') }),
);
export const shardTableSchema = named(
  'ShardTable',
  z.array(
    z.object({
      shard: count,
      database: z.union([count, z.string()]).describe('the shard database holding it'),
      owner: z.string().nullable().describe('the worker holding its lease'),
      epoch: count.nullable().describe('its lease epoch; null when no process ever read it (source "none")'),
      queueDepth: count.describe('its jobs not yet decided: waiting, or being decided'),
      oldestWaitingMs: count.nullable().describe('how long the oldest of those has been queued; null when there is none'),
      stale: z.boolean().optional().describe('true: the epoch comes from a copy, its database did not answer'),
      source: z.enum(['postgres', 'memory', 'redis', 'none']).optional().describe('where the epoch was read'),
      epochReadAt: z.string().optional().describe('when that copy was read'),
      state: z.enum(['serving', 'moving']).optional().describe('moving: a move to `movingTo` was asked for and has not ended'),
      movingTo: count.nullable().optional().describe('the database a move takes it to'),
      lastMove: z
        .object({ id: count, from: count, to: count, state: z.enum(['requested', 'copying', 'flipped', 'done', 'failed']), error: z.string().nullable(), pauseMs: count.nullable() })
        .nullable()
        .optional()
        .describe('its latest move, if any'),
    }),
  ),
);

// Answers of the webhook and audit routes (API.md), and of routes still being added (moving a shard).
export const webhookEventSchema = z.enum(eventTypes);
export const webhookSchema = named(
  'Webhook',
  z.object({ id, url: z.string(), events: z.array(webhookEventSchema), hotelIds: z.array(id), enabled: z.boolean(), createdAt: instant }),
);
export const webhookListSchema = page('Webhook', webhookSchema);
export const webhookCreatedSchema = named(
  'WebhookCreated',
  z.object({ id, url: z.string(), events: z.array(webhookEventSchema), secret: z.string().describe('whsec_ + base64 of 32 random bytes; shown only here') }),
);
export const webhookDeliverySchema = named(
  'WebhookDelivery',
  z.object({
    eventId: z.string(),
    type: webhookEventSchema,
    attempts: count,
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    nextAttemptAt: instant.nullable(),
    deliveredAt: instant.nullable(),
  }),
);
export const webhookDeliveryListSchema = page('WebhookDelivery', webhookDeliverySchema);
export const webhookReplaySchema = named('WebhookReplay', z.object({ events: count.describe('how many events will be delivered again') }));

export const auditEntrySchema = named(
  'AuditEntry',
  z.object({
    sequence: count,
    at: instant,
    actor: z.object({ kind: z.string(), id: z.string() }),
    command: z.string().describe('reserve, pay, cancel, expireHold, setInventory, setRates, setPricing, updateHotel, …'),
    outcome: z.object({ ok: z.boolean(), status: reservationStatusSchema.optional(), code: z.string().optional() }),
    reservationId: z.string().optional(),
    version,
  }),
);
export const auditListSchema = page('AuditEntry', auditEntrySchema);

export const shardOfHotelSchema = named('ShardOfHotel', z.object({ hotelId: id, shard: count, database: z.union([count, z.string()]) }));

export const shardMoveAcceptedSchema = named(
  'ShardMoveAccepted',
  z.object({
    shard: count,
    moveId: count.describe('GET /v1/ops/shards shows it as lastMove.id'),
    from: count,
    to: count.describe('the target database id (a new URL was added with this id)'),
    state: z.literal('moving'),
  }),
);
export const shardDrainSchema = named(
  'ShardDrain',
  z.object({ shard: count, owner: z.string().nullable().describe('the worker asked to hand it over (null: it had no owner)') }),
);
export const hotelPlacementSchema = named('HotelPlacement', z.object({ hotelId: id, shard: count, database: count }));
