// Hotels, room types, keys and stays for tests, made through the public API.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { HttpClient } from './http.js';

export function dayFromToday(offset: number): string {
  const d = new Date();
  // Tests use UTC hotels: "today" is the UTC date.
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + offset)).toISOString().slice(0, 10);
}

export async function createHotel(admin: HttpClient, overrides: Record<string, unknown> = {}): Promise<any> {
  const r = await admin.post('/v1/hotels', {
    name: 'Test Hotel',
    city: 'Lyon',
    country: 'FR',
    timezone: 'UTC',
    currency: 'EUR',
    ...overrides,
  });
  expect(r.status, JSON.stringify(r.body)).to.equal(201);
  return r.body;
}

export async function createRoomType(admin: HttpClient, hotelId: string, overrides: Record<string, unknown> = {}): Promise<any> {
  const r = await admin.post(`/v1/hotels/${hotelId}/room-types`, {
    name: 'Double',
    maxGuests: 2,
    totalInventory: 20,
    baseRate: 15000,
    ...overrides,
  });
  expect(r.status, JSON.stringify(r.body)).to.equal(201);
  return r.body;
}

export async function createKey(admin: HttpClient, role: 'admin' | 'staff' | 'partner', hotelIds: string[] = []): Promise<string> {
  const r = await admin.post('/v1/api-keys', { name: `${role} key`, role, hotelIds });
  expect(r.status, JSON.stringify(r.body)).to.equal(201);
  return r.body.token as string;
}

export async function createGuest(client: HttpClient): Promise<{ token: string; userId: string }> {
  const email = `guest-${randomUUID()}@example.com`;
  const u = await client.as(undefined).post('/v1/users', { email, password: 'correct horse battery', name: 'Guest' });
  expect(u.status, JSON.stringify(u.body)).to.equal(201);
  const s = await client.as(undefined).post('/v1/sessions', { email, password: 'correct horse battery' });
  expect(s.status, JSON.stringify(s.body)).to.equal(201);
  return { token: s.body.token, userId: s.body.userId };
}

export function reservationBody(hotelId: string, roomTypeId: string, checkIn: string, checkOut: string, extra: Record<string, unknown> = {}) {
  return {
    reservationId: randomUUID(),
    hotelId,
    roomTypeId,
    checkIn,
    checkOut,
    roomCount: 1,
    guest: { name: 'Ada Lovelace', email: 'ada@example.com' },
    ...extra,
  };
}
