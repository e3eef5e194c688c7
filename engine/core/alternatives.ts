import { alternativeShiftDaysMax, alternativesMax } from '../limits.js';
import { formatDay } from './dates.js';
import { availableOver, covers } from './night-table.js';
import { priceOver } from './pricing.js';
import type { Alternative, HotelState } from './types.js';

/**
 * Bookable options offered with `sold_out`: other room types (taking at least as many guests) for the same dates,
 * then the same room type shifted
 * by 1, -1, 2, -2, … up to `alternativeShiftDaysMax` days, never starting before today or ending past the horizon.
 */
export function findAlternatives(
  state: HotelState,
  roomTypeId: string,
  fromDay: number,
  toDay: number,
  rooms: number,
  today: number,
  lastNight: number,
): Alternative[] {
  const out: Alternative[] = [];
  const offer = (id: string, a: number, b: number) => {
    const rt = state.roomTypes.get(id);
    if (!rt || !covers(rt.nights, a, b)) return;
    const available = availableOver(rt.nights, a, b);
    if (available < rooms) return;
    out.push({
      roomTypeId: id,
      checkIn: formatDay(a),
      checkOut: formatDay(b),
      available,
      totalPrice: priceOver(rt.nights, a, b, rooms, state.pricing),
    });
  };
  // Only room types that take as many guests as the one asked for.
  const guests = state.roomTypes.get(roomTypeId)?.roomType.maxGuests ?? 1;
  for (const [id, rt] of state.roomTypes) {
    if (out.length >= alternativesMax) return out;
    if (id !== roomTypeId && rt.roomType.maxGuests >= guests) offer(id, fromDay, toDay);
  }
  for (let shift = 1; shift <= alternativeShiftDaysMax; shift++) {
    for (const s of [shift, -shift]) {
      if (out.length >= alternativesMax) return out;
      const a = fromDay + s;
      const b = toDay + s;
      if (a >= today && b - 1 <= lastNight) offer(roomTypeId, a, b);
    }
  }
  return out;
}
