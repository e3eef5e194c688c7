// Occupancy pricing in the engine core (engine/core/pricing.ts), as tables: the price of one more room on a night
// is round(rate × m / 100) with halves up, m the multiplier of the highest tier whose threshold the night's
// occupancy 100 × reserved / totalInventory has reached (100 without one, or with no inventory); a stay costs the
// sum of its nights' prices times its rooms; and which lists of tiers the writer refuses.
import { expect } from 'chai';
import { multiplierPercentOf, newNightTable, nightPrice, priceOver, tierProblems, type PricingTier } from '../../engine/core/index.js';

const tiers = (...pairs: [number, number][]): PricingTier[] => pairs.map(([occupancyPercent, multiplierPercent]) => ({ occupancyPercent, multiplierPercent }));

/** 50% → ×1.2, 80% → ×1.5, 100% → ×2 (the tiers most rows use). */
const steps = tiers([50, 120], [80, 150], [100, 200]);

describe('occupancy pricing: the price of one more room on a night', () => {
  const rows: { name: string; rate: number; reserved: number; total: number; tiers: PricingTier[]; m: number; price: number }[] = [
    { name: 'no tiers: the rate itself', rate: 10_000, reserved: 19, total: 20, tiers: [], m: 100, price: 10_000 },
    { name: 'below the lowest tier: m = 100', rate: 10_000, reserved: 9, total: 20, tiers: steps, m: 100, price: 10_000 },
    { name: 'exactly at a threshold (50% = 10 of 20): that tier applies', rate: 10_000, reserved: 10, total: 20, tiers: steps, m: 120, price: 12_000 },
    { name: 'between thresholds (15 of 20 is 75%): the 50% tier', rate: 10_000, reserved: 15, total: 20, tiers: steps, m: 120, price: 12_000 },
    { name: 'exactly at 80% (16 of 20)', rate: 10_000, reserved: 16, total: 20, tiers: steps, m: 150, price: 15_000 },
    { name: 'a threshold between two counts (1 of 3 is 33.3%, under 34%)', rate: 999, reserved: 1, total: 3, tiers: tiers([34, 200]), m: 100, price: 999 },
    { name: 'a threshold between two counts (2 of 3 is 66.7%, over 34%)', rate: 999, reserved: 2, total: 3, tiers: tiers([34, 200]), m: 200, price: 1998 },
    { name: '1 of 3 is exactly 33⅓%: a 33% tier applies (compared in integers, not floats)', rate: 1000, reserved: 1, total: 3, tiers: tiers([33, 150]), m: 150, price: 1500 },
    { name: 'full (100%)', rate: 10_000, reserved: 20, total: 20, tiers: steps, m: 200, price: 20_000 },
    { name: 'overbooked (110% ≥ 100%): the 100% tier', rate: 10_000, reserved: 22, total: 20, tiers: steps, m: 200, price: 20_000 },
    { name: 'a 0% tier applies to an empty night', rate: 10_000, reserved: 0, total: 20, tiers: tiers([0, 80], [50, 120]), m: 80, price: 8_000 },
    { name: 'totalInventory 0: m = 100, even with a 0% tier', rate: 10_000, reserved: 0, total: 0, tiers: tiers([0, 80]), m: 100, price: 10_000 },
    { name: 'totalInventory 0 with rooms reserved (inventory lowered): m = 100', rate: 10_000, reserved: 3, total: 0, tiers: steps, m: 100, price: 10_000 },
    { name: 'tiers in any order: the highest threshold reached wins', rate: 10_000, reserved: 17, total: 20, tiers: tiers([100, 200], [50, 120], [80, 150]), m: 150, price: 15_000 },
    { name: 'a tier may lower the price (m < 100)', rate: 10_000, reserved: 0, total: 20, tiers: tiers([0, 50]), m: 50, price: 5_000 },
    { name: 'a half rounds up: 101 × 150% = 151.5 → 152', rate: 101, reserved: 1, total: 1, tiers: tiers([100, 150]), m: 150, price: 152 },
    { name: 'a half rounds up: 1 × 50% = 0.5 → 1', rate: 1, reserved: 0, total: 5, tiers: tiers([0, 50]), m: 50, price: 1 },
    { name: 'under a half rounds down: 333 × 101% = 336.33 → 336', rate: 333, reserved: 1, total: 1, tiers: tiers([1, 101]), m: 101, price: 336 },
    { name: 'over a half rounds up: 333 × 115% = 382.95 → 383', rate: 333, reserved: 1, total: 1, tiers: tiers([1, 115]), m: 115, price: 383 },
    { name: 'the largest rate × the largest multiplier stays exact', rate: 1_000_000_000, reserved: 1, total: 1, tiers: tiers([100, 500]), m: 500, price: 5_000_000_000 },
    { name: 'the largest rate at 333% rounds exactly (3,329,999,996.67 → 3,329,999,997)', rate: 999_999_999, reserved: 1, total: 1, tiers: tiers([1, 333]), m: 333, price: 3_329_999_997 },
  ];
  for (const r of rows) {
    it(`${r.name}: m = ${r.m}, price ${r.price}`, () => {
      expect(multiplierPercentOf(r.reserved, r.total, r.tiers), 'multiplier').to.equal(r.m);
      expect(nightPrice(r.rate, r.reserved, r.total, r.tiers), 'price').to.equal(r.price);
      // The price as the contract writes it, computed independently: round(rate × m / 100), halves up.
      expect(r.price, 'the row agrees with the formula').to.equal(Math.round((r.rate * r.m) / 100));
    });
  }
});

describe('occupancy pricing: a stay of several nights and rooms', () => {
  // Nights 0..3 of a table of 20 rooms at 10,000, 10,000, 12,345, 10,000 with 0, 10, 16, 20 rooms reserved.
  const table = () => {
    const t = newNightTable(100, 110);
    t.total.fill(20);
    t.limit.fill(22);
    t.rate.fill(10_000);
    t.rate[2] = 12_345;
    [0, 10, 16, 20].forEach((r, i) => (t.reserved[i] = r));
    return t;
  };
  const rows: { name: string; from: number; to: number; rooms: number; tiers: PricingTier[]; total: number }[] = [
    { name: 'no tiers: the sum of the rates × rooms', from: 100, to: 104, rooms: 2, tiers: [], total: (10_000 * 3 + 12_345) * 2 },
    { name: 'each night at its own occupancy, × rooms', from: 100, to: 104, rooms: 3, tiers: steps, total: (10_000 + 12_000 + 18_518 + 20_000) * 3 },
    { name: 'one night', from: 102, to: 103, rooms: 1, tiers: steps, total: 18_518 },
    { name: 'a night at 12,345 × 150% = 18,517.5 rounds up per night, before × rooms', from: 102, to: 103, rooms: 10, tiers: steps, total: 185_180 },
  ];
  for (const r of rows) {
    it(`${r.name}: ${r.total}`, () => expect(priceOver(table(), r.from, r.to, r.rooms, r.tiers)).to.equal(r.total));
  }
});

describe('occupancy pricing: which tiers the writer refuses', () => {
  const rows: { name: string; tiers: PricingTier[]; fields: string[] }[] = [
    { name: 'no tiers', tiers: [], fields: [] },
    { name: 'ten tiers at the bounds', tiers: tiers([0, 50], [10, 500], [20, 100], [30, 100], [40, 100], [50, 100], [60, 100], [70, 100], [80, 100], [100, 100]), fields: [] },
    { name: 'eleven tiers', tiers: tiers(...Array.from({ length: 11 }, (_, i): [number, number] => [i * 10, 100])), fields: ['tiers'] },
    { name: 'occupancyPercent 101', tiers: tiers([101, 100]), fields: ['tiers.0.occupancyPercent'] },
    { name: 'occupancyPercent -1', tiers: tiers([50, 100], [-1, 100]), fields: ['tiers.1.occupancyPercent'] },
    { name: 'occupancyPercent 12.5', tiers: tiers([12.5, 100]), fields: ['tiers.0.occupancyPercent'] },
    { name: 'multiplierPercent 49', tiers: tiers([10, 49]), fields: ['tiers.0.multiplierPercent'] },
    { name: 'multiplierPercent 501', tiers: tiers([10, 501]), fields: ['tiers.0.multiplierPercent'] },
    { name: 'a repeated threshold', tiers: tiers([50, 120], [80, 150], [50, 130]), fields: ['tiers.2.occupancyPercent'] },
  ];
  for (const r of rows) {
    it(`${r.name}: ${r.fields.length ? r.fields.join(', ') : 'accepted'}`, () => expect(tierProblems(r.tiers).map((p) => p.field)).to.deep.equal(r.fields));
  }
});
