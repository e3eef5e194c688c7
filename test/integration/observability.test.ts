// Issue 16, observability: every process kind's /metrics is valid Prometheus text (a real parser and a strict check
// of HELP, TYPE and contiguous families) holding API.md's list; the API's needs the admin token, a worker's is on
// its METRICS_PORT. X-Request-Id is honoured when acceptable, made otherwise, returned on every answer, written in
// one access log line per request, and carried in the job into the worker's log line of that decision.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { adminToken, createTestEnv, type TestEnv } from '../support/env.js';
import { createHotel, createKey, createRoomType, dayFromToday, reservationBody } from '../support/fixtures.js';
import { HttpClient } from '../support/http.js';
import { spawnApi, spawnNotifier, spawnWorker, waitFor, type LoggedProcess } from '../support/parts.js';
import { Receiver } from '../support/receiver.js';
import { apiMdFamilies, parseExposition, samplesOf, strictCheck } from '../support/prom-text.js';

describe('observability: metrics, request ids, access and decision logs (issue 16)', function () {
  this.timeout(120_000);
  let env: TestEnv;
  let api: LoggedProcess;
  let worker: LoggedProcess;
  let notifier: LoggedProcess | undefined;
  const receiver = new Receiver();
  let admin: HttpClient;
  let hotel: { id: string };
  let rt: { id: string };
  let partner: string;

  before(async () => {
    env = await createTestEnv();
    // The API writes its access log (info), the worker a line per decision (debug).
    api = await spawnApi({ ...env.vars, LOG_LEVEL: 'info', WEBHOOK_ALLOW_PRIVATE: '1' });
    worker = await spawnWorker({ ...env.vars, LOG_LEVEL: 'debug' });
    admin = new HttpClient(api.url, adminToken);
    await waitFor('the API', async () => (await admin.get('/healthz')).status === 200, 30_000, () => api.tail());
    await waitFor('the worker to own every shard', async () => {
      const m = await (await fetch(`${worker.url}/metrics`)).text();
      return /^shards_owned 4$/m.test(m);
    }, 30_000, () => worker.tail());
    hotel = await createHotel(admin);
    rt = await createRoomType(admin, hotel.id, { totalInventory: 5 });
    partner = await createKey(admin, 'partner', [hotel.id]);
  });

  after(async () => {
    await Promise.all([api?.stop(), worker?.stop(), notifier?.stop()]);
    await receiver.stop();
    await env?.cleanup();
  });

  const reserve = (client: HttpClient, headers: Record<string, string> = {}) =>
    client.post('/v1/reservations', reservationBody(hotel.id, rt.id, dayFromToday(5), dayFromToday(6)), headers);

  function checkExposition(text: string, kind: string) {
    const strict = strictCheck(text);
    expect(strict.problems, `${kind} /metrics breaks the text format`).to.deep.equal([]);
    const parsed = parseExposition(text);
    for (const [name, type] of Object.entries(apiMdFamilies)) {
      expect(parsed.get(name)?.type, `${kind} /metrics has ${name} (${type})`).to.equal(type.toUpperCase());
      expect(strict.families.get(name), `${kind} /metrics types ${name}`).to.equal(type);
    }
    return parsed;
  }

  it("the API's /metrics needs the admin token", async () => {
    expect((await admin.as(undefined).get('/metrics')).status).to.equal(401);
    const refused = await admin.as(partner).get('/metrics');
    expect(refused.status).to.equal(403);
    expect(refused.body.error.code).to.equal('forbidden');
    const ok = await admin.get('/metrics');
    expect(ok.status).to.equal(200);
    expect(ok.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
  });

  it("the API's /metrics parses and holds the API.md list, with requests, decisions and queue depths", async () => {
    expect((await reserve(admin.as(partner))).status).to.equal(201);
    const text = (await admin.get('/metrics')).body as string;
    const parsed = checkExposition(text, 'API');
    const http = samplesOf(text).find(
      (m) => m.name === 'http_request_duration_seconds_count' && m.labels.route === '/v1/reservations' && m.labels.method === 'POST' && m.labels.status === '201',
    );
    expect(http?.value).to.equal(1);
    expect(parsed.get('reservation_decisions_total')!.metrics.find((m) => m.labels?.outcome === 'created')?.value).to.equal('1');
    expect(parsed.get('shard_queue_depth')!.metrics.map((m) => m.labels?.shard).sort()).to.deep.equal(['0', '1', '2', '3']);
    expect(Number(parsed.get('process_resident_memory_bytes')!.metrics[0].value)).to.be.greaterThan(0);
  });

  it('paths the client chooses never become label values', async () => {
    const junk = randomUUID();
    expect((await admin.as('bk_not-a-token').get(`/v1/${junk}`)).status).to.equal(401);
    expect((await admin.as(undefined).get(`/v1/${junk}`)).status).to.equal(404);
    expect((await admin.as(undefined).get(`/${junk}.html`)).status).to.equal(404);
    const text = (await admin.get('/metrics')).body as string;
    expect(text).to.not.include(junk);
    const routes = new Set(samplesOf(text).filter((m) => m.name === 'http_request_duration_seconds_count').map((m) => m.labels.route));
    expect([...routes].filter((r) => !r.startsWith('/') && r !== 'unmatched' && r !== 'unrouted')).to.deep.equal([]);
    expect(routes.has('unrouted') && routes.has('unmatched')).to.equal(true);
  });

  it("the worker's /metrics (METRICS_PORT) parses and holds the API.md list, with commits, decisions, shards and epochs", async () => {
    const res = await fetch(`${worker.url}/metrics`);
    expect(res.status).to.equal(200);
    const parsed = checkExposition(await res.text(), 'worker');
    const commits = parsed.get('shard_commit_duration_seconds')!.metrics[0];
    expect(Number(commits.count)).to.be.greaterThan(0);
    expect(Number(parsed.get('shard_commit_commands')!.metrics[0].sum)).to.be.greaterThan(0);
    const decisions = parsed.get('shard_decisions_total')!.metrics;
    expect(decisions.some((m) => m.labels?.command === 'reserve' && m.labels?.outcome === 'ok' && Number(m.value) >= 1)).to.equal(true);
    expect(parsed.get('shards_owned')!.metrics[0].value).to.equal('4');
    expect(parsed.get('shard_epoch')!.metrics).to.have.length(4);
    expect(parsed.get('shard_takeovers_total')!.metrics[0].value).to.equal('4');
    expect(parsed.get('shard_queue_depth')!.metrics).to.have.length(4);
  });

  it("the notifier's /metrics (METRICS_PORT) parses and holds the API.md list, with the outbox lag by database and deliveries by outcome", async () => {
    const base = await receiver.start();
    expect((await admin.post('/v1/webhooks', { url: `${base}/hook`, events: ['reservation.created'], hotelIds: [hotel.id] })).status).to.equal(201);
    const vars: Record<string, string> = { ...env.vars, WEBHOOK_ALLOW_PRIVATE: '1' };
    delete vars.NOTIFIER_NICE;
    notifier = await spawnNotifier(vars);
    const n = notifier;
    await waitFor("the notifier's /healthz", async () => (await fetch(`${n.url}/healthz`).catch(() => undefined))?.status === 200, 30_000, () => n.tail());
    // Background work at a lower CPU priority by default (NOTIFIER_NICE 19): /proc/<pid>/stat's 19th field.
    const stat = readFileSync(`/proc/${n.child.pid}/stat`, 'utf8');
    expect(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])).to.equal(19);
    expect((await reserve(admin)).status).to.equal(201);
    await waitFor('a delivery', async () => receiver.on('/hook').length > 0, 30_000, () => n.tail());
    let parsed = checkExposition(await (await fetch(`${n.url}/metrics`)).text(), 'notifier');
    // The success is counted once the attempt is back; a scrape may come a moment before.
    await waitFor('the delivery counted', async () => {
      parsed = parseExposition(await (await fetch(`${n.url}/metrics`)).text());
      return (parsed.get('webhook_deliveries_total')?.metrics ?? []).some((m) => m.labels?.outcome === 'succeeded' && Number(m.value) >= 1);
    }, 10_000);
    const lag = parsed.get('outbox_lag_seconds')!.metrics;
    expect(lag.map((m) => m.labels?.database).sort()).to.deep.equal(env.config.shardDatabaseUrls.map((_, i) => String(i)));
    for (const m of lag) expect(Number(m.value)).to.be.at.least(0).and.below(60);
  });

  it('X-Request-Id: an acceptable one is honoured, on every kind of answer, the fast path included', async () => {
    const id = `trace.${randomUUID().slice(0, 8)}_A-1`;
    const answers = [
      await admin.as(partner).request('GET', `/v1/hotels/${hotel.id}`, undefined, { 'x-request-id': id }),
      await admin.as(undefined).request('GET', '/v1/reservations', undefined, { 'x-request-id': id }),
      await admin.as(undefined).request('GET', '/v1/no-such-route', undefined, { 'x-request-id': id }),
      await admin.as(partner).request('POST', '/v1/hotels', { name: 1 }, { 'x-request-id': id }),
      await reserve(admin.as(partner), { 'x-request-id': id }),
      await admin.as(undefined).request('GET', '/healthz', undefined, { 'x-request-id': id }),
    ];
    expect(answers.map((a) => a.status)).to.deep.equal([200, 401, 404, 403, 201, 200]);
    for (const a of answers) expect(a.headers.get('x-request-id')).to.equal(id);
  });

  it('X-Request-Id: one that is absent, too long or has other characters is replaced by a new UUID', async () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const sent of [undefined, 'x'.repeat(129), 'has space', 'semi;colon', 'ünïcode', '']) {
      const headers: Record<string, string> = sent === undefined ? {} : { 'x-request-id': sent };
      const a = await admin.request('GET', `/v1/hotels/${hotel.id}`, undefined, headers);
      expect(a.status).to.equal(200);
      expect(a.headers.get('x-request-id'), `sent ${JSON.stringify(sent)}`).to.match(uuid);
    }
    const longest = 'a'.repeat(128);
    expect((await admin.request('GET', '/healthz', undefined, { 'x-request-id': longest })).headers.get('x-request-id')).to.equal(longest);
    const two = await Promise.all([admin.get('/healthz'), admin.get('/healthz')]);
    expect(two[0].headers.get('x-request-id')).to.not.equal(two[1].headers.get('x-request-id'));
  });

  it('one access log line per request, and the request id reaches the log line of the decision in the worker', async () => {
    const id = `booking-${randomUUID()}`;
    const made = await reserve(admin.as(partner), { 'x-request-id': id });
    expect(made.status).to.equal(201);
    const viaExpress = `express-${randomUUID()}`;
    const body = reservationBody(hotel.id, rt.id, dayFromToday(7), dayFromToday(8));
    // A query string sends the same route through Express rather than the fast path.
    const slow = await admin.as(partner).post('/v1/reservations?x=1', body, { 'x-request-id': viaExpress });
    expect(slow.status).to.equal(201);
    const missing = `missing-${randomUUID()}`;
    expect((await admin.as(undefined).request('GET', `/v1/reservations/${randomUUID()}`, undefined, { 'x-request-id': missing })).status).to.equal(401);

    await waitFor('the access lines', async () => api.lines().filter((l) => [id, viaExpress, missing].includes(l.requestId as string)).length === 3, 5_000);
    const access = (rid: string) => api.lines().filter((l) => l.requestId === rid && l.msg === 'request');
    expect(access(id)).to.have.length(1);
    expect(access(id)[0]).to.include({ method: 'POST', path: '/v1/reservations', status: 201, principal: 'partner', component: 'access', level: 'info' });
    expect(access(id)[0].ms).to.be.a('number');
    expect(access(viaExpress)[0]).to.include({ method: 'POST', path: '/v1/reservations', status: 201, principal: 'partner' });
    expect(access(missing)[0]).to.include({ method: 'GET', status: 401, principal: 'none' });

    await waitFor('the decision lines', async () => worker.lines().filter((l) => l.msg === 'decided' && [id, viaExpress].includes(l.requestId as string)).length === 2, 5_000);
    const decided = worker.lines().find((l) => l.msg === 'decided' && l.requestId === id)!;
    expect(decided).to.include({ command: 'reserve', hotelId: hotel.id, outcome: 'ok', component: 'worker', level: 'debug' });
    expect(decided.shard).to.be.a('number');
    // A partner batch's request id reaches the decision lines of its items.
    const batchRequest = `batch-${randomUUID()}`;
    const items = [9, 10].map((d) => reservationBody(hotel.id, rt.id, dayFromToday(d), dayFromToday(d + 1)));
    expect((await admin.as(partner).post('/v1/batches', { items }, { 'x-request-id': batchRequest })).status).to.equal(202);
    await waitFor('the batch decision lines', async () => worker.lines().filter((l) => l.msg === 'decided' && l.requestId === batchRequest).length === 2, 5_000);
    // Every line both processes wrote is one JSON object.
    for (const l of [...api.lines(), ...worker.lines()]) expect(l, JSON.stringify(l)).to.not.have.property('text');
  });
});
