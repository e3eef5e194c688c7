// Payments end to end (API.md "Payments"): charged at most once whatever the clicks, retries and faults; every
// charge ends in a paid reservation or in a void or refund, counted in the test provider's ledger.
import { expect } from 'chai';
import { ledgerOf, setProviderFaults } from '../../engine/payment-provider.js';
import type { Pool } from '../../engine/store/pg.js';
import { createGuest, createHotel, createKey, createRoomType, dayFromToday, reservationBody } from '../support/fixtures.js';
import type { HttpClient } from '../support/http.js';
import type { TestEnv } from '../support/env.js';
import { closeStack, openStack, waitFor, type Stack } from '../support/stack.js';

const visa = { paymentMethod: 'pm_card_visa' };

/** A stack with these settings, a signed-in guest, the catalog (the test provider's ledger) and a hotel. */
async function paymentsStack(vars: Record<string, string>, totalInventory: number) {
  const { env, stack } = await openStack(vars);
  const guest = stack.admin.as((await createGuest(stack.admin)).token);
  const hotel = await createHotel(stack.admin);
  const rt = await createRoomType(stack.admin, hotel.id, { totalInventory });
  return { env, stack, guest, catalog: stack.api.ctx.catalog.pool as Pool, hotel, rt };
}

describe('payments', function () {
  this.timeout(90_000);
  let env: TestEnv;
  let stack: Stack;
  let guest: HttpClient;
  let catalog: Pool;
  let hotel: any;
  let rt: any;

  before(async () => {
    ({ env, stack, guest, catalog, hotel, rt } = await paymentsStack({ PAYMENT_PROVIDER_TIMEOUT_MS: '1500', PAYMENT_TIMEOUT_SECONDS: '5' }, 50));
  });
  afterEach(() => setProviderFaults(catalog, null));
  after(() => closeStack(stack, env));

  async function held(h = hotel, t = rt, offset = 5): Promise<any> {
    const r = await guest.post('/v1/reservations', reservationBody(h.id, t.id, dayFromToday(offset), dayFromToday(offset + 2)));
    expect(r.status, JSON.stringify(r.body)).to.equal(201);
    return r.body;
  }
  const pay = (id: string, body: unknown = visa, key?: string) =>
    guest.post(`/v1/reservations/${id}/payment`, body, key ? { 'idempotency-key': key } : {});
  /** Once the reconciler owes nothing for it: what stays charged for a reservation (net of voids and refunds), and its status. */
  const settledNet = async (id: string) => {
    await settled(id);
    const l = await ledgerOf(catalog, id);
    return { net: l.charged - l.voided - l.refunded, status: (await guest.get(`/v1/reservations/${id}`)).body.status as string };
  };
  /** Wait until the reconciler owes nothing for a reservation (no void, refund or attempt outstanding). */
  const settled = (id: string) =>
    waitFor(`reservation ${id} settled`, async () => {
      const r = await stack.owner.directory.pool(0).query('SELECT 1 FROM reservations WHERE id = $1 AND money_due_at IS NULL', [id]);
      const r2 = await stack.owner.directory.pool(1).query('SELECT 1 FROM reservations WHERE id = $1 AND money_due_at IS NULL', [id]);
      return (r.rowCount ?? 0) + (r2.rowCount ?? 0) === 1;
    }, 30_000);

  it('50 concurrent payments without a key: exactly one charge, one 200 and 49 × 409 invalid_status', async () => {
    const r = await held();
    const answers = await Promise.all(Array.from({ length: 50 }, () => pay(r.id)));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 200)).to.have.length(1);
    expect(statuses.filter((s) => s === 409)).to.have.length(49);
    for (const a of answers.filter((x) => x.status === 409)) expect(a.body.error.code).to.equal('invalid_status');
    const paid = answers.find((a) => a.status === 200)!.body;
    expect(paid.status).to.equal('paid');
    expect(paid.payment).to.include({ amount: r.totalAmount });
    expect(paid.payment.refund).to.equal(null);
    expect(await ledgerOf(catalog, r.id)).to.include({ charges: 1, charged: r.totalAmount, voided: 0 });
    // Paying a paid reservation again is paying twice.
    const again = await pay(r.id);
    expect(again.status).to.equal(409);
    expect(again.body.error.code).to.equal('invalid_status');
    expect((await ledgerOf(catalog, r.id)).charges).to.equal(1);
  });

  it('50 concurrent payments with one Idempotency-Key: every answer is the same 200, exactly one charge', async () => {
    const r = await held();
    const answers = await Promise.all(Array.from({ length: 50 }, () => pay(r.id, visa, 'click-1')));
    expect(answers.map((a) => a.status)).to.deep.equal(Array(50).fill(200));
    for (const a of answers) expect(a.body).to.deep.equal(answers[0].body);
    expect(answers[0].body.status).to.equal('paid');
    expect(await ledgerOf(catalog, r.id)).to.include({ charges: 1, charged: r.totalAmount });
    // The same key with another body is refused, and changes nothing.
    const other = await pay(r.id, { paymentMethod: 'pm_card_mastercard' }, 'click-1');
    expect(other.status).to.equal(422);
    expect(other.body.error.code).to.equal('idempotency_mismatch');
  });

  it('a declined payment answers 402 and rejects the reservation; a retry with its key gets the 402 again, nothing charged', async () => {
    const r = await held();
    const declined = await pay(r.id, { paymentMethod: 'pm_card_declined' }, 'try-1');
    expect(declined.status).to.equal(402);
    expect(declined.body.error.code).to.equal('payment_declined');
    expect((await guest.get(`/v1/reservations/${r.id}`)).body.status).to.equal('rejected');
    const replay = await pay(r.id, { paymentMethod: 'pm_card_declined' }, 'try-1');
    expect(replay.status).to.equal(402);
    expect(replay.body).to.deep.equal(declined.body);
    // The same answer, its keys in the same order too (a jsonb column had reordered them).
    expect(JSON.stringify(replay.body)).to.equal(JSON.stringify(declined.body));
    const fresh = await pay(r.id, visa);
    expect(fresh.status).to.equal(409);
    expect(fresh.body.error.code).to.equal('invalid_status');
    expect(await ledgerOf(catalog, r.id)).to.include({ charges: 0, charged: 0 });
  });

  it('provider down: 503 with Retry-After, nothing charged, the hold unchanged; paying again later succeeds', async () => {
    const r = await held();
    await setProviderFaults(catalog, { mode: 'fail', count: 1 });
    const down = await pay(r.id);
    expect(down.status, JSON.stringify(down.body)).to.equal(503);
    expect(down.body.error.code).to.equal('unavailable');
    expect(down.headers.get('retry-after')).to.equal('1');
    const now = (await guest.get(`/v1/reservations/${r.id}`)).body;
    expect(now.status).to.equal('pending');
    expect(now.expiresAt).to.equal(r.expiresAt);
    expect(now.payment).to.equal(null);
    await settled(r.id);
    expect(await ledgerOf(catalog, r.id)).to.include({ charges: 0, charged: 0 });
    const paid = await pay(r.id);
    expect(paid.status, JSON.stringify(paid.body)).to.equal(200);
    expect(await ledgerOf(catalog, r.id)).to.include({ charges: 1, charged: r.totalAmount });
  });

  it('a payment whose reservation is canceled while the provider charges: 409 invalid_status (not 503), and nothing stays charged', async () => {
    const r = await held();
    // The charge takes 1 s (inside PAYMENT_PROVIDER_TIMEOUT_MS): the guest cancels meanwhile.
    await setProviderFaults(catalog, { mode: 'delay', count: 1, delayMs: 1_000 });
    const paying = pay(r.id);
    await new Promise((res) => setTimeout(res, 300));
    const canceled = await guest.delete(`/v1/reservations/${r.id}`);
    expect(canceled.status, JSON.stringify(canceled.body)).to.equal(200);
    expect(canceled.body.status).to.equal('canceled');
    const paid = await paying;
    expect(paid.status, JSON.stringify(paid.body)).to.equal(409);
    expect(paid.body.error).to.include({ code: 'invalid_status' });
    expect(paid.body.error.details).to.deep.equal({ status: 'canceled' });
    // Voided before or after the provider acted on it: nothing stays charged.
    expect(await settledNet(r.id)).to.deep.equal({ net: 0, status: 'canceled' });
  });

  it('a retry after a provider that charged but answered too late waits for that charge\'s void: never two charges standing', async () => {
    const r = await held();
    // The provider charges at once, then answers after PAYMENT_PROVIDER_TIMEOUT_MS (1.5 s): the API gives up (503).
    await setProviderFaults(catalog, { mode: 'stall', count: 1, delayMs: 2_500 });
    const first = await pay(r.id, visa, 'stalled-key');
    expect(first.status, JSON.stringify(first.body)).to.equal(503);
    // The client retries at once, and on every 503 after Retry-After, until it is paid.
    let last = first;
    for (let i = 0; i < 20 && last.status === 503; i++) {
      last = await pay(r.id, visa, 'stalled-key');
      if (last.status === 503) await new Promise((res) => setTimeout(res, 500));
    }
    expect(last.status, JSON.stringify(last.body)).to.equal(200);
    expect(last.body.status).to.equal('paid');
    await settled(r.id);
    // Two charges over time, the first voided before the second was made.
    const rows = (await catalog.query(`SELECT key, kind, of_key, created_at FROM payment_ledger WHERE reservation_id = $1 ORDER BY created_at, key`, [r.id])).rows;
    const charges = rows.filter((x) => x.kind === 'charge');
    expect(charges.map((x) => x.key)).to.deep.equal([`res:${r.id}:pay:1`, `res:${r.id}:pay:2`]);
    const voided = rows.find((x) => x.kind === 'void' && x.of_key === charges[0].key);
    expect(voided, JSON.stringify(rows)).to.not.equal(undefined);
    expect(voided!.created_at.getTime()).to.be.at.most(charges[1].created_at.getTime());
    const l = await ledgerOf(catalog, r.id);
    expect(l.charged - l.voided - l.refunded).to.equal(r.totalAmount);
  });

  it('a provider that answers only after the API gave up: 503, and its late charge is voided (the ledger balances)', async () => {
    const r = await held();
    // Longer than PAYMENT_PROVIDER_TIMEOUT_MS (1.5 s): the charge happens after the API answered.
    await setProviderFaults(catalog, { mode: 'delay', count: 1, delayMs: 3_000 });
    const late = await pay(r.id);
    expect(late.status, JSON.stringify(late.body)).to.equal(503);
    await new Promise((res) => setTimeout(res, 3_500));
    expect(await settledNet(r.id)).to.deep.equal({ net: 0, status: 'pending' });
  });

  it('cancel paid: refunded at once, then exactly one refund though the provider fails the first 3 refund calls', async () => {
    const r = await held();
    expect((await pay(r.id)).status).to.equal(200);
    await setProviderFaults(catalog, { mode: 'fail', count: 3 });
    const canceled = await guest.delete(`/v1/reservations/${r.id}`);
    expect(canceled.status).to.equal(200);
    expect(canceled.body.status).to.equal('refunded');
    expect(canceled.body.payment.refund).to.deep.equal({ status: 'pending', amount: r.totalAmount });
    await waitFor('refund done', async () => (await guest.get(`/v1/reservations/${r.id}`)).body.payment.refund.status === 'done', 45_000);
    const done = (await guest.get(`/v1/reservations/${r.id}`)).body;
    expect(done.payment.refund.reference).to.be.a('string');
    expect(await ledgerOf(catalog, r.id)).to.include({ charges: 1, refunds: 1, refunded: r.totalAmount });
    const faults = await catalog.query('SELECT remaining FROM payment_provider_faults');
    expect(faults.rows[0].remaining).to.equal(0);
    // Canceling again answers the same, and refunds nothing more.
    const again = await guest.delete(`/v1/reservations/${r.id}`);
    expect(again.body.status).to.equal('refunded');
    expect((await ledgerOf(catalog, r.id)).refunds).to.equal(1);
  });

  it('a hotel is not deleted while a refund is owed (its writer settles it): 409, then 204 once the refund is done', async () => {
    const h = await createHotel(stack.admin);
    const t = await createRoomType(stack.admin, h.id, { totalInventory: 5 });
    const r = await held(h, t);
    expect((await pay(r.id)).status).to.equal(200);
    // The provider fails the first refund calls, so that the refund is still owed when the deletion comes.
    await setProviderFaults(catalog, { mode: 'fail', count: 3 });
    expect((await guest.delete(`/v1/reservations/${r.id}`)).body.payment.refund.status).to.equal('pending');
    // A new writer, whose memory holds none of the hotel's reservations: it must look up those that owe money.
    await stack.restartOwner();
    const refused = await stack.admin.delete(`/v1/hotels/${h.id}`);
    expect(refused.status, JSON.stringify(refused.body)).to.equal(409);
    expect(refused.body.error.code).to.equal('conflict');
    expect((await stack.admin.get(`/v1/hotels/${h.id}`)).status).to.equal(200);
    await waitFor('refund done', async () => (await guest.get(`/v1/reservations/${r.id}`)).body.payment.refund.status === 'done', 45_000);
    expect((await stack.admin.delete(`/v1/hotels/${h.id}`)).status).to.equal(204);
    expect(await ledgerOf(catalog, r.id)).to.include({ charges: 1, refunds: 1, refunded: r.totalAmount });
  });

  it('the refund follows the policy the hotel had when the reservation was made: inside the window the penalty is kept', async () => {
    const strict = await createHotel(stack.admin, { cancellationPolicy: { freeUntilHoursBefore: 8760, penaltyPercent: 25 } });
    expect(strict.cancellationPolicy).to.deep.equal({ freeUntilHoursBefore: 8760, penaltyPercent: 25 });
    const srt = await createRoomType(stack.admin, strict.id, { totalInventory: 5, baseRate: 10_001 });
    const r = await held(strict, srt);
    expect((await pay(r.id)).status).to.equal(200);
    // A later policy does not apply to it.
    const put = await stack.admin.put(`/v1/hotels/${strict.id}`, { cancellationPolicy: { penaltyPercent: 0 } });
    expect(put.status).to.equal(200);
    expect(put.body.cancellationPolicy).to.deep.equal({ freeUntilHoursBefore: 0, penaltyPercent: 0 });
    const canceled = await guest.delete(`/v1/reservations/${r.id}`);
    const penalty = Math.floor((r.totalAmount * 25) / 100);
    expect(canceled.body.payment.refund.amount).to.equal(r.totalAmount - penalty);
    await settled(r.id);
    expect(await ledgerOf(catalog, r.id)).to.include({ charged: r.totalAmount, refunded: r.totalAmount - penalty });
    // Outside the window (no hours required) the whole amount comes back.
    const free = await held(strict, srt);
    expect((await pay(free.id)).status).to.equal(200);
    expect((await guest.delete(`/v1/reservations/${free.id}`)).body.payment.refund.amount).to.equal(free.totalAmount);
  });

  it('staff of the hotel, who see the reservation, get 403 paying it; staff of another hotel and other guests 404', async () => {
    const r = await held();
    const other = await createHotel(stack.admin);
    const ownStaff = stack.admin.as(await createKey(stack.admin, 'staff', [hotel.id]));
    const otherStaff = stack.admin.as(await createKey(stack.admin, 'staff', [other.id]));
    const otherGuest = stack.admin.as((await createGuest(stack.admin)).token);
    expect((await ownStaff.get(`/v1/reservations/${r.id}`)).status).to.equal(200);
    const asOwnStaff = await ownStaff.post(`/v1/reservations/${r.id}/payment`, visa);
    expect(asOwnStaff.status, JSON.stringify(asOwnStaff.body)).to.equal(403);
    expect(asOwnStaff.body.error.code).to.equal('forbidden');
    for (const c of [otherStaff, otherGuest]) {
      const a = await c.post(`/v1/reservations/${r.id}/payment`, visa);
      expect(a.status, JSON.stringify(a.body)).to.equal(404);
      expect(a.body.error.code).to.equal('not_found');
    }
    expect((await guest.get(`/v1/reservations/${r.id}`)).body).to.include({ status: 'pending', version: r.version });
    expect(await ledgerOf(catalog, r.id)).to.include({ charges: 0 });
  });

  it('bad input gets 400 naming the field and changes nothing', async () => {
    const r = await held();
    for (const body of [{ paymentMethod: 123 }, { paymentMethod: '' }, { paymentMethod: 'visa' }, { paymentMethod: { card: '4242' } }, { paymentMethod: `pm_${'x'.repeat(70)}` }, {}]) {
      const a = await pay(r.id, body);
      expect(a.status, JSON.stringify(body)).to.equal(400);
      expect(JSON.stringify(a.body.error.details)).to.contain('paymentMethod');
    }
    // An Idempotency-Key over 200 characters is refused, not cut short (cut, two keys that share their first 200
    // characters would be one key: the second payment would get the first one's answer).
    const long = await pay(r.id, visa, `${'k'.repeat(200)}X`);
    expect(long.status).to.equal(400);
    expect(JSON.stringify(long.body.error.details)).to.contain('Idempotency-Key');
    for (const policy of [{ penaltyPercent: 101 }, { penaltyPercent: -1 }, { freeUntilHoursBefore: 8761 }, { freeUntilHoursBefore: 1.5 }, { refund: 1 }, 'strict']) {
      const a = await stack.admin.put(`/v1/hotels/${hotel.id}`, { cancellationPolicy: policy });
      expect(a.status, JSON.stringify(policy)).to.equal(400);
      expect(JSON.stringify(a.body.error.details)).to.contain('cancellationPolicy');
    }
    expect((await stack.admin.get(`/v1/hotels/${hotel.id}`)).body.cancellationPolicy).to.deep.equal({ freeUntilHoursBefore: 0, penaltyPercent: 0 });
    const now = (await guest.get(`/v1/reservations/${r.id}`)).body;
    expect(now.status).to.equal('pending');
    expect(now.version).to.equal(r.version);
    expect(await ledgerOf(catalog, r.id)).to.include({ charges: 0 });
  });
});

describe('payments near the hold expiry', function () {
  this.timeout(90_000);
  let env: TestEnv;
  let stack: Stack;
  let guest: HttpClient;
  let catalog: Pool;
  let hotel: any;
  let rt: any;

  before(async () => {
    ({ env, stack, guest, catalog, hotel, rt } = await paymentsStack({ HOLD_TTL_SECONDS: '2', PAYMENT_PROVIDER_TIMEOUT_MS: '6000', PAYMENT_TIMEOUT_SECONDS: '10' }, 5));
  });
  afterEach(() => setProviderFaults(catalog, null));
  after(() => closeStack(stack, env));

  it('a payment that reached the writer before expiresAt ends paid though the provider answers after it', async () => {
    const r = (await guest.post('/v1/reservations', reservationBody(hotel.id, rt.id, dayFromToday(3), dayFromToday(4)))).body;
    await setProviderFaults(catalog, { mode: 'delay', count: 1, delayMs: 4_000 });
    const paid = await guest.post(`/v1/reservations/${r.id}/payment`, visa);
    expect(Date.now()).to.be.greaterThan(Date.parse(r.expiresAt));
    expect(paid.status, JSON.stringify(paid.body)).to.equal(200);
    expect(paid.body.status).to.equal('paid');
    // The sweep ran meanwhile (every second) and did not expire it.
    await new Promise((res) => setTimeout(res, 1_500));
    expect((await guest.get(`/v1/reservations/${r.id}`)).body.status).to.equal('paid');
    expect(await ledgerOf(catalog, r.id)).to.include({ charges: 1, charged: r.totalAmount });
  });

  it('a payment sent after expiresAt gets 409 hold_expired, with no charge in the ledger', async () => {
    const r = (await guest.post('/v1/reservations', reservationBody(hotel.id, rt.id, dayFromToday(3), dayFromToday(4)))).body;
    await new Promise((res) => setTimeout(res, Date.parse(r.expiresAt) - Date.now() + 50));
    const late = await guest.post(`/v1/reservations/${r.id}/payment`, visa, { 'idempotency-key': 'late-1' });
    expect(late.status).to.equal(409);
    expect(late.body.error.code).to.equal('hold_expired');
    // Its key keeps the answer, and the expiry is applied.
    expect((await guest.post(`/v1/reservations/${r.id}/payment`, visa, { 'idempotency-key': 'late-1' })).body).to.deep.equal(late.body);
    expect((await guest.get(`/v1/reservations/${r.id}`)).body).to.include({ status: 'canceled', cancelReason: 'hold_expired' });
    expect(await ledgerOf(catalog, r.id)).to.include({ charges: 0, voids: 0 });
  });
});
