// `POST /v1/reservations/:id/payment`. The hotel's writer lets a payment start (beginPayment records attempt n with
// its provider key), the provider is called outside any transaction, and the writer records how it ended
// (completePayment). What can go wrong in between (a crash, no answer, a hold running out) is settled by the
// reconciler from what the writer wrote down (engine/core/payments.ts, engine/payment-reconciler.ts).
import { createHash } from 'node:crypto';
import type { PaymentOutcome, Reservation } from '../engine/core/types.js';
import type { Actor } from '../engine/jobs.js';
import { callProvider, ProviderUnavailableError } from '../engine/payment-provider.js';
import { claimKeyWithAnswer, keepAnswer } from '../engine/store/catalog-store.js';
import type { Answer } from './answer.js';
import { requirePayer, type Principal } from './auth.js';
import type { ApiContext } from './context.js';
import { ApiError, errorAnswer, hotelDeleted, notFound } from './errors.js';
import { acceptedOf } from './outcome.js';
import { reservationJson } from './representation.js';

const retryLater = (message: string) => new ApiError('unavailable', message, undefined, { 'Retry-After': '1' });

/** Pay a reservation, honouring an Idempotency-Key: the same key and body get the first answer again. */
export async function payReservation(
  ctx: ApiContext,
  p: Principal,
  id: string,
  paymentMethod: string,
  key: string | undefined,
  requestId?: string,
): Promise<Answer> {
  const found = await ctx.reader.reservation(id);
  if (!found) throw notFound('reservation');
  requirePayer(p, found);
  const actor = { kind: p.kind, id: p.id };
  if (!key) return answerOf(() => pay(ctx, found, paymentMethod, null, requestId, actor));
  const owner = { kind: p.kind, id: p.id };
  const fingerprint = createHash('sha256').update(JSON.stringify([id, paymentMethod])).digest('base64url');
  const claim = await claimKeyWithAnswer(ctx.catalog.pool, 'payment', owner, key, fingerprint);
  if (!claim.matches) throw new ApiError('idempotency_mismatch', 'This Idempotency-Key was already used with a different body.');
  if (claim.answer) return claim.answer as Answer;
  // The writer knows the key too, scoped to its principal: a retry joins the attempt in flight, or gets its outcome.
  const clientKey = createHash('sha256').update(JSON.stringify([owner.kind, owner.id, key])).digest('base64url');
  const answer = await answerOf(() => pay(ctx, found, paymentMethod, clientKey, requestId, actor));
  // A 503 is not kept: nothing was charged (or the charge is being voided), and the same key may pay again.
  if (answer.status !== 503) {
    await keepAnswer(ctx.catalog.pool, 'payment', owner, key, { status: answer.status, body: answer.body }).catch((err: Error) =>
      ctx.log.warn('could not keep a payment answer', { reservationId: id, err: err.message }),
    );
  }
  return answer;
}

/** The answer of `fn`, a contract error included (so that it can be kept under its Idempotency-Key). */
async function answerOf(fn: () => Promise<Answer>): Promise<Answer> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiError) return errorAnswer(err);
    throw err;
  }
}

async function pay(
  ctx: ApiContext,
  found: Reservation,
  paymentMethod: string,
  clientKey: string | null,
  requestId: string | undefined,
  actor: Actor,
): Promise<Answer> {
  const hotelId = found.hotelId;
  const sent = await ctx.router.send({ kind: 'beginPayment', hotelId, reservationId: found.id, clientKey }, requestId, actor);
  // Its hotel was deleted (the reservation is there, its writer no longer knows the hotel).
  if (sent.kind === 'reply' && !sent.reply.ok && sent.reply.code === 'not_found') throw hotelDeleted(found.status);
  const begun = acceptedOf(sent, 'payment');
  if (begun.kind === 'reservation') return { status: 200, body: reservationJson(begun.reservation) };
  if (begun.kind !== 'paymentAttempt') throw new Error('assertion: beginPayment answered ' + begun.kind);
  const { attempt, reservation } = begun;
  let outcome: PaymentOutcome;
  let reference: string | undefined;
  try {
    const charged = await callProvider('charge', ctx.config.paymentProviderTimeoutMs, () =>
      ctx.payments.charge({ key: attempt.key, reservationId: found.id, amount: attempt.amount, currency: reservation.currency, paymentMethod }),
    );
    outcome = charged.status === 'charged' ? 'charged' : charged.status === 'declined' ? 'declined' : 'failed';
    if (charged.status === 'charged') reference = charged.reference;
  } catch (err) {
    if (!(err instanceof ProviderUnavailableError)) throw err;
    ctx.log.warn('payment provider unavailable', { reservationId: found.id, err: err.message });
    outcome = 'unknown';
  }
  const done = acceptedOf(
    await ctx.router.send({ kind: 'completePayment', hotelId, reservationId: found.id, n: attempt.n, outcome, reference, by: 'client' }, requestId, actor),
    'payment',
  );
  if (done.kind !== 'reservation') throw new Error('assertion: completePayment answered ' + done.kind);
  const now = done.reservation;
  if (outcome === 'charged' && now.status === 'paid' && now.payment?.reference === reference) {
    return { status: 200, body: reservationJson(now) };
  }
  if (now.status !== 'pending') {
    // Decided otherwise meanwhile (a cancel, a hold expiry, another payment, the reconciler): the writer owes any
    // charge of this attempt a void, and the answer is the reservation's status, not a provider outage.
    throw new ApiError(
      'invalid_status',
      `The reservation is no longer awaiting payment (status ${now.status}); a charge made by this payment, if any, is voided.`,
      { status: now.status },
    );
  }
  if (outcome === 'charged') {
    throw retryLater(
      'the payment could not be recorded in time; it is being settled with the provider (a charge that does not pay the reservation is voided): look at the reservation shortly, and pay again if it is still pending',
    );
  }
  throw retryLater('the payment provider could not be reached; nothing was charged (a charge it may have made is voided); try again');
}
