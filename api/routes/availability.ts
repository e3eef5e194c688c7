// Availability reads, straight from the hotel's shard database (the writer-owned cache comes in front later).
import { Router } from 'express';
import { availabilityNightsMax } from '../../engine/limits.js';
import { formatDay, localDay, parseDay } from '../../engine/core/dates.js';
import { availabilityQuery } from '../../schemas/http.js';
import type { ApiContext } from '../context.js';
import { ApiError, notFound } from '../errors.js';
import { parse, pathId } from '../validate.js';

const bad = (field: string, message: string) => new ApiError('validation_failed', `${field}: ${message}`, { fields: [{ field, message }] });

export function availabilityRoutes(ctx: ApiContext): Router {
  const r = Router();

  r.get('/v1/hotels/:hotelId/availability', async (req, res) => {
    const hotelId = pathId(req.params.hotelId, 'hotelId');
    const q = parse(availabilityQuery, req.query, 'query');
    const hotel = await ctx.reader.hotel(hotelId);
    if (!hotel) throw notFound('hotel');
    const fromDay = parseDay(q.checkIn) as number;
    const toDay = parseDay(q.checkOut) as number;
    const today = localDay(Date.now(), hotel.timezone);
    if (toDay <= fromDay) throw bad('checkOut', 'must be after checkIn');
    if (toDay - fromDay > availabilityNightsMax) throw bad('checkOut', `covers more than ${availabilityNightsMax} nights`);
    if (fromDay < today) throw bad('checkIn', `is before today (${formatDay(today)}) in the hotel's time zone`);
    if (toDay - 1 >= today + ctx.config.horizonDays) {
      throw bad('checkOut', `reaches past the inventory horizon (last night ${formatDay(today + ctx.config.horizonDays - 1)})`);
    }
    const a = await ctx.reader.availability(hotelId, fromDay, toDay, q.roomTypeId, q.rooms ?? 1);
    if (!a) throw notFound('hotel');
    if (q.roomTypeId && a.roomTypes.length === 0) throw notFound('room type');
    res.json({ hotelId, checkIn: q.checkIn, checkOut: q.checkOut, version: a.version, stale: false, roomTypes: a.roomTypes });
  });

  return r;
}
