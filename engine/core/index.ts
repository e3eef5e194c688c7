export * from './types.js';
export * from './dates.js';
export * from './night-table.js';
export * from './pricing.js';
export { decide } from './decide.js';
export { evolve, newHotelState } from './evolve.js';
export { findAlternatives } from './alternatives.js';
export { assertWithinLimits, assertReservedMatchesReservations, holdingStatuses } from './invariants.js';
