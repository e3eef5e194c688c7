// Events as receivers see them (API.md, "Notifications and webhooks"): `{id, type, createdAt, hotelId, sequence,
// data}`. The id is made from the hotel and the sequence, so the same event has the same id however often it is
// relayed, delivered or replayed, and nothing has to store it.
import { createHash } from 'node:crypto';
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

/** An outbox_events row as the relay reads it, made into an event. */
export function eventOfRow(row: { hotel_id: string; sequence: string | number; type: string; created_at: Date | string; payload: Record<string, unknown> }): NotificationEvent {
  const sequence = Number(row.sequence);
  const createdAt = row.created_at instanceof Date ? row.created_at.toISOString() : new Date(row.created_at).toISOString();
  const e: NotificationEvent = { id: eventIdOf(row.hotel_id, sequence), type: row.type, createdAt, hotelId: row.hotel_id, sequence, data: row.payload };
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
