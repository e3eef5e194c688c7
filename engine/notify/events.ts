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

/** An outbox_events row as the relay reads it, made into an event. */
export function eventOfRow(row: { hotel_id: string; sequence: string | number; type: string; created_at: Date | string; payload: Record<string, unknown> }): NotificationEvent {
  const sequence = Number(row.sequence);
  const createdAt = row.created_at instanceof Date ? row.created_at.toISOString() : new Date(row.created_at).toISOString();
  const e: NotificationEvent = { id: eventIdOf(row.hotel_id, sequence), type: row.type, createdAt, hotelId: row.hotel_id, sequence, data: row.payload };
  if (row.type === 'availability.changed') e.data = availabilityData(row.payload);
  if (row.type.startsWith('reservation.')) {
    // The reservation as the API shows it (whatever fields it has, `payment` included), without the internal ones.
    const data: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row.payload)) if (!internal.has(k)) data[k] = v;
    e.data = data;
    const owner = row.payload.owner as { kind: string; id: string } | undefined;
    if (owner) e.owner = owner;
  }
  return e;
}

/** The delivered body: the event without its internal fields, keys in the documented order. */
export function deliveryBody(e: NotificationEvent): string {
  return JSON.stringify({ id: e.id, type: e.type, createdAt: e.createdAt, hotelId: e.hotelId, sequence: e.sequence, data: e.data });
}
