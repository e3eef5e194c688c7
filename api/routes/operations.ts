// Health, readiness, metrics and the shard table for operators.
import { Router } from 'express';
import { requireRole } from '../auth.js';
import { openApiDocument } from '../../schemas/openapi.js';
import type { ApiContext } from '../context.js';
import { docsPage } from '../docs-page.js';
import { readinessCheckMs } from '../../engine/limits.js';
import { probeRedis } from '../../engine/redis.js';
import { shardOf } from '../../engine/shard-map.js';
import { withPgUser } from '../../engine/config.js';
import { ShardMoves, type MoveRecord } from '../../engine/store/shard-moves.js';
import { missingShardMigrations, prepareShardTarget, targetCheckMs } from '../../engine/store/shard-target.js';
import { shardMoveBody, shardParam } from '../../schemas/http.js';
import { ApiError } from '../errors.js';
import { bodyOf, parse, pathId } from '../validate.js';

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

/**
 * The probes (API.md: public): mounted before the token check and the per-address limit, so that a probe carrying a
 * stale Authorization header, or many probes from one load balancer, are still answered.
 */
export function healthRoutes(ctx: ApiContext): Router {
  const r = Router();
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
      // shards_away() comes with shard migration 009: a shard database without it is reachable but not migrated.
      ...ctx.reader.directory.allPools().map(({ pool, database }) => check(`shard_db_${database}`, () => pool.query('SELECT shards_away()'))),
    ]);
    const ready = Object.values(checks).every((v) => v === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks });
  });

  return r;
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
      const r = await within(ctx.reader.directory.pool(database).query('SELECT shard, epoch FROM shard_leases'), readinessCheckMs);
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
    const directory = ctx.reader.directory;
    // The map as the catalog says now (the copy in memory when the catalog does not answer).
    await within(directory.refresh(), readinessCheckMs).catch(() => {});
    const ids = directory.databaseIds();
    const [depths, epochList, lastMoves] = await Promise.all([
      ctx.router.queueDepths(),
      Promise.all(ids.map((i) => epochsOf(i))),
      within(moves.latest(), readinessCheckMs).catch(() => new Map<number, MoveRecord>()),
    ]);
    const epochs = new Map(ids.map((id, i) => [id, epochList[i]]));
    const owners = await Promise.all(depths.map((d) => ctx.redis.get(ctx.keys.lease(d.shard))));
    res.json(
      depths.map((d, i) => {
        const place = directory.place(d.shard);
        const database = place.database;
        const e = epochs.get(database) ?? { source: 'none' as const };
        const last = lastMoves.get(d.shard);
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
          state: place.movingTo !== null ? 'moving' : 'serving',
          movingTo: place.movingTo,
          lastMove: last ? { id: last.id, from: last.from, to: last.to, state: last.state, error: last.error, pauseMs: last.pauseMs } : null,
        };
      }),
    );
  });

  const moves = new ShardMoves(ctx.catalog.pool);

  /** The `:shard` of a path: a whole number below SHARD_COUNT (else 404, with the range in details). */
  const shardIn = (text: string | undefined): number => {
    const shard = parse(shardParam, text, 'shard');
    if (shard >= ctx.config.shardCount) {
      throw new ApiError('not_found', `no virtual shard ${shard}: shards are 0..${ctx.config.shardCount - 1}`, { shard, shardCount: ctx.config.shardCount });
    }
    return shard;
  };
  const badDatabase = (message: string, extra: Record<string, unknown> = {}): ApiError =>
    new ApiError('validation_failed', `database: ${message}`, { fields: [{ field: 'database', message }], ...extra });

  /**
   * The target of a move: a known database id (reachable and migrated), or a postgres:// URL, created if absent,
   * migrated and added to the catalog (or the id it has already). Nothing is added when the check fails.
   */
  const targetOf = async (database: number | string): Promise<number> => {
    const directory = ctx.reader.directory;
    let id: number;
    if (typeof database === 'number' || /^\d+$/.test(database)) {
      id = Number(database);
      await directory.refresh().catch(() => {});
      if (directory.urlOf(id) === undefined) {
        throw badDatabase(`no shard database ${id} (known: ${directory.databaseIds().join(', ')})`, { known: directory.databaseIds() });
      }
    } else {
      let url: string;
      try {
        const u = new URL(database);
        if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new Error('protocol');
        url = withPgUser(database);
      } catch {
        throw badDatabase('must be a shard database id of GET /v1/ops/shards or a postgres:// URL');
      }
      const known = await moves.databaseWithUrl(url);
      if (known !== undefined) id = known;
      else {
        try {
          await prepareShardTarget(url);
        } catch (err) {
          throw badDatabase(`cannot be used: ${(err as Error).message}`, { reason: 'unreachable_or_unmigrated' });
        }
        id = await moves.addDatabase(url);
        await directory.refresh();
      }
    }
    let missing: string[];
    try {
      missing = await missingShardMigrations(directory.pool(id));
    } catch (err) {
      throw badDatabase(`shard database ${id} is unreachable: ${(err as Error).message}`, { reason: 'unreachable', database: id, withinMs: targetCheckMs });
    }
    if (missing.length > 0) throw badDatabase(`shard database ${id} is not migrated (missing ${missing.join(', ')})`, { reason: 'unmigrated', database: id, missing });
    return id;
  };

  r.post('/v1/ops/shards/:shard/move', async (req, res) => {
    requireRole(req, 'admin');
    const shard = shardIn(req.params.shard as string);
    const { database } = parse(shardMoveBody, bodyOf(req));
    // Cheap refusals first: a shard already moving is refused before its target is checked (or added).
    const place = await moves.current(shard);
    if (place.movingTo !== null) {
      throw new ApiError('validation_failed', `shard ${shard} is already moving to database ${place.movingTo}`, {
        fields: [{ field: 'shard', message: `is already moving to database ${place.movingTo}` }],
        shard,
        database: place.database,
        movingTo: place.movingTo,
      });
    }
    const to = await targetOf(database);
    const asked = await moves.request(shard, to);
    if (!asked.ok) {
      const message = asked.why === 'moving' ? `is already moving to database ${asked.movingTo}` : `is already in database ${asked.database}`;
      throw new ApiError('validation_failed', `shard ${shard} ${message}`, { fields: [{ field: asked.why === 'moving' ? 'shard' : 'database', message }], shard, database: asked.database, movingTo: asked.movingTo });
    }
    try {
      await ctx.router.enqueueMove(shard, { moveId: asked.moveId, to });
    } catch (err) {
      await moves.failed(shard, asked.moveId, `could not be queued: ${(err as Error).message}`).catch(() => {});
      throw err;
    }
    await ctx.redis.publish(ctx.keys.shardMap(), String(Number.MAX_SAFE_INTEGER)).catch(() => 0);
    res.status(202).json({ shard, moveId: asked.moveId, from: asked.from, to, state: 'moving' });
  });

  r.post('/v1/ops/shards/:shard/drain', async (req, res) => {
    requireRole(req, 'admin');
    const shard = shardIn(req.params.shard as string);
    const owner = await ctx.redis.get(ctx.keys.lease(shard));
    // The owner named hands the shard over at its next round and leaves it to the others for two leases.
    if (owner) await ctx.redis.set(ctx.keys.drain(shard), owner, 'PX', 2 * ctx.config.shardLeaseMs);
    res.status(202).json({ shard, owner: owner ?? null });
  });

  r.get('/v1/ops/hotels/:hotelId', async (req, res) => {
    requireRole(req, 'admin');
    const hotelId = pathId(req.params.hotelId as string, 'hotelId');
    if (!(await ctx.reader.hotel(hotelId))) throw new ApiError('not_found', 'no such hotel');
    const shard = shardOf(hotelId, ctx.config.shardCount);
    res.json({ hotelId, shard, database: ctx.reader.directory.databaseOf(shard) });
  });

  return r;
}
