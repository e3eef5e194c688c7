// Events as receivers see them (API.md, "Notifications and webhooks"): `{id, type, createdAt, hotelId, sequence,
// data}`. The id is made from the hotel and the sequence, so the same event has the same id however often it is
// relayed, delivered or replayed, and nothing has to store it.
import { createHash } from 'node:crypto';
import { formatDay } from '../core/dates.js';
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
  const h = createHash('sha256').update(`${hotelId}:${sequence}`).digest();
  h[6] = (h[6] & 0x0f) | 0x80;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** What the engine keeps of a reservation that receivers do not see. */
const internal = new Set(['owner', 'fingerprint', 'updatedAt']);

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

/**
 * The columns an event is made of, for a query over `outbox o LEFT JOIN reservations r ON r.id = o.reservation_id`:
 * the raw columns, made into the payload by eventOfOutboxRow. (The `outbox_events` view builds the same document in
 * SQL with json_build_object and to_char, for people reading the database; building it here costs Postgres none of
 * that and the reader no JSON parse. A test checks that both agree.)
 */
export const outboxEventColumns = `o.hotel_id::text AS hotel_id, o.sequence, o.type, o.created_at, o.payload,
  o.status, o.expires_at, o.cancel_reason, o.payment, o.reservation_version, o.updated_at,
  r.id AS r_id, r.hotel_id AS r_hotel_id, r.room_type_id, r.check_in, r.check_out, r.room_count, r.total_amount,
  r.currency, r.guest_name, r.guest_email, r.owner_kind, r.owner_id, r.fingerprint, r.created_at AS r_created_at,
  r.policy_free_hours, r.policy_penalty_percent`;

/** A row of outboxEventColumns (dates as text and int8 as numbers: engine/store/pg.ts sets the parsers). */
export interface OutboxEventRow {
  hotel_id: string;
  sequence: string | number;
  type: string;
  created_at: Date;
  payload: Record<string, unknown> | null;
  [column: string]: unknown;
}

const iso = (d: unknown) => (d instanceof Date ? d.toISOString() : d === null || d === undefined ? null : new Date(d as string).toISOString());

/** The stored document of an event: its own JSON (availability, rows written before 003), else its reservation's. */
function payloadOf(row: OutboxEventRow): Record<string, unknown> {
  if (row.payload) return row.payload;
  return {
    id: row.r_id ?? null,
    hotelId: row.r_hotel_id ?? null,
    roomTypeId: row.room_type_id ?? null,
    checkIn: row.check_in ?? null,
    checkOut: row.check_out ?? null,
    roomCount: row.room_count ?? null,
    status: row.status,
    totalAmount: row.total_amount ?? null,
    currency: row.currency ?? null,
    guest: { name: row.guest_name ?? null, email: row.guest_email ?? null },
    owner: { kind: row.owner_kind ?? null, id: row.owner_id ?? null },
    fingerprint: row.fingerprint ?? null,
    createdAt: iso(row.r_created_at),
    expiresAt: iso(row.expires_at),
    cancelReason: row.cancel_reason ?? null,
    payment: row.payment ?? null,
    policy: { freeUntilHoursBefore: row.policy_free_hours ?? null, penaltyPercent: row.policy_penalty_percent ?? null },
    version: row.reservation_version,
    updatedAt: iso(row.updated_at),
  };
}

/** A row of outboxEventColumns made into an event. */
export function eventOfOutboxRow(row: OutboxEventRow): NotificationEvent {
  const sequence = Number(row.sequence);
  const payload = payloadOf(row);
  const e: NotificationEvent = { id: eventIdOf(row.hotel_id, sequence), type: row.type, createdAt: iso(row.created_at) as string, hotelId: row.hotel_id, sequence, data: payload };
  if (row.type === 'availability.changed') e.data = availabilityData(payload);
  if (row.type.startsWith('reservation.')) {
    // The reservation as the API shows it (whatever fields it has, `payment` included), without the internal ones.
    const data: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(payload)) if (!internal.has(k)) data[k] = v;
    e.data = data;
    const owner = payload.owner as { kind: string; id: string } | undefined;
    if (owner) e.owner = owner;
  }
  return e;
}

/** The delivered body: the event without its internal fields, keys in the documented order. */
export function deliveryBody(e: NotificationEvent): string {
  return JSON.stringify({ id: e.id, type: e.type, createdAt: e.createdAt, hotelId: e.hotelId, sequence: e.sequence, data: e.data });
}
