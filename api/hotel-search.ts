// Search by dates: `GET /v1/hotels?checkIn=&checkOut=&guests=&rooms=` gives each hotel its offer for the stay, the
// cheapest room type that takes `guests` with `rooms` rooms free on every night (its price follows occupancy, as
// availability's does), and lists hotels with an offer first, by price. The order is by offer, so each page is cut
// from the whole ordered list again (the cursor is the last hotel's id); a search reads at most
// `searchHotelsMax` hotels of the city.
import { formatDay, localDay, parseDay } from '../engine/core/dates.js';
import { nightsMax } from '../engine/limits.js';
import { encodeCursor } from '../engine/store/shard-reader.js';
import type { Hotel } from '../engine/core/types.js';
import type { ApiContext } from './context.js';
import { ApiError } from './errors.js';
import { hotelJson } from './representation.js';
import { readNights, roomTypesFor, shape } from './routes/availability.js';

export const searchHotelsMax = 1000;
const offersInFlight = 16;

export interface Offer {
  roomTypeId: string;
  available: number;
  fromPrice: number;
}

const bad = (field: string, message: string) => new ApiError('validation_failed', `${field}: ${message}`, { fields: [{ field, message }] });

export async function searchHotels(
  ctx: ApiContext,
  q: { city?: string; checkIn?: string; checkOut?: string; guests?: number; rooms?: number; cursor?: string; limit: number },
): Promise<{ items: unknown[]; nextCursor: string | null }> {
  // Searching by dates is asked for by any of checkIn, checkOut, guests and rooms; it needs both dates.
  const asked = q.checkOut !== undefined ? 'checkOut' : q.checkIn !== undefined ? 'checkIn' : q.guests !== undefined ? 'guests' : 'rooms';
  if (q.checkIn === undefined) throw bad('checkIn', `is required with ${asked}`);
  if (q.checkOut === undefined) throw bad('checkOut', `is required with ${asked}`);
  const fromDay = parseDay(q.checkIn) as number;
  const toDay = parseDay(q.checkOut) as number;
  if (toDay <= fromDay) throw bad('checkOut', 'must be after checkIn');
  if (toDay - fromDay > nightsMax) throw bad('checkOut', `covers more than ${nightsMax} nights`);
  // Before today everywhere on Earth (the last zone to reach a date is UTC−12).
  const earliestToday = localDay(Date.now(), 'Etc/GMT+12');
  if (fromDay < earliestToday) throw bad('checkIn', `is before today (${formatDay(earliestToday)})`);
  // Past the horizon everywhere on Earth (the first zone to reach a date is UTC+14): as a reservation's, a 400.
  const lastNight = localDay(Date.now(), 'Etc/GMT-14') + ctx.config.horizonDays - 1;
  if (toDay - 1 > lastNight) throw bad('checkOut', `reaches past the inventory horizon (last night ${formatDay(lastNight)})`);
  const guests = q.guests ?? 1;
  const rooms = q.rooms ?? 1;

  const hotels: Hotel[] = [];
  for (let after: string | undefined; hotels.length < searchHotelsMax; ) {
    const page = await ctx.reader.listHotels(q.city, after, Math.min(200, searchHotelsMax - hotels.length));
    hotels.push(...page.items);
    if (!page.nextCursor) break;
    after = hotels[hotels.length - 1].id;
  }
  const offers = new Map<string, Offer | null>();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(offersInFlight, hotels.length) }, async () => {
      while (next < hotels.length) {
        const h = hotels[next++];
        offers.set(h.id, await offerOf(ctx, h, fromDay, toDay, guests, rooms));
      }
    }),
  );
  const price = (h: Hotel) => offers.get(h.id)?.fromPrice ?? Infinity;
  hotels.sort((a, b) => price(a) - price(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  // A cursor naming no hotel of the list gives an empty page, as the list without dates does (not the first again).
  const start = q.cursor ? (hotels.findIndex((h) => h.id === q.cursor) + 1 || hotels.length) : 0;
  const page = hotels.slice(start, start + q.limit);
  return {
    items: page.map((h) => ({ ...hotelJson(h), offer: offers.get(h.id) ?? null })),
    nextCursor: start + q.limit < hotels.length && page.length > 0 ? encodeCursor(page[page.length - 1].id) : null,
  };
}

/** A hotel's cheapest room type for the stay, or null (none fits, none free on every night, or dates outside its window). */
async function offerOf(ctx: ApiContext, h: Hotel, fromDay: number, toDay: number, guests: number, rooms: number): Promise<Offer | null> {
  const today = localDay(Date.now(), h.timezone);
  if (fromDay < today || toDay - 1 >= today + ctx.config.horizonDays) return null;
  const [stored, fits] = await Promise.all([readNights(ctx, h.id, fromDay, toDay), roomTypesFor(ctx, h.id, guests)]);
  if (!stored) return null;
  let best: Offer | null = null;
  for (const t of stored.roomTypes) {
    if (fits && !fits.has(t.roomTypeId)) continue;
    const s = shape(t.nights, rooms, stored.tiers, toDay - fromDay);
    if (s.available < rooms) continue;
    if (!best || s.totalPrice < best.fromPrice) best = { roomTypeId: t.roomTypeId, available: s.available, fromPrice: s.totalPrice };
  }
  return best;
}
