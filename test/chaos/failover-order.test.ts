// Failover order (issue 13, found on main as item 5): a rate change is in the frozen owner's job in hand, a newer
// one is sent after it, then a second worker takes over. The stored rate must be the newer one, and every hotel's
// commands must be decided in send order.
import { expect } from 'chai';
import { activeAndStandby, ChaosStack, sleep, waitUntil, withClient } from '../support/chaos-harness.js';
import { checkInvariants, Findings } from '../support/chaos-invariants.js';
import { ReservationLoad, timedRequest } from '../support/chaos-load.js';
import { dayFromToday } from '../support/fixtures.js';

describe('chaos: failover keeps a hotel\'s commands in order', function () {
  this.timeout(120_000);
  let stack: ChaosStack | undefined;

  after(async () => {
    await stack?.destroy();
  });

  it('stores the newer of two rate changes when the older was in the frozen owner\'s hand', async () => {
    // An owner of every shard and a standby (see activeAndStandby).
    stack = await ChaosStack.start({ vars: activeAndStandby });
    const s = stack;
    const first = s.workers[0];
    const frozen = await s.waitForOneOwner();
    await s.populate(2, 30);
    await s.startWorker();
    const load = new ReservationLoad(s).start();
    await sleep(1_500);

    const hotel = s.hotels[0];
    const day = 50;
    const ratesPath = `/v1/hotels/${hotel.id}/room-types/${hotel.roomTypeId}/rates`;
    const range = { from: dayFromToday(day), to: dayFromToday(day + 1) };
    const lock = await s.holdNight(hotel, day);
    const older = timedRequest(s.admin, 'PUT', ratesPath, { ...range, amount: 20387 });
    await s.waitForBlockedCommit(hotel);
    const frozenAt = Date.now();
    first.signal('SIGSTOP');
    // The frozen owner's connection is lost: its commit of 20387 did not happen and its job must be redelivered.
    await s.terminateSessionsOf(frozen);
    await lock.release();
    // Queued (503 "will be applied shortly") on the engine as it is; a 200 would be as good, the stored rate is what counts.
    expect((await older).status, 'the older change is queued or decided').to.be.oneOf([200, 503]);

    const newer = await timedRequest(s.admin, 'PUT', ratesPath, { ...range, amount: 20388 }, 30_000);
    expect(newer.status, `the newer change is decided: ${JSON.stringify(newer.body)}\n${s.logs()}`).to.be.oneOf([200, 503]);
    await s.waitForOneOwner(s.config.shardLeaseMs + 5_000, frozen);
    const recoveredAt = Date.now();

    // Both changes are decided once the older job is redelivered (after its lock lapses); the newer must stay.
    const rate = async () =>
      withClient(s.shardDbUrl(hotel.id), async (c) => Number((await c.query('SELECT rate FROM room_type_inventory WHERE room_type_id = $1 AND date = $2', [hotel.roomTypeId, range.from])).rows[0].rate));
    await waitUntil('the newer rate to be stored', async () => (await rate()) === 20388, 15_000, () => s.logs());
    // Then watch for as long as the older job could still come back (its lock lapses, it is redelivered).
    const seen: number[] = [];
    const watchUntil = Date.now() + s.config.jobLockMs + s.config.shardLeaseMs + 3_000;
    while (Date.now() < watchUntil) {
      seen.push(await rate());
      await sleep(250);
    }
    first.signal('SIGCONT');
    await load.stop();
    const f = new Findings(s);
    f.expectEmpty(
      `the stored rate went back from the newer change (20388) to the older (frozen at ${new Date(frozenAt).toISOString()})`,
      [...new Set(seen)].filter((r) => r !== 20388).map((r) => `rate ${r}`),
    );
    await checkInvariants(s, load.sent, { recoveredAt, order: true }, f);
    f.done();
  });
});
