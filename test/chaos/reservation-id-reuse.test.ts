// A reservationId reused for a hotel in the other shard database (issue 13, item 3; API.md: "reservationId is
// unique across the whole deployment, whichever shard database holds the hotel"): the second use gets 422
// idempotency_mismatch, and the first reservation stays reachable (GET, payment) and stored once.
import { ChaosStack, sleep, withClient } from '../support/chaos-harness.js';
import { checkInvariants, Findings } from '../support/chaos-invariants.js';
import { ReservationLoad, stayBody, timedRequest } from '../support/chaos-load.js';

describe('chaos: a reservationId reused in the other shard database', function () {
  this.timeout(90_000);
  let stack: ChaosStack | undefined;

  after(async () => {
    await stack?.destroy();
  });

  it('is refused with 422 and leaves the first reservation reachable', async () => {
    stack = await ChaosStack.start();
    const s = stack;
    await s.waitForOneOwner();
    await s.populate(2, 30);
    const load = new ReservationLoad(s).start();
    const f = new Findings(s);
    const inDb0 = s.hotels.find((h) => h.database === 0)!;
    const inDb1 = s.hotels.find((h) => h.database === 1)!;
    const [partner, guestA, guestB] = s.principals;
    // The same principal, or another one, reusing the id for a hotel of the other database; either way round.
    const cases = [
      { first: guestA, firstHotel: inDb0, second: guestB, secondHotel: inDb1 },
      { first: guestB, firstHotel: inDb1, second: guestA, secondHotel: inDb0 },
      { first: partner, firstHotel: inDb0, second: partner, secondHotel: inDb1 },
    ];
    for (const [i, c] of cases.entries()) {
      const body = stayBody(c.firstHotel, 40 + i, 1, 'First');
      const one = await timedRequest(c.first.client, 'POST', '/v1/reservations', body);
      f.expectEmpty(`case ${i}: the first use is created`, one.status === 201 ? [] : [`${one.status} ${JSON.stringify(one.body)}`]);
      const reused = { ...stayBody(c.secondHotel, 40 + i, 1, 'Second'), reservationId: body.reservationId };
      const two = await timedRequest(c.second.client, 'POST', '/v1/reservations', reused);
      const code = (two.body as { error?: { code?: string } })?.error?.code ?? (two.body as { code?: string })?.code;
      f.expectEmpty(`case ${i}: the reuse for a hotel of the other database (${c.second.name})`, two.status === 422 ? [] : [`${two.status} ${code ?? ''} ${JSON.stringify(two.body).slice(0, 200)}`]);
      const got = await timedRequest(c.first.client, 'GET', `/v1/reservations/${body.reservationId}`);
      const gotHotel = (got.body as { hotelId?: string })?.hotelId;
      f.expectEmpty(`case ${i}: the first reservation is reachable by its owner`, got.status === 200 && gotHotel === c.firstHotel.id ? [] : [`${got.status}, hotel ${gotHotel} (want ${c.firstHotel.id})`]);
      const paid = await timedRequest(c.first.client, 'POST', `/v1/reservations/${body.reservationId}/payment`, { paymentMethod: 'pm_card_visa' });
      f.expectEmpty(`case ${i}: the first reservation can be paid by its owner`, paid.status === 200 && (paid.body as { hotelId?: string }).hotelId === c.firstHotel.id ? [] : [`${paid.status} ${JSON.stringify(paid.body).slice(0, 200)}`]);
      const where: string[] = [];
      for (const [d, url] of s.config.shardDatabaseUrls.entries()) {
        const n = await withClient(url, async (cl) => (await cl.query('SELECT hotel_id::text FROM reservations WHERE id = $1', [body.reservationId])).rows);
        for (const r of n) where.push(`database ${d}, hotel ${r.hotel_id}`);
      }
      f.expectEmpty(`case ${i}: the id is stored once, for the first hotel`, where.length === 1 && where[0].endsWith(c.firstHotel.id) ? [] : where.length ? where : ['nowhere']);
    }
    await sleep(1_000);
    await load.stop();
    await checkInvariants(s, load.sent, { recoveredAt: Date.now(), order: true }, f);
    f.done();
  });
});
