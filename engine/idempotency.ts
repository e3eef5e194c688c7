// The idempotency fingerprint of a reservation request: who sent it and the whole normalized body. A repeat with
// the same fingerprint gets the reservation; a different one gets `idempotency_mismatch`.
import { hash } from 'node:crypto';
import type { Owner, ReserveCommand } from './core/types.js';

export interface ReservationRequest {
  reservationId: string;
  hotelId: string;
  roomTypeId: string;
  checkIn: string;
  checkOut: string;
  roomCount: number;
  guest: { name: string; email: string };
}

export function fingerprintOf(owner: Owner, body: ReservationRequest): string {
  const canonical = JSON.stringify([
    owner.kind,
    owner.id,
    body.reservationId,
    body.hotelId,
    body.roomTypeId,
    body.checkIn,
    body.checkOut,
    body.roomCount,
    body.guest.name,
    body.guest.email,
  ]);
  return hash('sha256', canonical, 'base64url');
}

export function reserveCommandOf(owner: Owner, body: ReservationRequest): ReserveCommand {
  return {
    kind: 'reserve',
    hotelId: body.hotelId,
    reservationId: body.reservationId,
    roomTypeId: body.roomTypeId,
    checkIn: body.checkIn,
    checkOut: body.checkOut,
    roomCount: body.roomCount,
    guest: { name: body.guest.name, email: body.guest.email },
    owner,
    fingerprint: fingerprintOf(owner, body),
  };
}
