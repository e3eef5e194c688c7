// Issue 16: online shard moves between two Postgres servers (two initdb instances on different ports). Under a
// steady reservation load, one virtual shard moves from a shard database of the first server to a new database on
// the second (given as a postgres:// URL: created, migrated and added), and later back. Shown: no 5xx and no request
// lost; every 201 exactly once where the shard lives; nothing of the shard written to the source after the flip
// (its rows' times stay before the flip, and the source's fence refuses a new epoch); the same availability before
// and after a move; an owner killed mid-move, whose move the next owner finishes (the shard in exactly one
// database); a move whose target fails before the flip, reported failed with the shard serving where it was; the
// ops CLI and the drain; and the bad input of POST /v1/ops/shards/:shard/move refused with details, changing nothing.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { ChaosStack, sleep, waitUntil, withClient, type ChaosHotel } from '../support/chaos-harness.js';
import { ReservationLoad, stayBody, timedRequest } from '../support/chaos-load.js';
import { availabilityDiffs, checkInvariants } from '../support/chaos-invariants.js';
import { adminToken } from '../support/env.js';
import { createHotel, createRoomType, dayFromToday } from '../support/fixtures.js';
import { freePort, startPrivatePostgres, type PrivatePostgres } from '../support/private-servers.js';
import { createPool, migrate, shardAtHome } from '../../engine/store/pg.js';
import { ShardStore } from '../../engine/store/shard-store.js';
import { ShardNotHomeError } from '../../engine/store/shard-copy.js';
import { databaseOfShard, shardOf } from '../../engine/shard-map.js';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface ShardRow {
  shard: number;
  database: number;
  owner: string | null;
  epoch: number | null;
  state: 'serving' | 'moving';
  movingTo: number | null;
  lastMove: { id: number; from: number; to: number; state: string; error: string | null; pauseMs: number | null } | null;
}

/** What a database holds of some hotels, with the latest time anything of theirs was written. */
async function footprint(url: string, hotelIds: string[], shard: number) {
  return withClient(url, async (c) => {
    const r = await c.query(
      `SELECT (SELECT count(*) FROM reservations WHERE hotel_id = ANY($1::uuid[]))::int AS reservations,
              (SELECT count(*) FROM outbox WHERE hotel_id = ANY($1::uuid[]))::int AS outbox,
              (SELECT count(*) FROM audit_log WHERE hotel_id = ANY($1::uuid[]))::int AS audit,
              (SELECT COALESCE(sum(reserved), 0) FROM room_type_inventory WHERE hotel_id = ANY($1::uuid[]))::int AS reserved,
              (SELECT COALESCE(sum(version), 0) FROM hotels WHERE id = ANY($1::uuid[]))::int AS versions,
              (SELECT COALESCE(sum(sequence), 0) FROM outbox_cursors WHERE hotel_id = ANY($1::uuid[]))::int AS cursors,
              (SELECT count(*) FROM applied_jobs WHERE shard = $2)::int AS jobs,
              (SELECT count(*) FROM rooms WHERE hotel_id = ANY($1::uuid[]))::int AS rooms,
              GREATEST((SELECT max(updated_at) FROM reservations WHERE hotel_id = ANY($1::uuid[])),
                       (SELECT max(created_at) FROM outbox WHERE hotel_id = ANY($1::uuid[])),
                       (SELECT max(at) FROM audit_log WHERE hotel_id = ANY($1::uuid[])),
                       (SELECT max(updated_at) FROM outbox_cursors WHERE hotel_id = ANY($1::uuid[])),
                       (SELECT max(applied_at) FROM applied_jobs WHERE shard = $2)) AS last_write`,
      [hotelIds, shard],
    );
    return r.rows[0] as Record<string, number | Date | null>;
  });
}

describe('chaos: moving a shard between two Postgres servers under load', function () {
  this.timeout(120_000);
  let stack: ChaosStack | undefined;
  let second: PrivatePostgres | undefined;

  after(async () => {
    await stack?.destroy();
    await second?.destroy();
  });

  it('moves a shard mid-load and back: nothing lost, nothing written to the source after the flip, the same availability; a crash mid-move and a crash after the fence, each finished by the next owner; a failed move resumes on the source; bad input refused', async () => {
    // Shorter leases than the chaos default: the crash and the drain below wait for them.
    [stack, second] = await Promise.all([ChaosStack.start({ vars: { SHARD_LEASE_MS: '2000', JOB_LOCK_MS: '3000' } }), startPrivatePostgres()]);
    const s = stack;
    await s.populate(2, 200);
    const shards = async () => {
      const r = await s.admin.get('/v1/ops/shards');
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      return r.body as ShardRow[];
    };
    await waitUntil('every shard owned', async () => (await shards()).every((x) => x.owner !== null), 30_000, () => s.logs());
    const moving = s.hotels[0];
    const shard = moving.shard;
    const source = moving.database;
    const sourceUrl = s.config.shardDatabaseUrls[source];
    const movedHotels: ChaosHotel[] = s.hotels.filter((h) => h.shard === shard);
    const movedIds = movedHotels.map((h) => h.id);
    const targetUrl = second.url('booking_moved');
    const catalogDatabases = async () => withClient(s.config.catalogUrl, async (c) => (await c.query('SELECT id, url FROM shard_databases ORDER BY id')).rows);

    // Bad input: each refused with details, and nothing changes.
    const tableBefore = await shards();
    const dbsBefore = await catalogDatabases();
    const move = (sh: number | string, database: unknown) => timedRequest(s.admin, 'POST', `/v1/ops/shards/${sh}/move`, { database });
    const bad = [
      { what: 'a shard out of range', r: await move(99, 1), status: 404 },
      { what: 'a shard that is not a number', r: await move('x', 1), status: 400 },
      { what: 'an unknown database id', r: await move(shard, 7), status: 400 },
      { what: 'a database that is not a URL', r: await move(shard, 'not a url'), status: 400 },
      { what: 'an unreachable database', r: await move(shard, `postgres://127.0.0.1:${await freePort()}/bk_mv_nowhere`), status: 400 },
      { what: 'the database it is in', r: await move(shard, source), status: 400 },
      { what: 'an unknown body field', r: await timedRequest(s.admin, 'POST', `/v1/ops/shards/${shard}/move`, { database: 1, extra: 1 }), status: 400 },
      { what: 'no database', r: await timedRequest(s.admin, 'POST', `/v1/ops/shards/${shard}/move`, {}), status: 400 },
    ];
    // Said as every other route says a missing field (it was "Invalid input").
    expect(JSON.stringify(bad[bad.length - 1].r.body)).to.contain('"field":"database","message":"is required"');
    // A known database that is not migrated (registered by hand, as an operator's mistake would leave it).
    await withClient(second.url('postgres'), (c) => c.query('CREATE DATABASE bk_mv_unmigrated'));
    await withClient(s.config.catalogUrl, (c) => c.query('INSERT INTO shard_databases (id, url) VALUES (2, $1)', [second!.url('bk_mv_unmigrated')]));
    bad.push({ what: 'an unmigrated database', r: await move(shard, 2), status: 400 });
    for (const b of bad) {
      expect(b.r.status, `${b.what}: ${JSON.stringify(b.r.body)}`).to.equal(b.status);
      expect((b.r.body as { error: { details?: unknown } }).error.details, `${b.what}: details`).to.be.an('object');
    }
    expect((await catalogDatabases()).length, 'no database added by bad input').to.equal(dbsBefore.length + 1);
    // Meanwhile the lists read every registered database: they answer 503 naming the unmigrated one (not a 500), and
    // so does /readyz, until it is migrated.
    for (const route of ['/v1/hotels', '/v1/reservations', '/readyz']) {
      const r = await s.admin.get(route);
      expect(r.status, `${route} with an unmigrated database: ${JSON.stringify(r.body)}`).to.equal(503);
      expect(JSON.stringify(r.body), route).to.match(route === '/readyz' ? /shard_db_2/ : /shard database 2 is not migrated/);
    }
    await migrate(second.url('bk_mv_unmigrated'), 'shard');
    for (const route of ['/v1/hotels', '/v1/reservations', '/readyz']) expect((await s.admin.get(route)).status, `${route} once migrated`).to.equal(200);
    const tableAfterBad = await shards();
    expect(tableAfterBad.map((x) => [x.database, x.state])).to.deep.equal(tableBefore.map((x) => [x.database, 'serving']));
    expect(await timedRequest(s.admin.as(undefined), 'POST', `/v1/ops/shards/${shard}/move`, { database: 1 })).to.include({ status: 401 });

    // The load, then the move mid-load. The shard's lease row in the source is held locked for a moment (its commits
    // and the move's seal wait for it), so that the move is seen moving and a second move of it is refused.
    const load = new ReservationLoad(s, { pauseMs: 15, firstDay: 2, spanDays: 20 }).start();
    await sleep(2_500);
    const lock = await holdLeaseRow(sourceUrl, shard);
    const asked = await move(shard, targetUrl);
    expect(asked.status, JSON.stringify(asked.body)).to.equal(202);
    const moveBody = asked.body as { moveId: number; from: number; to: number; state: string };
    expect(moveBody).to.include({ from: source, state: 'moving' });
    const target = moveBody.to;
    expect(target, 'the new URL gets the next id').to.equal(3);
    const again = await move(shard, 1 - source);
    expect(again.status, `a second move while moving: ${JSON.stringify(again.body)}`).to.equal(400);
    expect((again.body as { error: { details: { movingTo: number } } }).error.details.movingTo).to.equal(target);
    const during = (await shards())[shard];
    expect(during).to.include({ state: 'moving', movingTo: target, database: source });
    await sleep(300);
    await lock.release();
    await waitUntil('the move to be done', async () => (await shards())[shard].lastMove?.state === 'done', 20_000, () => s.logs());
    s.movedShards.set(shard, targetUrl);
    s.addedShardUrls.push(targetUrl);
    const done = (await shards())[shard];
    expect(done).to.include({ database: target, state: 'serving' });
    expect(done.lastMove).to.include({ from: source, to: target, state: 'done', error: null });
    const flippedAt = await withClient(s.config.catalogUrl, async (c) => (await c.query('SELECT flipped_at FROM shard_moves WHERE id = $1', [moveBody.moveId])).rows[0].flipped_at as Date);
    const sourceAtFlip = await footprint(sourceUrl, movedIds, shard);

    // The load goes on against the target for a while.
    const answeredAtFlip = load.answered;
    await sleep(3_000);
    await load.stop();
    const stoppedAt = Date.now();
    expect(load.answered - answeredAtFlip, 'requests answered after the move').to.be.greaterThan(20);

    // No 5xx, nothing lost; every 201 exactly once where its shard is at home (checkInvariants), and in the target.
    expect(load.sent.filter((x) => (x.status ?? 0) >= 500).map((x) => `${x.status} ${JSON.stringify(x.response)}`), '5xx').to.deep.equal([]);
    const decided = await checkInvariants(s, load.sent, { recoveredAt: stoppedAt, allowedStatuses: [201, 202, 409] });
    const created = decided.filter((d) => d.final === 'created' && movedIds.includes(d.sent.hotel.id)).map((d) => d.sent.body.reservationId);
    expect(created.length, 'reservations made in the moved shard').to.be.greaterThan(10);
    const inTarget = await withClient(targetUrl, async (c) =>
      (await c.query('SELECT id::text, count(*)::int AS n FROM reservations WHERE id = ANY($1::uuid[]) GROUP BY id', [created])).rows as { id: string; n: number }[],
    );
    expect(inTarget.length, 'every 201 of the moved shard in the target').to.equal(created.length);
    expect(inTarget.every((r) => r.n === 1)).to.equal(true);
    const sample = await timedRequest(s.admin, 'GET', `/v1/reservations/${created[0]}`);
    expect(sample.status, 'a reservation of the moved shard read back').to.equal(200);

    // Nothing of the shard written to the source after the flip: its footprint is as it was, every write is older
    // than the flip, and the source refuses to hand out an epoch for the shard.
    await sleep(500);
    const sourceLater = await footprint(sourceUrl, movedIds, shard);
    expect(sourceLater, 'the source after the flip').to.deep.equal(sourceAtFlip);
    expect(new Date(sourceLater.last_write as Date).getTime(), 'last write to the source before the flip').to.be.at.most(new Date(flippedAt).getTime());
    const sourcePool = createPool(sourceUrl, 1);
    try {
      const err = await new ShardStore(sourcePool, 60).takeShard(shard, 'a-stale-owner').then(() => undefined, (e: unknown) => e);
      expect(err, 'the source refuses a new owner of the moved shard').to.be.instanceOf(ShardNotHomeError);
    } finally {
      await sourcePool.end();
    }

    // Availability as the API answers it equals the target's nights.
    expect(await availabilityDiffs(s, 2, 24), 'availability vs the databases').to.deep.equal([]);

    // The same availability before and after a move (no load): the shard goes back to its source database, whose
    // stale copy is replaced.
    const availability = async () =>
      Promise.all(movedHotels.map(async (h) => (await timedRequest(s.admin, 'GET', `/v1/hotels/${h.id}/availability?checkIn=${dayFromToday(2)}&checkOut=${dayFromToday(24)}`)).body));
    const before = await availability();
    // And the same audit records, sequences included (each hotel's own count, not a row id of either database).
    const audits = async () =>
      Promise.all(movedHotels.map(async (h) => (await timedRequest(s.admin, 'GET', `/v1/hotels/${h.id}/audit?limit=200`)).body as { items: { sequence: number }[] }));
    const auditBefore = await audits();
    expect(auditBefore.every((a) => a.items.length > 0)).to.equal(true);
    const back = await move(shard, source);
    expect(back.status, JSON.stringify(back.body)).to.equal(202);
    await waitUntil('the move back to be done', async () => {
      const row = (await shards())[shard];
      return row.lastMove?.id === (back.body as { moveId: number }).moveId && row.lastMove.state === 'done';
    }, 20_000, () => s.logs());
    s.movedShards.delete(shard);
    const after = await availability();
    expect(after, 'availability after the move back').to.deep.equal(before);
    expect(await audits(), 'audit after the move back').to.deep.equal(auditBefore);
    expect(await availabilityDiffs(s, 2, 24)).to.deep.equal([]);
    // And the shard takes reservations where it is now.
    const one = await timedRequest(s.principals[0].client, 'POST', '/v1/reservations', stayBody(moving, 25));
    expect(one.status, JSON.stringify(one.body)).to.equal(201);
    // A crash of the owner mid-move: the move of another shard is held at its seal (the lease row locked), the
    // worker is killed, and a new worker finishes it (it takes the shard in the source, lifting the seal; BullMQ
    // hands it the move job again; the move runs to the end). The shard ends in exactly one database.
    const other = s.hotels.find((h) => h.shard !== shard)!;
    const otherSource = s.config.shardDatabaseUrls[other.database];
    const held = await holdLeaseRow(otherSource, other.shard);
    const crashMove = await move(other.shard, target);
    expect(crashMove.status, JSON.stringify(crashMove.body)).to.equal(202);
    // A worker's session of the database waits for a lock (the held row).
    const waitingFor = (url: string) => async () =>
      withClient(url, async (c) => (await c.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND application_name LIKE 'worker-%'`)).rowCount === 1);
    // Kill the shard's owner (the newest worker) where it waits, let the held row go, start the next owner, and wait
    // for it to finish the move: the shard serving in the target.
    const killOwnerUntilMoved = async (held: { release(): Promise<void> }, movedShard: number, moveId: number) => {
      const owner = s.workers[s.workers.length - 1];
      owner.signal('SIGKILL');
      await owner.exited;
      await held.release();
      await s.startWorker();
      await waitUntil(`the next owner to finish move ${moveId}`, async () => {
        const row = (await shards())[movedShard];
        return row.lastMove?.id === moveId && row.lastMove.state === 'done';
      }, 40_000, () => s.logs());
      expect((await shards())[movedShard]).to.include({ database: target, state: 'serving' });
    };
    await waitUntil('the mover to wait at its seal', waitingFor(otherSource), 10_000, () => s.logs());
    await killOwnerUntilMoved(held, other.shard, (crashMove.body as { moveId: number }).moveId);
    const afterCrash = await timedRequest(s.principals[0].client, 'POST', '/v1/reservations', stayBody(other, 26));
    expect(afterCrash.status, JSON.stringify(afterCrash.body)).to.equal(201);
    const id = (afterCrash.body as { id: string }).id;
    const where = await Promise.all([otherSource, targetUrl].map((u) => withClient(u, async (c) => (await c.query('SELECT count(*)::int AS n FROM reservations WHERE id = $1', [id])).rows[0].n as number)));
    expect(where, 'the new reservation in the target only').to.deep.equal([0, 1]);
    const homes = await Promise.all([otherSource, targetUrl].map((u) => withClient(u, async (c) => (await c.query('SELECT shard_is_home($1) AS home', [other.shard])).rows[0].home as boolean)));
    expect(homes, 'the shard at home in exactly one database').to.deep.equal([false, true]);
    // Readers that scan every database (hotel lists, the relay, replays) filter as this does: the source keeps the
    // moved hotel's rows, and only its new home shows it (shardAtHome, shard migration 009).
    const shown = await Promise.all([otherSource, targetUrl].map((u) => withClient(u, async (c) =>
      (await c.query(`SELECT count(*)::int AS n FROM hotels WHERE id = $1 AND ${shardAtHome('shard')}`, [other.id])).rows[0].n as number)));
    expect(shown, 'the moved hotel shown by its new home only').to.deep.equal([0, 1]);
    const listed = await s.admin.get('/v1/hotels?limit=100');
    expect(listed.status, JSON.stringify(listed.body)).to.equal(200);
    expect((listed.body as { items: { id: string }[] }).items.filter((h) => h.id === other.id), 'the moved hotel listed once').to.have.length(1);

    // A crash of the owner after the fence: the source is fenced (`moved:`), the catalog's flip is held (its
    // shard_map row locked), the worker is killed there, and the next owner, refused an epoch by the fenced source,
    // flips the map and welcomes the shard in the target. Nothing is lost, and the shard lives in the target only.
    const third = s.hotels.find((h) => h.shard !== shard && h.shard !== other.shard && h.database === source) ?? s.hotels.find((h) => h.shard !== shard && h.shard !== other.shard)!;
    // A hotel of a shard no other case here moves (made for it: the populated hotels may share shards).
    let fencedHotel = await createHotel(s.admin, { name: 'Chaos fenced' });
    while ([shard, other.shard, third.shard].includes(shardOf(fencedHotel.id, s.config.shardCount))) fencedHotel = await createHotel(s.admin, { name: 'Chaos fenced' });
    const fencedShard = shardOf(fencedHotel.id, s.config.shardCount);
    const fenced: ChaosHotel = {
      id: fencedHotel.id,
      roomTypeId: (await createRoomType(s.admin, fencedHotel.id, { totalInventory: 200 })).id,
      shard: fencedShard,
      database: databaseOfShard(fencedShard, s.config.shardDatabaseUrls.length),
    };
    const fencedSource = s.shardDbUrl(fenced.id);
    const beforeFenced = await timedRequest(s.principals[0].client, 'POST', '/v1/reservations', stayBody(fenced, 28));
    expect(beforeFenced.status, JSON.stringify(beforeFenced.body)).to.equal(201);
    const fencedHeld = await holdLeaseRow(fencedSource, fenced.shard);
    const fencedMove = await move(fenced.shard, target);
    expect(fencedMove.status, JSON.stringify(fencedMove.body)).to.equal(202);
    await waitUntil('the mover to wait at its seal', waitingFor(fencedSource), 10_000, () => s.logs());
    const flipHeld = await holdMapRow(s.config.catalogUrl, fenced.shard);
    await fencedHeld.release();
    await waitUntil('the mover to wait at the flip', waitingFor(s.config.catalogUrl), 10_000, () => s.logs());
    const mark = await withClient(fencedSource, async (c) => (await c.query('SELECT moved_to FROM shard_leases WHERE shard = $1', [fenced.shard])).rows[0].moved_to);
    expect(mark, 'the source fenced before the crash').to.equal(`moved:${target}`);
    await killOwnerUntilMoved(flipHeld, fenced.shard, (fencedMove.body as { moveId: number }).moveId);
    expect(s.workers[s.workers.length - 1].log(), 'the next owner settled the fenced move').to.contain('finishing a shard move whose owner stopped after the fence');
    const afterFence = await timedRequest(s.principals[0].client, 'POST', '/v1/reservations', stayBody(fenced, 29));
    expect(afterFence.status, JSON.stringify(afterFence.body)).to.equal(201);
    for (const r of [beforeFenced, afterFence]) {
      const id = (r.body as { id: string }).id;
      const found = await Promise.all([fencedSource, targetUrl].map((u) => withClient(u, async (c) =>
        (await c.query(`SELECT count(*)::int AS n FROM reservations r JOIN hotels h ON h.id = r.hotel_id WHERE r.id = $1 AND ${shardAtHome('h.shard')}`, [id])).rows[0].n as number)));
      expect(found, 'a reservation of the fenced shard at home in the target only').to.deep.equal([0, 1]);
      expect((await s.admin.get(`/v1/reservations/${id}`)).status).to.equal(200);
    }
    s.movedShards.set(fenced.shard, targetUrl);

    // The CLI over the same routes: a readable table, usage and exit 2 on misuse, exit 1 with the API's details.
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [path.join(dist, 'bin/ops.js'), ...args], { encoding: 'utf8', env: { ...process.env, API_URL: s.apiUrl, ADMIN_API_KEY: adminToken }, timeout: 30_000 });
    const table = cli('shards');
    expect(table.status, table.stderr).to.equal(0);
    expect(table.stdout.split('\n')[0]).to.match(/^shard\s+database\s+state\s+owner\s+epoch/);
    expect(table.stdout).to.match(new RegExp(`\\n${shard}\\s+${source}\\s+serving\\s`));
    for (const wrong of [[], ['shards', 'extra'], ['drain'], ['drain', 'x'], ['move-shard', '1'], ['nonsense']]) {
      const r = cli(...wrong);
      expect(r.status, `ops ${wrong.join(' ')}`).to.equal(2);
      expect(r.stderr).to.contain('usage: npm run ops --');
    }
    const refusedMove = cli('move-shard', String(shard), '7');
    expect(refusedMove.status).to.equal(1);
    expect(refusedMove.stderr).to.contain('validation_failed').and.contain('details');

    // Drain: the owner hands the shard over (the only worker takes it again once the ask lapses, with the next epoch).
    const epochBefore = (await shards())[shard].epoch ?? 0;
    const drained = cli('drain', String(shard));
    expect(drained.status, drained.stderr).to.equal(0);
    await waitUntil('the drained shard owned again with a later epoch', async () => ((await shards())[shard].epoch ?? 0) > epochBefore, 20_000, () => s.logs());
    // A move whose target fails before the flip: reported failed, the shard serving where it was, and movable again.
    const thirdHeld = await holdLeaseRow(s.config.shardDatabaseUrls[third.database], third.shard);
    const doomed = await move(third.shard, target);
    expect(doomed.status, JSON.stringify(doomed.body)).to.equal(202);
    await second.stop('immediate');
    await thirdHeld.release();
    await waitUntil('the move to fail', async () => (await shards())[third.shard].lastMove?.state === 'failed', 20_000, () => s.logs());
    const failedRow = (await shards())[third.shard];
    expect(failedRow).to.include({ database: third.database, state: 'serving', movingTo: null });
    expect(failedRow.lastMove?.error, 'the failure said').to.be.a('string').and.not.equal('');
    const stillServing = await timedRequest(s.principals[0].client, 'POST', '/v1/reservations', stayBody(third, 27));
    expect(stillServing.status, JSON.stringify(stillServing.body)).to.equal(201);
    const thirdLease = await withClient(s.config.shardDatabaseUrls[third.database], async (c) => (await c.query('SELECT moved_to FROM shard_leases WHERE shard = $1', [third.shard])).rows[0].moved_to);
    expect(thirdLease, 'the seal lifted').to.equal(null);
    await second.start();

    const record = await withClient(s.config.catalogUrl, async (c) =>
      (await c.query('SELECT id, from_database, to_database, state, rows_copied, pause_ms FROM shard_moves ORDER BY id')).rows as { state: string; rows_copied: number; pause_ms: number }[],
    );
    expect(record.map((m) => m.state)).to.deep.equal(['done', 'done', 'done', 'done', 'failed']);
    for (const m of record.filter((x) => x.state === 'done')) {
      expect(Number(m.rows_copied), 'rows copied').to.be.greaterThan(100);
      expect(m.pause_ms, 'pause recorded').to.be.a('number');
    }
    const statuses = new Map<number, number>();
    for (const x of load.sent) statuses.set(x.status ?? 0, (statuses.get(x.status ?? 0) ?? 0) + 1);

    if (process.env.TEST_LOG_LEVEL) process.stderr.write(`moves: ${JSON.stringify(record)}\nload: ${JSON.stringify([...statuses])}\n`);
  });
});

/** Hold a shard's row of the catalog's shard map locked until released (a flip waits for it). */
const holdMapRow = (catalogUrl: string, shard: number) => holdRow(catalogUrl, 'SELECT 1 FROM shard_map WHERE shard = $1 FOR UPDATE', shard);

/** Hold a shard's lease row locked in a database until released (a seal or a commit waits for it). */
const holdLeaseRow = (url: string, shard: number) => holdRow(url, 'SELECT epoch FROM shard_leases WHERE shard = $1 FOR UPDATE', shard);

/** Hold the rows a `FOR UPDATE` query of one shard locks, in a transaction left open until released. */
async function holdRow(url: string, lockQuery: string, shard: number): Promise<{ release(): Promise<void> }> {
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: url, application_name: 'chaos-lock' });
  c.on('error', () => {});
  await c.connect();
  await c.query('BEGIN');
  await c.query(lockQuery, [shard]);
  return {
    release: async () => {
      await c.query('ROLLBACK').catch(() => {});
      await c.end().catch(() => {});
    },
  };
}
