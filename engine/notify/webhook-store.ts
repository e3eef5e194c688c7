// Webhooks and their deliveries in the catalog database: what the API's routes and the notifier read and write.
import type { NotificationEvent } from '../jobs.js';
import type { Pool } from '../store/pg.js';
import { deliveryBody } from './events.js';

export interface Webhook {
  id: string;
  ownerKind: string;
  ownerId: string;
  url: string;
  events: string[];
  hotelIds: string[];
  scopeHotelIds: string[];
  secret: string;
  enabled: boolean;
  disabledReason: string | null;
  failingSince: Date | null;
  createdAt: string;
}

const columns = 'id, owner_kind, owner_id, url, events, hotel_ids, scope_hotel_ids, secret, enabled, disabled_reason, failing_since, created_at';

const webhookOf = (r: Record<string, unknown>): Webhook => ({
  id: r.id as string,
  ownerKind: r.owner_kind as string,
  ownerId: r.owner_id as string,
  url: r.url as string,
  events: r.events as string[],
  hotelIds: (r.hotel_ids as string[]) ?? [],
  scopeHotelIds: (r.scope_hotel_ids as string[]) ?? [],
  secret: r.secret as string,
  enabled: r.enabled as boolean,
  disabledReason: (r.disabled_reason as string | null) ?? null,
  failingSince: (r.failing_since as Date | null) ?? null,
  createdAt: (r.created_at as Date).toISOString(),
});

/** Whether an event goes to a webhook: its type, its hotels, and what the webhook's owner may see. */
export function matches(w: Webhook, e: NotificationEvent): boolean {
  if (!w.enabled || !w.events.includes(e.type)) return false;
  if (w.hotelIds.length > 0 && !w.hotelIds.includes(e.hotelId)) return false;
  switch (w.ownerKind) {
    case 'admin':
      return true;
    case 'staff':
      return w.scopeHotelIds.includes(e.hotelId);
    case 'partner':
      return w.scopeHotelIds.includes(e.hotelId) || (e.owner?.kind === 'partner' && e.owner.id === w.ownerId);
    default:
      return false;
  }
}

export interface DeliveryRow {
  id: number;
  webhookId: string;
  eventId: string;
  hotelId: string;
  sequence: number;
  type: string;
  body: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  state: 'pending' | 'succeeded' | 'failed';
  createdAt: string;
}

const deliveryOf = (r: Record<string, unknown>): DeliveryRow => ({
  id: Number(r.id),
  webhookId: r.webhook_id as string,
  eventId: r.event_id as string,
  hotelId: r.hotel_id as string,
  sequence: Number(r.sequence),
  type: r.type as string,
  body: r.body as string,
  attempts: Number(r.attempts),
  lastStatusCode: r.last_status_code === null ? null : Number(r.last_status_code),
  lastError: (r.last_error as string | null) ?? null,
  nextAttemptAt: r.next_attempt_at ? (r.next_attempt_at as Date).toISOString() : null,
  deliveredAt: r.delivered_at ? (r.delivered_at as Date).toISOString() : null,
  state: r.state as DeliveryRow['state'],
  createdAt: (r.created_at as Date).toISOString(),
});

export class WebhookStore {
  constructor(readonly pool: Pool) {}

  async create(w: Omit<Webhook, 'createdAt' | 'enabled' | 'disabledReason' | 'failingSince'>, maxPerOwner: number): Promise<Webhook | 'too_many'> {
    // The count and the insert under one lock per owner, so that concurrent creates cannot pass the bound together.
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`webhooks:${w.ownerKind}:${w.ownerId}`]);
      const n = (await c.query('SELECT count(*)::int AS n FROM webhooks WHERE owner_kind = $1 AND owner_id = $2', [w.ownerKind, w.ownerId])).rows[0].n;
      if (n >= maxPerOwner) {
        await c.query('ROLLBACK');
        return 'too_many';
      }
      const r = await c.query(
        `INSERT INTO webhooks (id, owner_kind, owner_id, url, events, hotel_ids, scope_hotel_ids, secret)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${columns}`,
        [w.id, w.ownerKind, w.ownerId, w.url, w.events, w.hotelIds, w.scopeHotelIds, w.secret],
      );
      await c.query('COMMIT');
      return webhookOf(r.rows[0]);
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  async get(id: string): Promise<Webhook | undefined> {
    const r = await this.pool.query(`SELECT ${columns} FROM webhooks WHERE id = $1`, [id]);
    return r.rowCount ? webhookOf(r.rows[0]) : undefined;
  }

  /** Webhooks of an owner (undefined: every one, for admin), oldest first, a page after `afterId`. */
  async list(owner: { kind: string; id: string } | undefined, afterId: string | undefined, limit: number): Promise<Webhook[]> {
    const r = await this.pool.query(
      `SELECT ${columns} FROM webhooks
        WHERE ($1::text IS NULL OR (owner_kind = $1 AND owner_id = $2)) AND ($3::uuid IS NULL OR id > $3)
        ORDER BY id LIMIT $4`,
      [owner?.kind ?? null, owner?.id ?? null, afterId ?? null, limit],
    );
    return r.rows.map(webhookOf);
  }

  async all(): Promise<Webhook[]> {
    return (await this.pool.query(`SELECT ${columns} FROM webhooks WHERE enabled`)).rows.map(webhookOf);
  }

  /** The enabled webhooks, and a database time before the read: every webhook committed before it is in the list. */
  async allAsOf(): Promise<{ at: number; list: Webhook[] }> {
    // One statement: its snapshot is taken after its now(), so every webhook committed before `at` is in it.
    const r = await this.pool.query(`SELECT now() AS read_at, w.* FROM (SELECT 1) x LEFT JOIN (SELECT ${columns} FROM webhooks WHERE enabled) w ON true`);
    return { at: (r.rows[0].read_at as Date).getTime(), list: r.rows.filter((x) => x.id !== null).map(webhookOf) };
  }

  async update(id: string, patch: { url?: string; events?: string[]; hotelIds?: string[]; enabled?: boolean }): Promise<Webhook | undefined> {
    const r = await this.pool.query(
      `UPDATE webhooks SET url = COALESCE($2, url), events = COALESCE($3, events), hotel_ids = COALESCE($4, hotel_ids),
              enabled = COALESCE($5, enabled),
              disabled_reason = CASE WHEN $5 IS TRUE THEN NULL ELSE disabled_reason END,
              failing_since = CASE WHEN $5 IS TRUE THEN NULL ELSE failing_since END
        WHERE id = $1 RETURNING ${columns}`,
      [id, patch.url ?? null, patch.events ?? null, patch.hotelIds ?? null, patch.enabled ?? null],
    );
    return r.rowCount ? webhookOf(r.rows[0]) : undefined;
  }

  async remove(id: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM webhooks WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }

  async disable(id: string, reason: string): Promise<void> {
    await this.pool.query('UPDATE webhooks SET enabled = false, disabled_reason = $2 WHERE id = $1', [id, reason]);
  }

  /**
   * Record deliveries of events to the webhooks they match, in the order given (a hotel's sequence order). An event
   * already recorded for a webhook is left as it is (a relay's duplicate), unless `again` (a replay): then it is due
   * again, with its original id.
   */
  async enqueue(pairs: { webhookId: string; event: NotificationEvent }[], again = false): Promise<number> {
    if (pairs.length === 0) return 0;
    const r = await this.pool.query(
      `INSERT INTO webhook_deliveries (webhook_id, event_id, hotel_id, sequence, type, body, next_attempt_at)
       SELECT w, e, h, s, t, b, now() FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::bigint[], $5::text[], $6::text[])
           WITH ORDINALITY AS v(w, e, h, s, t, b, n) ORDER BY n
       ON CONFLICT (webhook_id, event_id) DO ${
         again ? "UPDATE SET state = 'pending', next_attempt_at = now(), attempts = 0, delivered_at = NULL" : 'NOTHING'
       }`,
      [
        pairs.map((p) => p.webhookId),
        pairs.map((p) => p.event.id),
        pairs.map((p) => p.event.hotelId),
        pairs.map((p) => p.event.sequence),
        pairs.map((p) => p.event.type),
        pairs.map((p) => deliveryBody(p.event)),
      ],
    );
    return r.rowCount ?? 0;
  }

  /** Webhooks with deliveries due now. */
  async dueWebhooks(): Promise<string[]> {
    const r = await this.pool.query(
      `SELECT w.id FROM webhooks w WHERE w.enabled AND EXISTS (
         SELECT 1 FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.state = 'pending' AND d.next_attempt_at <= now())`,
    );
    return r.rows.map((x) => x.id as string);
  }

  /**
   * A webhook's due deliveries, oldest first (a hotel's in sequence order): up to `limit`, none of the hotels in
   * `except`, and at most `perHotel` of one hotel (taken from the oldest `limit × 4` due).
   */
  async due(webhookId: string, limit: number, except: string[] = [], perHotel = limit): Promise<DeliveryRow[]> {
    const r = await this.pool.query(
      `SELECT * FROM (
         SELECT d.*, row_number() OVER (PARTITION BY d.hotel_id ORDER BY d.id) AS nth
           FROM (SELECT * FROM webhook_deliveries
                  WHERE webhook_id = $1 AND state = 'pending' AND next_attempt_at <= now() AND NOT (hotel_id = ANY($3::uuid[]))
                  ORDER BY id LIMIT $2 * 4) d) x
        WHERE nth <= $4 ORDER BY id LIMIT $2`,
      [webhookId, limit, except, perHotel],
    );
    return r.rows.map(deliveryOf);
  }

  /** Deliveries that succeeded (one statement for all); their webhooks are no longer failing. */
  async succeededMany(list: { id: number; status: number }[]): Promise<void> {
    if (list.length === 0) return;
    await this.pool.query(
      `WITH d AS (UPDATE webhook_deliveries t SET state = 'succeeded', attempts = t.attempts + 1, last_status_code = v.status,
                         last_error = NULL, next_attempt_at = NULL, delivered_at = now()
                    FROM unnest($1::bigint[], $2::int[]) AS v(id, status) WHERE t.id = v.id RETURNING t.webhook_id)
       UPDATE webhooks SET failing_since = NULL WHERE id IN (SELECT webhook_id FROM d) AND failing_since IS NOT NULL`,
      [list.map((x) => x.id), list.map((x) => x.status)],
    );
  }

  /**
   * An attempt failed: retried at `nextAt`, or given up (null). Answers whether the webhook has now failed for
   * `disableAfterMs` without a success (then it is disabled).
   */
  async failed(id: number, status: number | null, error: string, nextAt: Date | null, disableAfterMs: number): Promise<boolean> {
    const r = await this.pool.query(
      `WITH d AS (UPDATE webhook_deliveries SET attempts = attempts + 1, last_status_code = $2, last_error = $3,
                         next_attempt_at = $4, state = CASE WHEN $4::timestamptz IS NULL THEN 'failed' ELSE 'pending' END
                   WHERE id = $1 RETURNING webhook_id)
       UPDATE webhooks SET failing_since = COALESCE(failing_since, now()),
              enabled = enabled AND NOT (COALESCE(failing_since, now()) < now() - make_interval(secs => $5::float8 / 1000)),
              disabled_reason = CASE WHEN COALESCE(failing_since, now()) < now() - make_interval(secs => $5::float8 / 1000)
                                     THEN 'failing for 5 days' ELSE disabled_reason END
        WHERE id = (SELECT webhook_id FROM d) RETURNING enabled`,
      [id, status, error.slice(0, 500), nextAt, disableAfterMs],
    );
    return r.rowCount ? r.rows[0].enabled === false : false;
  }

  /** Forget finished deliveries and sent mails older than the retention (a bounded chunk per call). */
  async prune(retentionHours: number, max = 10_000): Promise<number> {
    const d = await this.pool.query(
      `DELETE FROM webhook_deliveries WHERE id IN (
         SELECT id FROM webhook_deliveries WHERE state <> 'pending' AND created_at < now() - make_interval(hours => $1) LIMIT $2)`,
      [retentionHours, max],
    );
    const m = await this.pool.query(
      `DELETE FROM guest_mails WHERE event_id IN (
         SELECT event_id FROM guest_mails WHERE state = 'sent' AND created_at < now() - make_interval(hours => $1) LIMIT $2)`,
      [retentionHours, max],
    );
    return (d.rowCount ?? 0) + (m.rowCount ?? 0);
  }

  /** A webhook's deliveries, newest first, a page before `beforeId`. */
  async deliveries(webhookId: string, status: 'failed' | 'succeeded' | undefined, beforeId: number | undefined, limit: number): Promise<DeliveryRow[]> {
    const r = await this.pool.query(
      `SELECT * FROM webhook_deliveries
        WHERE webhook_id = $1 AND ($2::bigint IS NULL OR id < $2)
          AND ($3::text IS NULL OR ($3 = 'succeeded' AND state = 'succeeded') OR ($3 = 'failed' AND state <> 'succeeded' AND attempts > 0))
        ORDER BY id DESC LIMIT $4`,
      [webhookId, beforeId ?? null, status ?? null, limit],
    );
    return r.rows.map(deliveryOf);
  }
}
