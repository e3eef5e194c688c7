// kill -9 of the worker that owns every shard, while it has a commit in hand and later jobs wait behind it: a second
// worker takes over within SHARD_LEASE_MS + 5 s, the dead owner's job in hand is decided before the later jobs of
// its shard, and the invariants hold (issue 13).
import { expect } from 'chai';
import { activeAndStandby, ChaosStack, sleep, waitUntil, withClient } from '../support/chaos-harness.js';
import { checkInvariants, createdVersions, Findings } from '../support/chaos-invariants.js';
import { ReservationLoad, timedRequest } from '../support/chaos-load.js';
import { dayFromToday } from '../support/fixtures.js';

describe('chaos: worker killed with SIGKILL while its commit is in hand', function () {
  this.timeout(120_000);
  let stack: ChaosStack | undefined;

  after(async () => {
    await stack?.destroy();
  });

  it('is taken over in time, decides the job in hand first, and keeps every invariant', async () => {
    // An owner of every shard and a standby (see activeAndStandby).
    stack = await ChaosStack.start({ vars: activeAndStandby });
    const s = stack;
    const first = s.workers[0];
    const dead = await s.waitForOneOwner();
    await s.populate(2, 30);
    // The standby: it takes the shards once the dead owner's leases lapse.
    const second = await s.startWorker();
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
    const f = new Findings(s);
    f.expectEmpty('takeover within SHARD_LEASE_MS + 5 s', takeoverMs <= s.config.shardLeaseMs + 5_000 ? [] : [`${takeoverMs} ms`]);
    expect(successor).to.not.equal(dead);
    expect(second.alive).to.equal(true);
    const recoveredAt = Date.now();
    await sleep(2_000);
    await load.stop();
    const inHandAnswer = await inHand;
    f.expectEmpty('the job in hand was answered 202 (queued)', inHandAnswer.status === 202 ? [] : [`${inHandAnswer.status}`]);

    // The job in hand decided first: its reservation's hotel version is below every later one's.
    const decidedBy = recoveredAt + 15_000;
    for (const [who, id] of [[guest, inHandBody.reservationId], ...later.map((l) => [partner, l.id] as const)] as const) {
      let st = 0;
      while (Date.now() < decidedBy && (st = (await timedRequest(who.client, 'GET', `/v1/reservations/${id}`)).status) === 202) await sleep(200);
      f.expectEmpty(`${id === inHandBody.reservationId ? 'the job in hand' : 'a later job'} books its night within 15 s`, st === 200 ? [] : [`${id}: GET answers ${st}`]);
    }
    const versions = await createdVersions(s, [inHandBody.reservationId, ...later.map((l) => l.id)]);
    const v0 = versions.get(inHandBody.reservationId);
    f.expectEmpty(
      'later jobs of the shard decided before the dead owner\'s job in hand',
      later.filter((l) => v0 === undefined || (versions.get(l.id) ?? Infinity) <= v0).map((l) => `job in hand at version ${v0}, later ${l.id} at version ${versions.get(l.id)}`),
    );

    await checkInvariants(s, load.sent, { recoveredAt, order: true }, f);
    f.expectEmpty('the load booked rooms', load.sent.filter((x) => x.status === 201).length > 10 ? [] : ['10 or fewer created']);
    f.done();
  });
});
