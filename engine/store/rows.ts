// Row ↔ domain mapping for the shard database, shared by the writer (loads) and the readers (API queries).
import type { Hotel, MoneyState, Payment, PricingTier, Reservation, ReservationStatus, RoomType, PrincipalKind } from '../core/types.js';

export const hotelColumns =
  'id, name, city, country, timezone, currency, overbooking_percent, version, created_at, free_until_hours_before, penalty_percent';

export function hotelFromRow(r: Record<string, unknown>): Hotel {
  return {
    id: r.id as string,
    name: r.name as string,
    city: r.city as string,
    country: (r.country as string).trim(),
    timezone: r.timezone as string,
    currency: (r.currency as string).trim(),
    overbookingPercent: Number(r.overbooking_percent),
    cancellationPolicy: { freeUntilHoursBefore: Number(r.free_until_hours_before ?? 0), penaltyPercent: Number(r.penalty_percent ?? 0) },
    createdAt: (r.created_at as Date).toISOString(),
    version: Number(r.version),
  };
}

/** A hotel's occupancy pricing tiers as stored (jsonb, by threshold ascending; shard migration 004_occupancy_pricing). */
export function pricingTiersFromRow(r: Record<string, unknown>): PricingTier[] {
  const v = typeof r.pricing_tiers === 'string' ? (JSON.parse(r.pricing_tiers) as unknown) : r.pricing_tiers;
  if (!Array.isArray(v)) throw new Error(`assertion: pricing_tiers of hotel ${String(r.id)} is not an array`);
  return v.map((t: PricingTier) => ({ occupancyPercent: Number(t.occupancyPercent), multiplierPercent: Number(t.multiplierPercent) }));
}

export const roomTypeColumns = 'id, hotel_id, name, max_guests, total_inventory, base_rate';

export function roomTypeFromRow(r: Record<string, unknown>): RoomType {
  return {
    id: r.id as string,
    hotelId: r.hotel_id as string,
    name: r.name as string,
    maxGuests: Number(r.max_guests),
    totalInventory: Number(r.total_inventory),
    baseRate: Number(r.base_rate),
  };
}

/** The columns a commit inserts for a new reservation (its money columns start NULL). */
export const reservationInsertColumns =
  'id, hotel_id, room_type_id, check_in, check_out, room_count, status, total_amount, currency, guest_name, ' +
  'guest_email, owner_kind, owner_id, fingerprint, created_at, expires_at, cancel_reason, version, updated_at, ' +
  'policy_free_hours, policy_penalty_percent';

/** Every column of a reservation, as reservationFromRow reads them. */
export const reservationColumns = reservationInsertColumns + ', payment, money, money_due_at';

const jsonOf = <T>(v: unknown): T | null => (v === null || v === undefined ? null : typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

const iso = (v: unknown): string | null => (v === null || v === undefined ? null : (v as Date).toISOString());

export function reservationFromRow(r: Record<string, unknown>): Reservation {
  return {
    id: r.id as string,
    hotelId: r.hotel_id as string,
    roomTypeId: r.room_type_id as string,
    checkIn: r.check_in as string,
    checkOut: r.check_out as string,
    roomCount: Number(r.room_count),
    status: r.status as ReservationStatus,
    totalAmount: Number(r.total_amount),
    currency: (r.currency as string).trim(),
    guest: { name: r.guest_name as string, email: r.guest_email as string },
    owner: { kind: r.owner_kind as PrincipalKind, id: r.owner_id as string },
    fingerprint: r.fingerprint as string,
    createdAt: iso(r.created_at) as string,
    expiresAt: iso(r.expires_at),
    cancelReason: (r.cancel_reason as string | null) ?? null,
    payment: jsonOf<Payment>(r.payment),
    policy: { freeUntilHoursBefore: Number(r.policy_free_hours ?? 0), penaltyPercent: Number(r.policy_penalty_percent ?? 0) },
    money: jsonOf<MoneyState>(r.money),
    moneyDueAt: iso(r.money_due_at),
    version: Number(r.version),
    updatedAt: iso(r.updated_at) as string,
  };
}
