// Health, readiness, metrics and the shard table for operators.
import { Router } from 'express';
import { requireRole } from '../auth.js';
import { openApiDocument } from '../../schemas/openapi.js';
import type { ApiContext } from '../context.js';
import { docsPage } from '../docs-page.js';
import { readinessCheckMs } from '../../engine/limits.js';

/** `p`, or a rejection once `ms` have passed without its answer. */
function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
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
      check('redis', () => ctx.redis.ping()),
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

  r.get('/metrics', async (_req, res) => {
    const extra: string[] = [
      '# TYPE router_jobs_total counter',
      `router_jobs_total ${ctx.router.stats.jobs}`,
      `router_commands_total ${ctx.router.stats.commands}`,
    ];
    try {
      for (const d of await ctx.router.queueDepths()) extra.push(`shard_queue_depth{shard="${d.shard}"} ${d.waiting}`);
    } catch {
      // Redis unreachable: the depths are left out.
    }
    res.type('text/plain; version=0.0.4').send(ctx.metrics.render(extra));
  });

  r.get('/v1/ops/shards', async (req, res) => {
    requireRole(req, 'admin');
    const [leases, depths] = await Promise.all([ctx.reader.shardLeases(), ctx.router.queueDepths()]);
    const byShard = new Map(leases.map((l) => [l.shard, l]));
    const owners = await Promise.all(depths.map((d) => ctx.redis.get(ctx.keys.lease(d.shard))));
    res.json(
      depths.map((d, i) => ({
        shard: d.shard,
        database: d.shard % ctx.reader.pools.length,
        owner: owners[i] ?? null,
        epoch: byShard.get(d.shard)?.epoch ?? 0,
        queueDepth: d.waiting,
        oldestWaitingMs: d.oldestWaitingMs,
      })),
    );
  });

  return r;
}
