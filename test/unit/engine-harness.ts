// A small driver around the pure engine core for unit tests: it holds the states of several hotels (as one shard
// owner would), decides a command against the right hotel, applies the events with evolve(), and offers builders
// for commands and plain snapshots of a state for comparisons. It is not a test file itself (no `.test.` in the
// name), so mocha never runs it on its own.

import { pastNightsKept } from '../../engine/limits.js';
import {
  decide,
  evolve,
  formatDay,
  parseDay,
  type Command,
  type DecideContext,
  type Decision,
  type HotelFields,
  type HotelState,
  type Owner,
  type PricingTier,
} from '../../engine/core/index.js';

/** The fixed instant every test starts from: 2027-01-10 12:00 UTC. */
export const NOW_MS = Date.UTC(2027, 0, 10, 12);
export const TODAY = day('2027-01-10');
export const HORIZON_DAYS = 730;
export const HOLD_TTL_SECONDS = 900;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** The day number of a date that must be valid (throws otherwise, so that a typo in a test is loud). */
export function day(text: string): number {
  const d = parseDay(text);
  if (d === undefined) throw new Error(`test bug: ${text} is not a date`);
  return d;
}

/** The date `n` days after 2027-01-10 (TODAY). */
export const plus = (n: number): string => formatDay(TODAY + n);

export interface WorldOptions {
  horizonDays?: number;
  holdTtlSeconds?: number;
  /** Night tables cover [firstDay, endDay). */
  firstDay?: number;
  endDay?: number;
}

/** Several hotels' states, driven the way a shard owner drives them: decide, then evolve each event in order. */
export class World {
  readonly hotels = new Map<string, HotelState>();
  readonly horizonDays: number;
  readonly holdTtlSeconds: number;
  readonly firstDay: number;
  readonly endDay: number;
  nowMs = NOW_MS;

  constructor(o: WorldOptions = {}) {
    this.horizonDays = o.horizonDays ?? HORIZON_DAYS;
    this.holdTtlSeconds = o.holdTtlSeconds ?? HOLD_TTL_SECONDS;
    this.firstDay = o.firstDay ?? TODAY - pastNightsKept;
    // Slack past the horizon so that tests may move the clock forward without reloading the tables.
    this.endDay = o.endDay ?? TODAY + this.horizonDays + 60;
  }

  /** The hotel that holds a reservation id, if any (ids are unique across the shard). */
  reservationHotel = (id: string): string | undefined => {
    for (const [hotelId, s] of this.hotels) if (s.reservations.has(id)) return hotelId;
    return undefined;
  };

  ctx(over: Partial<DecideContext> = {}): DecideContext {
    return {
      nowMs: this.nowMs,
      horizonDays: this.horizonDays,
      holdTtlSeconds: this.holdTtlSeconds,
      reservationHotel: this.reservationHotel,
      ...over,
    };
  }

  /** Decide without applying. */
  decide(cmd: Command, over: Partial<DecideContext> = {}): Decision {
    return decide(this.hotels.get(cmd.hotelId), cmd, this.ctx(over));
  }

  /** Apply a decision's events to the hotel of `hotelId`, in order. */
  apply(hotelId: string, d: Decision): void {
    let s = this.hotels.get(hotelId);
    for (const e of d.events) s = evolve(s, e, this.firstDay, this.endDay);
    if (s) this.hotels.set(hotelId, s);
    else this.hotels.delete(hotelId);
  }

  run(cmd: Command, over: Partial<DecideContext> = {}): Decision {
    const d = this.decide(cmd, over);
    this.apply(cmd.hotelId, d);
    return d;
  }

  /** Run a command that must be accepted; throws with the rejection otherwise. */
  ok(cmd: Command, over: Partial<DecideContext> = {}): Decision {
    const d = this.run(cmd, over);
    if (!d.reply.ok) throw new Error(`setup command ${cmd.kind} was rejected: ${d.reply.code} ${d.reply.message}`);
    return d;
  }

  state(hotelId: string): HotelState {
    const s = this.hotels.get(hotelId);
    if (!s) throw new Error(`hotel ${hotelId} is not loaded`);
    return s;
  }

  /** One night of a room type, as plain numbers. */
  night(hotelId: string, roomTypeId: string, date: string): NightView {
    const rt = this.state(hotelId).roomTypes.get(roomTypeId);
    if (!rt) throw new Error(`room type ${roomTypeId} does not exist`);
    const t = rt.nights;
    const i = day(date) - t.firstDay;
    if (i < 0 || i >= t.total.length) throw new Error(`night ${date} is outside the table`);
    return { total: t.total[i], limit: t.limit[i], reserved: t.reserved[i], rate: t.rate[i] };
  }
}

export interface NightView {
  total: number;
  limit: number;
  reserved: number;
  rate: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Command builders with defaults, so that a table row names only what it is about.

export const defaultHotelFields: HotelFields = {
  name: 'Test Hotel',
  city: 'Lisbon',
  country: 'PT',
  timezone: 'UTC',
  currency: 'EUR',
  overbookingPercent: 10,
  cancellationPolicy: { freeUntilHoursBefore: 0, penaltyPercent: 0 },
};

export const createHotel = (hotelId: string, fields: Partial<HotelFields> = {}): Command => ({
  kind: 'createHotel',
  hotelId,
  fields: { ...defaultHotelFields, ...fields },
});

export const createRoomType = (
  hotelId: string,
  roomTypeId: string,
  totalInventory: number,
  baseRate = 10_000,
  name = `Room ${roomTypeId}`,
): Command => ({ kind: 'createRoomType', hotelId, roomTypeId, name, maxGuests: 2, totalInventory, baseRate });

export const guestOwner: Owner = { kind: 'guest', id: 'user-1' };

export interface ReserveArgs {
  hotelId: string;
  reservationId: string;
  roomTypeId: string;
  checkIn: string;
  checkOut: string;
  roomCount?: number;
  owner?: Owner;
  fingerprint?: string;
}

/** A reserve command; its fingerprint defaults to a digest of its body and owner, as the API would make it. */
export function reserve(a: ReserveArgs): Extract<Command, { kind: 'reserve' }> {
  const roomCount = a.roomCount ?? 1;
  const owner = a.owner ?? guestOwner;
  const fingerprint =
    a.fingerprint ?? [a.hotelId, a.roomTypeId, a.checkIn, a.checkOut, roomCount, owner.kind, owner.id].join('|');
  return {
    kind: 'reserve',
    hotelId: a.hotelId,
    reservationId: a.reservationId,
    roomTypeId: a.roomTypeId,
    checkIn: a.checkIn,
    checkOut: a.checkOut,
    roomCount,
    guest: { name: 'Ada Lovelace', email: 'ada@example.com' },
    owner,
    fingerprint,
  };
}

export const cancel = (hotelId: string, reservationId: string): Command => ({ kind: 'cancel', hotelId, reservationId });

export const setInventory = (hotelId: string, roomTypeId: string, from: string, to: string, totalInventory: number): Command => ({
  kind: 'setInventory',
  hotelId,
  roomTypeId,
  from,
  to,
  totalInventory,
});

export const setRates = (hotelId: string, roomTypeId: string, from: string, to: string, amount: number): Command => ({
  kind: 'setRates',
  hotelId,
  roomTypeId,
  from,
  to,
  amount,
});

/** Tiers as [occupancyPercent, multiplierPercent] pairs. */
export const setPricing = (hotelId: string, tiers: [number, number][]): Command => ({
  kind: 'setPricing',
  hotelId,
  tiers: tiers.map(([occupancyPercent, multiplierPercent]): PricingTier => ({ occupancyPercent, multiplierPercent })),
});

export const updateHotel = (hotelId: string, patch: Partial<HotelFields>): Command => ({ kind: 'updateHotel', hotelId, patch });
export const deleteHotel = (hotelId: string): Command => ({ kind: 'deleteHotel', hotelId });
export const deleteRoomType = (hotelId: string, roomTypeId: string): Command => ({ kind: 'deleteRoomType', hotelId, roomTypeId });

// ---------------------------------------------------------------------------------------------------------------
// Snapshots: a state as plain JSON-able data, to check that decide() changed nothing and that a rejection left
// everything as it was.

export interface StateSnapshot {
  hotel: unknown;
  firstDay: number;
  endDay: number;
  roomTypes: Array<[string, { roomType: unknown; total: number[]; limit: number[]; reserved: number[]; rate: number[] }]>;
  reservations: Array<[string, unknown]>;
  pricing: unknown;
}

export function snapshot(s: HotelState | undefined): StateSnapshot | undefined {
  if (!s) return undefined;
  return JSON.parse(
    JSON.stringify({
      hotel: s.hotel,
      firstDay: s.firstDay,
      endDay: s.endDay,
      roomTypes: [...s.roomTypes].map(([id, rt]) => [
        id,
        {
          roomType: rt.roomType,
          total: Array.from(rt.nights.total),
          limit: Array.from(rt.nights.limit),
          reserved: Array.from(rt.nights.reserved),
          rate: Array.from(rt.nights.rate),
        },
      ]),
      reservations: [...s.reservations],
      pricing: s.pricing,
    }),
  ) as StateSnapshot;
}
