// Partner batches: up to 10,000 reservation bodies in one request, parsed, validated and split per shard in a
// worker thread, queued in bulk, and decided item by item exactly as if each had been posted alone.
import { Router } from 'express';
import { v7 as uuidv7 } from 'uuid';
import { jobCommandsMax } from '../../engine/limits.js';
import type { QueuedCommand } from '../../engine/jobs.js';
import type { BatchRow } from '../../engine/store/catalog-store.js';
import type { SplitOutput } from '../../workers/batch-split.js';
import { requireRole } from '../auth.js';
import { idempotencyKeyOf } from '../creation-key.js';
import type { ApiContext } from '../context.js';
import { ApiError, notFound } from '../errors.js';
import { pathId } from '../validate.js';

export function batchRoutes(ctx: ApiContext): Router {
  const r = Router();

  r.post('/v1/batches', async (req, res) => {
    const p = requireRole(req, 'partner', 'admin');
    const idempotencyKey = idempotencyKeyOf(req);
    // Read raw (see app.ts), so the charset is checked here as the JSON routes' parser checks it.
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1];
    if (charset && !/^utf-?8$/i.test(charset)) {
      throw new ApiError('validation_failed', `unsupported charset "${charset.toUpperCase()}"`, { fields: [{ field: 'body', message: 'must be UTF-8' }] });
    }
    const text = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    if (!text) throw new ApiError('validation_failed', 'the body must be JSON', { fields: [{ field: 'body', message: 'is required' }] });
    const split = (await ctx.batchPool.run({ body: text, owner: { kind: p.kind, id: p.id }, shardCount: ctx.config.shardCount })) as SplitOutput;
    if (!split.ok) throw new ApiError('validation_failed', split.message, { fields: split.fields });

    const batchId = uuidv7();
    const requestId = (i: number) => `${batchId}:${i}`;
    const jobs: { shard: number; jobKey: string; indexes: number[]; requestIds: string[]; commands: QueuedCommand[] }[] = [];
    if (split.atomic) {
      if (split.invalid.length > 0) {
        throw new ApiError('validation_failed', `atomic batch: ${split.invalid.length} item(s) are invalid; nothing was queued`, {
          items: split.invalid.slice(0, 100),
        });
      }
      const hotels = new Set(split.byShard.flatMap((l) => l.commands.map((c) => c.hotelId)));
      if (hotels.size !== 1) {
        throw new ApiError('validation_failed', 'an atomic batch must be for one hotel', { fields: [{ field: 'items', message: 'items name more than one hotel' }] });
      }
      const lane = split.byShard[0];
      const order = lane.indexes.map((index, k) => ({ index, command: lane.commands[k] })).sort((a, b) => a.index - b.index);
      const jobKey = uuidv7();
      jobs.push({
        shard: lane.shard,
        jobKey,
        indexes: [-1],
        requestIds: [requestId(-1)],
        commands: [{ requestId: requestId(-1), command: { kind: 'reserveAtomic', hotelId: [...hotels][0], items: order.map((o) => o.command) } }],
      });
    } else {
      for (const lane of split.byShard) {
        for (let at = 0; at < lane.commands.length; at += jobCommandsMax) {
          const indexes = lane.indexes.slice(at, at + jobCommandsMax);
          const commands = lane.commands.slice(at, at + jobCommandsMax).map((command, k) => ({ requestId: requestId(indexes[k]), command }));
          jobs.push({ shard: lane.shard, jobKey: uuidv7(), indexes, requestIds: commands.map((c) => c.requestId), commands });
        }
      }
    }
    const row: BatchRow = {
      id: batchId,
      creator: { kind: p.kind, id: p.id },
      fingerprint: split.fingerprint,
      total: split.total,
      atomic: split.atomic,
      status: 'processing',
      plan: {
        reservationIds: split.reservationIds,
        invalid: split.invalid,
        jobs: jobs.map(({ shard, jobKey, indexes, requestIds }) => ({ shard, jobKey, indexes, requestIds })),
      },
      results: null,
      held: null,
      rejected: null,
    };
    const { created, batch } = await ctx.batches.create(row, idempotencyKey);
    if (!created) {
      if (batch.fingerprint !== row.fingerprint) {
        throw new ApiError('idempotency_mismatch', 'this Idempotency-Key was already used with a different body');
      }
      // The first answer again (API.md, Idempotency), whatever the batch's status now (GET /v1/batches/:id has it).
      res.status(202).location(`/v1/batches/${batch.id}`).json({ batchId: batch.id, status: 'processing', total: batch.total });
      return;
    }
    try {
      await ctx.router.enqueueJobs(jobs, req.requestId);
    } catch (err) {
      await ctx.batches.remove(batchId).catch(() => {});
      throw new ApiError('unavailable', `the queue is unreachable: ${(err as Error).message}`, undefined, { 'Retry-After': '1' });
    }
    ctx.metrics.count('batch_items_total', '', split.total);
    res.status(202).location(`/v1/batches/${batchId}`).json({ batchId, status: 'processing', total: split.total });
  });

  r.get('/v1/batches/:batchId', async (req, res) => {
    // Only partners and admins make batches: another role is refused (403), another creator's batch is not found.
    const p = requireRole(req, 'partner', 'admin');
    const b = await ctx.batches.get(pathId(req.params.batchId, 'batchId'));
    if (!b || (p.kind !== 'admin' && (b.creator.kind !== p.kind || b.creator.id !== p.id))) throw notFound('batch');
    if (b.status === 'done') {
      res.json({ batchId: b.id, status: 'done', total: b.total, held: b.held, rejected: b.rejected, results: b.results });
      return;
    }
    // The jobs' decisions, read back from their shard databases (only those not seen by an earlier poll).
    const before = ctx.batchProgress.repliesRead;
    const { results, pending } = await ctx.batchProgress.poll(b);
    ctx.metrics.count('batch_poll_replies_read_total', '', ctx.batchProgress.repliesRead - before);
    let rejected = 0;
    let held = 0;
    // Items that hold rooms (a new or repeated reservation still pending or paid), and the rest once decided (refused,
    // or repeating a reservation that no longer holds any).
    for (const x of results) {
      if (x.status === 'pending' || x.status === 'paid') held++;
      else if (x.status !== 'processing') rejected++;
    }
    if (pending === 0) {
      await ctx.batches.finish(b.id, results, held, rejected);
      ctx.batchProgress.forget(b.id);
    }
    res.json({ batchId: b.id, status: pending === 0 ? 'done' : 'processing', total: b.total, held, rejected, results });
  });

  return r;
}
