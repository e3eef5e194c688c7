// kill -9 between the provider's charge and the commit of the payment (API.md "Payments": every charge ends in a
// paid reservation or in a void or refund, whatever happens in between). Once for the API (it dies holding the
// provider's answer: the reconciler finds the attempt open past its deadline and asks the provider), once for the
// worker (it dies with the payment's commit in hand: its successor decides the queued completion).
import { expect } from 'chai';
import pg from 'pg';
import { ledgerOf, setProviderFaults } from '../../engine/payment-provider.js';
import { createPool, type Pool } from '../../engine/store/pg.js';
import { ChaosStack, sleep, waitUntil, withClient } from '../support/chaos-harness.js';
import { timedRequest } from '../support/chaos-load.js';
import { dayFromToday } from '../support/fixtures.js';

describe('chaos: kill -9 between the provider\'s charge and the commit of the payment', function () {
  this.timeout(120_000);
  let stack: ChaosStack | undefined;
  let catalog: Pool | undefined;

  afterEach(async () => {
    await catalog?.end().catch(() => {});
    catalog = undefined;
    await stack?.destroy();
    stack = undefined;
  });

  async function open(): Promise<{ s: ChaosStack; catalog: Pool; reserve(day: number): Promise<{ id: string; totalAmount: number }> }> {
    stack = await ChaosStack.start({ vars: { PAYMENT_TIMEOUT_SECONDS: '4', PAYMENT_PROVIDER_TIMEOUT_MS: '3000' } });
    const s = stack;
    await s.waitForOneOwner();
    await s.populate(1, 10);
    catalog = createPool(s.config.catalogUrl, 2, 'chaos-test');
    const guest = s.principals[1];
    const hotel = s.hotels[0];
    return {
      s,
      catalog,
      reserve: async (day: number) => {
        const body = { reservationId: crypto.randomUUID(), hotelId: hotel.id, roomTypeId: hotel.roomTypeId, checkIn: dayFromToday(day), checkOut: dayFromToday(day + 1), roomCount: 1, guest: { name: 'Payer', email: 'payer@example.com' } };
        const r = await timedRequest(guest.client, 'POST', '/v1/reservations', body);
        expect(r.status, JSON.stringify(r.body)).to.equal(201);
        return r.body as { id: string; totalAmount: number };
      },
    };
  }

  it('the API: after restart the reservation is paid by the reconciler, with exactly one charge', async () => {
    const { s, catalog, reserve } = await open();
    const r = await reserve(5);
    // The provider charges, then holds its answer: the API is between the charge and the commit when it dies.
    await setProviderFaults(catalog, { mode: 'stall', count: 1, delayMs: 60_000 });
    const paying = timedRequest(s.principals[1].client, 'POST', `/v1/reservations/${r.id}/payment`, { paymentMethod: 'pm_card_visa' });
    await waitUntil('the provider to charge', async () => (await ledgerOf(catalog, r.id)).charges === 1, 10_000, () => s.logs());
    s.api!.signal('SIGKILL');
    await s.api!.exited;
    expect((await paying).status).to.be.oneOf([0, 502, 503]);
    s.startApi();
    await waitUntil('the API to answer', async () => (await s.admin.get('/healthz')).status === 200, 20_000);
    // PAYMENT_TIMEOUT_SECONDS (4) after the attempt began, the reconciler asks the provider and records the charge.
    let now: any;
    await waitUntil('the reservation to be paid', async () => (now = (await timedRequest(s.principals[1].client, 'GET', `/v1/reservations/${r.id}`)).body as any).status === 'paid', 20_000, () => s.logs());
    expect(now.payment).to.include({ amount: r.totalAmount });
    const l = await ledgerOf(catalog, r.id);
    expect(l).to.include({ charges: 1, charged: r.totalAmount, voided: 0, refunded: 0 });
    // A retry by the client now is paying twice, and charges nothing.
    const again = await timedRequest(s.principals[1].client, 'POST', `/v1/reservations/${r.id}/payment`, { paymentMethod: 'pm_card_visa' });
    expect(again.status).to.equal(409);
    expect((await ledgerOf(catalog, r.id)).charges).to.equal(1);
  });

  it('the worker: its successor decides the queued completion; paid, exactly one charge', async () => {
    const { s, catalog, reserve } = await open();
    const r = await reserve(6);
    const dead = await s.waitForOneOwner();
    const second = await s.startWorker();
    // The charge comes 2 s after the attempt began; meanwhile the test locks the reservation's row, so the commit of
    // the completion waits in hand.
    await setProviderFaults(catalog, { mode: 'delay', count: 1, delayMs: 2_000 });
    const paying = s.principals[1].client.post(`/v1/reservations/${r.id}/payment`, { paymentMethod: 'pm_card_visa' }, { 'idempotency-key': 'pay-once' });
    const url = s.shardDbUrl(s.hotels[0].id);
    await waitUntil('the attempt to be recorded', async () =>
      withClient(url, async (c) => (await c.query("SELECT 1 FROM reservations WHERE id = $1 AND jsonb_typeof(money -> 'open') = 'object'", [r.id])).rowCount === 1), 10_000, () => s.logs());
    const lock = new pg.Client({ connectionString: url, application_name: 'chaos-lock' });
    lock.on('error', () => {});
    await lock.connect();
    await lock.query('BEGIN');
    await lock.query('SELECT 1 FROM reservations WHERE id = $1 FOR UPDATE', [r.id]);
    await waitUntil('the provider to charge', async () => (await ledgerOf(catalog, r.id)).charges === 1, 10_000, () => s.logs());
    await s.waitForBlockedCommit(s.hotels[0]);
    s.workers[0].signal('SIGKILL');
    await s.workers[0].exited;
    await waitUntil('the dead owner\'s sessions to end', async () =>
      (await withClient(url, async (c) => (await c.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [dead])).rows[0].n as number)) === 0, 10_000);
    await lock.query('ROLLBACK');
    await lock.end();
    // The request was answered (paid, or 503 while its completion waited in the queue); a retry with its key is 200.
    const first = await paying;
    expect(first.status, JSON.stringify(first.body)).to.be.oneOf([200, 503]);
    await s.waitForOneOwner(s.config.shardLeaseMs + 5_000, dead);
    expect(second.alive).to.equal(true);
    let now: any;
    await waitUntil('the reservation to be paid', async () => (now = (await timedRequest(s.principals[1].client, 'GET', `/v1/reservations/${r.id}`)).body as any).status === 'paid', 20_000, () => s.logs());
    expect(now.payment).to.include({ amount: r.totalAmount });
    const retry = await s.principals[1].client.post(`/v1/reservations/${r.id}/payment`, { paymentMethod: 'pm_card_visa' }, { 'idempotency-key': 'pay-once' });
    expect(retry.status, JSON.stringify(retry.body)).to.equal(200);
    expect(retry.body.status).to.equal('paid');
    await sleep(1_500);
    expect(await ledgerOf(catalog, r.id)).to.include({ charges: 1, charged: r.totalAmount, voided: 0, refunded: 0 });
  });
});
