// Webhooks end to end (API.md, "Notifications and webhooks"): the relay, the notifier, and a local receiver that
// checks both signatures itself; retries on a compressed schedule (WEBHOOK_RETRY_SCALE_PERMILLE, tests only).
import { expect } from 'chai';
import { startApi } from '../../api/server.js';
import { startNotificationService, type NotificationService } from '../../engine/notify/service.js';
import { adminToken, createTestEnv, type TestEnv } from '../support/env.js';
import { startStack, waitFor, type Stack } from '../support/stack.js';
import { createGuest, createHotel, createKey, createRoomType, dayFromToday, reservationBody } from '../support/fixtures.js';
import { HttpClient } from '../support/http.js';
import { Receiver, signaturesValid, type Received } from '../support/receiver.js';

describe('webhooks: signed deliveries from the outbox', function () {
  this.timeout(120_000);
  let env: TestEnv;
  let stack: Stack;
  let service: NotificationService;
  let receiver: Receiver;
  let base: string;
  let hotels: any[];
  let types: any[];

  before(async () => {
    env = await createTestEnv({ WEBHOOK_ALLOW_PRIVATE: '1', WEBHOOK_RETRY_SCALE_PERMILLE: '1', WEBHOOK_CONCURRENCY: '3', MAIL_DIR: `/tmp/notify-test-mail-${process.pid}` });
    stack = await startStack(env.config);
    service = startNotificationService(env.config);
    receiver = new Receiver();
    base = await receiver.start();
    hotels = [await createHotel(stack.admin), await createHotel(stack.admin)];
    types = [await createRoomType(stack.admin, hotels[0].id, { totalInventory: 200 }), await createRoomType(stack.admin, hotels[1].id, { totalInventory: 200 })];
  });
  after(async () => {
    await service?.stop();
    await receiver?.stop();
    await stack?.stop();
    await env?.cleanup();
  });

  const subscribe = async (path: string, events: string[], extra: Record<string, unknown> = {}, client = stack.admin) => {
    const r = await client.post('/v1/webhooks', { url: `${base}${path}`, events, ...extra });
    expect(r.status, JSON.stringify(r.body)).to.equal(201);
    expect(r.body.secret).to.match(/^whsec_[A-Za-z0-9+/]{43}=$/);
    return r.body as { id: string; secret: string };
  };
  const reserve = async (i: number, client = stack.admin) => {
    const b = reservationBody(hotels[i].id, types[i].id, dayFromToday(3), dayFromToday(4));
    const r = await client.post('/v1/reservations', b);
    expect(r.status, JSON.stringify(r.body)).to.equal(201);
    return b.reservationId;
  };

  it('delivers only subscribed events and hotels, signed both ways, with the documented body', async () => {
    const paidOfFirst = await subscribe('/paid-first', ['reservation.paid'], { hotelIds: [hotels[0].id] });
    const everything = await subscribe('/all', ['reservation.created', 'reservation.paid', 'availability.changed']);
    const guest = stack.admin.as((await createGuest(stack.admin)).token);
    const ids = [await reserve(0, guest), await reserve(1, guest)];
    for (const id of ids) expect((await guest.post(`/v1/reservations/${id}/payment`, { paymentMethod: 'pm_card_visa' })).status).to.equal(200);
    await waitFor('deliveries', async () => receiver.on('/all').filter((r) => r.body.type === 'reservation.paid').length === 2 && receiver.on('/paid-first').length >= 1);
    await new Promise((r) => setTimeout(r, 500));
    const first = receiver.on('/paid-first');
    expect(first.map((r) => [r.body.type, r.body.hotelId, r.body.data.id])).to.deep.equal([['reservation.paid', hotels[0].id, ids[0]]]);
    for (const r of [...first]) {
      expect(signaturesValid(paidOfFirst.secret, r)).to.deep.equal({ xSignature: true, standard: true });
      expect(signaturesValid(everything.secret, r).xSignature).to.equal(false);
    }
    const all = receiver.on('/all');
    for (const r of all) expect(signaturesValid(everything.secret, r)).to.deep.equal({ xSignature: true, standard: true });
    const body = first[0].body;
    expect(Object.keys(body)).to.deep.equal(['id', 'type', 'createdAt', 'hotelId', 'sequence', 'data']);
    expect(first[0].headers['webhook-id']).to.equal(body.id);
    expect(Math.abs(Number(first[0].headers['webhook-timestamp']) - Date.now() / 1000)).to.be.below(30);
    expect(body.data).to.include({ id: ids[0], status: 'paid', hotelId: hotels[0].id });
    expect(body.data).to.not.have.property('owner');
    expect(body.data).to.not.have.property('fingerprint');
    expect(new Set(all.map((r) => r.body.type))).to.deep.equal(new Set(['reservation.created', 'reservation.paid', 'availability.changed']));
    const avail = all.find((r) => r.body.type === 'availability.changed')!;
    expect(avail.body.data.roomTypeId).to.be.a('string');
    expect(avail.body.data.changes[0]).to.have.keys(['roomTypeId', 'date', 'totalInventory', 'reserved', 'available', 'rate']);
    for (const w of [paidOfFirst, everything]) expect((await stack.admin.delete(`/v1/webhooks/${w.id}`)).status).to.equal(204);
  });

  it('a receiver that answers 500, 500, then 200 gets the event, with the same id on every attempt', async () => {
    const hook = await subscribe('/flaky', ['reservation.created'], { hotelIds: [hotels[0].id] });
    let n = 0;
    receiver.answer = (r) => (r.path === '/flaky' && n++ < 2 ? { status: 500 } : { status: 200 });
    const id = await reserve(0);
    await waitFor('three attempts', async () => receiver.on('/flaky').length >= 3);
    receiver.answer = () => ({ status: 200 });
    const got = receiver.on('/flaky');
    expect(got.length).to.equal(3);
    expect(new Set(got.map((r) => r.headers['webhook-id'])).size).to.equal(1);
    expect(got[0].body.data.id).to.equal(id);
    const d = await stack.admin.get(`/v1/webhooks/${hook.id}/deliveries`);
    expect(d.status).to.equal(200);
    expect(d.body.items[0]).to.include({ eventId: got[0].body.id, type: 'reservation.created', attempts: 3, lastStatusCode: 200, lastError: null, nextAttemptAt: null });
    expect(d.body.items[0].deliveredAt).to.be.a('string');
    expect((await stack.admin.get(`/v1/webhooks/${hook.id}/deliveries?status=failed`)).body.items).to.deep.equal([]);
    await stack.admin.delete(`/v1/webhooks/${hook.id}`);
  });

  it('honours Retry-After on 503', async () => {
    const hook = await subscribe('/busy', ['reservation.created'], { hotelIds: [hotels[0].id] });
    let n = 0;
    // 600 s scaled by 1/1000: the retry comes after about 0.6 s, not after the schedule's 5 ms.
    receiver.answer = (r) => (r.path === '/busy' && n++ === 0 ? { status: 503, headers: { 'Retry-After': '600' } } : { status: 200 });
    await reserve(0);
    await waitFor('two attempts', async () => receiver.on('/busy').length >= 2);
    const [a, b] = receiver.on('/busy');
    expect(b.at - a.at).to.be.at.least(450);
    receiver.answer = () => ({ status: 200 });
    await stack.admin.delete(`/v1/webhooks/${hook.id}`);
  });

  it('a 410 answer disables the webhook at once; PUT enabled: true turns it back on', async () => {
    const hook = await subscribe('/gone', ['reservation.created'], { hotelIds: [hotels[1].id] });
    receiver.answer = (r) => (r.path === '/gone' ? { status: 410 } : { status: 200 });
    await reserve(1);
    await waitFor('the 410', async () => receiver.on('/gone').length >= 1);
    await waitFor('disabled', async () => (await stack.admin.get(`/v1/webhooks/${hook.id}`)).body.enabled === false);
    await reserve(1);
    await new Promise((r) => setTimeout(r, 1000));
    expect(receiver.on('/gone').length).to.equal(1);
    const failed = await stack.admin.get(`/v1/webhooks/${hook.id}/deliveries?status=failed`);
    expect(failed.body.items[0]).to.include({ attempts: 1, lastStatusCode: 410, nextAttemptAt: null });
    receiver.answer = () => ({ status: 200 });
    const on = await stack.admin.put(`/v1/webhooks/${hook.id}`, { enabled: true });
    expect(on.status).to.equal(200);
    expect(on.body.enabled).to.equal(true);
    await reserve(1);
    await waitFor('delivery after re-enabling', async () => receiver.on('/gone').length >= 2);
    await stack.admin.delete(`/v1/webhooks/${hook.id}`);
  });

  it('after 200 concurrent reservations, each hotel\'s sequence reaches the receiver gapless and in order once duplicates are dropped', async () => {
    const hook = await subscribe('/burst', ['reservation.created', 'reservation.paid', 'reservation.rejected', 'reservation.canceled', 'reservation.refunded', 'availability.changed']);
    const before = receiver.on('/burst').length;
    const bodies = Array.from({ length: 200 }, (_, i) => reservationBody(hotels[i % 2].id, types[i % 2].id, dayFromToday(5 + (i % 7)), dayFromToday(6 + (i % 7))));
    const answers = await Promise.all(bodies.map((b) => stack.admin.post('/v1/reservations', b)));
    expect(answers.filter((a) => a.status === 201).length).to.equal(200);
    await waitFor('200 created events', async () => new Set(receiver.on('/burst').filter((r) => r.body.type === 'reservation.created').map((r) => r.body.id)).size === 200, 60_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(before).to.equal(0);
    for (const h of hotels) {
      const seen = new Set<string>();
      const seqs: number[] = [];
      for (const r of receiver.on('/burst')) {
        if (r.body.hotelId !== h.id || seen.has(r.headers['webhook-id'] as string)) continue;
        seen.add(r.headers['webhook-id'] as string);
        seqs.push(r.body.sequence);
      }
      // In order and without gaps from the first one received (earlier events of the hotel predate the webhook).
      expect(seqs.length).to.be.greaterThan(100);
      expect(seqs).to.deep.equal(seqs.map((_, i) => seqs[0] + i));
    }
    // Replay: every matching event since then arrives again with its original id.
    const since = new Date(Date.now() - 60_000).toISOString();
    const ids = new Set(receiver.on('/burst').map((r) => r.body.id));
    const replay = await stack.admin.post(`/v1/webhooks/${hook.id}/replay`, { since });
    expect(replay.status, JSON.stringify(replay.body)).to.equal(202);
    expect(replay.body.events).to.be.at.least(ids.size);
    const n = receiver.on('/burst').length;
    const again = () => new Set(receiver.on('/burst').slice(n).map((r) => r.body.id));
    await waitFor('replayed deliveries', async () => [...ids].every((id) => again().has(id)), 60_000);
    await stack.admin.delete(`/v1/webhooks/${hook.id}`);
  });

  it('a slow receiver holds only its own lane: at most WEBHOOK_CONCURRENCY requests in flight to it, and another webhook gets every event meanwhile', async () => {
    // Eight hotels, one reservation each: eight events for each webhook, which a lane delivers side by side.
    const eight = await Promise.all(Array.from({ length: 8 }, () => createHotel(stack.admin)));
    const eightTypes = await Promise.all(eight.map((h) => createRoomType(stack.admin, h.id)));
    const hotelIds = eight.map((h) => h.id);
    const slow = await subscribe('/slow', ['reservation.created'], { hotelIds });
    const quick = await subscribe('/quick', ['reservation.created'], { hotelIds });
    // The slow receiver answers each request after 2.5 s; the counter goes down just before the answer is sent.
    let inFlight = 0;
    let most = 0;
    receiver.answer = (r) => {
      if (r.path !== '/slow') return { status: 200 };
      most = Math.max(most, ++inFlight);
      setTimeout(() => inFlight--, 2_500);
      return { status: 200, delayMs: 2_500 };
    };
    const bodies = eight.map((h, i) => reservationBody(h.id, eightTypes[i].id, dayFromToday(3), dayFromToday(4)));
    const answers = await Promise.all(bodies.map((b) => stack.admin.post('/v1/reservations', b)));
    expect(answers.map((a) => a.status)).to.deep.equal(bodies.map(() => 201));
    const ids = new Set(bodies.map((b) => b.reservationId));
    const got = (path: string) => new Set(receiver.on(path).map((r) => r.body.data.id as string));
    await waitFor('every event at the quick receiver', async () => [...ids].every((id) => got('/quick').has(id)), 10_000);
    const quickDone = Math.max(...receiver.on('/quick').map((r) => r.at));
    const slowStart = Math.min(...receiver.on('/slow').map((r) => r.at));
    // The quick one had all eight before the slow one had answered once.
    expect(quickDone - slowStart).to.be.below(2_500);
    await waitFor('every event at the slow receiver', async () => [...ids].every((id) => got('/slow').has(id)), 30_000);
    // Eight hotels' events, three at a time, never more. A lane's first round takes the events recorded by then (some
    // hotels); the next takes the rest, recorded meanwhile: one round or the other has at least four hotels.
    expect(most).to.equal(3);
    receiver.answer = () => ({ status: 200 });
    for (const w of [slow, quick]) expect((await stack.admin.delete(`/v1/webhooks/${w.id}`)).status).to.equal(204);
  });

  it('a slow hotel holds only itself within its webhook: another hotel\'s events go past it, and each hotel\'s stay in order', async () => {
    const hook = await subscribe('/one-slow-hotel', ['reservation.created'], { hotelIds: [hotels[0].id, hotels[1].id] });
    const slow = hotels[0].id;
    // The first hotel's deliveries take 2 s each, one after another: four take 8 s.
    receiver.answer = (r) => (r.path === '/one-slow-hotel' && r.body?.hotelId === slow ? { status: 200, delayMs: 2_000 } : { status: 200 });
    const slowIds: string[] = [];
    for (let i = 0; i < 4; i++) slowIds.push(await reserve(0));
    const at = () => receiver.on('/one-slow-hotel');
    await waitFor('the slow hotel\'s first delivery', async () => at().length >= 1, 10_000);
    const from = Date.now();
    const quickIds = [await reserve(1), await reserve(1)];
    await waitFor('the other hotel\'s deliveries', async () => quickIds.every((id) => at().some((r) => r.body.data.id === id)), 20_000);
    const quickAt = Math.max(...at().filter((r) => quickIds.includes(r.body.data.id)).map((r) => r.at));
    // A lane that delivered what it had claimed before claiming more sent these after the slow hotel's four (8 s).
    expect(quickAt - from).to.be.below(3_000);
    expect(at().filter((r) => r.body.hotelId === slow).length, 'slow deliveries before the quick ones arrived').to.be.below(4);
    await waitFor('the slow hotel\'s deliveries', async () => slowIds.every((id) => at().some((r) => r.body.data.id === id)), 20_000);
    for (const hotelId of [slow, hotels[1].id]) {
      const seqs = at().filter((r) => r.body.hotelId === hotelId).map((r) => r.body.sequence as number);
      expect(seqs, hotelId).to.deep.equal([...seqs].sort((a, b) => a - b));
    }
    receiver.answer = () => ({ status: 200 });
    expect((await stack.admin.delete(`/v1/webhooks/${hook.id}`)).status).to.equal(204);
  });

  it('refuses bad input with 400 naming the field, and changes nothing', async () => {
    const count = async () => (await stack.admin.get('/v1/webhooks')).body.items.length;
    const n = await count();
    const fieldOf = (r: any) => r.body.error.details.fields.map((f: any) => f.field);
    let r = await stack.admin.post('/v1/webhooks', { url: 'ftp://example.com/x', events: ['reservation.created'] });
    expect([r.status, r.body.error.code, fieldOf(r)]).to.deep.equal([400, 'validation_failed', ['url']]);
    r = await stack.admin.post('/v1/webhooks', { url: `${base}/x`, events: ['reservation.exploded'] });
    expect([r.status, fieldOf(r)]).to.deep.equal([400, ['events.0']]);
    r = await stack.admin.post('/v1/webhooks', { url: `${base}/x`, events: ['reservation.created'], color: 'red' });
    expect(r.status).to.equal(400);
    // The SSRF guard, with WEBHOOK_ALLOW_PRIVATE unset: an API of the same deployment without the test setting.
    const strict = await startApi({ ...env.config, webhookAllowPrivate: false });
    try {
      const c = new HttpClient(`http://127.0.0.1:${strict.port}`, adminToken);
      for (const url of ['http://127.0.0.1:9/x', 'http://localhost/x', 'http://10.1.2.3/x', 'http://169.254.169.254/latest', 'http://[::1]/x', 'http://192.168.0.1/']) {
        const s = await c.post('/v1/webhooks', { url, events: ['reservation.created'] });
        expect([url, s.status, fieldOf(s)]).to.deep.equal([url, 400, ['url']]);
      }
    } finally {
      await strict.close();
    }
    const hook = await subscribe('/x', ['reservation.created']);
    r = await stack.admin.post(`/v1/webhooks/${hook.id}/replay`, { since: new Date(Date.now() - 400 * 24 * 3600_000).toISOString() });
    expect([r.status, fieldOf(r)]).to.deep.equal([400, ['since']]);
    r = await stack.admin.post(`/v1/webhooks/${hook.id}/replay`, { since: 'yesterday' });
    expect([r.status, fieldOf(r)]).to.deep.equal([400, ['since']]);
    await stack.admin.delete(`/v1/webhooks/${hook.id}`);
    // At most 50 per principal.
    const partner = stack.admin.as(await createKey(stack.admin, 'partner'));
    const made = await Promise.all(Array.from({ length: 50 }, () => partner.post('/v1/webhooks', { url: `${base}/p`, events: ['reservation.created'] })));
    expect(made.every((m) => m.status === 201)).to.equal(true);
    r = await partner.post('/v1/webhooks', { url: `${base}/p`, events: ['reservation.created'] });
    expect([r.status, fieldOf(r)]).to.deep.equal([400, ['webhooks']]);
    expect((await partner.get('/v1/webhooks?limit=200')).body.items.length).to.equal(50);
    for (const m of made) await partner.delete(`/v1/webhooks/${m.body.id}`);
    expect(await count()).to.equal(n);
  });

  it('only its creator (and admin) sees a webhook; staff subscribe only to their hotels; guests may not subscribe', async () => {
    const staff = stack.admin.as(await createKey(stack.admin, 'staff', [hotels[0].id]));
    const other = stack.admin.as(await createKey(stack.admin, 'partner'));
    const guest = stack.admin.as((await createGuest(stack.admin)).token);
    expect((await guest.post('/v1/webhooks', { url: `${base}/g`, events: ['reservation.created'] })).status).to.equal(403);
    expect((await staff.post('/v1/webhooks', { url: `${base}/s`, events: ['reservation.created'], hotelIds: [hotels[1].id] })).status).to.equal(403);
    const mine = await staff.post('/v1/webhooks', { url: `${base}/s`, events: ['reservation.created'] });
    expect(mine.status).to.equal(201);
    expect((await other.get(`/v1/webhooks/${mine.body.id}`)).status).to.equal(404);
    expect((await other.delete(`/v1/webhooks/${mine.body.id}`)).status).to.equal(404);
    expect((await stack.admin.get(`/v1/webhooks/${mine.body.id}`)).status).to.equal(200);
    // A staff webhook without hotelIds gets the events of the staff's hotels only.
    const ids = [await reserve(0), await reserve(1)];
    await waitFor('staff delivery', async () => receiver.on('/s').length >= 1);
    await new Promise((r) => setTimeout(r, 500));
    const got: Received[] = receiver.on('/s');
    expect(got.map((r) => r.body.data.id)).to.deep.equal([ids[0]]);
    expect((await staff.delete(`/v1/webhooks/${mine.body.id}`)).status).to.equal(204);
  });
});
