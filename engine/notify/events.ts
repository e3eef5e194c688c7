// Events as receivers see them (API.md, "Notifications and webhooks"): `{id, type, createdAt, hotelId, sequence,
// data}`. The id is made from the hotel and the sequence, so the same event has the same id however often it is
// relayed, delivered or replayed, and nothing has to store it.
import { hash } from 'node:crypto';
import { formatDay } from '../core/dates.js';
import { paymentJson } from '../core/payment-json.js';
import type { Payment } from '../core/types.js';
import type { NotificationEvent } from '../jobs.js';

export const eventTypes = [
  'reservation.created',
  'reservation.paid',
  'reservation.rejected',
  'reservation.canceled',
  'reservation.refunded',
  'availability.changed',
] as const;
export type EventType = (typeof eventTypes)[number];
export const reservationEventTypes = eventTypes.filter((t) => t.startsWith('reservation.'));

/** The event id of a hotel's n-th event: a UUID (version 8, name-based) of the hotel id and the sequence. */
export function eventIdOf(hotelId: string, sequence: number): string {
  // crypto.hash: one call, no Hash object (a third of createHash's CPU per event).
  const h = hash('sha256', `${hotelId}:${sequence}`, 'buffer');
  h[6] = (h[6] & 0x0f) | 0x80;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.toString('hex', 0, 16);
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/**
 * An availability.changed payload in its public shape, `{roomTypeId, changes}`, from the compact form the writer
 * stores (engine/commit-batch.ts): `roomTypeId` is the room type when every change is of one, else null.
 */
export function availabilityData(p: Record<string, unknown>): Record<string, unknown> {
  if (!Array.isArray(p.n) || !Array.isArray(p.t)) return p;
  const types = p.t as string[];
  const n = p.n as number[];
  const changes = [];
  for (let i = 0; i + 5 < n.length; i += 6) {
    changes.push({ roomTypeId: types[n[i]], date: formatDay(n[i + 1]), totalInventory: n[i + 2], reserved: n[i + 3], available: n[i + 4], rate: n[i + 5] });
  }
  return { roomTypeId: types.length === 1 ? types[0] : null, changes };
}

/** A timestamptz as milliseconds since the epoch, truncated as `to_char(…, 'MS')` truncates (exact: numeric). */
export const epochMs = (column: string) => `floor(extract(epoch FROM ${column}) * 1000)::int8`;

/**
 * The columns an event is made of, for a query over `outbox o LEFT JOIN reservations r ON r.id = o.reservation_id`
 * read with `rowMode: 'array'` (an array per row costs node-postgres half of what an object with these keys does):
 * the raw columns, timestamps as epoch milliseconds, made into the payload by eventOfOutboxRow. (The `outbox_events`
 * view builds the same document in SQL with json_build_object and to_char, for people reading the database;
 * building it here costs Postgres none of that and the reader no JSON parse. A test checks that both agree.)
 */
const eventColumns = {
  hotelId: 'o.hotel_id::text',
  sequence: 'o.sequence',
  type: 'o.type',
  createdAt: epochMs('o.created_at'),
  payload: 'o.payload',
  status: 'o.status',
  expiresAt: epochMs('o.expires_at'),
  cancelReason: 'o.cancel_reason',
  payment: 'o.payment',
  version: 'o.reservation_version',
  id: 'r.id',
  rHotelId: 'r.hotel_id',
  roomTypeId: 'r.room_type_id',
  checkIn: 'r.check_in',
  checkOut: 'r.check_out',
  roomCount: 'r.room_count',
  totalAmount: 'r.total_amount',
  currency: 'r.currency',
  guestName: 'r.guest_name',
  guestEmail: 'r.guest_email',
  ownerKind: 'r.owner_kind',
  ownerId: 'r.owner_id',
  rCreatedAt: epochMs('r.created_at'),
} as const;
export const outboxEventColumns = Object.values(eventColumns).join(', ');
/** Each column's place in a row. */
const c = Object.fromEntries(Object.keys(eventColumns).map((k, i) => [k, i])) as { [K in keyof typeof eventColumns]: number };

/** A row of outboxEventColumns, as an array (dates as text and int8 as numbers: engine/store/pg.ts sets the parsers). */
export type OutboxEventRow = unknown[];

const iso = (ms: unknown) => (ms === null || ms === undefined ? null : new Date(ms as number).toISOString());
/**
 * What a stored document has that receivers do not see: the engine's own fields, and the reservation's policy (the
 * outbox_events view shows it; `data` is the Reservation as GET /v1/reservations/:id shows it, without one).
 */
const internal = new Set(['owner', 'fingerprint', 'updatedAt', 'policy']);

/** A row of outboxEventColumns made into an event. */
export function eventOfOutboxRow(row: OutboxEventRow): NotificationEvent {
  const hotelId = row[c.hotelId] as string;
  const sequence = Number(row[c.sequence]);
  const type = row[c.type] as string;
  const e: NotificationEvent = { id: eventIdOf(hotelId, sequence), type, createdAt: iso(row[c.createdAt]) as string, hotelId, sequence, data: {} };
  const payload = row[c.payload] as Record<string, unknown> | null;
  if (payload) {
    // Its own document (availability; reservation rows written before migration 003).
    if (type === 'availability.changed') e.data = availabilityData(payload);
    else if (type.startsWith('reservation.')) {
      for (const k in payload) if (!internal.has(k)) e.data[k] = k === 'payment' ? paymentJson(payload[k] as Payment | null) : payload[k];
      if (payload.owner) e.owner = payload.owner as { kind: string; id: string };
    } else e.data = payload;
    return e;
  }
  // The reservation as the API shows it, in the API's key order, from its columns and the event's own.
  const v = (i: number) => row[i] ?? null;
  e.data = {
    id: v(c.id),
    hotelId: v(c.rHotelId),
    roomTypeId: v(c.roomTypeId),
    checkIn: v(c.checkIn),
    checkOut: v(c.checkOut),
    roomCount: v(c.roomCount),
    status: row[c.status],
    totalAmount: v(c.totalAmount),
    currency: v(c.currency),
    guest: { name: v(c.guestName), email: v(c.guestEmail) },
    createdAt: iso(row[c.rCreatedAt]),
    expiresAt: iso(row[c.expiresAt]),
    cancelReason: v(c.cancelReason),
    payment: paymentJson(v(c.payment) as Payment | null),
    version: row[c.version],
  };
  if (row[c.ownerKind] !== null) e.owner = { kind: row[c.ownerKind] as string, id: row[c.ownerId] as string };
  return e;
}

/** The delivered body: the event without its internal fields, keys in the documented order. */
export function deliveryBody(e: NotificationEvent): string {
  return JSON.stringify({ id: e.id, type: e.type, createdAt: e.createdAt, hotelId: e.hotelId, sequence: e.sequence, data: e.data });
}
