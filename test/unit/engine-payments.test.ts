// Payments, refunds and hold expiry in the pure core: the table of every (status × command) pair, then the edges
// of time (hold expiry, attempt deadlines, the cancellation policy's window).
import { expect } from 'chai';
import {
  assertReservedMatchesReservations,
  dayStartMs,
  parseDay,
  type Command,
  type PaymentOutcome,
} from '../../engine/core/index.js';
import { paymentKey, paymentTimeoutSecondsDefault } from '../../engine/core/payments.js';
import { World, cancel, createHotel, createRoomType, deleteHotel, reserve, plus, updateHotel, NOW_MS, HOLD_TTL_SECONDS, HOUR_MS } from './engine-harness.js';

const H = 'hotel-1';
const RT = 'rt-1';
const afterHold = NOW_MS + HOLD_TTL_SECONDS * 1000;

const begin = (clientKey: string | null = null, reservationId = 'r1'): Command => ({ kind: 'beginPayment', hotelId: H, reservationId, clientKey });
const complete = (outcome: PaymentOutcome, o: { n?: number; reference?: string; by?: 'client' | 'reconciler' } = {}): Command => ({
  kind: 'completePayment',
  hotelId: H,
  reservationId: 'r1',
  n: o.n ?? 1,
  outcome,
  reference: o.reference ?? (outcome === 'charged' ? 'ch1' : undefined),
  by: o.by ?? 'client',
});
const settle = (voided: string[], refundReference?: string): Command => ({ kind: 'settleMoney', hotelId: H, reservationId: 'r1', voided, refundReference });
const expireHold = (): Command => ({ kind: 'expireHold', hotelId: H, reservationId: 'r1' });

function world(policy = { freeUntilHoursBefore: 0, penaltyPercent: 0 }): World {
  const w = new World();
  w.ok(createHotel(H, { overbookingPercent: 0, cancellationPolicy: policy }));
  w.ok(createRoomType(H, RT, 3));
  w.ok(reserve({ hotelId: H, reservationId: 'r1', roomTypeId: RT, checkIn: plus(2), checkOut: plus(4), roomCount: 2 }));
  return w;
}

/** Each setup leaves r1 in one status (or with an attempt in flight). */
const setups: Record<string, (w: World) => void> = {
  pending: () => {},
  paying: (w) => void w.ok(begin('k')),
  paid: (w) => {
    w.ok(begin('k'));
    w.ok(complete('charged'));
  },
  rejected: (w) => {
    w.ok(begin('k'));
    w.run(complete('declined'));
  },
  canceled: (w) => void w.ok(cancel(H, 'r1')),
  expired: (w) => {
    w.nowMs = afterHold;
    w.ok(expireHold());
  },
  refunded: (w) => {
    w.ok(begin('k'));
    w.ok(complete('charged'));
    w.ok(cancel(H, 'r1'));
  },
};

const commands: Record<string, Command> = {
  begin: begin(),
  'begin with the same key': begin('k'),
  'complete charged': complete('charged'),
  'complete declined': complete('declined'),
  'complete failed': complete('failed'),
  'complete unknown': complete('unknown'),
  settle: settle([paymentKey('r1', 1)], 'rf1'),
  cancel: cancel(H, 'r1'),
  expireHold: expireHold(),
};

// `reply → status afterwards`; `ok` is an accepted reply, anything else the rejection's code.
const matrix: Record<string, Record<string, string>> = {
  pending: {
    begin: 'ok → pending',
    'begin with the same key': 'ok → pending',
    'complete charged': 'ok → pending',
    'complete declined': 'ok → pending',
    'complete failed': 'ok → pending',
    'complete unknown': 'ok → pending',
    settle: 'ok → pending',
    cancel: 'ok → canceled',
    expireHold: 'ok → canceled',
  },
  paying: {
    begin: 'invalid_status → pending',
    'begin with the same key': 'ok → pending',
    'complete charged': 'ok → paid',
    'complete declined': 'payment_declined → rejected',
    'complete failed': 'ok → pending',
    'complete unknown': 'ok → pending',
    settle: 'ok → pending',
    cancel: 'ok → canceled',
    expireHold: 'ok → pending',
  },
  paid: {
    begin: 'invalid_status → paid',
    'begin with the same key': 'ok → paid',
    'complete charged': 'ok → paid',
    'complete declined': 'ok → paid',
    'complete failed': 'ok → paid',
    'complete unknown': 'ok → paid',
    settle: 'ok → paid',
    cancel: 'ok → refunded',
    expireHold: 'ok → paid',
  },
  rejected: {
    begin: 'invalid_status → rejected',
    'begin with the same key': 'payment_declined → rejected',
    'complete charged': 'payment_declined → rejected',
    'complete declined': 'payment_declined → rejected',
    'complete failed': 'payment_declined → rejected',
    'complete unknown': 'payment_declined → rejected',
    settle: 'ok → rejected',
    cancel: 'invalid_status → rejected',
    expireHold: 'ok → rejected',
  },
  canceled: {
    begin: 'invalid_status → canceled',
    'begin with the same key': 'invalid_status → canceled',
    'complete charged': 'ok → canceled',
    'complete declined': 'ok → canceled',
    'complete failed': 'ok → canceled',
    'complete unknown': 'ok → canceled',
    settle: 'ok → canceled',
    cancel: 'ok → canceled',
    expireHold: 'ok → canceled',
  },
  expired: {
    begin: 'hold_expired → canceled',
    'begin with the same key': 'hold_expired → canceled',
    'complete charged': 'hold_expired → canceled',
    'complete declined': 'hold_expired → canceled',
    'complete failed': 'hold_expired → canceled',
    'complete unknown': 'hold_expired → canceled',
    settle: 'ok → canceled',
    cancel: 'ok → canceled',
    expireHold: 'ok → canceled',
  },
  refunded: {
    begin: 'invalid_status → refunded',
    'begin with the same key': 'invalid_status → refunded',
    'complete charged': 'ok → refunded',
    'complete declined': 'ok → refunded',
    'complete failed': 'ok → refunded',
    'complete unknown': 'ok → refunded',
    settle: 'ok → refunded',
    cancel: 'ok → refunded',
    expireHold: 'ok → refunded',
  },
};

describe('engine core: every (status × payment command) pair', () => {
  for (const [setupName, setup] of Object.entries(setups)) {
    for (const [commandName, cmd] of Object.entries(commands)) {
      const expected = matrix[setupName][commandName];
      it(`${setupName} × ${commandName} → ${expected}`, () => {
        const w = world();
        setup(w);
        // expireHold is tried once the hold's time is up; everything else at the setup's instant.
        if (cmd.kind === 'expireHold') w.nowMs = Math.max(w.nowMs, afterHold + 1);
        const d = w.run(cmd);
        const r = w.state(H).reservations.get('r1')!;
        const reply = d.reply.ok ? 'ok' : d.reply.code;
        expect(`${reply} → ${r.status}`).to.equal(expected);
        // Rooms: held by pending and paid, given back by everything else.
        expect(w.night(H, RT, plus(2)).reserved).to.equal(r.status === 'pending' || r.status === 'paid' ? 2 : 0);
        assertReservedMatchesReservations(w.state(H));
      });
    }
  }
});

describe('engine core: payments over time', () => {
  it('begin records attempt 1 with its provider key and a deadline; the reply carries it', () => {
    const w = world();
    const d = w.ok(begin('k'));
    expect(d.reply).to.include({ kind: 'paymentAttempt', joined: false });
    const a = (d.reply as { attempt: { n: number; key: string; deadline: string; amount: number } }).attempt;
    expect(a.n).to.equal(1);
    expect(a.key).to.equal('res:r1:pay:1');
    expect(Date.parse(a.deadline)).to.equal(NOW_MS + paymentTimeoutSecondsDefault * 1000);
    const r = w.state(H).reservations.get('r1')!;
    expect(a.amount).to.equal(r.totalAmount);
    expect(r.moneyDueAt).to.equal(a.deadline);
    expect(d.events.map((e) => e.type)).to.deep.equal(['reservation.money']);
  });

  it('a payment that reached the writer before expiresAt ends paid though its provider call outlasts the hold', () => {
    const w = world();
    w.nowMs = afterHold - 1;
    w.ok(begin());
    w.nowMs = afterHold + 5_000;
    expect(w.run(expireHold()).events).to.have.length(0);
    const d = w.ok(complete('charged'));
    const r = (d.reply as { reservation: { status: string; payment: { amount: number; reference: string } } }).reservation;
    expect(r.status).to.equal('paid');
    expect(r.payment).to.include({ reference: 'ch1' });
  });

  it('a payment begun at expiresAt is refused hold_expired and the hold expires in the same decision', () => {
    const w = world();
    w.nowMs = afterHold;
    const d = w.run(begin());
    expect(d.reply).to.include({ ok: false, code: 'hold_expired' });
    expect(w.state(H).reservations.get('r1')!.status).to.equal('canceled');
  });

  it('past its deadline a client completion does not settle the attempt: the reconciler does, by the provider\'s status', () => {
    const w = world();
    w.ok(begin());
    w.nowMs = NOW_MS + paymentTimeoutSecondsDefault * 1000;
    const d = w.run(complete('charged'));
    expect(d.reply.ok).to.equal(true);
    expect(d.events).to.have.length(0);
    let r = w.state(H).reservations.get('r1')!;
    expect(r.status).to.equal('pending');
    expect(r.money!.open!.n).to.equal(1);
    // Owing a void here would void the charge the reconciler is about to find and record as paid (the seeded money
    // simulation found exactly that).
    expect(r.money!.voids).to.deep.equal([]);
    w.ok(complete('charged', { by: 'reconciler' }));
    r = w.state(H).reservations.get('r1')!;
    expect(r.status).to.equal('paid');
    expect(r.money!.voids).to.deep.equal([]);
  });

  it('past its deadline the reconciler settles the attempt: charged → paid even after expiresAt', () => {
    const w = world();
    w.ok(begin());
    w.nowMs = afterHold + 1;
    w.ok(complete('charged', { by: 'reconciler' }));
    expect(w.state(H).reservations.get('r1')!.status).to.equal('paid');
  });

  it('an attempt that failed after expiresAt gives the rooms back in the same decision (hold_expired)', () => {
    const w = world();
    w.ok(begin());
    w.nowMs = afterHold + 1;
    const d = w.run(complete('failed', { by: 'reconciler' }));
    expect(d.reply).to.include({ ok: false, code: 'hold_expired' });
    const r = w.state(H).reservations.get('r1')!;
    expect(r).to.include({ status: 'canceled', cancelReason: 'hold_expired' });
    expect(w.night(H, RT, plus(2)).reserved).to.equal(0);
  });

  it('unknown outcome: the attempt closes, its key is owed a void, and a new attempt begins (n = 2) once it is voided, not before', () => {
    const w = world();
    w.ok(begin());
    w.ok(complete('unknown'));
    expect(w.state(H).reservations.get('r1')!.money!.voids).to.deep.equal(['res:r1:pay:1']);
    // Charged at most once: the first attempt may have charged, so no second charge until its void is done.
    const early = w.run(begin());
    expect(early.reply).to.deep.include({ ok: false, code: 'unavailable' });
    expect(early.events).to.deep.equal([]);
    w.ok(settle(['res:r1:pay:1']));
    const d = w.ok(begin());
    expect((d.reply as { attempt: { n: number } }).attempt.n).to.equal(2);
    const r = w.state(H).reservations.get('r1')!;
    expect(r.money!.voids).to.deep.equal([]);
    expect(r.moneyDueAt).to.equal(r.money!.open!.deadline);
  });

  it('cancel of a pending reservation with an attempt in flight abandons it: its charge, if any, is voided', () => {
    const w = world();
    w.ok(begin());
    w.ok(cancel(H, 'r1'));
    const r = w.state(H).reservations.get('r1')!;
    expect(r.money!.open).to.equal(null);
    expect(r.money!.voids).to.deep.equal(['res:r1:pay:1']);
    // The charge that arrives afterwards does not pay it.
    w.ok(complete('charged'));
    expect(w.state(H).reservations.get('r1')!.status).to.equal('canceled');
  });

  it('cancel of a paid reservation: refunded at once, refund pending until settled, then done with its reference', () => {
    const w = world();
    w.ok(begin());
    w.ok(complete('charged'));
    const d = w.ok(cancel(H, 'r1'));
    const r = (d.reply as { reservation: { status: string; totalAmount: number; payment: { refund: unknown } } }).reservation;
    expect(r.status).to.equal('refunded');
    expect(r.payment.refund).to.deep.equal({ status: 'pending', amount: r.totalAmount });
    w.ok(settle([], 'rf1'));
    const after = w.state(H).reservations.get('r1')!;
    expect(after.payment!.refund).to.deep.equal({ status: 'done', amount: r.totalAmount, reference: 'rf1' });
    expect(after.moneyDueAt).to.equal(null);
  });

  it('a hotel is not deleted while a refund or a void is owed (settled through its writer), and is once they are done', () => {
    const w = world();
    w.ok(begin());
    w.ok(complete('charged'));
    w.ok(cancel(H, 'r1'));
    expect(w.run(deleteHotel(H)).reply).to.include({ ok: false, code: 'conflict' });
    w.ok(settle([], 'rf1'));
    w.ok(deleteHotel(H));
    // A charge that came back unknown is owed a void; the pending hold's cancel leaves it owed.
    const v = world();
    v.ok(begin());
    v.ok(complete('unknown'));
    v.ok(cancel(H, 'r1'));
    expect(v.state(H).reservations.get('r1')!.moneyDueAt).to.not.equal(null);
    expect(v.run(deleteHotel(H)).reply).to.include({ ok: false, code: 'conflict' });
    v.ok(settle([paymentKey('r1', 1)]));
    v.ok(deleteHotel(H));
  });
});

describe('engine core: the cancellation policy window', () => {
  const policy = { freeUntilHoursBefore: 48, penaltyPercent: 30 };
  for (const timezone of ['UTC', 'America/New_York', 'Asia/Kolkata']) {
    it(`${timezone}: the full amount at exactly freeUntilHoursBefore before the check-in day starts, the penalty 1 ms later`, () => {
      const w = new World();
      w.ok(createHotel(H, { overbookingPercent: 0, timezone, cancellationPolicy: policy }));
      w.ok(createRoomType(H, RT, 3, 10_001));
      w.ok(reserve({ hotelId: H, reservationId: 'r1', roomTypeId: RT, checkIn: plus(10), checkOut: plus(12) }));
      w.ok(reserve({ hotelId: H, reservationId: 'r2', roomTypeId: RT, checkIn: plus(10), checkOut: plus(12) }));
      for (const id of ['r1', 'r2']) {
        w.ok(begin(null, id));
        w.ok({ kind: 'completePayment', hotelId: H, reservationId: id, n: 1, outcome: 'charged', reference: `ch-${id}`, by: 'client' });
      }
      const total = w.state(H).reservations.get('r1')!.totalAmount;
      expect(total).to.equal(20_002);
      const edge = dayStartMs(parseDay(plus(10))!, timezone) - 48 * HOUR_MS;
      w.nowMs = edge;
      w.ok(cancel(H, 'r1'));
      w.nowMs = edge + 1;
      w.ok(cancel(H, 'r2'));
      expect(w.state(H).reservations.get('r1')!.payment!.refund!.amount).to.equal(total);
      // 20,002 − floor(20,002 × 30 / 100) = 20,002 − 6,000
      expect(w.state(H).reservations.get('r2')!.payment!.refund!.amount).to.equal(14_002);
    });
  }

  it('the refund follows the policy the hotel had when the reservation was made, not a later one', () => {
    const w = world({ freeUntilHoursBefore: 0, penaltyPercent: 0 });
    w.ok(begin());
    w.ok(complete('charged'));
    w.ok(updateHotel(H, { cancellationPolicy: { freeUntilHoursBefore: 8760, penaltyPercent: 100 } }));
    expect(w.state(H).hotel.cancellationPolicy.penaltyPercent).to.equal(100);
    w.ok(cancel(H, 'r1'));
    const r = w.state(H).reservations.get('r1')!;
    expect(r.payment!.refund!.amount).to.equal(r.totalAmount);
  });

  it('a 100% penalty refunds nothing: the refund is done at once, with no provider call owed', () => {
    const w = world({ freeUntilHoursBefore: 8760, penaltyPercent: 100 });
    w.ok(begin());
    w.ok(complete('charged'));
    w.ok(cancel(H, 'r1'));
    const r = w.state(H).reservations.get('r1')!;
    expect(r.payment!.refund).to.deep.equal({ status: 'done', amount: 0 });
    expect(r.moneyDueAt).to.equal(null);
  });
});
