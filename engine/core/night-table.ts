import { amountMax, overbookingPercentMax, totalInventoryMax } from '../limits.js';
import type { NightTable } from './types.js';

/** The sellable limit of a night: floor(totalInventory × (100 + overbookingPercent) / 100), in integers. */
export function sellableLimit(totalInventory: number, overbookingPercent: number): number {
  return Math.floor((totalInventory * (100 + overbookingPercent)) / 100);
}

// The night table's 16-bit counts must hold the largest sellable limit; the 32-bit rates the largest amount.
if (sellableLimit(totalInventoryMax, overbookingPercentMax) > 0x7fff || amountMax > 0x7fffffff) {
  throw new Error('assertion: limits no longer fit the night table; widen its arrays');
}

export function newNightTable(firstDay: number, endDay: number): NightTable {
  const n = endDay - firstDay;
  // One buffer per room type: three 16-bit count arrays, then the 32-bit rates (4-byte aligned).
  const ratesAt = Math.ceil((n * 6) / 4) * 4;
  const whole = new ArrayBuffer(ratesAt + n * 4);
  return {
    firstDay,
    total: new Int16Array(whole, 0, n),
    limit: new Int16Array(whole, n * 2, n),
    reserved: new Int16Array(whole, n * 4, n),
    rate: new Int32Array(whole, ratesAt, n),
  };
}

/** Rooms left on one night (0 when the night is outside the table). */
export function availableOn(t: NightTable, day: number): number {
  const i = day - t.firstDay;
  if (i < 0 || i >= t.total.length) return 0;
  return Math.max(0, t.limit[i] - t.reserved[i]);
}

/** The fewest rooms left over [fromDay, toDay); 0 when any night is outside the table. */
export function availableOver(t: NightTable, fromDay: number, toDay: number): number {
  let min = Number.POSITIVE_INFINITY;
  for (let d = fromDay; d < toDay; d++) {
    const a = availableOn(t, d);
    if (a < min) min = a;
    if (min === 0) return 0;
  }
  return min === Number.POSITIVE_INFINITY ? 0 : min;
}

export function covers(t: NightTable, fromDay: number, toDay: number): boolean {
  return fromDay >= t.firstDay && toDay <= t.firstDay + t.total.length && fromDay < toDay;
}
