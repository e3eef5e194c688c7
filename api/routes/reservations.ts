// Reservations: create (idempotent on reservationId), read, list and cancel.
import { Router, type Request } from 'express';
import { inflightMarkerSeconds, pageLimitDefault } from '../../engine/limits.js';
import { decodeCursor } from '../../engine/store/shard-reader.js';
import { paymentBody, reservationBody, reservationListQuery } from '../../schemas/http.js';
import { reserveCommandOf } from '../../engine/idempotency.js';
import { canSee, principalOf, requireRole, withRole, type Principal } from '../auth.js';
import { writeAnswer, type Answer } from '../answer.js';
import type { ApiContext } from '../context.js';
import { ApiError, hotelDeleted, notFound } from '../errors.js';
import { acceptedOf } from '../outcome.js';
import { idempotencyKeyOf } from '../creation-key.js';
import { payReservation } from '../payments.js';
import { reservationJson } from '../representation.js';
import { bodyOf, parse, pathId } from '../validate.js';

/** Where a queued reservation's decision will be found, remembered when its request was answered 202. */
interface InflightMarker {
  jobKey: string;
  requestId: string;
  hotelId: string;
  owner: { kind: string; id: string };
}

/** A marker's field in its reservation id's hash: one per principal. */
const markerField = (owner: { kind: string; id: string }) => `${owner.kind}:${owner.id}`;

const processing = (id: string) => ({ id, status: 'processing' as const });

/** The 404 of a reservation whose queued request was lost before it was decided. */
const neverDecided = () =>
  new ApiError(
    'not_found',
    'this reservation was never decided: its queued request was lost (the queue lost its data), so no rooms are held; post it again (the same reservationId and body are safe to send again)',
    { decision: null, neverDecided: true },
  );

/** The 404 of a reservation that does not exist, which also tells a client that was answered 202 what to do. */
const notFoundMessage =
  'reservation not found; if a request for it was answered 202 earlier, it was never decided (its queued request was lost): post it again, the same reservationId and body are safe to send again';

/** Who may create a reservation. */
export const createRoles = ['guest', 'partner', 'staff', 'admin'] as const;

/**
 * `POST /v1/reservations` once the caller is known and the body is parsed JSON: served by the Express route below
 * for every request, and by the fast path (fast-path.ts) for the common shape of it.
 */
export async function createReservation(ctx: ApiContext, p: Principal, json: unknown, requestId?: string): Promise<Answer> {
  const body = parse(reservationBody, json);
  if (p.kind === 'staff' && !p.hotelIds.has(body.hotelId)) {
    throw new ApiError('forbidden', 'this key is not scoped to that hotel');
  }
  const command = reserveCommandOf({ kind: p.kind, id: p.id }, body);
  const outcome = await ctx.router.send(command, requestId);
  const headers = { Location: `/v1/reservations/${body.reservationId}` };
  if (outcome.kind === 'late') {
    const m: InflightMarker = { jobKey: outcome.jobKey, requestId: outcome.requestId, hotelId: body.hotelId, owner: { kind: p.kind, id: p.id } };
    // The request is queued whatever becomes of its marker: a marker that cannot be written (Redis failing) does not
    // turn the 202 into a 503. Without it, GET answers 404 saying it was not decided, and posting again is safe.
    const key = ctx.keys.inflight(body.reservationId);
    const written = ctx.redis.multi().hset(key, markerField(m.owner), JSON.stringify(m)).expire(key, inflightMarkerSeconds).exec();
    await written.catch((err: Error) => {
      ctx.log.warn('could not remember a queued reservation', { reservationId: body.reservationId, err: err.message });
    });
    ctx.metrics.count('reservation_decisions_total', 'outcome="late"');
    return { status: 202, body: processing(body.reservationId), headers };
  }
  if (outcome.kind === 'reply' && !outcome.reply.ok) {
    ctx.metrics.count('reservation_decisions_total', `outcome="${outcome.reply.code}"`);
    // A repeat of a reservation whose hotel was deleted since: its writer no longer knows the hotel, but the same
    // request still gets the reservation as it is (API.md, Idempotency).
    if (outcome.reply.code === 'not_found') {
      const made = await ctx.reader.reservation(body.reservationId);
      if (made && made.fingerprint === command.fingerprint) return { status: 200, body: reservationJson(made), headers };
    }
  }
  const a = acceptedOf(outcome, 'reservation');
  if (a.kind !== 'reservation') throw new Error('assertion: reserve answered ' + a.kind);
  ctx.metrics.count('reservation_decisions_total', `outcome="${a.created ? 'created' : 'duplicate'}"`);
  return { status: a.created ? 201 : 200, body: reservationJson(a.reservation), headers };
}

export function reservationRoutes(ctx: ApiContext): Router {
  const r = Router();

  /** The marker of a queued request for this id that `p` may see: its own, or any of a hotel it may see. */
  const marker = async (id: string, p: Principal): Promise<InflightMarker | undefined> => {
    const all = await ctx.redis.hgetall(ctx.keys.inflight(id));
    const mine = all[markerField(p)];
    if (mine) return JSON.parse(mine) as InflightMarker;
    return Object.values(all)
      .map((text) => JSON.parse(text) as InflightMarker)
      .find((m) => canSee(p, m));
  };

  /**
   * The stored replies of a queued reservation's job; 'processing' while it is queued (or its database cannot say);
   * 'never' when its job is gone without a decision, and then the marker is dropped: it never will be decided.
   */
  const queuedReplies = async (id: string, m: InflightMarker): Promise<{ requestId: string; reply: unknown }[] | 'processing' | 'never'> => {
    // The job's state is read before its replies: a job leaves the queue only after its replies are committed, so
    // a job found gone whose replies are then absent was never decided (not decided a moment ago).
    const state = await ctx.router.jobState(m.hotelId, m.jobKey);
    // Its database failing, the request is still queued.
    const replies = await ctx.reader.appliedReplies(m.hotelId, m.jobKey).catch(() => 'processing' as const);
    if (replies) return replies;
    if (state !== 'unknown' && state !== 'failed') return 'processing';
    // Its job is gone (Redis lost it) and was never decided.
    await ctx.redis.hdel(ctx.keys.inflight(id), markerField(m.owner)).catch(() => {});
    return 'never';
  };

  r.post('/v1/reservations', async (req, res) => {
    writeAnswer(res, await createReservation(ctx, withRole(req.principal, createRoles), bodyOf(req), req.requestId));
  });

  r.get('/v1/reservations/:id', async (req, res) => {
    const p = principalOf(req);
    const id = pathId(req.params.id, 'id');
    let found: Awaited<ReturnType<typeof ctx.reader.reservation>>;
    try {
      found = await ctx.reader.reservation(id);
    } catch (err) {
      // A shard database cannot be read (down, refusing connections, read-only…): a request answered 202 is still
      // queued, and says so (API.md, Outages) rather than 503.
      const m = await marker(id, p);
      if (!m) throw err;
      ctx.log.warn('a queued reservation was read while its database failed', { reservationId: id, err: (err as Error).message });
      return void res.status(202).location(`/v1/reservations/${id}`).json(processing(id));
    }
    if (found) {
      if (!canSee(p, found)) throw notFound('reservation');
      res.json(reservationJson(found));
      return;
    }
    const m = await marker(id, p);
    // No marker either: never asked for, or asked for before Redis lost its data (an empty restart), which also
    // lost the queued request. Either way it was not decided, and posting it again is safe.
    if (!m) throw new ApiError('not_found', notFoundMessage);
    const replies = await queuedReplies(id, m);
    if (replies === 'processing') return void res.status(202).location(`/v1/reservations/${id}`).json(processing(id));
    if (replies === 'never') throw neverDecided();
    const decided = replies.find((x) => x.requestId === m.requestId)?.reply as { ok: boolean; code?: string; message?: string } | undefined;
    const now = await ctx.reader.reservation(id);
    if (now && canSee(p, now)) {
      res.json(reservationJson(now));
      return;
    }
    throw new ApiError('not_found', `the reservation was not made${decided?.code ? `: ${decided.code}` : ''}`, {
      decision: decided && !decided.ok ? { code: decided.code, message: decided.message } : undefined,
    });
  });

  r.get('/v1/reservations', async (req: Request, res) => {
    const p = principalOf(req);
    const q = parse(reservationListQuery, req.query, 'query');
    const limit = q.limit ?? pageLimitDefault;
    const cursor = decodeCursor(q.cursor);
    let filter: Parameters<typeof ctx.reader.listReservations>[0];
    if (p.kind === 'guest' || p.kind === 'partner') {
      filter = { owner: { kind: p.kind, id: p.id }, hotelIds: q.hotelId ? [q.hotelId] : undefined, status: q.status };
    } else if (p.kind === 'staff') {
      if (q.hotelId && !p.hotelIds.has(q.hotelId)) throw new ApiError('forbidden', 'this key is not scoped to that hotel');
      const hotelIds = q.hotelId ? [q.hotelId] : [...p.hotelIds];
      if (hotelIds.length === 0) {
        res.json({ items: [], nextCursor: null });
        return;
      }
      filter = { hotelIds, status: q.status };
    } else {
      filter = { hotelIds: q.hotelId ? [q.hotelId] : undefined, status: q.status };
    }
    const page = await ctx.reader.listReservations(filter, cursor, limit);
    res.json({ items: page.items.map(reservationJson), nextCursor: page.nextCursor });
  });

  r.post('/v1/reservations/:id/payment', async (req, res) => {
    const p = requireRole(req, 'guest', 'partner', 'staff', 'admin');
    const id = pathId(req.params.id, 'id');
    const body = parse(paymentBody, bodyOf(req));
    writeAnswer(res, await payReservation(ctx, p, id, body.paymentMethod, idempotencyKeyOf(req), req.requestId));
  });

  r.delete('/v1/reservations/:id', async (req, res) => {
    const p = requireRole(req, 'guest', 'partner', 'staff', 'admin');
    const id = pathId(req.params.id, 'id');
    const found = await ctx.reader.reservation(id);
    if (!found || !canSee(p, found)) {
      const m = found ? undefined : await marker(id, p);
      if (m) {
        if ((await queuedReplies(id, m)) === 'never') throw neverDecided();
        throw new ApiError('conflict', 'the reservation is still being decided; try again shortly');
      }
      throw notFound('reservation');
    }
    const outcome = await ctx.router.send({ kind: 'cancel', hotelId: found.hotelId, reservationId: id }, req.requestId, { kind: p.kind, id: p.id });
    if (outcome.kind === 'reply' && !outcome.reply.ok && outcome.reply.code === 'not_found') {
      // Its hotel was deleted (the reservation is there, its writer no longer knows the hotel): a reservation that
      // was canceled answers the same again; any other can no longer change.
      if (found.status === 'canceled' || found.status === 'refunded') return void res.json(reservationJson(found));
      throw hotelDeleted(found.status);
    }
    const a = acceptedOf(outcome, 'cancellation');
    if (a.kind !== 'reservation') throw new Error('assertion: cancel answered ' + a.kind);
    res.json(reservationJson(a.reservation));
  });

  return r;
}
