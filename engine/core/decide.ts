import { nightsMax, pastNightsKept, roomCountMax } from '../limits.js';
import { findAlternatives } from './alternatives.js';
import { evolve } from './evolve.js';
import { formatDay, localDay, parseDay } from './dates.js';
import { availableOver, covers, sellableLimit } from './night-table.js';
import { decideSetPricing, priceOver } from './pricing.js';
import { cancelled, invalidStatus as invalidStatusReply, decideBeginPayment, decideCompletePayment, decideSettleMoney, expire, holdExpires } from './payments.js';
import type {
  Command,
  DecideContext,
  Decision,
  Hotel,
  HotelEvent,
  HotelState,
  Rejection,
  RejectionCode,
  Reservation,
  RoomType,
} from './types.js';

// decide(state, command, ctx) → { reply, events }: deterministic and free of I/O. It never changes `state`;
// evolve() applies the events it returns. A command for a hotel that does not exist gets `state` undefined.

const reject = (code: RejectionCode, message: string, details?: Record<string, unknown>): Decision => ({
  reply: details ? { ok: false, code, message, details } : { ok: false, code, message },
  events: [],
});

const noHotel = () => reject('not_found', 'Hotel not found.');
const noRoomType = () => reject('not_found', 'Room type not found.');

/** A validated, in-horizon range of nights [fromDay, toDay), or the rejection explaining why not. */
function nightRange(
  state: HotelState,
  ctx: DecideContext,
  fromText: string,
  toText: string,
  names: [string, string],
  maxNights: number,
): { fromDay: number; toDay: number; today: number } | Decision {
  const fromDay = parseDay(fromText);
  const toDay = parseDay(toText);
  const today = localDay(ctx.nowMs, state.hotel.timezone);
  const bad = (field: string, why: string) =>
    reject('validation_failed', `${field}: ${why}`, { fields: [{ field, message: why }] });
  if (fromDay === undefined) return bad(names[0], 'must be a date YYYY-MM-DD');
  if (toDay === undefined) return bad(names[1], 'must be a date YYYY-MM-DD');
  if (toDay <= fromDay) return bad(names[1], `must be after ${names[0]}`);
  if (toDay - fromDay > maxNights) return bad(names[1], `covers more than ${maxNights} nights`);
  if (fromDay < today) return bad(names[0], `is before today (${formatDay(today)}) in the hotel's time zone`);
  if (toDay - 1 >= today + ctx.horizonDays) {
    return bad(names[1], `reaches past the inventory horizon (last night ${formatDay(today + ctx.horizonDays - 1)})`);
  }
  return { fromDay, toDay, today };
}

const isDecision = (x: unknown): x is Decision => typeof x === 'object' && x !== null && 'reply' in x;

export function decide(state: HotelState | undefined, cmd: Command, ctx: DecideContext): Decision {
  if (cmd.kind === 'createHotel') {
    if (state) {
      // A repeated create (same server-made id) answers the hotel as it is.
      return { reply: { ok: true, kind: 'hotel', hotel: state.hotel }, events: [] };
    }
    // A repeated create (same Idempotency-Key) of a hotel deleted since: the id cannot be made again.
    if (ctx.wasDeleted?.(cmd.hotelId)) return reject('conflict', 'A hotel with this id existed and was deleted.');
    const hotel: Hotel = {
      id: cmd.hotelId,
      ...cmd.fields,
      createdAt: new Date(ctx.nowMs).toISOString(),
      version: 1,
    };
    return { reply: { ok: true, kind: 'hotel', hotel }, events: [{ type: 'hotel.created', version: 1, hotel }] };
  }
  if (!state) return noHotel();
  const version = state.hotel.version + 1;

  switch (cmd.kind) {
    case 'updateHotel': {
      // Only the fields the patch names change; a field present but undefined is the same as one omitted.
      const patch = Object.fromEntries(Object.entries(cmd.patch).filter(([, v]) => v !== undefined));
      const hotel: Hotel = { ...state.hotel, ...patch, version };
      // A patch that changes nothing is answered with the hotel as it is: no new version, no event (a client's
      // stream would be told to refetch for nothing).
      if (sameHotel(hotel, state.hotel)) return { reply: { ok: true, kind: 'hotel', hotel: state.hotel }, events: [] };
      // Every night from the hotel's (new) today on sells under its overbooking. A new percent applies from today
      // on, and past nights keep the limit they were sold under, until a time zone further west makes one of them
      // today again: that night then gets the current percent too. Either is refused if it would fall below what is
      // reserved.
      const today = localDay(ctx.nowMs, hotel.timezone);
      const timezoneChanged = hotel.timezone !== state.hotel.timezone;
      let limitsFromDay: number | null = null;
      if (hotel.overbookingPercent !== state.hotel.overbookingPercent || (timezoneChanged && today < localDay(ctx.nowMs, state.hotel.timezone))) {
        const below = belowReserved(state, today, state.endDay, (total) => sellableLimit(total, hotel.overbookingPercent));
        if (below) return below;
        limitsFromDay = today;
      }
      // A new time zone moves the hotel's today: readers of its cached availability must get the new one at once.
      const nightsCreated = timezoneChanged ? nightsLacking(state, today - pastNightsKept, today + ctx.horizonDays) : [];
      return {
        reply: { ok: true, kind: 'hotel', hotel },
        events: [{ type: 'hotel.updated', version, hotel, limitsFromDay, ...(timezoneChanged ? { timezoneChanged } : {}), ...(nightsCreated.length > 0 ? { nightsCreated } : {}) }],
      };
    }
    case 'deleteHotel': {
      const today = localDay(ctx.nowMs, state.hotel.timezone);
      for (const rt of state.roomTypes.values()) {
        if (holdsRooms(rt.nights.reserved, Math.max(0, today - rt.nights.firstDay))) {
          return reject('conflict', 'The hotel has pending or paid reservations that have not ended.');
        }
      }
      // Money still owed (a refund, or the void of a charge, that the provider has not confirmed) is settled through
      // the hotel's writer: a deleted hotel has none, so the deletion waits for it. The writer holds every such
      // reservation of the hotel in memory when it decides a deletion.
      for (const r of state.reservations.values()) {
        if (r.moneyDueAt !== null) {
          return reject('conflict', 'The hotel has refunds or voids that the payment provider has not confirmed yet; try again in a few seconds.');
        }
      }
      return { reply: { ok: true, kind: 'deleted' }, events: [{ type: 'hotel.deleted', version, hotelId: state.hotel.id }] };
    }
    case 'createRoomType': {
      const existing = state.roomTypes.get(cmd.roomTypeId);
      if (existing) return { reply: { ok: true, kind: 'roomType', roomType: existing.roomType }, events: [] };
      if (ctx.wasDeleted?.(cmd.roomTypeId)) return reject('conflict', 'A room type with this id existed and was deleted.');
      const roomType = {
        id: cmd.roomTypeId,
        hotelId: state.hotel.id,
        name: cmd.name,
        maxGuests: cmd.maxGuests,
        totalInventory: cmd.totalInventory,
        baseRate: cmd.baseRate,
      };
      // Its nights from the first one a hotel's window keeps (two before today), not from today: a later change of
      // the hotel's time zone to one further west moves its today back by up to two days, onto those nights.
      const today = localDay(ctx.nowMs, state.hotel.timezone);
      return {
        reply: { ok: true, kind: 'roomType', roomType },
        events: [{ type: 'roomType.created', version, roomType, fromDay: Math.max(state.firstDay, today - pastNightsKept), toDay: state.endDay }],
      };
    }
    case 'updateRoomType': {
      const rt = state.roomTypes.get(cmd.roomTypeId);
      if (!rt) return noRoomType();
      const patch = Object.fromEntries(Object.entries(cmd.patch).filter(([, v]) => v !== undefined));
      const roomType = { ...rt.roomType, ...patch };
      // As for a hotel: a patch that changes nothing makes no new version.
      if (roomType.name === rt.roomType.name && roomType.maxGuests === rt.roomType.maxGuests) return { reply: { ok: true, kind: 'roomType', roomType: rt.roomType }, events: [] };
      return { reply: { ok: true, kind: 'roomType', roomType }, events: [{ type: 'roomType.updated', version, roomType }] };
    }
    case 'deleteRoomType': {
      const rt = state.roomTypes.get(cmd.roomTypeId);
      if (!rt) return noRoomType();
      const today = localDay(ctx.nowMs, state.hotel.timezone);
      if (holdsRooms(rt.nights.reserved, Math.max(0, today - rt.nights.firstDay))) {
        return reject('conflict', 'The room type has pending or paid reservations that have not ended.');
      }
      return {
        reply: { ok: true, kind: 'deleted' },
        events: [{ type: 'roomType.deleted', version, hotelId: state.hotel.id, roomTypeId: cmd.roomTypeId }],
      };
    }
    case 'setInventory': {
      const rt = state.roomTypes.get(cmd.roomTypeId);
      if (!rt) return noRoomType();
      const range = nightRange(state, ctx, cmd.from, cmd.to, ['from', 'to'], ctx.horizonDays);
      if (isDecision(range)) return range;
      const limit = sellableLimit(cmd.totalInventory, state.hotel.overbookingPercent);
      const t = rt.nights;
      const short: string[] = [];
      for (let d = range.fromDay; d < range.toDay; d++) {
        if (t.reserved[d - t.firstDay] > limit) short.push(formatDay(d));
      }
      if (short.length > 0) {
        return reject(
          'inventory_below_reserved',
          `On ${short.length} night(s) more rooms are reserved than a total inventory of ${cmd.totalInventory} can sell.`,
          { dates: short.slice(0, 31), sellableLimit: limit },
        );
      }
      return {
        reply: { ok: true, kind: 'ari', updatedNights: range.toDay - range.fromDay, version },
        events: [
          {
            type: 'inventory.set',
            version,
            hotelId: state.hotel.id,
            roomTypeId: cmd.roomTypeId,
            fromDay: range.fromDay,
            toDay: range.toDay,
            totalInventory: cmd.totalInventory,
            sellableLimit: limit,
          },
        ],
      };
    }
    case 'setRates': {
      const rt = state.roomTypes.get(cmd.roomTypeId);
      if (!rt) return noRoomType();
      const range = nightRange(state, ctx, cmd.from, cmd.to, ['from', 'to'], ctx.horizonDays);
      if (isDecision(range)) return range;
      return {
        reply: { ok: true, kind: 'ari', updatedNights: range.toDay - range.fromDay, version },
        events: [
          {
            type: 'rates.set',
            version,
            hotelId: state.hotel.id,
            roomTypeId: cmd.roomTypeId,
            fromDay: range.fromDay,
            toDay: range.toDay,
            amount: cmd.amount,
          },
        ],
      };
    }
    case 'setPricing':
      return decideSetPricing(state, cmd.tiers, version);
    case 'reserve':
      return decideReserve(state, cmd, ctx, version);
    case 'reserveAtomic':
      return decideAtomic(state, cmd.items, ctx);
    case 'cancel':
      return decideCancel(state, cmd, ctx, version);
    case 'beginPayment':
      return decideBeginPayment(state, cmd, ctx, version);
    case 'completePayment':
      return decideCompletePayment(state, cmd, ctx, version);
    case 'settleMoney':
      return decideSettleMoney(state, cmd, ctx, version);
    case 'expireHold': {
      const r = state.reservations.get(cmd.reservationId);
      // Only a pending hold whose time is up, with no payment in flight, expires; anything else (paid meanwhile,
      // canceled, a payment attempt open) is left alone.
      if (!r || !holdExpires(r, ctx)) return { reply: { ok: true, kind: 'deleted' }, events: [] };
      const d = expire(r, ctx, version);
      return { reply: { ok: true, kind: 'reservation', created: false, reservation: d.next }, events: d.events };
    }
  }
}

/**
 * The nights each room type lacks from `fromDay` (the first night of the hotel's window under a new time zone) to
 * its first night. Room types made before 5c60c37 have none before the day they were made, so a hotel moved to a
 * zone further west (today back by up to two days) would have no inventory on its new today. A night without a rate
 * does not exist (types.ts: NightTable), and those come before a room type's first night; nights before the table
 * are not known here, so they are asked for too and the writer keeps any that exist. Also the nights from the end
 * of the window held to `endDay` (the end of the new window), when a zone further east moves it on.
 */
function nightsLacking(state: HotelState, fromDay: number, endDay: number): { roomType: RoomType; fromDay: number; toDay: number }[] {
  const out = [];
  for (const { roomType, nights: t } of state.roomTypes.values()) {
    let first = 0;
    while (first < t.rate.length && t.rate[first] === 0) first++;
    if (fromDay < t.firstDay + first) out.push({ roomType, fromDay, toDay: t.firstDay + first });
    // A zone further east moves the horizon's end on: its new last night (or two) are made in the database now, so
    // that they sell and show at once. Memory holds the hotel's old window until its writer loads it again, which
    // the next command for it does (its today changed).
    if (endDay > state.endDay) out.push({ roomType, fromDay: state.endDay, toDay: endDay });
  }
  return out;
}

/** Whether a hotel after a patch is the hotel before it, every field a patch can change compared. */
function sameHotel(a: Hotel, b: Hotel): boolean {
  return (
    a.name === b.name &&
    a.city === b.city &&
    a.country === b.country &&
    a.timezone === b.timezone &&
    a.currency === b.currency &&
    a.overbookingPercent === b.overbookingPercent &&
    a.cancellationPolicy.freeUntilHoursBefore === b.cancellationPolicy.freeUntilHoursBefore &&
    a.cancellationPolicy.penaltyPercent === b.cancellationPolicy.penaltyPercent
  );
}

function holdsRooms(reserved: Int16Array, fromIndex: number): boolean {
  for (let i = fromIndex; i < reserved.length; i++) if (reserved[i] > 0) return true;
  return false;
}

function belowReserved(
  state: HotelState,
  fromDay: number,
  toDay: number,
  limitOf: (total: number) => number,
): Decision | undefined {
  const short: string[] = [];
  for (const rt of state.roomTypes.values()) {
    const t = rt.nights;
    for (let d = Math.max(fromDay, t.firstDay); d < toDay; d++) {
      const i = d - t.firstDay;
      if (t.reserved[i] > limitOf(t.total[i])) short.push(`${rt.roomType.id}/${formatDay(d)}`);
    }
  }
  if (short.length === 0) return undefined;
  return reject('inventory_below_reserved', 'The new limit would fall below what is reserved.', {
    nights: short.slice(0, 31),
  });
}

function decideReserve(
  state: HotelState,
  cmd: Extract<Command, { kind: 'reserve' }>,
  ctx: DecideContext,
  version: number,
): Decision {
  const existing = state.reservations.get(cmd.reservationId);
  if (existing) {
    if (existing.fingerprint !== cmd.fingerprint) return mismatch();
    return { reply: { ok: true, kind: 'reservation', created: false, reservation: existing }, events: [] };
  }
  const elsewhere = ctx.reservationHotel(cmd.reservationId);
  if (elsewhere !== undefined && elsewhere !== state.hotel.id) return mismatch();

  const rt = state.roomTypes.get(cmd.roomTypeId);
  if (!rt) return noRoomType();
  if (!Number.isInteger(cmd.roomCount) || cmd.roomCount < 1 || cmd.roomCount > roomCountMax) {
    return reject('validation_failed', `roomCount: must be 1..${roomCountMax}`, {
      fields: [{ field: 'roomCount', message: `must be 1..${roomCountMax}` }],
    });
  }
  const range = nightRange(state, ctx, cmd.checkIn, cmd.checkOut, ['checkIn', 'checkOut'], nightsMax);
  if (isDecision(range)) return range;
  const { fromDay, toDay, today } = range;
  const t = rt.nights;
  if (!covers(t, fromDay, toDay)) throw new Error(`assertion: night table does not cover a validated stay`);

  if (availableOver(t, fromDay, toDay) < cmd.roomCount) {
    const alternatives = findAlternatives(state, cmd.roomTypeId, fromDay, toDay, cmd.roomCount, today, today + ctx.horizonDays - 1);
    return reject('sold_out', 'No rooms of this type are left on at least one night of the stay.', { alternatives });
  }
  const now = new Date(ctx.nowMs).toISOString();
  const reservation: Reservation = {
    id: cmd.reservationId,
    hotelId: state.hotel.id,
    roomTypeId: cmd.roomTypeId,
    checkIn: formatDay(fromDay),
    checkOut: formatDay(toDay),
    roomCount: cmd.roomCount,
    status: 'pending',
    // Priced at the occupancy before this reservation, and kept whatever prices do later.
    totalAmount: priceOver(t, fromDay, toDay, cmd.roomCount, state.pricing),
    currency: state.hotel.currency,
    guest: { name: cmd.guest.name, email: cmd.guest.email },
    owner: cmd.owner,
    fingerprint: cmd.fingerprint,
    createdAt: now,
    expiresAt: new Date(ctx.nowMs + ctx.holdTtlSeconds * 1000).toISOString(),
    cancelReason: null,
    payment: null,
    policy: state.hotel.cancellationPolicy,
    money: null,
    moneyDueAt: null,
    version: 1,
    updatedAt: now,
  };
  return {
    reply: { ok: true, kind: 'reservation', created: true, reservation },
    events: [{ type: 'reservation.created', version, reservation }],
  };
}

/**
 * All items held, or none: the items are decided in order on a scratch copy of the hotel; if any is refused, no
 * event survives and every item that would have been held is refused as `sold_out` (an item that repeats an
 * existing reservation keeps answering it).
 */
function decideAtomic(state: HotelState, items: Extract<Command, { kind: 'reserve' }>[], ctx: DecideContext): Decision {
  const trial = cloneHotelState(state);
  const made = new Set<string>();
  const trialCtx: DecideContext = { ...ctx, reservationHotel: (id) => (made.has(id) ? state.hotel.id : ctx.reservationHotel(id)) };
  const replies: Decision['reply'][] = [];
  const events: HotelEvent[] = [];
  let refused = false;
  for (const item of items) {
    const d = decide(trial, item, trialCtx);
    replies.push(d.reply);
    if (!d.reply.ok) refused = true;
    for (const e of d.events) {
      evolve(trial, e, trial.firstDay, trial.endDay);
      if (e.type === 'reservation.created') made.add(e.reservation.id);
      events.push(e);
    }
  }
  if (!refused) return { reply: { ok: true, kind: 'batch', replies }, events };
  const none = replies.map((r) => {
    if (!r.ok && r.code !== 'sold_out') return r;
    if (r.ok && r.kind === 'reservation' && !r.created) return r;
    return reject('sold_out', 'The atomic batch could not be held in full, so none of its items were.').reply;
  });
  return { reply: { ok: true, kind: 'batch', replies: none }, events: [] };
}

/** A deep copy of the parts of a hotel's state a decision can change. */
export function cloneHotelState(s: HotelState): HotelState {
  const roomTypes = new Map<string, HotelState['roomTypes'] extends Map<string, infer V> ? V : never>();
  for (const [id, rt] of s.roomTypes) {
    const t = rt.nights;
    roomTypes.set(id, {
      roomType: rt.roomType,
      nights: { firstDay: t.firstDay, total: t.total.slice(), limit: t.limit.slice(), reserved: t.reserved.slice(), rate: t.rate.slice() },
    });
  }
  return { hotel: s.hotel, firstDay: s.firstDay, endDay: s.endDay, roomTypes, reservations: new Map(s.reservations), pricing: s.pricing };
}

function mismatch(): Decision {
  return reject(
    'idempotency_mismatch',
    'This reservationId was already used with a different body or by another principal.',
  );
}

function decideCancel(
  state: HotelState,
  cmd: Extract<Command, { kind: 'cancel' }>,
  ctx: DecideContext,
  version: number,
): Decision {
  const r = state.reservations.get(cmd.reservationId);
  if (!r) return reject('not_found', 'Reservation not found.');
  if (r.status === 'canceled' || r.status === 'refunded') {
    return { reply: { ok: true, kind: 'reservation', created: false, reservation: r }, events: [] };
  }
  if (r.status === 'rejected') return invalidStatus(r, 'a rejected reservation cannot be canceled');
  const today = localDay(ctx.nowMs, state.hotel.timezone);
  const checkInDay = parseDay(r.checkIn) as number;
  if (today >= checkInDay) return invalidStatus(r, 'the stay has begun');
  const next = cancelled(r, state.hotel.timezone, ctx);
  return {
    reply: { ok: true, kind: 'reservation', created: false, reservation: next },
    events: [{ type: 'reservation.status', version, reservation: next, released: r.roomCount }],
  };
}

function invalidStatus(r: Reservation, why: string): Decision {
  return { reply: invalidStatusReply(r, why), events: [] };
}

export type { Rejection };
