import { parseDay } from './dates.js';
import { newNightTable, sellableLimit } from './night-table.js';
import type { Hotel, HotelEvent, HotelState, NightTable, PricingTier, RoomType } from './types.js';

/** A fresh state for a hotel, its night tables covering [firstDay, endDay), with its pricing tiers (none by default). */
export function newHotelState(hotel: Hotel, firstDay: number, endDay: number, pricing: PricingTier[] = []): HotelState {
  return { hotel, firstDay, endDay, roomTypes: new Map(), reservations: new Map(), pricing };
}

function addToNights(state: HotelState, roomTypeId: string, checkIn: string, checkOut: string, delta: number): void {
  const rt = state.roomTypes.get(roomTypeId);
  if (!rt) return;
  const t = rt.nights;
  const from = Math.max(parseDay(checkIn) as number, t.firstDay);
  const to = Math.min(parseDay(checkOut) as number, t.firstDay + t.total.length);
  for (let d = from; d < to; d++) t.reserved[d - t.firstDay] += delta;
}

/**
 * Give a room type's nights [fromDay, toDay), as far as its table covers them, its inventory and base rate, nothing
 * reserved: the nights roomType.created makes, and those a hotel's new time zone needs (hotel.updated).
 */
function createNights(state: HotelState, t: NightTable, roomType: RoomType, fromDay: number, toDay: number): void {
  const limit = sellableLimit(roomType.totalInventory, state.hotel.overbookingPercent);
  for (let d = Math.max(fromDay, t.firstDay); d < Math.min(toDay, t.firstDay + t.total.length); d++) {
    const i = d - t.firstDay;
    t.total[i] = roomType.totalInventory;
    t.limit[i] = limit;
    t.rate[i] = roomType.baseRate;
  }
}

/**
 * Apply one event to the state (in place) and return the state, or undefined when the hotel is gone. The only
 * function that changes a HotelState; decide() is what makes sure the events are allowed.
 */
export function evolve(state: HotelState | undefined, e: HotelEvent, firstDay: number, endDay: number): HotelState | undefined {
  if (e.type === 'hotel.created') return newHotelState(e.hotel, firstDay, endDay);
  if (!state) throw new Error(`assertion: event ${e.type} for a hotel that is not loaded`);
  state.hotel = { ...state.hotel, version: e.version };
  switch (e.type) {
    case 'hotel.updated': {
      state.hotel = e.hotel;
      if (e.limitsFromDay !== null) {
        for (const rt of state.roomTypes.values()) {
          const t = rt.nights;
          for (let i = Math.max(0, e.limitsFromDay - t.firstDay); i < t.total.length; i++) {
            t.limit[i] = sellableLimit(t.total[i], e.hotel.overbookingPercent);
          }
        }
      }
      // Only nights the room type lacks (decide), under the hotel's new overbooking if it changed too.
      for (const n of e.nightsCreated ?? []) {
        const rt = state.roomTypes.get(n.roomType.id);
        if (rt) createNights(state, rt.nights, n.roomType, n.fromDay, n.toDay);
      }
      return state;
    }
    case 'hotel.deleted':
      return undefined;
    case 'roomType.created': {
      const t = newNightTable(state.firstDay, state.endDay);
      createNights(state, t, e.roomType, e.fromDay, e.toDay);
      state.roomTypes.set(e.roomType.id, { roomType: e.roomType, nights: t });
      return state;
    }
    case 'roomType.updated': {
      const rt = state.roomTypes.get(e.roomType.id);
      if (rt) rt.roomType = e.roomType;
      return state;
    }
    case 'roomType.deleted':
      state.roomTypes.delete(e.roomTypeId);
      return state;
    case 'inventory.set': {
      const rt = state.roomTypes.get(e.roomTypeId);
      if (!rt) return state;
      const t = rt.nights;
      for (let d = e.fromDay; d < e.toDay; d++) {
        t.total[d - t.firstDay] = e.totalInventory;
        t.limit[d - t.firstDay] = e.sellableLimit;
      }
      return state;
    }
    case 'rates.set': {
      const rt = state.roomTypes.get(e.roomTypeId);
      if (!rt) return state;
      const t = rt.nights;
      for (let d = e.fromDay; d < e.toDay; d++) t.rate[d - t.firstDay] = e.amount;
      return state;
    }
    case 'pricing.set':
      state.pricing = e.tiers;
      return state;
    case 'reservation.created': {
      const r = e.reservation;
      state.reservations.set(r.id, r);
      addToNights(state, r.roomTypeId, r.checkIn, r.checkOut, r.roomCount);
      return state;
    }
    case 'reservation.status': {
      const r = e.reservation;
      state.reservations.set(r.id, r);
      if (e.released > 0) addToNights(state, r.roomTypeId, r.checkIn, r.checkOut, -e.released);
      return state;
    }
    case 'reservation.money':
      state.reservations.set(e.reservation.id, e.reservation);
      return state;
  }
}
