// Regression (issue 13, item 13): an exception from the payment provider became a 500. A provider that throws or
// hangs is an unreachable dependency: 503 unavailable with Retry-After, and nothing goes to the writer.
import { expect } from 'chai';
import { authorizeWithin, type PaymentProvider } from '../../api/payment-provider.js';
import { createGuest, createHotel, createRoomType, dayFromToday, reservationBody } from '../support/fixtures.js';
import type { HttpClient } from '../support/http.js';
import type { TestEnv } from '../support/env.js';
import { closeStack, openStack, type Stack } from '../support/stack.js';

describe('payment provider faults', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let stack: Stack;
  let guest: HttpClient;
  let hotel: any;
  let rt: any;

  before(async () => {
    ({ env, stack } = await openStack());
    guest = stack.admin.as((await createGuest(stack.admin)).token);
    hotel = await createHotel(stack.admin);
    rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 10 });
  });
  after(() => closeStack(stack, env));

  it('a provider that throws answers 503 unavailable with Retry-After, not 500, and the reservation stays pending', async () => {
    const body = reservationBody(hotel.id, rt.id, dayFromToday(3), dayFromToday(4));
    expect((await guest.post('/v1/reservations', body)).status).to.equal(201);
    const before = stack.api.ctx.payments;
    const throwing: PaymentProvider = {
      authorize: () => {
        throw new Error('provider exploded');
      },
    };
    stack.api.ctx.payments = throwing;
    try {
      const r = await guest.post(`/v1/reservations/${body.reservationId}/payment`, { paymentMethod: 'pm_card_visa' });
      expect(r.status, JSON.stringify(r.body)).to.equal(503);
      expect(r.body.error.code).to.equal('unavailable');
      expect(r.headers.get('retry-after')).to.equal('1');
      stack.api.ctx.payments = { authorize: () => Promise.reject(new Error('connection reset by provider')) };
      const rejected = await guest.post(`/v1/reservations/${body.reservationId}/payment`, { paymentMethod: 'pm_card_visa' });
      expect(rejected.status, JSON.stringify(rejected.body)).to.equal(503);
    } finally {
      stack.api.ctx.payments = before;
    }
    const now = await guest.get(`/v1/reservations/${body.reservationId}`);
    expect(now.body.status).to.equal('pending');
    expect(now.body.version).to.equal(1);
    // The provider is back: the same payment goes through.
    const paid = await guest.post(`/v1/reservations/${body.reservationId}/payment`, { paymentMethod: 'pm_card_visa' });
    expect(paid.status, JSON.stringify(paid.body)).to.equal(200);
    expect(paid.body.status).to.equal('paid');
  });

  it('a provider that hangs past its bound answers 503 unavailable once the bound is reached', async () => {
    const hanging: PaymentProvider = { authorize: () => new Promise(() => {}) };
    const started = Date.now();
    const err = await authorizeWithin(hanging, { reservationId: 'r', amount: 1, currency: 'EUR', paymentMethod: 'pm' }, 100).then(
      () => undefined,
      (e: unknown) => e as { code?: string; headers?: Record<string, string> },
    );
    expect(err?.code).to.equal('unavailable');
    expect(err?.headers?.['Retry-After']).to.equal('1');
    expect(Date.now() - started).to.be.within(90, 1_000);
  });
});
