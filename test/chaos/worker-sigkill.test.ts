// kill -9 of the worker that owns every shard, while it has a commit in hand and later jobs wait behind it: a second
// worker takes over within SHARD_LEASE_MS + 5 s, the dead owner's job in hand is decided before the later jobs of
// its shard, and the invariants hold (issue 13).
import { expect } from 'chai';
import { ChaosStack, checkInvariants, createdVersions, ReservationLoad, sleep, timedRequest, waitUntil, withClient } from '../support/chaos-harness.js';
import { dayFromToday } from '../support/fixtures.js';

describe('chaos: worker killed with SIGKILL while its commit is in hand', function () {
  this.timeout(120_000);
  let stack: ChaosStack | undefined;

  after(async () => {
    await stack?.destroy();
  });

  it('is taken over in time, decides the job in hand first, and keeps every invariant', async () => {
    stack = await ChaosStack.start();
    const s = stack;
    const first = s.startWorker();
    const dead = await s.waitForOneOwner();
    await s.populate(2, 30);
    // The standby: it takes the shards once the dead owner's leases lapse.
    const second = s.startWorker();
    const load = new ReservationLoad(s).start();
    await sleep(1_500);

    // The job in hand: a reservation of a night the test holds locked, so the owner waits inside its commit.
    const hotel = s.hotels[0];
    const lockDay = 45;
    const lock = await s.holdNight(hotel, lockDay);
    const [guest, partner] = [s.principals[1], s.principals[0]];
    const inHandBody = { reservationId: crypto.randomUUID(), hotelId: hotel.id, roomTypeId: hotel.roomTypeId, checkIn: dayFromToday(lockDay), checkOut: dayFromToday(lockDay + 1), roomCount: 1, guest: { name: 'In Hand', email: 'in-hand@example.com' } };
    const inHand = timedRequest(guest.client, 'POST', '/v1/reservations', inHandBody);
    await s.waitForBlockedCommit(hotel);
    // Later jobs of the same shard (and hotel), sent one after the other behind it.
    const later: { id: string; status: number }[] = [];
    for (let i = 0; i < 3; i++) {
      const b = { ...inHandBody, reservationId: crypto.randomUUID(), checkIn: dayFromToday(lockDay + 2 + i), checkOut: dayFromToday(lockDay + 3 + i), guest: { name: 'Later', email: 'later@example.com' } };
      const r = await timedRequest(partner.client, 'POST', '/v1/reservations', b);
      later.push({ id: b.reservationId, status: r.status });
    }
    expect(later.map((l) => l.status), 'later requests wait behind the job in hand').to.deep.equal([202, 202, 202]);

    const killedAt = Date.now();
    first.signal('SIGKILL');
    await first.exited;
    // The dead worker's session goes (the server notices its client is gone), then the night is free again.
    await waitUntil('the dead owner\'s sessions to end', async () =>
      (await Promise.all(s.config.shardDatabaseUrls.map((u) => withClient(u, async (c) => (await c.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [dead])).rows[0].n as number)))).every((n) => n === 0),
    10_000);
    await lock.release();

    const successor = await s.waitForOneOwner(s.config.shardLeaseMs + 5_000, dead);
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs, 'takeover within SHARD_LEASE_MS + 5 s').to.be.at.most(s.config.shardLeaseMs + 5_000);
    expect(successor).to.not.equal(dead);
    expect(second.alive).to.equal(true);
    const recoveredAt = Date.now();
    await sleep(3_000);
    await load.stop();
    expect((await inHand).status, 'the job in hand was answered 202 (queued)').to.equal(202);

    // The job in hand decided first: its reservation's hotel version is below every later one's.
    await waitUntil('the job in hand to be decided', async () => (await timedRequest(guest.client, 'GET', `/v1/reservations/${inHandBody.reservationId}`)).status !== 202, 15_000, () => s.logs());
    expect((await timedRequest(guest.client, 'GET', `/v1/reservations/${inHandBody.reservationId}`)).status, 'the job in hand booked its night').to.equal(200);
    for (const l of later) {
      await waitUntil(`later request ${l.id} to be decided`, async () => (await timedRequest(partner.client, 'GET', `/v1/reservations/${l.id}`)).status === 200, 15_000, () => s.logs());
    }
    const versions = await createdVersions(s, [inHandBody.reservationId, ...later.map((l) => l.id)]);
    const v0 = versions.get(inHandBody.reservationId)!;
    expect(later.map((l) => versions.get(l.id)! > v0), `later jobs decided after the job in hand (its version ${v0}, later ${later.map((l) => versions.get(l.id)).join(', ')})`).to.deep.equal([true, true, true]);

    await checkInvariants(s, load.sent, { recoveredAt, order: true });
    expect(load.sent.filter((x) => x.status === 201).length, 'the load booked rooms').to.be.greaterThan(10);
  });
});
