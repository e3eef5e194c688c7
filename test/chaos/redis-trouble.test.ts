// Redis trouble under load (issue 13, items 10 and 11; API.md "Outages": "Redis unreachable: 503 unavailable with
// Retry-After at once, never a hanging request; every process reconnects by itself"): Redis killed and restarted
// empty, and Redis paused with CLIENT PAUSE for 10 s. Requests sent meanwhile get 503 within 1 s; the deployment
// recovers by itself; no acknowledged reservation is lost; availability is correct afterwards. Restarted from its
// AOF, Redis loses no queued request either.
import { ChaosStack, sleep, waitUntil } from '../support/chaos-harness.js';
import { availabilityDiffs, checkInvariants, Findings, type Decided } from '../support/chaos-invariants.js';
import { ReservationLoad, stayBody, timedRequest, type Sent } from '../support/chaos-load.js';

const fastFailMs = 1_000;

/** Requests sent inside [from, to) that were not answered 503 within a second (there must be some). */
function slowOrNot503(sent: Sent[], from: number, to: number): string[] {
  const inside = sent.filter((x) => x.sentAt >= from && x.sentAt < to);
  if (inside.length < 3) return [`only ${inside.length} requests were sent in the window: the check saw nothing`];
  return inside
    .filter((x) => x.status !== 503 || x.answeredAt! - x.sentAt > fastFailMs)
    .map((x) => `sent at +${x.sentAt - from} ms: ${x.status} after ${x.answeredAt! - x.sentAt} ms`);
}

/**
 * Fresh reservations sent once a second over [now, until), each on its own (the load's lanes send one at a time,
 * so a lane stuck on one request sends nothing else while it hangs).
 */
async function probes(s: ChaosStack, until: number): Promise<Sent[]> {
  const out: Sent[] = [];
  const pending: Promise<void>[] = [];
  for (let i = 0; Date.now() < until; i++) {
    const principal = s.principals[i % s.principals.length];
    const hotel = s.hotels[i % s.hotels.length];
    const x: Sent = { lane: -10 - i, seq: 0, principal, hotel, body: stayBody(hotel, 40 + (i % 5), 1, 'Probe'), sentAt: Date.now() };
    out.push(x);
    pending.push(
      timedRequest(principal.client, 'POST', '/v1/reservations', x.body, 20_000).then((r) => {
        x.status = r.status;
        x.response = r.body;
        x.error = r.error;
        x.answeredAt = Date.now();
      }),
    );
    await sleep(1_000);
  }
  await Promise.all(pending);
  return out;
}

/** Wait until the load has a reservation sent after `after` and answered 201 (the deployment recovered). */
async function recovered(s: ChaosStack, load: ReservationLoad, after: number, timeoutMs = 20_000): Promise<number> {
  await waitUntil('a reservation sent after the fault to be created', async () => load.sent.some((x) => x.sentAt >= after && x.status === 201), timeoutMs, () => s.logs());
  return Date.now();
}

describe('chaos: Redis trouble under load', function () {
  this.timeout(120_000);
  let stack: ChaosStack | undefined;

  afterEach(async () => {
    await stack?.destroy();
    stack = undefined;
  });

  /**
   * Kill Redis under load while an owner has a commit in hand, restart it after 4 s (empty, or from its AOF), and
   * check what every restart must keep; answers the findings and how each request answered 202 ended.
   */
  async function restart(appendonly: boolean): Promise<{ f: Findings; decided: Decided[]; downAt: number }> {
    stack = await ChaosStack.start({ redis: { appendonly } });
    const s = stack;
    await s.waitForOneOwner();
    await s.populate(2, 30);
    const load = new ReservationLoad(s, { requestTimeoutMs: 20_000 }).start();
    await sleep(1_500);
    // A commit in hand when Redis goes: its replies and its queue entry have nowhere to go.
    const hotel = s.hotels[0];
    const lock = await s.holdNight(hotel, 45);
    const guest = s.principals[1];
    const inHand: Sent = { lane: -1, seq: 0, principal: guest, hotel, body: stayBody(hotel, 45, 1, 'In Hand'), sentAt: Date.now() };
    const answer = timedRequest(guest.client, 'POST', '/v1/reservations', inHand.body).then((r) => {
      inHand.status = r.status;
      inHand.response = r.body;
      inHand.answeredAt = Date.now();
    });
    await s.waitForBlockedCommit(hotel);
    // Long enough for requests queued behind it to be answered 202 (their jobs wait in Redis) before Redis goes.
    await sleep(2_000);

    await s.redis.stop();
    const downAt = Date.now();
    const probing = sleep(100).then(() => probes(s, downAt + 3_500));
    await sleep(500);
    await lock.release();
    await sleep(3_500);
    await s.redis.start();
    const upAt = Date.now();
    const recoveredAt = await recovered(s, load, upAt);
    await sleep(2_000);
    await load.stop();
    await answer;
    const sent = [...load.sent, ...(await probing)];

    const f = new Findings(s);
    f.expectEmpty('requests sent while Redis was down and not answered 503 within 1 s', slowOrNot503(sent, downAt + 100, upAt));
    const decided = await checkInvariants(s, [...sent, inHand], { recoveredAt, allowedStatuses: [201, 202, 409, 503] }, f);
    f.expectEmpty('availability afterwards differs from the database', await availabilityDiffs(s, 2, 35));
    return { f, decided, downAt };
  }

  it('Redis killed and restarted empty: 503 within 1 s meanwhile, recovery by itself, nothing acknowledged lost', async () => {
    const { f } = await restart(false);
    f.done();
  });

  it('Redis killed and restarted with its AOF: the same, and no queued request is lost (none "never decided")', async () => {
    const { f, decided, downAt } = await restart(true);
    // Only requests whose jobs surely were in Redis: answered 202 (their job added at the latest then) well before
    // the kill. A request still on its way at the kill may not have reached Redis, and "never decided" is then
    // the contract's answer for it.
    const queued = decided.filter((d) => d.sent.status === 202 && d.sent.answeredAt! < downAt - 200);
    f.expectEmpty(
      'requests queued in Redis before the kill and lost although Redis kept its AOF (GET says "never decided")',
      queued.filter((d) => /never decided/.test(JSON.stringify(d.answer ?? ''))).map((d) => `${d.sent.body.reservationId} (lane ${d.sent.lane}) answered 202 at ${d.sent.answeredAt! - downAt} ms of the kill: ${JSON.stringify(d.answer).slice(0, 120)}`),
    );
    f.expectEmpty('requests queued in Redis before the kill (the check saw something)', queued.length > 0 ? [] : ['none']);
    f.done();
  });

  it('Redis paused 10 s (CLIENT PAUSE): 503 within 1 s, readyz says so, no lease fails over, recovery by itself', async () => {
    stack = await ChaosStack.start();
    const s = stack;
    await s.waitForOneOwner();
    await s.populate(2, 30);
    const load = new ReservationLoad(s, { requestTimeoutMs: 20_000 }).start();
    await sleep(1_500);
    const before = await s.leases();

    s.redis.cli('CLIENT', 'PAUSE', '10000');
    const pausedAt = Date.now();
    const unpausedAt = pausedAt + 10_000;
    const probing = sleep(100).then(() => probes(s, unpausedAt - 2_000));
    await sleep(2_000);
    const ready = await timedRequest(s.admin.as(undefined), 'GET', '/readyz', undefined, 15_000);
    await sleep(Math.max(0, unpausedAt - Date.now()));
    const recoveredAt = await recovered(s, load, unpausedAt);
    await sleep(2_000);
    await load.stop();
    const sent = [...load.sent, ...(await probing)];

    const f = new Findings(s);
    f.expectEmpty('/readyz during the pause (503 within 1 s)', ready.status === 503 && ready.ms <= fastFailMs ? [] : [`${ready.status} after ${ready.ms} ms`]);
    // Only requests that a 1 s bound can tell apart from the pause's end.
    f.expectEmpty('requests sent while Redis was paused and not answered 503 within 1 s', slowOrNot503(sent, pausedAt + 100, unpausedAt - fastFailMs));
    const after = await s.leases();
    f.expectEmpty(
      'shards failed over although only Redis stalled',
      [...after].filter(([shard, l]) => l.epoch !== before.get(shard)?.epoch).map(([shard, l]) => `shard ${shard}: epoch ${before.get(shard)?.epoch} -> ${l.epoch}`),
    );
    await checkInvariants(s, sent, { recoveredAt, allowedStatuses: [201, 202, 409, 503], order: true }, f);
    f.expectEmpty('availability afterwards differs from the database', await availabilityDiffs(s, 2, 35));
    f.done();
  });
});
