// The hold sweeper of a shard queues the holds that ran out first: a backlog of expired holds (after an outage, say)
// costs each sweep a read of each expired hold at most once, not once for every hotel of the shard.
import { expect } from 'chai';
import { HoldSweeper } from '../../engine/hold-sweeper.js';
import { createShardQueue, type ShardJob } from '../../engine/jobs.js';
import { createRedis, RedisKeys } from '../../engine/redis.js';
import { createWriterPool } from '../../engine/store/shard-store.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import type { Queue } from 'bullmq';

describe('hold sweeper', function () {
  this.timeout(60_000);
  let env: TestEnv;

  before(async () => {
    env = await createTestEnv({ SHARD_COUNT: '8' });
  });
  after(async () => {
    await env?.cleanup();
  });

  it('queues the oldest expired holds of its shard, reading each expired hold at most once', async () => {
    // Database 0 of two holds shards 0, 2, 4 and 6: 100 hotels in each, 6,000 holds that ran out, 1,500 per shard.
    const pool = createWriterPool(env.config.shardDatabaseUrls[0], 1);
    const redis = createRedis(env.config.redisUrl, 'sweeper-test');
    let queue: Queue<ShardJob> | undefined;
    try {
      await pool.query(
        `INSERT INTO hotels (id, shard, name, city, country, timezone, currency, overbooking_percent, created_at)
         SELECT gen_random_uuid(), 2 * (h % 4), 'h', 'c', 'FR', 'UTC', 'EUR', 10, now() FROM generate_series(1, 400) h`,
      );
      await pool.query(
        `INSERT INTO reservations (id, hotel_id, room_type_id, check_in, check_out, room_count, status, total_amount, currency,
                                   guest_name, guest_email, owner_kind, owner_id, fingerprint, created_at, expires_at, version, updated_at)
         SELECT gen_random_uuid(), h.id, gen_random_uuid(), '2031-01-01', '2031-01-02', 1, 'pending', 100, 'EUR', 'g', 'e',
                'partner', 'p', 'f', now(), now() - make_interval(secs => 60 + g), 1, now()
           FROM (SELECT id, row_number() OVER (ORDER BY id) AS k FROM hotels) h, generate_series(1, 15) g`,
      );
      // And 54,000 settled reservations, so that the holds are a small part of the table (as they are in use).
      await pool.query(
        `INSERT INTO reservations (id, hotel_id, room_type_id, check_in, check_out, room_count, status, total_amount, currency,
                                   guest_name, guest_email, owner_kind, owner_id, fingerprint, created_at, expires_at, version, updated_at)
         SELECT gen_random_uuid(), h.id, gen_random_uuid(), '2031-01-01', '2031-01-02', 1, 'paid', 100, 'EUR', 'g', 'e',
                'partner', 'p', 'f', now(), NULL, 2, now()
           FROM hotels h, generate_series(1, 135) g`,
      );
      queue = createShardQueue(redis, new RedisKeys(env.config.redisPrefix), 2);
      const sweeper = new HoldSweeper(2, pool, queue, (err) => {
        throw err;
      });
      const read = async () => {
        await pool.query('SELECT pg_stat_force_next_flush()');
        const r = await pool.query("SELECT idx_tup_read::int AS n FROM pg_stat_user_indexes WHERE indexrelname = 'reservations_live_holds'");
        return r.rows[0].n as number;
      };
      const before = await read();
      expect(await sweeper.sweep()).to.equal(500);
      const holdsRead = (await read()) - before;
      // The 500 queued are the ones that ran out first among shard 2's (every hold of a hotel ran out 61..75 s ago).
      const jobs = await queue.getJobs(['waiting']);
      const queued = jobs.flatMap((j) => j.data.commands.map((c) => c.command as { kind: string; hotelId: string; reservationId: string }));
      expect(queued).to.have.length(500);
      expect(new Set(queued.map((c) => c.kind))).to.deep.equal(new Set(['expireHold']));
      const rows = await pool.query<{ id: string; shard: number; age: number }>(
        `SELECT r.id, h.shard, extract(epoch FROM now() - r.expires_at)::int AS age
           FROM reservations r JOIN hotels h ON h.id = r.hotel_id WHERE r.id = ANY($1)`,
        [queued.map((c) => c.reservationId)],
      );
      expect(rows.rows.every((r) => r.shard === 2)).to.equal(true);
      const oldest = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM reservations r JOIN hotels h ON h.id = r.hotel_id
          WHERE h.shard = 2 AND r.expires_at <= (SELECT max(expires_at) FROM reservations WHERE id = ANY($1)) `,
        [queued.map((c) => c.reservationId)],
      );
      expect(oldest.rows[0].n, 'holds of shard 2 that ran out no later than the last one queued').to.equal(500);
      // Each expired hold of the database read at most once (6,000), not once per hotel of the shard (100 × 6,000).
      expect(holdsRead, 'index entries of expired holds read by one sweep').to.be.at.most(6_000);
    } finally {
      await queue?.obliterate({ force: true }).catch(() => {});
      await queue?.close();
      redis.disconnect();
      await pool.end();
    }
  });
});
