// Prices follow occupancy (API.md, "Inventory and rates"): a night's stored rate is its base, and the price of one
// more room on that night is the base times the multiplier of the highest tier the night's occupancy has reached.
// The one place a price is computed: reservations, alternatives, availability (cache and database) and the stream.
import { multiplierPercentMax, multiplierPercentMin, occupancyPercentMax, pricingTiersMax } from '../limits.js';
import type { Decision, HotelState, NightTable, PricingTier } from './types.js';

/**
 * The multiplierPercent that applies to a night with `reserved` of `totalInventory` rooms taken: that of the tier with
 * the highest occupancyPercent ≤ 100 × reserved / totalInventory, or 100 when none applies or totalInventory is 0.
 * Compared in integers (occupancyPercent × total ≤ 100 × reserved), so that no rounding decides a boundary. The
 * tiers may come in any order.
 */
export function multiplierPercentOf(reserved: number, totalInventory: number, tiers: readonly PricingTier[]): number {
  if (totalInventory <= 0) return 100;
  let best = -1;
  let m = 100;
  for (const t of tiers) {
    if (t.occupancyPercent > best && t.occupancyPercent * totalInventory <= 100 * reserved) {
      best = t.occupancyPercent;
      m = t.multiplierPercent;
    }
  }
  return m;
}

/**
 * The price of one more room on a night: round(rate × m / 100) with halves rounded up (all integers, so
 * floor((rate × m + 50) / 100) is exact; rate ≤ amountMax and m ≤ 500 stay far inside a safe integer). Without
 * tiers it is the rate itself, with no other work.
 */
export function nightPrice(rate: number, reserved: number, totalInventory: number, tiers: readonly PricingTier[]): number {
  if (tiers.length === 0) return rate;
  const m = multiplierPercentOf(reserved, totalInventory, tiers);
  return m === 100 ? rate : Math.floor((rate * m + 50) / 100);
}

/**
 * What `rooms` rooms cost over the nights [fromDay, toDay) at the occupancy the table holds now (before whatever is
 * being priced is added): the sum of the nights' prices, times `rooms`.
 */
export function priceOver(t: NightTable, fromDay: number, toDay: number, rooms: number, tiers: readonly PricingTier[]): number {
  let sum = 0;
  if (tiers.length === 0) {
    for (let d = fromDay; d < toDay; d++) sum += t.rate[d - t.firstDay];
  } else {
    for (let d = fromDay; d < toDay; d++) {
      const i = d - t.firstDay;
      sum += nightPrice(t.rate[i], t.reserved[i], t.total[i], tiers);
    }
  }
  return sum * rooms;
}

/**
 * Why a list of tiers cannot be set, as `{field, message}` pairs naming each bad field as the HTTP schema does
 * (`tiers.1.occupancyPercent`); empty when it can. The API checks the same bounds first; this is the writer's own.
 */
export function tierProblems(tiers: readonly PricingTier[]): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  if (tiers.length > pricingTiersMax) out.push({ field: 'tiers', message: `must have at most ${pricingTiersMax} tiers` });
  const seen = new Set<number>();
  tiers.forEach((t, i) => {
    const o = t.occupancyPercent;
    const m = t.multiplierPercent;
    if (!Number.isInteger(o) || o < 0 || o > occupancyPercentMax) {
      out.push({ field: `tiers.${i}.occupancyPercent`, message: `must be a whole number 0..${occupancyPercentMax}` });
    } else if (seen.has(o)) {
      out.push({ field: `tiers.${i}.occupancyPercent`, message: `repeats the threshold ${o}` });
    }
    seen.add(o);
    if (!Number.isInteger(m) || m < multiplierPercentMin || m > multiplierPercentMax) {
      out.push({ field: `tiers.${i}.multiplierPercent`, message: `must be a whole number ${multiplierPercentMin}..${multiplierPercentMax}` });
    }
  });
  return out;
}

/**
 * setPricing: the tiers replace the hotel's (a new version; the stream resets, as every night's price may move).
 * Tiers the hotel already has, in any order, change nothing and answer the current version.
 */
export function decideSetPricing(state: HotelState, wanted: readonly PricingTier[], version: number): Decision {
  const problems = tierProblems(wanted);
  if (problems.length > 0) {
    const message = problems.map((p) => `${p.field}: ${p.message}`).join('; ');
    return { reply: { ok: false, code: 'validation_failed', message, details: { fields: problems } }, events: [] };
  }
  const tiers = sortedTiers(wanted);
  if (sameTiers(tiers, state.pricing)) {
    return { reply: { ok: true, kind: 'pricing', tiers: state.pricing, version: state.hotel.version }, events: [] };
  }
  return {
    reply: { ok: true, kind: 'pricing', tiers, version },
    events: [{ type: 'pricing.set', version, hotelId: state.hotel.id, tiers }],
  };
}

/** Tiers as the writer keeps and answers them: by threshold, ascending, each with only its two fields. */
export function sortedTiers(tiers: readonly PricingTier[]): PricingTier[] {
  return tiers
    .map((t) => ({ occupancyPercent: t.occupancyPercent, multiplierPercent: t.multiplierPercent }))
    .sort((a, b) => a.occupancyPercent - b.occupancyPercent);
}

export function sameTiers(a: readonly PricingTier[], b: readonly PricingTier[]): boolean {
  return a.length === b.length && a.every((t, i) => t.occupancyPercent === b[i].occupancyPercent && t.multiplierPercent === b[i].multiplierPercent);
}
