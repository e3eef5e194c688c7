// What a job's replies look like in applied_jobs: reservations by reference (they are in the reservations table
// already), everything else as it was answered. A redelivered job answers the reservations as they are now,
// which is what a repeated request gets anyway.
import type { Reply, Reservation, ReservationStatus } from './core/types.js';

export type StoredReply =
  | Exclude<Reply, { kind: 'reservation' } | { kind: 'batch' }>
  | { ok: true; kind: 'reservationRef'; created: boolean; id: string; status: ReservationStatus }
  | { ok: true; kind: 'batchRef'; replies: StoredReply[] };

export function storedReplyOf(r: Reply): StoredReply {
  if (!r.ok) return r;
  if (r.kind === 'reservation') return { ok: true, kind: 'reservationRef', created: r.created, id: r.reservation.id, status: r.reservation.status };
  if (r.kind === 'batch') return { ok: true, kind: 'batchRef', replies: r.replies.map(storedReplyOf) };
  return r;
}

function refs(r: StoredReply, into: string[]): void {
  if (r.ok && r.kind === 'reservationRef') into.push(r.id);
  if (r.ok && r.kind === 'batchRef') for (const x of r.replies) refs(x, into);
}

/** Full replies again, with the reservations as they are now. */
export async function expandReplies(stored: StoredReply[], load: (ids: string[]) => Promise<Reservation[]>): Promise<Reply[]> {
  const ids: string[] = [];
  for (const r of stored) refs(r, ids);
  const byId = new Map((await load([...new Set(ids)])).map((r) => [r.id, r]));
  const expand = (r: StoredReply): Reply => {
    if (!r.ok) return r;
    if (r.kind === 'reservationRef') {
      const reservation = byId.get(r.id);
      if (!reservation) throw new Error(`assertion: committed reservation ${r.id} is missing`);
      return { ok: true, kind: 'reservation', created: r.created, reservation };
    }
    if (r.kind === 'batchRef') return { ok: true, kind: 'batch', replies: r.replies.map(expand) };
    return r;
  };
  return stored.map(expand);
}
