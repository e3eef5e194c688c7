// Health, readiness, metrics and the shard table for operators.
import { Router } from 'express';
import { requireRole } from '../auth.js';
import { openApiDocument } from '../../schemas/openapi.js';
import type { ApiContext } from '../context.js';
import { docsPage } from '../docs-page.js';
import { readinessCheckMs } from '../../engine/limits.js';
import { probeRedis } from '../../engine/redis.js';
import { databaseOfShard } from '../../engine/shard-map.js';

/** `p`, or a rejection once `ms` have passed without its answer. */
function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** A shard database's epochs (shard → epoch) as last read, and when. */
interface KnownEpochs {
  at: number;
  epochs: Record<string, number>;
}

export function operationRoutes(ctx: ApiContext): Router {
  const r = Router();

  const openapi = openApiDocument();
  r.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  r.get('/docs', (_req, res) => {
    res.type('html').send(docsPage);
  });

  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  r.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    // Each check gets readinessCheckMs at most: a store that stalls (a paused Redis, a hung database) makes the
    // process "not ready" within a second, rather than holding the load balancer's probe.
    const check = (name: string, run: () => Promise<unknown>) =>
      within(run(), readinessCheckMs).then(
        () => (checks[name] = 'ok'),
        (e: Error) => (checks[name] = e.message),
      );
    await Promise.all([
      check('redis', () => probeRedis(ctx.redis)),
      check('queue', async () => {
        const why = ctx.router.unavailableReason;
        if (why) throw new Error(why);
      }),
      check('catalog', () => ctx.catalog.pool.query('SELECT 1')),
      ...ctx.reader.pools.map((p, i) => check(`shard_db_${i}`, () => p.query('SELECT 1'))),
    ]);
    const ready = Object.values(checks).every((v) => v === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks });
  });

  // Prometheus text of this process (engine/metrics.ts), for the admin token only: it tells how busy every shard is.
  r.get('/metrics', async (req, res) => {
    requireRole(req, 'admin');
    res.type(ctx.metrics.process.contentType).send(await ctx.metrics.render());
  });

  /**
   * The shard table keeps answering while a shard database is down (API.md, Operations): each database's epochs are
   * read with a bound, remembered here and in Redis, and a database that does not answer is reported from the
   * newer of the two copies, marked `stale: true` with `source` "memory" or "redis" (`"none"` and `epoch: null`
   * when neither was ever written). Owners and queue depths always come from Redis.
   */
  const remembered = new Map<number, KnownEpochs>();
  const epochsKey = (database: number) => ctx.keys.opsEpochs(database);
  const epochsOf = async (database: number): Promise<{ known?: KnownEpochs; source: 'postgres' | 'memory' | 'redis' | 'none' }> => {
    try {
      const r = await within(ctx.reader.pools[database].query('SELECT shard, epoch FROM shard_leases'), readinessCheckMs);
      const known: KnownEpochs = { at: Date.now(), epochs: Object.fromEntries(r.rows.map((row) => [String(row.shard), Number(row.epoch)])) };
      remembered.set(database, known);
      void ctx.redis.set(epochsKey(database), JSON.stringify(known), 'EX', 7 * 24 * 3600).catch(() => {});
      return { known, source: 'postgres' };
    } catch {
      const inMemory = remembered.get(database);
      const text = await ctx.redis.get(epochsKey(database)).catch(() => null);
      const inRedis = text ? (JSON.parse(text) as KnownEpochs) : undefined;
      if (inRedis && (!inMemory || inRedis.at > inMemory.at)) return { known: inRedis, source: 'redis' };
      return inMemory ? { known: inMemory, source: 'memory' } : { source: 'none' };
    }
  };

  r.get('/v1/ops/shards', async (req, res) => {
    requireRole(req, 'admin');
    const databases = ctx.reader.pools.length;
    const [depths, epochs] = await Promise.all([ctx.router.queueDepths(), Promise.all(ctx.reader.pools.map((_, i) => epochsOf(i)))]);
    const owners = await Promise.all(depths.map((d) => ctx.redis.get(ctx.keys.lease(d.shard))));
    res.json(
      depths.map((d, i) => {
        const database = databaseOfShard(d.shard, databases);
        const e = epochs[database];
        return {
          shard: d.shard,
          database,
          owner: owners[i] ?? null,
          epoch: e.known ? (e.known.epochs[String(d.shard)] ?? 0) : null,
          queueDepth: d.waiting,
          oldestWaitingMs: d.oldestWaitingMs,
          stale: e.source !== 'postgres',
          source: e.source,
          ...(e.source !== 'postgres' && e.known ? { epochReadAt: new Date(e.known.at).toISOString() } : {}),
        };
      }),
    );
  });

  return r;
}
