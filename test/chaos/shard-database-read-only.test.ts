// A shard database turned read-only for 10 s under load (as a failover to a standby does): `ALTER DATABASE … SET
// default_transaction_read_only = on`, its sessions terminated, then turned back (and its sessions terminated
// again, as the move back to a writable primary does). The owner's commit in hand meets 25006; requests get 201 or
// 202, never 5xx, and afterwards every request is decided exactly once, in order per hotel (issue 13, item 1).
import { ChaosStack, sleep, withClient } from '../support/chaos-harness.js';
import { checkInvariants } from '../support/chaos-invariants.js';
import { ReservationLoad, stayBody, timedRequest, type Sent } from '../support/chaos-load.js';

describe('chaos: a shard database turned read-only under load', function () {
  this.timeout(120_000);
  let stack: ChaosStack | undefined;

  after(async () => {
    await stack?.destroy();
  });

  it('queues through 10 s of read-only, then decides everything once and in order', async () => {
    stack = await ChaosStack.start();
    const s = stack;
    await s.waitForOneOwner();
    await s.populate(2, 30);
    const load = new ReservationLoad(s).start();
    await sleep(1_500);

    const hotel = s.hotels.find((h) => h.database === 1)!;
    const dbName = new URL(s.shardDbUrl(hotel.id)).pathname.slice(1);
    const lock = await s.holdNight(hotel, 45);
    const guest = s.principals[1];
    const body = stayBody(hotel, 45, 1, 'In Hand');
    const inHand: Sent = { lane: -1, seq: 0, principal: guest, hotel, body, sentAt: Date.now() };
    const answer = timedRequest(guest.client, 'POST', '/v1/reservations', body).then((r) => {
      inHand.status = r.status;
      inHand.response = r.body;
    });
    await s.waitForBlockedCommit(hotel);

    const admin = s.pg.url('postgres');
    const terminate = () =>
      withClient(admin, (c) => c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [dbName]));
    await withClient(admin, (c) => c.query(`ALTER DATABASE "${dbName}" SET default_transaction_read_only = on`));
    await terminate();
    await lock.release();
    await sleep(10_000);
    await withClient(admin, (c) => c.query(`ALTER DATABASE "${dbName}" RESET default_transaction_read_only`));
    await terminate();
    const recoveredAt = Date.now();
    await sleep(2_000);
    await load.stop();
    await answer;
    await checkInvariants(s, [...load.sent, inHand], { recoveredAt, order: true });
  });
});
