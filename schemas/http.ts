// Zod schemas of every HTTP body and query of the public contract (../shared/API.md), with their inferred types.
// Objects are strict: an unknown field is a 400, so that a typo in an integration surfaces at once.
import { z } from 'zod';
import {
  amountMax,
  batchItemsMax,
  maxGuestsMax,
  multiplierPercentMax,
  multiplierPercentMin,
  occupancyPercentMax,
  overbookingPercentDefault,
  overbookingPercentMax,
  pageLimitDefault,
  pageLimitMax,
  pricingTiersMax,
  roomCountMax,
  totalInventoryMax,
} from '../engine/limits.js';
import { isTimeZone, parseDay, timeZoneCase } from '../engine/core/dates.js';
import { eventTypes as webhookEventTypes } from '../engine/notify/events.js';

const uuid = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be a UUID').transform((s) => s.toLowerCase());
const date = z.string().refine((s) => parseDay(s) !== undefined, 'must be a real date YYYY-MM-DD');
// Control characters (NUL above all, which Postgres cannot store) are refused in every text field, and so are
// unpaired surrogates (JSON can escape them; stored as UTF-8 they would come back as U+FFFD, another text).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const noControl = (s: string) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]|[\ud800-\udfff]/u.test(s);
const controlMessage = 'must not contain control characters or unpaired surrogates';
const text = (max: number) =>
  z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`).refine(noControl, controlMessage);
const int = (min: number, max: number) => z.number().int('must be a whole number').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);
const email = z.string().trim().max(254).regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'must be an e-mail address').refine(noControl, controlMessage);

export const uuidSchema = uuid;

const countryCodes = new Set(
  'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW'.split(' '),
);
const currencies = new Set(
  (typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('currency') : ['EUR', 'USD', 'GBP']),
);

const country = z.string().refine((s) => countryCodes.has(s), 'must be an ISO 3166 alpha-2 code such as "FR"');
const currency = z.string().refine((s) => /^[A-Z]{3}$/.test(s) && currencies.has(s), 'must be an ISO 4217 code such as "EUR"');
const timezone = z
  .string()
  .max(64)
  .refine((s) => isTimeZone(s), 'must be an IANA time zone such as "Europe/Paris"')
  .transform((s) => (isTimeZone(s) ? timeZoneCase(s) : s));

/** A cancellation policy: a PUT replaces the whole policy, an omitted field taking its default. */
export const cancellationPolicy = z.strictObject({
  freeUntilHoursBefore: int(0, 8760).default(0),
  penaltyPercent: int(0, 100).default(0),
});

export const hotelCreateBody = z.strictObject({
  name: text(200),
  city: text(100),
  country,
  timezone,
  currency,
  overbookingPercent: int(0, overbookingPercentMax).default(overbookingPercentDefault),
  cancellationPolicy: cancellationPolicy.default({ freeUntilHoursBefore: 0, penaltyPercent: 0 }),
});
export const hotelUpdateBody = z.strictObject({
  name: text(200).optional(),
  city: text(100).optional(),
  country: country.optional(),
  timezone: timezone.optional(),
  currency: currency.optional(),
  overbookingPercent: int(0, overbookingPercentMax).optional(),
  cancellationPolicy: cancellationPolicy.optional(),
});

export const roomTypeCreateBody = z.strictObject({
  name: text(100),
  maxGuests: int(1, maxGuestsMax),
  totalInventory: int(0, totalInventoryMax),
  baseRate: int(1, amountMax),
});
export const roomTypeUpdateBody = z.strictObject({
  name: text(100).optional(),
  maxGuests: int(1, maxGuestsMax).optional(),
});

export const roomCreateBody = z.strictObject({
  number: text(20),
  roomTypeId: uuid,
  floor: z.number().int().min(-10).max(300).nullable().optional(),
});
export const roomUpdateBody = z.strictObject({
  number: text(20).optional(),
  roomTypeId: uuid.optional(),
  floor: z.number().int().min(-10).max(300).nullable().optional(),
});

export const inventoryBody = z.strictObject({ from: date, to: date, totalInventory: int(0, totalInventoryMax) });
export const ratesBody = z.strictObject({ from: date, to: date, amount: int(1, amountMax) });

/** Occupancy pricing tiers (API.md, "Prices follow occupancy"): each threshold at most once. */
export const pricingBody = z.strictObject({
  tiers: z
    .array(z.strictObject({ occupancyPercent: int(0, occupancyPercentMax), multiplierPercent: int(multiplierPercentMin, multiplierPercentMax) }))
    .max(pricingTiersMax, `must have at most ${pricingTiersMax} tiers`)
    .superRefine((tiers, c) => {
      const seen = new Set<number>();
      tiers.forEach((t, i) => {
        if (seen.has(t.occupancyPercent)) {
          c.addIssue({ code: 'custom', path: [i, 'occupancyPercent'], message: `repeats the threshold ${t.occupancyPercent}` });
        }
        seen.add(t.occupancyPercent);
      });
    }),
});

export const availabilityQuery = z.strictObject({
  checkIn: date,
  checkOut: date,
  roomTypeId: uuid.optional(),
  rooms: z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(int(1, roomCountMax)).optional(),
  guests: z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(int(1, maxGuestsMax)).optional(),
});

export const guestSchema = z.strictObject({ name: text(200), email });

export const reservationBody = z.strictObject({
  reservationId: uuid,
  hotelId: uuid,
  roomTypeId: uuid,
  checkIn: date,
  checkOut: date,
  roomCount: int(1, roomCountMax).default(1),
  guest: guestSchema,
});
export type ReservationBody = z.output<typeof reservationBody>;

/** A payment method is a provider token (`pm_card_visa`; the test provider declines `pm_card_declined`). */
export const paymentBody = z.strictObject({
  paymentMethod: z.string().regex(/^pm_[A-Za-z0-9_]{1,64}$/, 'must be a payment method token such as pm_card_visa'),
});

export const batchBody = z.strictObject({
  items: z
    .array(z.unknown())
    .min(1, 'must have at least one item')
    .max(batchItemsMax, `must have at most ${batchItemsMax} items`)
    .describe('reservation bodies, as for POST /v1/reservations; each is decided as if posted alone'),
  atomic: z.boolean().optional(),
});

// A list cursor is what the server made: base64url of the last id of the previous page (engine/store/shard-reader.ts).
// Anything else is refused here: a 36-character text of hex digits and dashes that is no UUID used to reach Postgres as
// a uuid parameter and answer 500.
const cursor = z
  .string()
  .max(200)
  .refine((s) => s === '' || /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(Buffer.from(s, 'base64url').toString()), 'must be a nextCursor from a previous page');

export const reservationListQuery = z.strictObject({
  hotelId: uuid.optional(),
  status: z.enum(['pending', 'paid', 'rejected', 'canceled', 'refunded']).optional(),
  limit: z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(int(1, pageLimitMax)).optional(),
  cursor: cursor.optional(),
});
export const pageQuery = z.strictObject({
  limit: z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(int(1, pageLimitMax)).optional(),
  cursor: cursor.optional(),
});
/** Hotels, by city; with checkIn and checkOut, each with its offer for the stay (search by dates). */
export const hotelListQuery = pageQuery.extend({
  city: z.string().max(100).refine(noControl, controlMessage).optional(),
  checkIn: date.optional(),
  checkOut: date.optional(),
  guests: z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(int(1, maxGuestsMax)).optional(),
  rooms: z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(int(1, roomCountMax)).optional(),
});
export { pageLimitDefault };

export const apiKeyBody = z.strictObject({
  name: text(100),
  role: z.enum(['admin', 'staff', 'partner']),
  hotelIds: z.array(uuid).max(1000).optional(),
  rateLimitPerSecond: int(0, 1_000_000).optional(),
});
const password = z.string().min(8, 'must be at least 8 characters').max(200, 'must be at most 200 characters').refine(noControl, controlMessage);
/** A guest's sign-up (public): `role`, when sent, can only be "guest" (what it makes). */
export const userBody = z.strictObject({ email, password, name: text(200), role: z.literal('guest', { error: 'must be "guest" (an admin makes staff users)' }).optional() });
/** A staff user, made by an admin: signs in like a guest, then acts as staff of `hotelIds`. */
export const staffUserBody = z.strictObject({
  email,
  password,
  name: text(200),
  role: z.literal('staff', { error: 'must be "staff" (guests sign up without a role, or with "guest")' }),
  hotelIds: z.array(uuid).min(1, 'must name at least one hotel').max(1000),
});
export const sessionBody = z.strictObject({
  email: z.string().trim().max(254).refine(noControl, controlMessage),
  password: z.string().max(200).refine(noControl, controlMessage),
});

// Notifications and webhooks (API.md). The URL's scheme and where it resolves are checked by the route (the SSRF
// guard needs a DNS look-up); here it must be a URL of at most 2,000 characters.

const webhookUrl = z.string().max(2000, 'must be at most 2000 characters').refine(noControl, controlMessage);
const webhookEvents = z
  .array(z.enum(webhookEventTypes, { error: `must be one of ${webhookEventTypes.join(', ')}` }))
  .min(1, 'must name at least one event')
  .max(webhookEventTypes.length * 2)
  .transform((l) => [...new Set(l)]);
export const webhookBody = z.strictObject({
  url: webhookUrl,
  events: webhookEvents,
  hotelIds: z.array(uuid).max(1000).optional(),
});
export const webhookUpdateBody = z.strictObject({
  url: webhookUrl.optional(),
  events: webhookEvents.optional(),
  hotelIds: z.array(uuid).max(1000).optional(),
  enabled: z.boolean().optional(),
});
// Deliveries are listed newest first; their cursor is the base64url of a delivery's number.
const numberCursor = z
  .string()
  .max(40)
  .refine((s) => /^\d{1,18}$/.test(Buffer.from(s, 'base64url').toString()), 'must be a nextCursor from a previous page');
export const deliveriesQuery = z.strictObject({
  status: z.enum(['failed', 'succeeded']).optional(),
  limit: z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(int(1, pageLimitMax)).optional(),
  cursor: numberCursor.optional(),
});
// An ISO 8601 time from 1970 to 9999 (sent to Postgres as the instant it names, never as the text).
const isoTime = z
  .string()
  .max(64)
  .refine(
    // A calendar date (2026-02-30 would roll over to March), then a time Date.parse reads.
    (s) => /^(19[7-9]\d|[2-9]\d{3})-\d{2}-\d{2}T/.test(s) && parseDay(s.slice(0, 10)) !== undefined && !Number.isNaN(Date.parse(s)) && Date.parse(s) < Date.UTC(10000, 0, 1),
    'must be an ISO 8601 time',
  )
  .transform((s) => new Date(Date.parse(s)).toISOString());
export const replayBody = z.strictObject({ since: isoTime });
export const auditQuery = z.strictObject({
  reservationId: uuid.optional(),
  from: isoTime.optional(),
  to: isoTime.optional(),
  limit: z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(int(1, pageLimitMax)).optional(),
  cursor: numberCursor.optional(),
});
export const webhooksListQuery = pageQuery;

// Operations (issue 16): moving a virtual shard to another shard database. `database` is an id GET /v1/ops/shards
// shows, or the postgres:// URL of a database to add.
export const shardMoveBody = z.strictObject({
  database: z.union([
    z.number().int('must be a whole number').min(0, 'must be at least 0'),
    z.string().min(1, 'must not be empty').max(2000, 'must be at most 2000 characters'),
  ], { error: (i) => (i.input === undefined ? 'is required' : 'must be a shard database id or a postgres:// URL') }),
});
export const shardParam = z.string().regex(/^\d{1,9}$/, 'must be a whole number').transform(Number);

/**
 * A failed parse's issues as the contract's `details.fields`: each bad field (its dotted path, `where` for the whole
 * value) and why; each unknown field named as such (an empty name shown as "", so that it is still named), and a
 * missing one as "is required". The API's routes and the batch worker both describe them here.
 */
export function issueFields(issues: readonly z.core.$ZodIssue[], where = 'body'): { field: string; message: string }[] {
  return issues.flatMap((i) => {
    if (i.code === 'unrecognized_keys') return i.keys.map((k) => ({ field: [...i.path, k === '' ? '""' : k].join('.'), message: 'unknown field' }));
    const field = i.path.length ? i.path.join('.') : where;
    const message = i.code === 'invalid_type' && /received undefined$/.test(i.message) ? 'is required' : houseMessage(i) ?? i.message;
    return [{ field, message }];
  });
}

/**
 * The house wording ("must be at most 300") for the checks whose message a schema does not give, where zod would say
 * "Too big: expected number to be <=300" or "Invalid input: expected number, received string".
 */
function houseMessage(i: z.core.$ZodIssue): string | undefined {
  if ((i.code === 'too_big' || i.code === 'too_small') && /^Too (big|small)/.test(i.message)) {
    const big = i.code === 'too_big';
    const bound = Number(big ? i.maximum : i.minimum);
    if (i.origin === 'array' || i.origin === 'set') return `must have at ${big ? 'most' : 'least'} ${bound} item${bound === 1 ? '' : 's'}`;
    const unit = i.origin === 'string' ? ` character${bound === 1 ? '' : 's'}` : '';
    if (i.inclusive === false) return `must be ${big ? 'less' : 'more'} than ${bound}${unit}`;
    return `must be at ${big ? 'most' : 'least'} ${bound}${unit}`;
  }
  if (i.code === 'invalid_type' && /^Invalid input: expected/.test(i.message)) {
    const a = /^[aeiou]/.test(i.expected) ? 'an' : 'a';
    return i.expected === 'int' ? 'must be a whole number' : `must be ${a} ${i.expected}`;
  }
  return undefined;
}
