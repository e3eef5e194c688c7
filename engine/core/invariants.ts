import { parseDay } from './dates.js';
import type { HotelState } from './types.js';

/** Statuses whose reservations hold rooms. */
export const holdingStatuses: ReadonlySet<string> = new Set(['pending', 'paid']);

/**
 * The invariant a writer asserts before every commit: no night of any room type is over its sellable limit, and
 * no count is negative. A violation is a bug: it throws, and the job's transaction never commits.
 */
export function assertWithinLimits(state: HotelState, roomTypeIds?: Iterable<string>): void {
  const ids = roomTypeIds ?? state.roomTypes.keys();
  for (const id of ids) {
    const rt = state.roomTypes.get(id);
    if (!rt) continue;
    const t = rt.nights;
    for (let i = 0; i < t.reserved.length; i++) {
      if (t.reserved[i] < 0 || t.reserved[i] > t.limit[i]) {
        throw new Error(
          `assertion: room type ${id} night ${t.firstDay + i} has reserved ${t.reserved[i]} of limit ${t.limit[i]}`,
        );
      }
    }
  }
}

/**
 * The full invariant, for tests and simulations that hold every reservation in memory: every night's reserved
 * count equals the sum of the room counts of the live (pending or paid) reservations that cover it.
 */
export function assertReservedMatchesReservations(state: HotelState): void {
  assertWithinLimits(state);
  for (const [id, rt] of state.roomTypes) {
    const t = rt.nights;
    const expected = new Int32Array(t.reserved.length);
    for (const r of state.reservations.values()) {
      if (r.roomTypeId !== id || !holdingStatuses.has(r.status)) continue;
      const from = (parseDay(r.checkIn) as number) - t.firstDay;
      const to = (parseDay(r.checkOut) as number) - t.firstDay;
      for (let i = Math.max(0, from); i < Math.min(to, expected.length); i++) expected[i] += r.roomCount;
    }
    for (let i = 0; i < expected.length; i++) {
      if (expected[i] !== t.reserved[i]) {
        throw new Error(
          `assertion: room type ${id} night ${t.firstDay + i} has reserved ${t.reserved[i]} but its reservations hold ${expected[i]}`,
        );
      }
    }
  }
}
