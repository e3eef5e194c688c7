// Availability: the JSON read (from the writer-owned cache, else the shard database) and the live stream.
import { Router } from 'express';
import { availabilityNightsMax } from '../../engine/limits.js';
import { formatDay, localDay, parseDay } from '../../engine/core/dates.js';
import { nightPrice } from '../../engine/core/pricing.js';
import type { PricingTier } from '../../engine/core/types.js';
import { isConnectionError } from '../../engine/store/pg.js';
import { availabilityQuery } from '../../schemas/http.js';
import type { ApiContext } from '../context.js';
import { ApiError, notFound } from '../errors.js';
import { parse, pathId } from '../validate.js';

const bad = (field: string, message: string) => new ApiError('validation_failed', `${field}: ${message}`, { fields: [{ field, message }] });

interface Night {
  date: string;
  totalInventory: number;
  limit: number;
  reserved: number;
  rate: number;
}

/**
 * A room type's answer from its stored nights, the same whether they came from the cache or the database: each
 * night's `rate` is the price of one more room at its occupancy (engine/core/pricing.ts), `baseRate` the stored
 * rate; `totalPrice` sums the prices for `rooms` rooms. A night missing from the window (outside the horizon) has
 * nothing to sell.
 */
export function shape(nights: Night[], rooms: number, tiers: readonly PricingTier[], nightsWanted: number) {
  const out = nights.map((n) => ({
    date: n.date,
    totalInventory: n.totalInventory,
    reserved: n.reserved,
    available: Math.max(0, n.limit - n.reserved),
    rate: nightPrice(n.rate, n.reserved, n.totalInventory, tiers),
    baseRate: n.rate,
  }));
  return {
    available: out.length === nightsWanted ? Math.min(...out.map((n) => n.available)) : 0,
    totalPrice: out.reduce((s, n) => s + n.rate, 0) * rooms,
    nights: out,
  };
}

/** The room types of a hotel that take `guests` guests (all of them without `guests`). */
export async function roomTypesFor(ctx: ApiContext, hotelId: string, guests: number | undefined): Promise<Set<string> | undefined> {
  if (guests === undefined || guests <= 1) return undefined;
  return new Set((await ctx.reader.roomTypes(hotelId)).filter((t) => t.maxGuests >= guests).map((t) => t.id));
}

/**
 * A hotel's stored nights for [fromDay, toDay) with its time zone and tiers: from the writer-owned cache, else the
 * database (undefined: no such hotel).
 */
export async function readNights(ctx: ApiContext, hotelId: string, fromDay: number, toDay: number) {
  const cached = await ctx.cache.read(hotelId, fromDay, toDay).catch(() => undefined);
  if (cached) return { timezone: cached.timezone, tiers: cached.tiers, roomTypes: cached.roomTypes };
  const hotel = await ctx.reader.hotel(hotelId);
  if (!hotel) return undefined;
  const a = await ctx.reader.availability(hotelId, fromDay, toDay, undefined);
  return a ? { timezone: hotel.timezone, tiers: a.tiers, roomTypes: a.roomTypes } : undefined;
}

export function availabilityRoutes(ctx: ApiContext): Router {
  const r = Router();
  // The highest version this process has answered per hotel: a cache that lags behind it is not used.
  const served = new Map<string, number>();
  const remember = (hotelId: string, v: number) => {
    if ((served.get(hotelId) ?? -1) < v) served.set(hotelId, v);
    if (served.size > 100_000) served.clear();
  };

  const checkStay = (timezone: string, fromDay: number, toDay: number) => {
    const today = localDay(Date.now(), timezone);
    if (toDay <= fromDay) throw bad('checkOut', 'must be after checkIn');
    if (toDay - fromDay > availabilityNightsMax) throw bad('checkOut', `covers more than ${availabilityNightsMax} nights`);
    if (fromDay < today) throw bad('checkIn', `is before today (${formatDay(today)}) in the hotel's time zone`);
    if (toDay - 1 >= today + ctx.config.horizonDays) {
      throw bad('checkOut', `reaches past the inventory horizon (last night ${formatDay(today + ctx.config.horizonDays - 1)})`);
    }
  };

  r.get('/v1/hotels/:hotelId/availability', async (req, res) => {
    const hotelId = pathId(req.params.hotelId, 'hotelId');
    const q = parse(availabilityQuery, req.query, 'query');
    const fromDay = parseDay(q.checkIn) as number;
    const toDay = parseDay(q.checkOut) as number;
    const rooms = q.rooms ?? 1;
    const cached = await ctx.cache.read(hotelId, fromDay, toDay).catch(() => undefined);
    // With `guests`, room types whose maxGuests is smaller are left out.
    const fits = await roomTypesFor(ctx, hotelId, q.guests).catch((err: unknown) => {
      if (cached && isConnectionError(err)) return undefined;
      throw err;
    });
    const wanted = (t: { roomTypeId: string }) => (!q.roomTypeId || t.roomTypeId === q.roomTypeId) && (!fits || fits.has(t.roomTypeId));

    const answerFromCache = (stale: boolean) => {
      const c = cached!;
      checkStay(c.timezone, fromDay, toDay);
      if (q.roomTypeId && !c.roomTypes.some((t) => t.roomTypeId === q.roomTypeId)) throw notFound('room type');
      const types = c.roomTypes.filter(wanted);
      remember(hotelId, c.version);
      res.json({
        hotelId,
        checkIn: q.checkIn,
        checkOut: q.checkOut,
        version: c.version,
        stale,
        roomTypes: types.map((t) => ({ roomTypeId: t.roomTypeId, name: t.name, ...shape(t.nights, rooms, c.tiers, toDay - fromDay) })),
      });
    };

    if (cached && cached.version >= (served.get(hotelId) ?? -1)) {
      answerFromCache(ctx.reader.isDown(hotelId));
      return;
    }
    try {
      const hotel = await ctx.reader.hotel(hotelId);
      if (!hotel) throw notFound('hotel');
      checkStay(hotel.timezone, fromDay, toDay);
      const a = await ctx.reader.availability(hotelId, fromDay, toDay, q.roomTypeId);
      if (!a) throw notFound('hotel');
      if (q.roomTypeId && a.roomTypes.length === 0) throw notFound('room type');
      remember(hotelId, a.version);
      res.json({
        hotelId,
        checkIn: q.checkIn,
        checkOut: q.checkOut,
        version: a.version,
        stale: false,
        roomTypes: a.roomTypes.filter(wanted).map((t) => ({ roomTypeId: t.roomTypeId, name: t.name, ...shape(t.nights, rooms, a.tiers, toDay - fromDay) })),
      });
    } catch (err) {
      if (!isConnectionError(err)) throw err;
      // The database is unreachable: the last committed state the writer cached, said to be stale.
      if (cached) return answerFromCache(true);
      throw new ApiError('unavailable', 'the database is unreachable and this availability is not cached', undefined, { 'Retry-After': '2' });
    }
  });

  r.get('/v1/hotels/:hotelId/availability/stream', async (req, res) => {
    const hotelId = pathId(req.params.hotelId, 'hotelId');
    const header = req.headers['last-event-id'];
    const lastEventId = typeof header === 'string' && /^\d{1,15}$/.test(header.trim()) ? Number(header.trim()) : undefined;
    const known = (await ctx.cache.version(hotelId).catch(() => undefined)) ?? (await ctx.reader.hotel(hotelId));
    if (!known) throw notFound('hotel');
    if (!(await ctx.hub.serve(hotelId, res, lastEventId))) {
      throw new ApiError('unavailable', 'too many open streams on this server', undefined, { 'Retry-After': '5' });
    }
  });

  return r;
}
