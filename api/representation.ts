// What the API shows of each domain object (the contract's shapes; owners and fingerprints stay inside).
import { paymentJson } from '../engine/core/payment-json.js';
import type { Hotel, Reservation, RoomType } from '../engine/core/types.js';

export const hotelJson = (h: Hotel) => ({
  id: h.id,
  name: h.name,
  city: h.city,
  country: h.country,
  timezone: h.timezone,
  currency: h.currency,
  overbookingPercent: h.overbookingPercent,
  cancellationPolicy: { ...h.cancellationPolicy },
  createdAt: h.createdAt,
});

export const roomTypeJson = (t: RoomType) => ({
  id: t.id,
  hotelId: t.hotelId,
  name: t.name,
  maxGuests: t.maxGuests,
  totalInventory: t.totalInventory,
  baseRate: t.baseRate,
});

export const reservationJson = (r: Reservation) => ({
  id: r.id,
  hotelId: r.hotelId,
  roomTypeId: r.roomTypeId,
  checkIn: r.checkIn,
  checkOut: r.checkOut,
  roomCount: r.roomCount,
  status: r.status,
  totalAmount: r.totalAmount,
  currency: r.currency,
  guest: { name: r.guest.name, email: r.guest.email },
  createdAt: r.createdAt,
  expiresAt: r.expiresAt,
  cancelReason: r.cancelReason,
  payment: paymentJson(r.payment),
  version: r.version,
});
