// Payment and hold expiry go through the hotel's writer: a hold that runs out gives its rooms back (even after a
// restart, the timer is in the database), a payment never races the expiry, a declined payment rejects (payments in
// depth: payments.test.ts).
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { startStack, waitFor, type Stack } from '../support/stack.js';
import { createGuest, createHotel, createRoomType, dayFromToday, reservationBody } from '../support/fixtures.js';
import { nightsOf } from '../support/db.js';
import type { HttpClient } from '../support/http.js';

describe('reservation lifecycle: payment and hold expiry', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let stack: Stack;
  let guest: HttpClient;
  let hotel: any;
  let rt: any;

  before(async () => {
    env = await createTestEnv({ HOLD_TTL_SECONDS: '2' });
    stack = await startStack(env.config);
    guest = stack.admin.as((await createGuest(stack.admin)).token);
    hotel = await createHotel(stack.admin);
    rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 10 });
  });
  after(async () => {
    await stack?.stop();
    await env?.cleanup();
  });

  const reserved = async () => (await nightsOf(env.config, hotel.id, rt.id)).reduce((s, n) => s + n.reserved, 0);

  it('pays a pending reservation; paying again answers the same; canceling it refunds and gives the rooms back', async () => {
    const body = reservationBody(hotel.id, rt.id, dayFromToday(3), dayFromToday(4), { roomCount: 2 });
    expect((await guest.post('/v1/reservations', body)).status).to.equal(201);
    const paid = await guest.post(`/v1/reservations/${body.reservationId}/payment`, { paymentMethod: 'pm_card_visa' });
    expect(paid.status, JSON.stringify(paid.body)).to.equal(200);
    expect(paid.body.status).to.equal('paid');
    expect(paid.body.version).to.equal(2);
    // Paying a paid reservation again is paying twice (API.md): 409 invalid_status, nothing charged.
    const again = await guest.post(`/v1/reservations/${body.reservationId}/payment`, { paymentMethod: 'pm_card_visa' });
    expect(again.status).to.equal(409);
    expect(again.body.error.code).to.equal('invalid_status');
    // Paid holds do not expire.
    await new Promise((r) => setTimeout(r, 2500));
    expect((await guest.get(`/v1/reservations/${body.reservationId}`)).body.status).to.equal('paid');
    expect(await reserved()).to.equal(2);
    const refunded = await guest.delete(`/v1/reservations/${body.reservationId}`);
    expect(refunded.status).to.equal(200);
    expect(refunded.body.status).to.equal('refunded');
    expect(await reserved()).to.equal(0);
  });

  it('a declined payment answers 402 payment_declined, rejects the reservation and gives the rooms back', async () => {
    const body = reservationBody(hotel.id, rt.id, dayFromToday(5), dayFromToday(7));
    expect((await guest.post('/v1/reservations', body)).status).to.equal(201);
    const r = await guest.post(`/v1/reservations/${body.reservationId}/payment`, { paymentMethod: 'pm_card_declined' });
    expect(r.status).to.equal(402);
    expect(r.body.error.code).to.equal('payment_declined');
    expect((await guest.get(`/v1/reservations/${body.reservationId}`)).body.status).to.equal('rejected');
    expect(await reserved()).to.equal(0);
    const later = await guest.post(`/v1/reservations/${body.reservationId}/payment`, { paymentMethod: 'pm_card_visa' });
    expect(later.status).to.equal(409);
    expect(later.body.error.code).to.equal('invalid_status');
  });

  it('a hold that runs out is canceled with cancelReason hold_expired by the writer, and its rooms go back', async () => {
    const body = reservationBody(hotel.id, rt.id, dayFromToday(8), dayFromToday(10), { roomCount: 3 });
    expect((await guest.post('/v1/reservations', body)).status).to.equal(201);
    expect(await reserved()).to.equal(6);
    let r: any;
    await waitFor('the hold to expire', async () => {
      r = (await guest.get(`/v1/reservations/${body.reservationId}`)).body;
      return r.status === 'canceled';
    }, 15_000);
    expect(r.cancelReason).to.equal('hold_expired');
    expect(await reserved()).to.equal(0);
    const pay = await guest.post(`/v1/reservations/${body.reservationId}/payment`, { paymentMethod: 'pm_card_visa' });
    expect(pay.status).to.equal(409);
  });

  it('a payment that arrives after the hold ran out (before the sweep) is refused hold_expired, never paid', async () => {
    // Stop the owner so that no sweep runs, let the hold run out, then start a new owner and pay at once.
    const body = reservationBody(hotel.id, rt.id, dayFromToday(11), dayFromToday(12));
    expect((await guest.post('/v1/reservations', body)).status).to.equal(201);
    await stack.owner.stop();
    await new Promise((r) => setTimeout(r, 2500));
    const { ShardOwner } = await import('../../engine/shard-owner.js');
    const { createLogger } = await import('../../engine/log.js');
    const owner = new ShardOwner(env.config, createLogger('worker', env.config.logLevel));
    stack.owner = owner;
    const paying = guest.post(`/v1/reservations/${body.reservationId}/payment`, { paymentMethod: 'pm_card_visa' });
    await owner.start();
    const r = await paying;
    expect(r.status, JSON.stringify(r.body)).to.equal(409);
    expect(r.body.error.code).to.equal('hold_expired');
    const after = (await guest.get(`/v1/reservations/${body.reservationId}`)).body;
    expect(after.status).to.equal('canceled');
    expect(after.cancelReason).to.equal('hold_expired');
  });

  it('Idempotency-Key on payment: the same body is answered again, a different one is 422', async () => {
    const body = reservationBody(hotel.id, rt.id, dayFromToday(13), dayFromToday(14));
    expect((await guest.post('/v1/reservations', body)).status).to.equal(201);
    const key = randomUUID();
    const a = await guest.post(`/v1/reservations/${body.reservationId}/payment`, { paymentMethod: 'pm_card_visa' }, { 'Idempotency-Key': key });
    const b = await guest.post(`/v1/reservations/${body.reservationId}/payment`, { paymentMethod: 'pm_card_visa' }, { 'Idempotency-Key': key });
    const c = await guest.post(`/v1/reservations/${body.reservationId}/payment`, { paymentMethod: 'pm_card_other' }, { 'Idempotency-Key': key });
    expect([a.status, b.status, c.status]).to.deep.equal([200, 200, 422]);
    expect(c.body.error.code).to.equal('idempotency_mismatch');
    const other = stack.admin.as((await createGuest(stack.admin)).token);
    expect((await other.post(`/v1/reservations/${body.reservationId}/payment`, { paymentMethod: 'pm_card_visa' })).status).to.equal(404);
  });
});
