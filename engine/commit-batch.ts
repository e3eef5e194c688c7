// A round's commit, built from its decisions: the events, the final values of every night they touched, the hotels'
// versions, each reservation's final representation, and every job's replies.
import { parseDay } from './core/dates.js';
import { nightPrice } from './core/pricing.js';
import type { HotelEvent, HotelState, Reply, Reservation } from './core/types.js';
import type { CommandReply, ShardJob } from './jobs.js';
import type { AuditRow, AvailabilityNotice, CommitBatch, NightWrite } from './store/shard-store.js';
import { storedReplyOf } from './stored-replies.js';

/** Replies as stored in applied_jobs (reservations by reference). */
export function storedRepliesOf(replies: CommandReply[]) {
  return replies.map((r) => ({ requestId: r.requestId, reply: storedReplyOf(r.reply as Reply) }));
}

/** The commit of a job: its events, the final values of every night they touched, versions, reservations. */
export function batchOf(
shard: number,
epoch: number,
jobs: { job: ShardJob; replies: CommandReply[] }[],
events: HotelEvent[],
stateOf: (hotelId: string) => HotelState | undefined,
notify?: { nextSequence(hotelId: string): number; audit: AuditRow[] },
): CommitBatch {
  // Each reservation event gets its hotel's next sequence, in decision order; then each hotel whose nights changed
  // gets one availability.changed after them (API.md: `sequence` grows by one with every event of the hotel).
  const eventSequences: number[] | undefined = notify ? [] : undefined;
  const nights = new Map<string, { roomTypeId: string; hotelId: string; day: number; delta: number }>();
  const touch = (hotelId: string, roomTypeId: string, from: number, to: number, delta: number) => {
    for (let d = from; d < to; d++) {
      const k = `${roomTypeId}|${d}`;
      const n = nights.get(k);
      if (n) n.delta += delta;
      else nights.set(k, { roomTypeId, hotelId, day: d, delta });
    }
  };
  const versions = new Map<string, number>();
  const reservations = new Map<string, { reservation: Reservation; created: boolean }>();
  for (const e of events) {
    if (eventSequences && notify) {
      eventSequences.push(e.type === 'reservation.created' || e.type === 'reservation.status' ? notify.nextSequence(e.reservation.hotelId) : 0);
    }
    switch (e.type) {
      case 'hotel.created':
        versions.set(e.hotel.id, e.version);
        break;
      case 'hotel.updated': {
        versions.set(e.hotel.id, e.version);
        const state = stateOf(e.hotel.id);
        if (e.limitsFromDay !== null && state) {
          for (const id of state.roomTypes.keys()) touch(e.hotel.id, id, e.limitsFromDay, state.endDay, 0);
        }
        break;
      }
      case 'hotel.deleted':
      case 'roomType.deleted':
        versions.set(e.hotelId, e.version);
        break;
      case 'roomType.created':
      case 'roomType.updated':
        versions.set(e.roomType.hotelId, e.version);
        break;
      case 'pricing.set':
        versions.set(e.hotelId, e.version);
        break;
      case 'inventory.set':
      case 'rates.set':
        versions.set(e.hotelId, e.version);
        touch(e.hotelId, e.roomTypeId, e.fromDay, e.toDay, 0);
        break;
      case 'reservation.created':
      case 'reservation.status':
      case 'reservation.money': {
        const r = e.reservation;
        versions.set(r.hotelId, e.version);
        const delta = e.type === 'reservation.created' ? r.roomCount : e.type === 'reservation.status' ? -e.released : 0;
        if (delta !== 0) touch(r.hotelId, r.roomTypeId, parseDay(r.checkIn) as number, parseDay(r.checkOut) as number, delta);
        const prior = reservations.get(r.id);
        reservations.set(r.id, { reservation: r, created: e.type === 'reservation.created' || !!prior?.created });
        break;
      }
    }
  }
  const writes: NightWrite[] = [];
  for (const n of nights.values()) {
    const t = stateOf(n.hotelId)?.roomTypes.get(n.roomTypeId)?.nights;
    const i = t ? n.day - t.firstDay : -1;
    const inTable = t !== undefined && i >= 0 && i < t.total.length;
    writes.push({
      hotelId: n.hotelId,
      roomTypeId: n.roomTypeId,
      day: n.day,
      delta: n.delta,
      total: inTable ? t.total[i] : null,
      limit: inTable ? t.limit[i] : null,
      rate: inTable ? t.rate[i] : null,
    });
  }
  const batch: CommitBatch = {
    shard,
    epoch,
    jobs: jobs.map((a) => ({ jobKey: a.job.jobKey, replies: storedRepliesOf(a.replies) })),
    events,
    nights: writes,
    versions,
    reservations,
  };
  if (notify && eventSequences) {
    batch.eventSequences = eventSequences;
    batch.availability = availabilityNotices(writes, versions, stateOf, notify.nextSequence);
    batch.audit = notify.audit;
  }
  return batch;
}

/**
 * One `availability.changed` per hotel whose nights the round changed: `{roomTypeId, changes}` where `roomTypeId`
 * names the room type when all changes are of one (else null) and each change is a night as the availability
 * stream shows it (`rate` is the price of one more room at that night's occupancy).
 */
function availabilityNotices(
  writes: NightWrite[],
  versions: Map<string, number>,
  stateOf: (hotelId: string) => HotelState | undefined,
  nextSequence: (hotelId: string) => number,
): AvailabilityNotice[] {
  const byHotel = new Map<string, NightWrite[]>();
  for (const n of writes) {
    const list = byHotel.get(n.hotelId);
    if (list) list.push(n);
    else byHotel.set(n.hotelId, [n]);
  }
  const out: AvailabilityNotice[] = [];
  for (const [hotelId, nights] of byHotel) {
    const state = stateOf(hotelId);
    if (!state) continue;
    const tiers = state.pricing;
    // Stored compactly (the public shape is 4-5 times longer, and this row is written by every commit): the room type
    // ids once, then six numbers per night: room type index, day number, total, reserved, available, price. The relay
    // gives receivers the public shape (engine/notify/events.ts).
    const types: string[] = [];
    const index = new Map<string, number>();
    const cells: number[] = [];
    for (const n of nights) {
      const t = state.roomTypes.get(n.roomTypeId)?.nights;
      const i = t ? n.day - t.firstDay : -1;
      if (!t || i < 0 || i >= t.total.length) continue;
      let k = index.get(n.roomTypeId);
      if (k === undefined) {
        k = types.length;
        index.set(n.roomTypeId, k);
        types.push(n.roomTypeId);
      }
      const total = t.total[i];
      const reserved = t.reserved[i];
      cells.push(k, n.day, total, reserved, Math.max(0, t.limit[i] - reserved), tiers.length === 0 ? t.rate[i] : nightPrice(t.rate[i], reserved, total, tiers));
    }
    if (cells.length === 0) continue;
    out.push({
      hotelId,
      sequence: nextSequence(hotelId),
      version: versions.get(hotelId) ?? state.hotel.version,
      payload: `{"t":["${types.join('","')}"],"n":[${cells.join(',')}]}`,
    });
  }
  return out;
}
