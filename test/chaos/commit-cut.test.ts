// The worker's connection cut right after COMMIT, before the acknowledgement reaches it (a TCP proxy between the
// worker and Postgres; issue 13, item 2): the commit happened, so nothing may be decided twice, and every request
// waiting on it must get its real answer (201 or 409), not 202, 503 or 500.
import { expect } from 'chai';
import { ChaosStack, sleep, waitUntil } from '../support/chaos-harness.js';
import { checkInvariants } from '../support/chaos-invariants.js';
import { ReservationLoad } from '../support/chaos-load.js';

describe('chaos: connection cut right after COMMIT', function () {
  this.timeout(120_000);
  let stack: ChaosStack | undefined;

  after(async () => {
    await stack?.destroy();
  });

  it('doubles nothing and gives every waiting request its real answer', async () => {
    // A reply timeout long enough that only a lost answer, not a slow machine, can make a 202.
    stack = await ChaosStack.start({ proxy: true, vars: { REPLY_TIMEOUT_MS: '6000' } });
    const s = stack;
    await s.waitForOneOwner();
    await s.populate(2, 30);
    const load = new ReservationLoad(s, { pauseMs: 20 }).start();
    await sleep(1_500);
    const cuts = 5;
    for (let i = 0; i < cuts; i++) {
      s.proxy!.cutAfterCommit(1);
      await waitUntil('a commit to be cut', async () => s.proxy!.armed === 0, 10_000, () => s.logs());
      await sleep(700);
    }
    expect(s.proxy!.cuts).to.equal(cuts);
    const recoveredAt = Date.now();
    await sleep(2_000);
    await load.stop();
    await checkInvariants(s, load.sent, { recoveredAt, order: true, allowedStatuses: [201, 409] });
  });
});
