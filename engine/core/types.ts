// The domain's data: hotels, room types with their nightly inventory, reservations, and the commands, replies
// and events that move them. Everything here is plain data that survives JSON (jobs, replies, the outbox).

export type ReservationStatus = 'pending' | 'paid' | 'rejected' | 'canceled' | 'refunded';
export type PrincipalKind = 'admin' | 'staff' | 'partner' | 'guest';

export interface Hotel {
  id: string;
  name: string;
  city: string;
  country: string;
  timezone: string;
  currency: string;
  overbookingPercent: number;
  cancellationPolicy: CancellationPolicy;
  createdAt: string;
  version: number;
}

/**
 * What canceling a paid reservation costs: nothing when canceled at least `freeUntilHoursBefore` hours before the
 * start of the check-in day (hotel time), else `penaltyPercent` of the total (engine/core/payments.ts).
 */
export interface CancellationPolicy {
  freeUntilHoursBefore: number;
  penaltyPercent: number;
}

export const defaultCancellationPolicy: CancellationPolicy = { freeUntilHoursBefore: 0, penaltyPercent: 0 };

export interface RoomType {
  id: string;
  hotelId: string;
  name: string;
  maxGuests: number;
  totalInventory: number;
  baseRate: number;
}

/** Who made a reservation: its owner sees it; the fingerprint of a repeated request must name the same one. */
export interface Owner {
  kind: PrincipalKind;
  id: string;
}

export interface Reservation {
  id: string;
  hotelId: string;
  roomTypeId: string;
  checkIn: string;
  checkOut: string;
  roomCount: number;
  status: ReservationStatus;
  totalAmount: number;
  currency: string;
  guest: { name: string; email: string };
  owner: Owner;
  fingerprint: string;
  createdAt: string;
  expiresAt: string | null;
  cancelReason: string | null;
  /** null until a payment succeeds; then the charge, and its refund once canceled. */
  payment: Payment | null;
  /** The hotel's cancellation policy when the reservation was made: the one its refund follows. */
  policy: CancellationPolicy;
  /** The writer's bookkeeping of payment attempts and of provider calls still owed (never shown to clients). */
  money: MoneyState | null;
  /** When the payment reconciler must look at this reservation (an open attempt's deadline, a void or refund owed). */
  moneyDueAt: string | null;
  version: number;
  updatedAt: string;
}

export interface Payment {
  amount: number;
  /** The provider's reference of the charge. */
  reference: string;
  paidAt: string;
  refund: null | { status: 'pending' | 'done'; amount: number; reference?: string };
}

/** One call to the payment provider that the writer has let start: its idempotency key is `res:<id>:pay:<n>`. */
export interface PaymentAttempt {
  n: number;
  key: string;
  /** The client's Idempotency-Key, so that a retry with it joins this attempt (or gets its outcome again). */
  clientKey: string | null;
  amount: number;
  startedAt: string;
  /** Until then the hold cannot expire; after it the reconciler asks the provider how the attempt ended. */
  deadline: string;
}

export interface MoneyState {
  /** Attempts begun so far; the next one is number `attempts + 1`. */
  attempts: number;
  /** The attempt in flight, if any. */
  open: PaymentAttempt | null;
  /** How the last finished attempt ended, for a retry with its Idempotency-Key. */
  last: { n: number; clientKey: string | null; outcome: PaymentOutcome } | null;
  /** Provider keys of charges that must be voided (abandoned or late attempts), until the provider confirms. */
  voids: string[];
}

/** How a provider call ended, as the API or the reconciler saw it. `unknown`: no answer, so a charge may exist. */
export type PaymentOutcome = 'charged' | 'declined' | 'failed' | 'unknown';

/**
 * The nights of one room type, struct-of-arrays: index i is day `firstDay + i`. Counts fit 16 bits (inventory is
 * at most 10,000 and the limit at most 15,000) and rates 32 (at most 1e9 minor units), so two years of nights
 * take about 7.6 KB per room type. A night whose rate is 0 is one the room type does not have (every stored night's
 * rate is above 0): those before the first night it was made with.
 */
export interface NightTable {
  firstDay: number;
  total: Int16Array;
  limit: Int16Array;
  reserved: Int16Array;
  rate: Int32Array;
}

/**
 * A step of occupancy pricing: from `occupancyPercent` (of a night's total inventory reserved) on, one more room
 * costs `multiplierPercent` of the night's rate (engine/core/pricing.ts).
 */
export interface PricingTier {
  occupancyPercent: number;
  multiplierPercent: number;
}

export interface RoomTypeState {
  roomType: RoomType;
  nights: NightTable;
}

/** One hotel as its writer holds it. `reservations` holds at least every reservation the current job names. */
export interface HotelState {
  hotel: Hotel;
  /** Day numbers the night tables cover: [firstDay, endDay). */
  firstDay: number;
  endDay: number;
  roomTypes: Map<string, RoomTypeState>;
  reservations: Map<string, Reservation>;
  /** Occupancy pricing tiers, by occupancyPercent ascending; empty (the common case) prices every night at its rate. */
  pricing: PricingTier[];
}

// ---------------------------------------------------------------------------------------------------------------
// Commands: what the API asks a hotel's writer to do. A job carries an ordered list of them.

export interface HotelFields {
  name: string;
  city: string;
  country: string;
  timezone: string;
  currency: string;
  overbookingPercent: number;
  cancellationPolicy: CancellationPolicy;
}

export interface ReserveCommand {
  kind: 'reserve';
  hotelId: string;
  reservationId: string;
  roomTypeId: string;
  checkIn: string;
  checkOut: string;
  roomCount: number;
  guest: { name: string; email: string };
  owner: Owner;
  fingerprint: string;
}

export type Command =
  | { kind: 'createHotel'; hotelId: string; fields: HotelFields }
  | { kind: 'updateHotel'; hotelId: string; patch: Partial<HotelFields> }
  | { kind: 'deleteHotel'; hotelId: string }
  | {
      kind: 'createRoomType';
      hotelId: string;
      roomTypeId: string;
      name: string;
      maxGuests: number;
      totalInventory: number;
      baseRate: number;
    }
  | { kind: 'updateRoomType'; hotelId: string; roomTypeId: string; patch: { name?: string; maxGuests?: number } }
  | { kind: 'deleteRoomType'; hotelId: string; roomTypeId: string }
  | { kind: 'setInventory'; hotelId: string; roomTypeId: string; from: string; to: string; totalInventory: number }
  | { kind: 'setRates'; hotelId: string; roomTypeId: string; from: string; to: string; amount: number }
  /** Replace the hotel's occupancy pricing tiers (any order; kept by threshold). */
  | { kind: 'setPricing'; hotelId: string; tiers: PricingTier[] }
  | ReserveCommand
  /** Partner batch with `atomic: true`: every item held, or none. */
  | { kind: 'reserveAtomic'; hotelId: string; items: ReserveCommand[] }
  | { kind: 'cancel'; hotelId: string; reservationId: string }
  /**
   * Let a payment start: a pending, unexpired reservation with no attempt in flight gets a new attempt (a retry with
   * the same Idempotency-Key joins the one in flight, or gets its outcome again).
   */
  | { kind: 'beginPayment'; hotelId: string; reservationId: string; clientKey: string | null }
  /** Record how attempt `n` ended: charged → paid; declined → rejected; failed/unknown → still pending (void owed when unknown). */
  | {
      kind: 'completePayment';
      hotelId: string;
      reservationId: string;
      n: number;
      outcome: PaymentOutcome;
      reference?: string;
      /** Who saw the outcome: past an attempt's deadline only the reconciler settles it. */
      by: 'client' | 'reconciler';
    }
  /** The reconciler's confirmations: these charges are voided, and (with `refundReference`) the refund is done. */
  | { kind: 'settleMoney'; hotelId: string; reservationId: string; voided: string[]; refundReference?: string }
  /** Give back the rooms of a pending hold whose time ran out (sent by the shard owner's sweep). */
  | { kind: 'expireHold'; hotelId: string; reservationId: string };

export type CommandKind = Command['kind'];

// ---------------------------------------------------------------------------------------------------------------
// Replies: what the writer answers to each command, as data (mapped to HTTP in one table in api/).

export type RejectionCode =
  | 'validation_failed'
  | 'not_found'
  | 'sold_out'
  | 'conflict'
  | 'invalid_status'
  | 'hold_expired'
  | 'inventory_below_reserved'
  | 'idempotency_mismatch'
  | 'payment_declined'
  /** Not now: a moment later the same command can be decided (a payment while an earlier attempt's charge is voided). */
  | 'unavailable'
  /** The database refused to store a decision: a bug, answered 500, and nothing was applied. */
  | 'internal_error';

export interface Rejection {
  ok: false;
  code: RejectionCode;
  message: string;
  details?: Record<string, unknown>;
}

export interface Alternative {
  roomTypeId: string;
  checkIn: string;
  checkOut: string;
  available: number;
  totalPrice: number;
}

export type Accepted =
  | { ok: true; kind: 'hotel'; hotel: Hotel }
  | { ok: true; kind: 'roomType'; roomType: RoomType }
  | { ok: true; kind: 'deleted' }
  | { ok: true; kind: 'ari'; updatedNights: number; version: number }
  | { ok: true; kind: 'pricing'; tiers: PricingTier[]; version: number }
  | { ok: true; kind: 'reservation'; created: boolean; reservation: Reservation }
  /** A payment may go to the provider under `attempt.key` (`joined`: a retry of the attempt already in flight). */
  | { ok: true; kind: 'paymentAttempt'; reservation: Reservation; attempt: PaymentAttempt; joined: boolean }
  | { ok: true; kind: 'batch'; replies: Reply[] };

export type Reply = Accepted | Rejection;

// ---------------------------------------------------------------------------------------------------------------
// Events: what a decision changed. The writer applies them to its state (evolve), persists them (one transaction
// per job), and publishes them (cache, change stream, outbox). Each carries the hotel version it produced.

export type HotelEvent =
  | { type: 'hotel.created'; version: number; hotel: Hotel }
  | {
      type: 'hotel.updated';
      version: number;
      hotel: Hotel;
      limitsFromDay: number | null;
      timezoneChanged?: boolean;
      /**
       * With a new time zone: nights [fromDay, toDay) that room types lack from the first one the new window keeps,
       * and past the end of the window held up to the new window's end, created as roomType.created creates its own
       * (a night that exists is left as it is; memory keeps the nights of its window).
       */
      nightsCreated?: { roomType: RoomType; fromDay: number; toDay: number }[];
    }
  | { type: 'hotel.deleted'; version: number; hotelId: string }
  | { type: 'roomType.created'; version: number; roomType: RoomType; fromDay: number; toDay: number }
  | { type: 'roomType.updated'; version: number; roomType: RoomType }
  | { type: 'roomType.deleted'; version: number; hotelId: string; roomTypeId: string }
  | {
      type: 'inventory.set';
      version: number;
      hotelId: string;
      roomTypeId: string;
      fromDay: number;
      toDay: number;
      totalInventory: number;
      sellableLimit: number;
    }
  | {
      type: 'rates.set';
      version: number;
      hotelId: string;
      roomTypeId: string;
      fromDay: number;
      toDay: number;
      amount: number;
    }
  | { type: 'pricing.set'; version: number; hotelId: string; tiers: PricingTier[] }
  | { type: 'reservation.created'; version: number; reservation: Reservation }
  | {
      type: 'reservation.status';
      version: number;
      reservation: Reservation;
      /** Rooms given back to every night of the stay (0 when the move keeps them held). */
      released: number;
    }
  /** A change of a reservation's payment bookkeeping alone (no status change, no rooms moved, no outbox row). */
  | { type: 'reservation.money'; version: number; reservation: Reservation };

export interface Decision {
  reply: Reply;
  events: HotelEvent[];
}

/** What a decision may know besides the state: the instant, the bounds, and which ids other hotels use. */
export interface DecideContext {
  nowMs: number;
  horizonDays: number;
  holdTtlSeconds: number;
  /** The hotel that owns a reservation id in this shard database, if any (ids are unique per database). */
  reservationHotel(id: string): string | undefined;
  /** Whether a hotel or room type id named by a create was deleted (the writer holds only live ones). */
  wasDeleted?(id: string): boolean;
  /** How long an open payment attempt keeps its hold from expiring (PAYMENT_TIMEOUT_SECONDS). */
  paymentTimeoutSeconds?: number;
}
