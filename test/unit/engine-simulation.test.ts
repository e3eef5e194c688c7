// A seeded random simulation of the engine core against an independent model.
//
// Several hotels (in different time zones) with a few small room types each take thousands of random commands:
// reservations (often sold out, sometimes repeating an earlier reservationId with the same or another body),
// cancellations of ids that exist or not, inventory pushes (sometimes below what is reserved), rate pushes,
// occupancy pricing tiers (sometimes invalid), overbooking changes, room type deletions and re-creations, time zone
// changes (one hotel going back and forth between UTC+14 and UTC-11), while the clock moves forward now and then. Prices (totalAmount, alternatives) follow the model's own reading of API.md's
// "Prices follow occupancy".
//
// After every step the test checks the engine's own invariant (assertReservedMatchesReservations) and, on its
// own: no night is over its limit; the limit of every night from today on is floor(total × (100 + ob) / 100);
// every created reservation exists exactly once; a rejection carries no events; the hotel version counts exactly
// the commands that produced events; decide() left its input untouched; and the engine's reply and nights agree
// with a model that keeps its own books.
//
// The seed is in the test name. Reproduce or explore with SIM_SEED=<n>[,<n>…] and SIM_STEPS=<n>.

import { expect } from 'chai';
import { pastNightsKept } from '../../engine/limits.js';
import {
  assertReservedMatchesReservations,
  formatDay,
  localDay,
  parseDay,
  type Command,
  type Decision,
  type HotelState,
  type Owner,
  type Reservation,
} from '../../engine/core/index.js';
import {
  HOUR_MS,
  NOW_MS,
  TODAY,
  World,
  cancel,
  createHotel,
  createRoomType,
  deleteRoomType,
  reserve,
  setInventory,
  setPricing,
  setRates,
  updateHotel,
  type ReserveArgs,
} from './engine-harness.js';
import { mulberry32 } from '../../engine/core/random.js';


const horizonDays = 60;
const windowNights = 40;
const holdTtlSeconds = 900;
const timeAdvanceMaxMs = 30 * 24 * HOUR_MS;
const firstDay = TODAY - pastNightsKept - 1;
const endDay = TODAY + horizonDays + 40; // room for 30 days of clock movement (plus a day of time zone)

/**
 * The hotel that moves between the zones furthest apart (UTC+14 and UTC-11, 25 hours), and changes its overbooking
 * too: a night that is past in one zone when the overbooking changes and today in the next must sell at the new
 * percent once it is today again.
 */
const movingHotel = 'h-3';
const kiritimati = 'Pacific/Kiritimati';
const pagoPago = 'Pacific/Pago_Pago';
const sellable = (total: number, ob: number) => Math.floor((total * (100 + ob)) / 100);

// ---------------------------------------------------------------------------------------------------------------
// The model: the same domain, kept with plain arrays and maps, written from API.md rather than from the engine.

interface ModelRoomType {
  totalInventory: number;
  baseRate: number;
  /** The first night it has (it has every one after it). */
  firstNight: number;
  total: number[];
  limit: number[];
  reserved: number[];
  rate: number[];
}

interface ModelReservation {
  id: string;
  roomTypeId: string;
  from: number;
  to: number;
  roomCount: number;
  status: 'pending' | 'canceled';
  fingerprint: string;
  totalAmount: number;
}

interface ModelHotel {
  id: string;
  timezone: string;
  ob: number;
  name: string;
  /** Commands that produced events (createHotel included): what hotel.version must be. */
  changes: number;
  roomTypes: Map<string, ModelRoomType>;
  reservations: Map<string, ModelReservation>;
  /** Occupancy pricing tiers as [occupancyPercent, multiplierPercent], in the order last set. */
  tiers: [number, number][];
}

/**
 * API.md: the price of one more room is round(rate × m / 100), halves up, m the multiplier of the tier with the
 * highest threshold ≤ 100 × reserved / total (100 without one, or when total is 0). Written with floats on purpose,
 * unlike the engine's integers (a multiple of 1/100 is never within rounding error of a half).
 */
function modelPrice(h: ModelHotel, rt: ModelRoomType, d: number): number {
  const rate = rt.rate[idx(d)];
  const total = rt.total[idx(d)];
  if (total === 0) return rate;
  const occupancy = (100 * rt.reserved[idx(d)]) / total;
  let best = -1;
  let m = 100;
  for (const [o, mult] of h.tiers) {
    if (o <= occupancy && o > best) {
      best = o;
      m = mult;
    }
  }
  return Math.round((rate * m) / 100);
}

interface ModelAlternative {
  roomTypeId: string;
  checkIn: string;
  checkOut: string;
  available: number;
  totalPrice: number;
}

type Expected =
  | { ok: false; code: string; alternatives?: ModelAlternative[] }
  | { ok: true; events: boolean; created?: boolean; totalAmount?: number; apply?: () => void };

const n = endDay - firstDay;
const idx = (d: number) => d - firstDay;

class Simulation {
  readonly rng: () => number;
  readonly world = new World({ horizonDays, holdTtlSeconds, firstDay, endDay });
  readonly model = new Map<string, ModelHotel>();
  /** Every reserve body sent, by reservation id (the last one), so that an id can be sent again. */
  readonly bodies = new Map<string, ReserveArgs>();
  readonly usedIds: string[] = [];
  readonly createdIds: string[] = [];
  readonly stats = new Map<string, number>();
  step = 0;
  nextId = 0;
  advancedMs = 0;

  constructor(readonly seed: number) {
    this.rng = mulberry32(seed);
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rng() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rng() * xs.length)];
  }
  chance(p: number): boolean {
    return this.rng() < p;
  }
  count(key: string): void {
    this.stats.set(key, (this.stats.get(key) ?? 0) + 1);
  }

  today(h: ModelHotel): number {
    return localDay(this.world.nowMs, h.timezone);
  }

  lastCommand: Command | undefined;

  fail(message: string, cmd: Command | undefined = this.lastCommand, d?: Decision): never {
    throw new Error(
      `seed ${this.seed} step ${this.step} (now ${new Date(this.world.nowMs).toISOString()}): ${message}` +
        (cmd ? `\n  command: ${JSON.stringify(cmd)}` : '') +
        (d ? `\n  reply: ${JSON.stringify(d.reply)}` : ''),
    );
  }

  // -------------------------------------------------------------------------------------------------------------
  // What the model expects of a command.

  range(h: ModelHotel, fromText: string, toText: string, maxNights: number): { from: number; to: number } | undefined {
    const from = parseDay(fromText);
    const to = parseDay(toText);
    const today = this.today(h);
    if (from === undefined || to === undefined) return undefined;
    if (to <= from || to - from > maxNights || from < today || to - 1 > today + horizonDays - 1) return undefined;
    return { from, to };
  }

  expectOf(cmd: Command): Expected {
    const h = this.model.get(cmd.hotelId);
    if (cmd.kind === 'createHotel') {
      if (h) return { ok: true, events: false };
      return {
        ok: true,
        events: true,
        apply: () =>
          this.model.set(cmd.hotelId, {
            id: cmd.hotelId,
            timezone: cmd.fields.timezone,
            ob: cmd.fields.overbookingPercent,
            name: cmd.fields.name,
            changes: 0,
            roomTypes: new Map(),
            reservations: new Map(),
            tiers: [],
          }),
      };
    }
    if (!h) return { ok: false, code: 'not_found' };
    const today = this.today(h);
    switch (cmd.kind) {
      case 'createRoomType': {
        if (h.roomTypes.has(cmd.roomTypeId)) return { ok: true, events: false };
        return {
          ok: true,
          events: true,
          apply: () => {
            const rt: ModelRoomType = {
              totalInventory: cmd.totalInventory,
              baseRate: cmd.baseRate,
              firstNight: today - pastNightsKept,
              total: new Array(n).fill(0),
              limit: new Array(n).fill(0),
              reserved: new Array(n).fill(0),
              rate: new Array(n).fill(0),
            };
            // From two nights before today (a later time zone further west moves today back onto them).
            for (let d = today - pastNightsKept; d < endDay; d++) {
              rt.total[idx(d)] = cmd.totalInventory;
              rt.limit[idx(d)] = sellable(cmd.totalInventory, h.ob);
              rt.rate[idx(d)] = cmd.baseRate;
            }
            h.roomTypes.set(cmd.roomTypeId, rt);
          },
        };
      }
      case 'deleteRoomType': {
        const rt = h.roomTypes.get(cmd.roomTypeId);
        if (!rt) return { ok: false, code: 'not_found' };
        // Live (pending) reservations with a night from today on block it.
        for (const r of h.reservations.values()) {
          if (r.roomTypeId === cmd.roomTypeId && r.status === 'pending' && r.to > today) return { ok: false, code: 'conflict' };
        }
        return { ok: true, events: true, apply: () => h.roomTypes.delete(cmd.roomTypeId) };
      }
      case 'updateHotel': {
        const ob = cmd.patch.overbookingPercent;
        const tzPatch = cmd.patch.timezone;
        // Every night from the (new) today on sells at the hotel's percent: a new percent applies from today, and a
        // zone further west brings past nights back to today, which then take the current percent as well.
        const newToday = tzPatch !== undefined ? localDay(this.world.nowMs, tzPatch) : today;
        const limitsFrom = (ob !== undefined && ob !== h.ob) || newToday < today ? newToday : undefined;
        const newOb = ob ?? h.ob;
        if (limitsFrom !== undefined) {
          for (const rt of h.roomTypes.values()) {
            for (let d = Math.max(limitsFrom, rt.firstNight); d < endDay; d++) {
              if (rt.reserved[idx(d)] > sellable(rt.total[idx(d)], newOb)) return { ok: false, code: 'inventory_below_reserved' };
            }
          }
        }
        // A patch that changes nothing makes no new version.
        const changes = (cmd.patch.name !== undefined && cmd.patch.name !== h.name) || (ob !== undefined && ob !== h.ob) || (tzPatch !== undefined && tzPatch !== h.timezone);
        return {
          ok: true,
          events: changes,
          apply: () => {
            if (cmd.patch.name !== undefined) h.name = cmd.patch.name;
            h.ob = newOb;
            if (limitsFrom !== undefined) {
              for (const rt of h.roomTypes.values()) {
                for (let d = Math.max(limitsFrom, rt.firstNight); d < endDay; d++) rt.limit[idx(d)] = sellable(rt.total[idx(d)], newOb);
              }
            }
            // A new time zone: every room type has its nights from two before the new today on, those it lacked
            // made from its defaults (a zone further west moves today back, onto nights it may not have had).
            const tz = cmd.patch.timezone;
            if (tz !== undefined && tz !== h.timezone) {
              h.timezone = tz;
              const from = localDay(this.world.nowMs, tz) - pastNightsKept;
              for (const rt of h.roomTypes.values()) {
                for (let d = from; d < rt.firstNight; d++) {
                  rt.total[idx(d)] = rt.totalInventory;
                  rt.limit[idx(d)] = sellable(rt.totalInventory, h.ob);
                  rt.rate[idx(d)] = rt.baseRate;
                }
                rt.firstNight = Math.min(rt.firstNight, from);
              }
            }
          },
        };
      }
      case 'setInventory': {
        const rt = h.roomTypes.get(cmd.roomTypeId);
        if (!rt) return { ok: false, code: 'not_found' };
        const r = this.range(h, cmd.from, cmd.to, horizonDays);
        if (!r) return { ok: false, code: 'validation_failed' };
        const limit = sellable(cmd.totalInventory, h.ob);
        for (let d = r.from; d < r.to; d++) if (rt.reserved[idx(d)] > limit) return { ok: false, code: 'inventory_below_reserved' };
        return {
          ok: true,
          events: true,
          apply: () => {
            for (let d = r.from; d < r.to; d++) {
              rt.total[idx(d)] = cmd.totalInventory;
              rt.limit[idx(d)] = limit;
            }
          },
        };
      }
      case 'setRates': {
        const rt = h.roomTypes.get(cmd.roomTypeId);
        if (!rt) return { ok: false, code: 'not_found' };
        const r = this.range(h, cmd.from, cmd.to, horizonDays);
        if (!r) return { ok: false, code: 'validation_failed' };
        return {
          ok: true,
          events: true,
          apply: () => {
            for (let d = r.from; d < r.to; d++) rt.rate[idx(d)] = cmd.amount;
          },
        };
      }
      case 'setPricing': {
        const ts = cmd.tiers.map((t): [number, number] => [t.occupancyPercent, t.multiplierPercent]);
        const thresholds = ts.map(([o]) => o);
        const valid =
          ts.length <= 10 &&
          new Set(thresholds).size === ts.length &&
          ts.every(([o, m]) => Number.isInteger(o) && o >= 0 && o <= 100 && Number.isInteger(m) && m >= 50 && m <= 500);
        if (!valid) return { ok: false, code: 'validation_failed' };
        const key = (x: [number, number][]) => JSON.stringify([...x].sort((a, b) => a[0] - b[0]));
        if (key(ts) === key(h.tiers)) return { ok: true, events: false };
        return { ok: true, events: true, apply: () => (h.tiers = ts) };
      }
      case 'reserve': {
        const existing = h.reservations.get(cmd.reservationId);
        if (existing) {
          if (existing.fingerprint !== cmd.fingerprint) return { ok: false, code: 'idempotency_mismatch' };
          return { ok: true, events: false, created: false };
        }
        for (const other of this.model.values()) {
          if (other !== h && other.reservations.has(cmd.reservationId)) return { ok: false, code: 'idempotency_mismatch' };
        }
        const rt = h.roomTypes.get(cmd.roomTypeId);
        if (!rt) return { ok: false, code: 'not_found' };
        if (!Number.isInteger(cmd.roomCount) || cmd.roomCount < 1 || cmd.roomCount > 10) return { ok: false, code: 'validation_failed' };
        const r = this.range(h, cmd.checkIn, cmd.checkOut, 30);
        if (!r) return { ok: false, code: 'validation_failed' };
        let available = Infinity;
        let price = 0;
        for (let d = r.from; d < r.to; d++) {
          available = Math.min(available, Math.max(0, rt.limit[idx(d)] - rt.reserved[idx(d)]));
          price += modelPrice(h, rt, d);
        }
        if (available < cmd.roomCount) return { ok: false, code: 'sold_out', alternatives: this.alternatives(h, cmd.roomTypeId, r.from, r.to, cmd.roomCount) };
        const totalAmount = price * cmd.roomCount;
        return {
          ok: true,
          events: true,
          created: true,
          totalAmount,
          apply: () => {
            h.reservations.set(cmd.reservationId, {
              id: cmd.reservationId,
              roomTypeId: cmd.roomTypeId,
              from: r.from,
              to: r.to,
              roomCount: cmd.roomCount,
              status: 'pending',
              fingerprint: cmd.fingerprint,
              totalAmount,
            });
            for (let d = r.from; d < r.to; d++) rt.reserved[idx(d)] += cmd.roomCount;
          },
        };
      }
      case 'cancel': {
        const res = h.reservations.get(cmd.reservationId);
        if (!res) return { ok: false, code: 'not_found' };
        if (res.status === 'canceled') return { ok: true, events: false, created: false };
        if (today >= res.from) return { ok: false, code: 'invalid_status' };
        return {
          ok: true,
          events: true,
          created: false,
          apply: () => {
            res.status = 'canceled';
            const rt = h.roomTypes.get(res.roomTypeId);
            if (rt) for (let d = res.from; d < res.to; d++) rt.reserved[idx(d)] -= res.roomCount;
          },
        };
      }
      default:
        return this.fail(`the simulation does not model ${cmd.kind}`);
    }
  }

  /**
   * API.md: up to 5 bookable options, other room types for the same dates (in the order they were created), then
   * the same room type shifted by +1, -1, +2, -2, +3, -3 days, never starting before today nor past the horizon.
   */
  alternatives(h: ModelHotel, roomTypeId: string, from: number, to: number, rooms: number): ModelAlternative[] {
    const today = this.today(h);
    const candidates: Array<[string, number]> = [];
    for (const id of h.roomTypes.keys()) if (id !== roomTypeId) candidates.push([id, 0]);
    for (const shift of [1, -1, 2, -2, 3, -3]) candidates.push([roomTypeId, shift]);
    const out: ModelAlternative[] = [];
    for (const [id, shift] of candidates) {
      const a = from + shift;
      const b = to + shift;
      if (a < today || b - 1 > today + horizonDays - 1) continue;
      const rt = h.roomTypes.get(id)!;
      let available = Infinity;
      let price = 0;
      for (let d = a; d < b; d++) {
        available = Math.min(available, Math.max(0, rt.limit[idx(d)] - rt.reserved[idx(d)]));
        price += modelPrice(h, rt, d);
      }
      if (available < rooms) continue;
      out.push({ roomTypeId: id, checkIn: formatDay(a), checkOut: formatDay(b), available, totalPrice: price * rooms });
      if (out.length === 5) break;
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------------------------
  // One command through the engine, with every check.

  exec(cmd: Command): Decision {
    this.lastCommand = cmd;
    const expected = this.expectOf(cmd);
    const hotelId = cmd.hotelId;
    const state = this.world.hotels.get(hotelId);
    const versionBefore = state?.hotel.version ?? 0;
    const fingerprintBefore = state ? stateFingerprint(state, cmd) : undefined;

    const d = this.world.decide(cmd);

    if (state && stateFingerprint(state, cmd) !== fingerprintBefore) this.fail('decide() changed its input state', cmd, d);
    const got = d.reply.ok ? 'ok' : d.reply.code;
    const want = expected.ok ? 'ok' : expected.code;
    this.count(`${cmd.kind}:${got}`);
    if (got !== want) this.fail(`the model expected ${want}, the engine answered ${got}`, cmd, d);
    if (!d.reply.ok && d.events.length > 0) this.fail('a rejection carries events', cmd, d);
    if (!d.reply.ok && !expected.ok && expected.alternatives) {
      const alternatives = d.reply.details?.alternatives;
      if (JSON.stringify(alternatives) !== JSON.stringify(expected.alternatives)) {
        this.fail(`alternatives differ from the model's ${JSON.stringify(expected.alternatives)}`, cmd, d);
      }
      this.count(`alternatives:${expected.alternatives.length}`);
    }
    if (expected.ok && expected.events !== d.events.length > 0) {
      this.fail(`the model expected ${expected.events ? 'events' : 'no events'}, got ${d.events.length}`, cmd, d);
    }
    for (const e of d.events) if (e.version !== versionBefore + 1) this.fail(`event ${e.type} has version ${e.version}`, cmd, d);

    this.world.apply(hotelId, d);
    if (d.events.some((e) => e.type === 'hotel.updated' && e.nightsCreated)) this.count('nightsCreated');
    if (expected.ok) {
      expected.apply?.();
      if (d.events.length > 0) this.model.get(hotelId)!.changes++;
    }
    this.checkReply(cmd, d, expected);
    // Only the hotel the command names can have changed; the others are re-checked every 100 steps and at the end.
    this.checkHotel(hotelId);
    if (this.step % 100 === 0) for (const id of this.world.hotels.keys()) this.checkHotel(id);
    return d;
  }

  checkReply(cmd: Command, d: Decision, expected: Expected): void {
    if (!d.reply.ok || !expected.ok) return;
    if (cmd.kind === 'reserve' || cmd.kind === 'cancel') {
      if (d.reply.kind !== 'reservation') this.fail('a reservation command answered something else', cmd, d);
      const r = d.reply.reservation;
      const holders = [...this.world.hotels.values()].filter((s) => s.reservations.has(r.id));
      if (holders.length !== 1 || holders[0].hotel.id !== cmd.hotelId) this.fail(`reservation ${r.id} is held by ${holders.length} hotels`, cmd, d);
      const stored = holders[0].reservations.get(r.id) as Reservation;
      if (JSON.stringify(stored) !== JSON.stringify(r)) this.fail('the reply differs from the stored reservation', cmd, d);
      if (d.reply.created !== expected.created) this.fail(`created is ${d.reply.created}`, cmd, d);
      const m = this.model.get(cmd.hotelId)!.reservations.get(r.id)!;
      if (r.status !== m.status) this.fail(`status ${r.status}, the model says ${m.status}`, cmd, d);
      if (r.totalAmount !== m.totalAmount) this.fail(`totalAmount ${r.totalAmount}, the model says ${m.totalAmount}`, cmd, d);
      if (cmd.kind === 'reserve' && d.reply.created) {
        this.count('created');
        this.createdIds.push(r.id);
        const ok =
          r.status === 'pending' &&
          r.roomTypeId === cmd.roomTypeId &&
          r.checkIn === cmd.checkIn &&
          r.checkOut === cmd.checkOut &&
          r.roomCount === cmd.roomCount &&
          r.fingerprint === cmd.fingerprint &&
          r.expiresAt === new Date(this.world.nowMs + holdTtlSeconds * 1000).toISOString() &&
          r.totalAmount === expected.totalAmount;
        if (!ok) this.fail('the created reservation does not match its command', cmd, d);
      }
      if (cmd.kind === 'reserve' && !d.reply.created) this.count('replayed');
    }
  }

  /** Every check of one hotel against the engine's invariant, the brief's rules and the model. */
  checkHotel(hotelId: string): void {
    const s = this.world.hotels.get(hotelId);
    const m = this.model.get(hotelId);
    if (!s || !m) return this.fail(`hotel ${hotelId} missing (engine ${!!s}, model ${!!m})`);
    try {
      assertReservedMatchesReservations(s);
    } catch (err) {
      this.fail(`hotel ${hotelId}: ${(err as Error).message}`);
    }
    if (s.hotel.version !== m.changes) this.fail(`hotel ${hotelId} version ${s.hotel.version}, ${m.changes} commands changed it`);
    if (s.hotel.overbookingPercent !== m.ob) this.fail(`hotel ${hotelId} overbooking ${s.hotel.overbookingPercent}, model ${m.ob}`);
    const tiers = JSON.stringify([...m.tiers].sort((a, b) => a[0] - b[0]).map(([occupancyPercent, multiplierPercent]) => ({ occupancyPercent, multiplierPercent })));
    if (JSON.stringify(s.pricing) !== tiers) this.fail(`hotel ${hotelId} tiers ${JSON.stringify(s.pricing)}, model ${tiers}`);
    const today = this.today(m);
    const ids = [...s.roomTypes.keys()].sort().join();
    if (ids !== [...m.roomTypes.keys()].sort().join()) this.fail(`room types ${ids}, model ${[...m.roomTypes.keys()].sort().join()}`);
    for (const [id, rt] of s.roomTypes) {
      const t = rt.nights;
      const mt = m.roomTypes.get(id)!;
      if (t.firstDay !== firstDay || t.total.length !== n) this.fail(`table of ${id} covers the wrong nights`);
      for (let i = 0; i < n; i++) {
        const day = firstDay + i;
        const where = () => `${hotelId}/${id} ${formatDay(day)}`;
        if (t.reserved[i] < 0 || t.reserved[i] > t.limit[i]) this.fail(`${where()}: reserved ${t.reserved[i]} > limit ${t.limit[i]}`);
        if (day >= today && t.limit[i] !== sellable(t.total[i], s.hotel.overbookingPercent)) {
          this.fail(`${where()}: limit ${t.limit[i]} for total ${t.total[i]} at ${s.hotel.overbookingPercent}%`);
        }
        if (t.reserved[i] !== mt.reserved[i] || t.total[i] !== mt.total[i] || t.limit[i] !== mt.limit[i] || t.rate[i] !== mt.rate[i]) {
          this.fail(
            `${where()}: engine total/limit/reserved/rate ${t.total[i]}/${t.limit[i]}/${t.reserved[i]}/${t.rate[i]}, ` +
              `model ${mt.total[i]}/${mt.limit[i]}/${mt.reserved[i]}/${mt.rate[i]}`,
          );
        }
      }
    }
    const created = [...m.reservations.values()];
    if (s.reservations.size !== created.length) this.fail(`${s.reservations.size} reservations, the model has ${created.length}`);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Random commands.

  randomRoomType(h: ModelHotel): string {
    if (this.chance(0.02) || h.roomTypes.size === 0) return 'rt-ghost';
    return this.pick([...h.roomTypes.keys()]);
  }

  randomStay(h: ModelHotel): { checkIn: string; checkOut: string } {
    const today = this.today(h);
    const nights = this.int(1, 7);
    let from = today + this.int(0, windowNights - nights);
    let to = from + nights;
    const p = this.rng();
    if (p < 0.015) from = today - this.int(1, 3); // before today
    else if (p < 0.025) [from, to] = [today + horizonDays - this.int(0, 3), today + horizonDays + this.int(0, 2)]; // at the horizon
    else if (p < 0.03) to = from + 31; // too long
    else if (p < 0.035) to = from - this.int(0, 1); // empty or reversed
    if (this.chance(0.01)) return { checkIn: this.pick(['2027-02-30', '2027-13-01', '2027-1-5', '']), checkOut: formatDay(to) };
    return { checkIn: formatDay(from), checkOut: formatDay(to) };
  }

  randomReserve(h: ModelHotel): Command {
    const owners: Owner[] = [
      { kind: 'guest', id: 'u-1' },
      { kind: 'partner', id: 'p-1' },
    ];
    if (this.usedIds.length > 0 && this.chance(0.1)) {
      const id = this.pick(this.usedIds);
      const earlier = this.bodies.get(id)!;
      if (this.chance(0.5)) return reserve(earlier); // the same body again (possibly long after)
      const other = this.pick([...this.model.values()]);
      const body: ReserveArgs = {
        ...earlier,
        hotelId: this.chance(0.7) ? earlier.hotelId : other.id,
        roomCount: this.chance(0.5) ? earlier.roomCount : this.int(1, 4),
        owner: this.pick(owners),
      };
      this.bodies.set(id, body);
      return reserve(body);
    }
    const id = `r-${this.seed}-${this.nextId++}`;
    const roomCount = this.chance(0.02) ? this.pick([0, 11]) : this.int(1, 4);
    const body: ReserveArgs = { hotelId: h.id, reservationId: id, roomTypeId: this.randomRoomType(h), ...this.randomStay(h), roomCount, owner: this.pick(owners) };
    this.usedIds.push(id);
    this.bodies.set(id, body);
    return reserve(body);
  }

  randomRange(h: ModelHotel): { from: string; to: string } {
    const today = this.today(h);
    const from = today + this.int(-1, windowNights - 2);
    return { from: formatDay(from), to: formatDay(from + this.int(this.chance(0.03) ? -1 : 1, 10)) };
  }

  randomCommand(): Command {
    const hotels = [...this.model.values()];
    const h = this.pick(hotels);
    const p = this.rng();
    // The moving hotel goes back and forth, and gets room types along the way: one made in UTC+14 lacks nights
    // that the move back to UTC-11 needs (its today one or two days earlier).
    if (h.id === movingHotel && p < 0.17) {
      if (p < 0.15 || h.roomTypes.size >= 12) return updateHotel(h.id, { timezone: h.timezone === kiritimati ? pagoPago : kiritimati });
      return createRoomType(h.id, `rt-${this.seed}-${this.nextId++}`, this.int(1, 5), this.int(50, 200) * 100);
    }
    if (p < 0.6) return this.randomReserve(h);
    if (p < 0.75) {
      if (this.usedIds.length === 0 || this.chance(0.15)) return cancel(h.id, `r-none-${this.int(0, 1e6)}`);
      // Mostly ids that were created (so that rooms are released), sometimes any id ever sent.
      const id = this.createdIds.length > 0 && this.chance(0.6) ? this.pick(this.createdIds) : this.pick(this.usedIds);
      const home = this.bodies.get(id)!.hotelId;
      return cancel(this.chance(0.9) ? home : h.id, id);
    }
    if (p < 0.84) {
      const { from, to } = this.randomRange(h);
      return setInventory(h.id, this.randomRoomType(h), from, to, this.int(0, 7));
    }
    if (p < 0.91) {
      const { from, to } = this.randomRange(h);
      // Odd amounts too, so that a price can fall on a half (and must round up).
      return setRates(h.id, this.randomRoomType(h), from, to, this.int(50, 300) * 100 + (this.chance(0.5) ? this.int(1, 99) : 0));
    }
    if (p < 0.935) return this.randomPricing(h);
    if (p < 0.97) {
      if (this.chance(0.2)) return updateHotel(h.id, { name: `Hotel ${this.int(0, 99)}` });
      return updateHotel(h.id, { overbookingPercent: this.pick([0, 5, 10, 15, 20, 33, 50]) });
    }
    if (h.roomTypes.size < 3) return createRoomType(h.id, `rt-${this.seed}-${this.nextId++}`, this.int(1, 5), this.int(50, 200) * 100);
    return deleteRoomType(h.id, this.randomRoomType(h));
  }

  /** Tiers of 0–4 steps on thresholds that fall on and between room counts; now and then none, or invalid ones. */
  randomPricing(h: ModelHotel): Command {
    if (this.chance(0.15)) return setPricing(h.id, []);
    if (this.chance(0.1) && h.tiers.length > 0) return setPricing(h.id, [...h.tiers].reverse());
    const thresholds = [0, 20, 25, 33, 34, 50, 66, 67, 75, 80, 100];
    const tiers: [number, number][] = [];
    for (let k = this.int(1, 4); k > 0; k--) {
      const o = this.pick(thresholds);
      if (tiers.some(([x]) => x === o) && !this.chance(0.1)) continue;
      tiers.push([o, this.chance(0.05) ? this.pick([49, 501]) : this.int(50, 500)]);
    }
    return setPricing(h.id, tiers);
  }

  setup(): void {
    ['UTC', 'Asia/Tokyo', 'America/New_York', kiritimati].forEach((timezone, k) => {
      const hotelId = `h-${k}`;
      this.exec(createHotel(hotelId, { timezone, overbookingPercent: this.pick([0, 10, 15, 50]) }));
      for (let j = 0; j < 3; j++) {
        this.exec(createRoomType(hotelId, `rt-${k}-${j}`, this.int(1, 6), this.int(50, 200) * 100));
      }
    });
  }

  run(steps: number): void {
    this.setup();
    for (this.step = 1; this.step <= steps; this.step++) {
      if (this.chance(0.02) && this.advancedMs < timeAdvanceMaxMs) {
        const ms = this.int(1, 10) * HOUR_MS + this.int(0, 3_599_999);
        this.world.nowMs += ms;
        this.advancedMs += ms;
        this.count('clock');
        continue;
      }
      this.exec(this.randomCommand());
    }
  }
}

/** A cheap digest of what decide() could touch: the hotel, every night table and the reservation it names. */
function stateFingerprint(s: HotelState, cmd: Command): string {
  const parts: string[] = [JSON.stringify(s.hotel), String(s.reservations.size), String(s.roomTypes.size)];
  for (const [id, rt] of s.roomTypes) {
    const t = rt.nights;
    let h = 17;
    for (const a of [t.total, t.limit, t.reserved, t.rate]) {
      for (let i = 0; i < a.length; i++) h = (Math.imul(h, 31) + a[i] + i) | 0;
    }
    parts.push(id, JSON.stringify(rt.roomType), String(h));
  }
  if ('reservationId' in cmd) parts.push(JSON.stringify(s.reservations.get(cmd.reservationId) ?? null));
  return parts.join('|');
}

// ---------------------------------------------------------------------------------------------------------------

const seeds = process.env.SIM_SEED ? process.env.SIM_SEED.split(',').map((x) => Number(x.trim())) : [1, 20270110, 0xc0ffee];
const steps = process.env.SIM_STEPS ? Number(process.env.SIM_STEPS) : 5000;

describe('engine simulation (seeded)', function () {
  this.timeout(30_000);

  it('mulberry32 is deterministic and spreads over [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).to.deep.equal(Array.from({ length: 1000 }, () => b()));
    expect(Math.min(...xs)).to.be.at.least(0);
    expect(Math.max(...xs)).to.be.below(1);
    expect(xs.filter((x) => x < 0.5).length).to.be.within(430, 570);
    expect(mulberry32(43)()).to.not.equal(xs[0]);
  });

  for (const seed of seeds) {
    it(`seed ${seed}: ${steps} random commands keep every invariant and agree with the model`, () => {
      const sim = new Simulation(seed);
      sim.run(steps);
      for (const id of sim.world.hotels.keys()) sim.checkHotel(id);
      const stat = (k: string) => sim.stats.get(k) ?? 0;
      // Thresholds are for 6000 steps; a shorter SIM_STEPS run scales them down.
      const least = (x: number) => Math.floor((x * Math.min(steps, 6000)) / 6000);
      // The run must have exercised what it is about, or it proves nothing.
      const summary = [...sim.stats].sort().map(([k, v]) => `${k}=${v}`).join(' ');
      expect(stat('created'), summary).to.be.at.least(least(200));
      expect(stat('reserve:sold_out'), summary).to.be.at.least(least(200));
      expect(stat('replayed'), summary).to.be.at.least(least(5));
      expect(stat('reserve:idempotency_mismatch'), summary).to.be.at.least(least(5));
      expect(stat('reserve:validation_failed'), summary).to.be.at.least(least(10));
      expect(stat('cancel:ok'), summary).to.be.at.least(least(50));
      expect(stat('cancel:not_found'), summary).to.be.at.least(least(10));
      expect(stat('cancel:invalid_status'), summary).to.be.at.least(least(1));
      expect(stat('setInventory:ok'), summary).to.be.at.least(least(20));
      expect(stat('setInventory:inventory_below_reserved'), summary).to.be.at.least(least(20));
      expect(stat('updateHotel:ok'), summary).to.be.at.least(least(20));
      expect(stat('updateHotel:inventory_below_reserved'), summary).to.be.at.least(least(5));
      expect(stat('nightsCreated'), summary).to.be.at.least(least(2));
      expect(stat('setRates:ok'), summary).to.be.at.least(least(20));
      expect(stat('setPricing:ok'), summary).to.be.at.least(least(50));
      expect(stat('setPricing:validation_failed'), summary).to.be.at.least(least(3));
      expect(stat('clock'), summary).to.be.at.least(least(20));
      expect(stat('alternatives:0'), summary).to.be.at.least(least(10));
      expect(stat('alternatives:5'), summary).to.be.at.least(least(10));
      expect(sim.advancedMs).to.be.at.most(timeAdvanceMaxMs + 11 * HOUR_MS);
      expect(sim.world.nowMs).to.be.greaterThan(NOW_MS);
      if (process.env.SIM_VERBOSE) console.log(`      seed ${seed}: ${summary}`);
    });
  }
});
