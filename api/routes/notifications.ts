// Webhooks (API.md, "Notifications and webhooks") and the audit trail (API.md, "Audit").
import { Router } from 'express';
import { v7 as uuidv7 } from 'uuid';
import { pageLimitDefault } from '../../engine/limits.js';
import { auditPage, eventsSince } from '../../engine/notify/audit-store.js';
import { newWebhookSecret, urlProblem } from '../../engine/notify/delivery.js';
import { matches, WebhookStore, type Webhook } from '../../engine/notify/webhook-store.js';
import { auditQuery, deliveriesQuery, replayBody, webhookBody, webhooksListQuery, webhookUpdateBody } from '../../schemas/http.js';
import { decodeCursor } from '../../engine/store/shard-reader.js';
import { requireHotelAccess, requireRole, type Principal } from '../auth.js';
import type { ApiContext } from '../context.js';
import { ApiError, notFound } from '../errors.js';
import { bodyOf, parse, pathId } from '../validate.js';

/** API.md: at most 50 webhooks per principal. */
export const webhooksPerPrincipalMax = 50;

const webhookJson = (w: Webhook) => ({ id: w.id, url: w.url, events: w.events, hotelIds: w.hotelIds, enabled: w.enabled, createdAt: w.createdAt });

const bad = (field: string, message: string) => new ApiError('validation_failed', `${field}: ${message}`, { fields: [{ field, message }] });
const encodeNumber = (n: number) => Buffer.from(String(n)).toString('base64url');
const decodeNumber = (c: string | undefined) => (c ? Number(Buffer.from(c, 'base64url').toString()) : undefined);

export function notificationRoutes(ctx: ApiContext): Router {
  const r = Router();
  const store = new WebhookStore(ctx.catalog.pool);
  const allowPrivate = ctx.config.webhookAllowPrivate;

  const checkUrl = async (url: string) => {
    const problem = await urlProblem(url, allowPrivate);
    if (problem) throw bad('url', problem);
  };
  const checkHotels = (p: Principal, hotelIds: string[] | undefined) => {
    if (p.kind === 'staff' && hotelIds?.some((h) => !p.hotelIds.has(h))) {
      throw new ApiError('forbidden', 'staff may subscribe only to the hotels of their key', { fields: [{ field: 'hotelIds', message: 'names a hotel this key is not scoped to' }] });
    }
  };
  /** The webhook if the caller made it (or is admin); else 404, so that others' webhooks are not revealed. */
  const mine = async (p: Principal, idText: string | undefined): Promise<Webhook> => {
    const id = pathId(idText, 'id');
    const w = await store.get(id);
    if (!w || (p.kind !== 'admin' && (w.ownerKind !== p.kind || w.ownerId !== p.id))) throw notFound('webhook');
    return w;
  };

  r.post('/v1/webhooks', async (req, res) => {
    const p = requireRole(req, 'admin', 'staff', 'partner');
    const body = parse(webhookBody, bodyOf(req));
    checkHotels(p, body.hotelIds);
    await checkUrl(body.url);
    const made = await store.create(
      {
        id: uuidv7(),
        ownerKind: p.kind,
        ownerId: p.id,
        url: body.url,
        events: body.events,
        hotelIds: body.hotelIds ?? [],
        scopeHotelIds: [...p.hotelIds],
        secret: newWebhookSecret(),
      },
      webhooksPerPrincipalMax,
    );
    if (made === 'too_many') throw bad('webhooks', `at most ${webhooksPerPrincipalMax} webhooks per principal`);
    res.status(201).location(`/v1/webhooks/${made.id}`).json({ ...webhookJson(made), secret: made.secret });
  });

  r.get('/v1/webhooks', async (req, res) => {
    const p = requireRole(req, 'admin', 'staff', 'partner');
    const q = parse(webhooksListQuery, req.query, 'query');
    const limit = q.limit ?? pageLimitDefault;
    const list = await store.list(p.kind === 'admin' ? undefined : { kind: p.kind, id: p.id }, decodeCursor(q.cursor), limit + 1);
    const items = list.slice(0, limit);
    res.json({ items: items.map(webhookJson), nextCursor: list.length > limit ? Buffer.from(items[items.length - 1].id).toString('base64url') : null });
  });

  r.get('/v1/webhooks/:id', async (req, res) => {
    const p = requireRole(req, 'admin', 'staff', 'partner');
    res.json(webhookJson(await mine(p, req.params.id)));
  });

  r.put('/v1/webhooks/:id', async (req, res) => {
    const p = requireRole(req, 'admin', 'staff', 'partner');
    const w = await mine(p, req.params.id);
    const body = parse(webhookUpdateBody, bodyOf(req));
    checkHotels(p, body.hotelIds);
    if (body.url !== undefined) await checkUrl(body.url);
    const updated = await store.update(w.id, body);
    if (!updated) throw notFound('webhook');
    res.json(webhookJson(updated));
  });

  r.delete('/v1/webhooks/:id', async (req, res) => {
    const p = requireRole(req, 'admin', 'staff', 'partner');
    const w = await mine(p, req.params.id);
    await store.remove(w.id);
    res.status(204).end();
  });

  r.get('/v1/webhooks/:id/deliveries', async (req, res) => {
    const p = requireRole(req, 'admin', 'staff', 'partner');
    const w = await mine(p, req.params.id);
    const q = parse(deliveriesQuery, req.query, 'query');
    const limit = q.limit ?? pageLimitDefault;
    const rows = await store.deliveries(w.id, q.status, decodeNumber(q.cursor), limit + 1);
    const items = rows.slice(0, limit);
    res.json({
      items: items.map((d) => ({
        eventId: d.eventId,
        type: d.type,
        attempts: d.attempts,
        lastStatusCode: d.lastStatusCode,
        lastError: d.lastError,
        nextAttemptAt: d.state === 'pending' ? d.nextAttemptAt : null,
        deliveredAt: d.deliveredAt,
      })),
      nextCursor: rows.length > limit ? encodeNumber(items[items.length - 1].id) : null,
    });
  });

  r.post('/v1/webhooks/:id/replay', async (req, res) => {
    const p = requireRole(req, 'admin', 'staff', 'partner');
    const w = await mine(p, req.params.id);
    const { since } = parse(replayBody, bodyOf(req));
    const oldest = Date.now() - ctx.config.outboxRetentionHours * 3600_000;
    if (Date.parse(since) < oldest) {
      throw bad('since', `is older than the retention period (${ctx.config.outboxRetentionHours} hours): the earliest is ${new Date(oldest).toISOString()}`);
    }
    const events = await eventsSince(ctx.reader.pools, new Date(Date.parse(since)).toISOString(), w.events, w.hotelIds);
    const open = { ...w, enabled: true };
    const pairs = events.filter((e) => matches(open, e)).map((event) => ({ webhookId: w.id, event }));
    await store.enqueue(pairs, true);
    res.status(202).json({ events: pairs.length });
  });

  r.get('/v1/hotels/:hotelId/audit', async (req, res) => {
    const hotelId = pathId(req.params.hotelId, 'hotelId');
    requireHotelAccess(req, hotelId, ['staff']);
    const q = parse(auditQuery, req.query, 'query');
    if (!(await ctx.reader.hotel(hotelId))) throw notFound('hotel');
    const limit = q.limit ?? pageLimitDefault;
    const page = await auditPage(ctx.reader.poolOf(hotelId), hotelId, { reservationId: q.reservationId, from: q.from, to: q.to, before: decodeNumber(q.cursor) }, limit);
    res.json({ items: page.items, nextCursor: page.next === null ? null : encodeNumber(page.next) });
  });

  return r;
}

