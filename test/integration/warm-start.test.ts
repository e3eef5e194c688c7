// A new shard owner loads its shards' hotels in the background (warm start), without waiting for requests.
import { expect } from 'chai';
import pg from 'pg';
import type { TestEnv } from '../support/env.js';
import { closeStack, openStack, waitFor, type Stack } from '../support/stack.js';
import { createHotel, createRoomType, dayFromToday, reservationBody } from '../support/fixtures.js';
import { ShardOwner } from '../../engine/shard-owner.js';
import { createLogger } from '../../engine/log.js';

describe('warm start of a shard owner', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let stack: Stack;

  before(async () => ({ env, stack } = await openStack()));
  after(() => closeStack(stack, env));

  it('loads every hotel of the shards it takes before any request names them, and decides on them correctly', async () => {
    const hotels = [];
    for (let i = 0; i < 6; i++) {
      const h = await createHotel(stack.admin);
      hotels.push({ h, rt: await createRoomType(stack.admin, h.id, { totalInventory: 1 }) });
    }
    // One room of each is taken before the restart.
    for (const { h, rt } of hotels) {
      expect((await stack.admin.post('/v1/reservations', reservationBody(h.id, rt.id, dayFromToday(3), dayFromToday(4)))).status).to.equal(201);
    }
    await stack.owner.stop();
    const owner = new ShardOwner(env.config, createLogger('worker', env.config.logLevel));
    stack.owner = owner;
    expect(owner.ownedShards()).to.have.length(0);
    await owner.start();
    await waitFor('every hotel to be preloaded', async () => owner.ownedShards().reduce((n, s) => n + s.hotelsLoaded, 0) === hotels.length);
    // The preloaded state is the committed one: one room left of 1 × 110% = 1 → sold out.
    for (const { h, rt } of hotels) {
      const r = await stack.admin.post('/v1/reservations', reservationBody(h.id, rt.id, dayFromToday(3), dayFromToday(4)));
      expect(r.status).to.equal(409);
    }
  });

  it('warns at start exactly when a shard database runs without autovacuum (stale statistics slow commits down)', async () => {
    await stack.owner.stop();
    const warnings: { msg: string; fields?: Record<string, unknown> }[] = [];
    const quiet = createLogger('worker', 'silent');
    const owner = new ShardOwner(env.config, { ...quiet, warn: (msg, fields) => warnings.push({ msg, fields }) });
    stack.owner = owner;
    await owner.start();
    await owner.settingsChecked;
    const expected = [];
    for (const url of env.config.shardDatabaseUrls) {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const r = await c.query("SELECT current_setting('autovacuum') = 'on' AND current_setting('track_counts') = 'on' AS ok");
        if (!r.rows[0].ok) expected.push(url);
      } finally {
        await c.end();
      }
    }
    const about = warnings.filter((w) => w.msg.includes('autovacuum'));
    expect(about.map((w) => w.fields?.database).sort()).to.deep.equal(expected.map((url) => env.config.shardDatabaseUrls.indexOf(url)).sort());
  });
});
