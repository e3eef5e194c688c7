// Money, decided by the hotel's writer like everything else about a reservation. The provider is called outside
// any transaction, between two commands:
//
//   beginPayment     a pending, unexpired reservation with nothing in flight gets attempt n, whose provider
//                    idempotency key is `res:<id>:pay:<n>`; while it is open the hold cannot expire (until its
//                    deadline, PAYMENT_TIMEOUT_SECONDS after it began)
//   (provider)       charge under that key, by the API
//   completePayment  charged → paid; declined → rejected; failed or unknown → still pending, and a charge that may
//                    exist (unknown) or that came too late is owed a void
//   settleMoney      the reconciler's confirmations: voids done, the refund done
//
// Whatever is owed to the provider (an attempt past its deadline, a void, a refund) is written on the reservation,
// and `moneyDueAt` is when the reconciler (engine/payment-reconciler.ts) must look at it: the timer lives in the
// database. For every reservation, once nothing is owed, charged − refunded − voided is `totalAmount` when paid,
// the penalty when refunded, and 0 otherwise (test/unit/engine-simulation.test.ts checks it after every step).
import { dayStartMs, parseDay } from './dates.js';
import type {
  Command,
  DecideContext,
  Decision,
  HotelEvent,
  HotelState,
  MoneyState,
  Payment,
  Reservation,
} from './types.js';

/** How long an open attempt keeps its hold from expiring when the context does not say (PAYMENT_TIMEOUT_SECONDS). */
export const paymentTimeoutSecondsDefault = 120;

/** The provider idempotency key of a reservation's attempt n. */
export const paymentKey = (reservationId: string, n: number): string => `res:${reservationId}:pay:${n}`;
/** The provider idempotency key of a reservation's refund (there is at most one). */
export const refundKey = (reservationId: string): string => `res:${reservationId}:refund`;

const noMoney: MoneyState = { attempts: 0, open: null, last: null, voids: [] };

/**
 * The refund owed when a paid reservation is canceled at `nowMs`: all of it when canceled at least
 * `freeUntilHoursBefore` hours before the check-in day starts in the hotel's time zone, else the amount less
 * `floor(amount × penaltyPercent / 100)`, under the policy the reservation was made with.
 */
export function refundAmountOf(r: Reservation, timeZone: string, nowMs: number): number {
  const amount = r.payment?.amount ?? r.totalAmount;
  const start = dayStartMs(parseDay(r.checkIn) as number, timeZone);
  if (nowMs <= start - r.policy.freeUntilHoursBefore * 3_600_000) return amount;
  return amount - Math.floor((amount * r.policy.penaltyPercent) / 100);
}

/** When the reconciler must look at a reservation: at once while a void or refund is owed, else an open attempt's deadline. */
export function moneyDueAtOf(money: MoneyState | null, payment: Payment | null, nowMs: number): string | null {
  if ((money && money.voids.length > 0) || payment?.refund?.status === 'pending') return new Date(nowMs).toISOString();
  return money?.open ? money.open.deadline : null;
}

/** The reservation with new money bookkeeping (and status, when given), its due time recomputed. */
export function withMoney(
  r: Reservation,
  ctx: DecideContext,
  change: { money?: MoneyState; payment?: Payment | null; status?: Reservation['status']; cancelReason?: string | null },
): Reservation {
  const money = change.money ?? r.money;
  const payment = change.payment === undefined ? r.payment : change.payment;
  const status = change.status ?? r.status;
  return {
    ...r,
    status,
    cancelReason: change.cancelReason === undefined ? r.cancelReason : change.cancelReason,
    expiresAt: status === 'pending' ? r.expiresAt : null,
    payment,
    money,
    moneyDueAt: moneyDueAtOf(money, payment, ctx.nowMs),
    // The version counts changes a client can see (status, payment); bookkeeping alone does not move it.
    version: status !== r.status || payment !== r.payment ? r.version + 1 : r.version,
    updatedAt: new Date(ctx.nowMs).toISOString(),
  };
}

const holdRunOut = (r: Reservation, ctx: DecideContext) =>
  r.status === 'pending' && r.expiresAt !== null && Date.parse(r.expiresAt) <= ctx.nowMs;

/** Whether a pending hold's time ran out with no payment attempt in flight (an open attempt keeps it). */
export function holdExpires(r: Reservation, ctx: DecideContext): boolean {
  return holdRunOut(r, ctx) && !r.money?.open;
}

/** A pending hold whose time ran out becomes canceled with cancelReason hold_expired; its rooms go back. */
export function expire(r: Reservation, ctx: DecideContext, version: number, money?: MoneyState): { next: Reservation; events: HotelEvent[] } {
  const next = withMoney(r, ctx, { status: 'canceled', cancelReason: 'hold_expired', money });
  return { next, events: [{ type: 'reservation.status', version, reservation: next, released: r.roomCount }] };
}

/** The reservation a money command names, with its bookkeeping, or the not_found decision. */
function named(state: HotelState, reservationId: string): { r: Reservation; m: MoneyState } | Decision {
  const r = state.reservations.get(reservationId);
  return r ? { r, m: r.money ?? noMoney } : { reply: rejection('not_found', 'Reservation not found.'), events: [] };
}

const reservationReply = (r: Reservation): Decision['reply'] => ({ ok: true, kind: 'reservation', created: false, reservation: r });

const rejection = (code: 'invalid_status' | 'hold_expired' | 'payment_declined' | 'not_found' | 'unavailable', message: string, details?: Record<string, unknown>): Decision['reply'] =>
  details ? { ok: false, code, message, details } : { ok: false, code, message };

const holdExpiredReply = () =>
  rejection('hold_expired', 'The hold ran out before payment; the rooms were given back.', { status: 'canceled' });
const declinedReply = () =>
  rejection('payment_declined', 'The payment was declined; the reservation is rejected.', { status: 'rejected' });
export const invalidStatus = (r: Reservation, why: string): Decision['reply'] =>
  rejection('invalid_status', `${why[0].toUpperCase()}${why.slice(1)} (status ${r.status}).`, { status: r.status });

export function decideBeginPayment(
  state: HotelState,
  cmd: Extract<Command, { kind: 'beginPayment' }>,
  ctx: DecideContext,
  version: number,
): Decision {
  const found = named(state, cmd.reservationId);
  if ('reply' in found) return found;
  const { r, m } = found;
  const sameKey = cmd.clientKey !== null && m.last?.clientKey === cmd.clientKey;
  if (r.status === 'paid') {
    // A retry of the payment that paid it (same Idempotency-Key) gets its answer again; any other is paying twice.
    if (sameKey && m.last?.outcome === 'charged') return { reply: reservationReply(r), events: [] };
    return { reply: invalidStatus(r, 'the reservation is already paid'), events: [] };
  }
  if (r.status === 'rejected' && sameKey && m.last?.outcome === 'declined') return { reply: declinedReply(), events: [] };
  if (r.status === 'canceled' && r.cancelReason === 'hold_expired') return { reply: holdExpiredReply(), events: [] };
  if (r.status !== 'pending') return { reply: invalidStatus(r, 'only a pending reservation can be paid'), events: [] };
  if (m.open) {
    if (cmd.clientKey !== null && m.open.clientKey === cmd.clientKey) {
      return { reply: { ok: true, kind: 'paymentAttempt', reservation: r, attempt: m.open, joined: true }, events: [] };
    }
    return {
      reply: rejection('invalid_status', 'A payment of this reservation is already in progress.', { status: r.status, paymentInProgress: true }),
      events: [],
    };
  }
  if (holdRunOut(r, ctx)) {
    // The hold ran out before the payment arrived: it expires now, in the same decision, never racing it.
    return { reply: holdExpiredReply(), events: expire(r, ctx, version).events };
  }
  if (m.voids.length > 0) {
    // An earlier attempt may have charged (its outcome is unknown, or it charged after it was given up) and is owed
    // a void, which the reconciler makes within a second or two. A new charge before that void would leave the card
    // charged twice for a while: a reservation is charged at most once, so the payment waits for the void.
    return {
      reply: rejection('unavailable', 'An earlier payment attempt of this reservation is being voided with the provider; pay again in a moment.', {
        status: r.status,
      }),
      events: [],
    };
  }
  const n = m.attempts + 1;
  const timeoutMs = (ctx.paymentTimeoutSeconds ?? paymentTimeoutSecondsDefault) * 1000;
  const attempt = {
    n,
    key: paymentKey(r.id, n),
    clientKey: cmd.clientKey,
    amount: r.totalAmount,
    startedAt: new Date(ctx.nowMs).toISOString(),
    deadline: new Date(ctx.nowMs + timeoutMs).toISOString(),
  };
  const next = withMoney(r, ctx, { money: { ...m, attempts: n, open: attempt } });
  return {
    reply: { ok: true, kind: 'paymentAttempt', reservation: next, attempt, joined: false },
    events: [{ type: 'reservation.money', version, reservation: next }],
  };
}

export function decideCompletePayment(
  state: HotelState,
  cmd: Extract<Command, { kind: 'completePayment' }>,
  ctx: DecideContext,
  version: number,
): Decision {
  const found = named(state, cmd.reservationId);
  if ('reply' in found) return found;
  const { r, m } = found;
  const a = m.open;
  // Past its deadline an open attempt belongs to the reconciler, which may be voiding it: only it settles it then.
  const settles = a !== null && a.n === cmd.n && (cmd.by === 'reconciler' || Date.parse(a.deadline) > ctx.nowMs);
  if (settles) {
    const last = { n: a.n, clientKey: a.clientKey, outcome: cmd.outcome };
    if (cmd.outcome === 'charged') {
      // Reached the writer before the hold's expiresAt (the attempt is open), so no expiry since beats it.
      const payment: Payment = { amount: a.amount, reference: cmd.reference ?? a.key, paidAt: new Date(ctx.nowMs).toISOString(), refund: null };
      // The key that paid is never owed a void.
      const next = withMoney(r, ctx, { status: 'paid', payment, money: { ...m, open: null, last, voids: m.voids.filter((k) => k !== a.key) } });
      return { reply: reservationReply(next), events: [{ type: 'reservation.status', version, reservation: next, released: 0 }] };
    }
    if (cmd.outcome === 'declined') {
      const next = withMoney(r, ctx, { status: 'rejected', money: { ...m, open: null, last } });
      return { reply: declinedReply(), events: [{ type: 'reservation.status', version, reservation: next, released: r.roomCount }] };
    }
    // No charge (failed), or none known (unknown: a charge may exist, so it is owed a void).
    const money: MoneyState = { ...m, open: null, last, voids: cmd.outcome === 'unknown' ? addKey(m.voids, a.key) : m.voids };
    if (holdRunOut(r, ctx)) return { reply: holdExpiredReply(), events: expire(r, ctx, version, money).events };
    const next = withMoney(r, ctx, { money });
    return { reply: reservationReply(next), events: [{ type: 'reservation.money', version, reservation: next }] };
  }
  // Attempt n was settled before (a retry with the same Idempotency-Key, the reconciler, a cancel): a charge that
  // did not pay this reservation, or one that may exist (unknown), is owed a void.
  const paidByIt = r.payment !== null && m.last?.n === cmd.n && m.last.outcome === 'charged';
  // Still open (past its deadline): the reconciler settles it by asking the provider, and owes nothing yet.
  const stillOpen = a !== null && a.n === cmd.n;
  const owesVoid =
    !stillOpen &&
    ((cmd.outcome === 'charged' && !(r.payment && r.payment.reference === cmd.reference)) || (cmd.outcome === 'unknown' && !paidByIt));
  const events: HotelEvent[] = [];
  let now = r;
  const key = paymentKey(r.id, cmd.n);
  if (owesVoid && !m.voids.includes(key)) {
    now = withMoney(r, ctx, { money: { ...m, voids: addKey(m.voids, key) } });
    events.push({ type: 'reservation.money', version, reservation: now });
  }
  if (now.status === 'rejected' && m.last?.n === cmd.n && m.last.outcome === 'declined') return { reply: declinedReply(), events };
  if (now.status === 'canceled' && now.cancelReason === 'hold_expired') return { reply: holdExpiredReply(), events };
  return { reply: reservationReply(now), events };
}

export function decideSettleMoney(
  state: HotelState,
  cmd: Extract<Command, { kind: 'settleMoney' }>,
  ctx: DecideContext,
  version: number,
): Decision {
  const found = named(state, cmd.reservationId);
  if ('reply' in found) return found;
  const { r, m } = found;
  const voids = m.voids.filter((k) => !cmd.voided.includes(k));
  const refund = r.payment?.refund;
  const refundDone = cmd.refundReference !== undefined && refund?.status === 'pending';
  if (voids.length === m.voids.length && !refundDone) return { reply: reservationReply(r), events: [] };
  const payment = refundDone && r.payment ? { ...r.payment, refund: { status: 'done' as const, amount: refund.amount, reference: cmd.refundReference } } : r.payment;
  const next = withMoney(r, ctx, { money: { ...m, voids }, payment });
  return { reply: reservationReply(next), events: [{ type: 'reservation.money', version, reservation: next }] };
}

/**
 * Cancel by its owner: pending → canceled (an attempt in flight is abandoned and its charge, if any, voided);
 * paid → refunded, with the refund the policy allows owed to the reconciler (done at once when it is 0).
 */
export function cancelled(r: Reservation, timeZone: string, ctx: DecideContext): Reservation {
  if (r.status === 'paid' && r.payment) {
    const amount = refundAmountOf(r, timeZone, ctx.nowMs);
    const payment: Payment = { ...r.payment, refund: amount > 0 ? { status: 'pending', amount } : { status: 'done', amount: 0 } };
    return withMoney(r, ctx, { status: 'refunded', cancelReason: 'requested', payment });
  }
  const m = r.money;
  const money = m?.open ? { ...m, open: null, last: { n: m.open.n, clientKey: m.open.clientKey, outcome: 'unknown' as const }, voids: addKey(m.voids, m.open.key) } : m ?? undefined;
  return withMoney(r, ctx, { status: r.status === 'paid' ? 'refunded' : 'canceled', cancelReason: 'requested', money: money ?? undefined });
}

const addKey = (keys: string[], key: string) => (keys.includes(key) ? keys : [...keys, key]);
