// Reads of the shard databases for notifications: a hotel's audit trail, and the events a replay sends again.
import type { NotificationEvent } from '../jobs.js';
import { shardAtHome, type Pool } from '../store/pg.js';
import { eventOfOutboxRow, outboxEventColumns, type OutboxEventRow } from './events.js';

export interface AuditEntry {
  sequence: number;
  at: string;
  actor: { kind: string; id: string };
  command: string;
  outcome: { ok: boolean; status?: string; code?: string };
  reservationId?: string;
  version: number;
}

/**
 * A command's name as the audit shows it (API.md: `reserve`, `pay`, `cancel`, …): a payment is two decisions of the
 * writer around the provider's charge (beginPayment, completePayment), both of the `pay` the caller sent.
 */
const publicCommand: Record<string, string> = { beginPayment: 'pay', completePayment: 'pay' };

/** A hotel's audit records, newest first, a page before `before` (a record's sequence). */
export async function auditPage(
  pool: Pool,
  hotelId: string,
  f: { reservationId?: string; from?: string; to?: string; before?: number },
  limit: number,
): Promise<{ items: AuditEntry[]; next: number | null }> {
  // The log rows of the hotel newest first (its index on (hotel_id, first_seq), backwards), each unnested: a page
  // reads the log rows it shows. A record's sequence is the hotel's count of decisions, the same in any database.
  const r = await pool.query(
    `SELECT id, at, actor_kind, actor_id, command, ok, status, code, reservation_id::text AS reservation_id, version
       FROM audit
      WHERE hotel_id = $1 AND ($2::uuid IS NULL OR reservation_id = $2) AND ($3::timestamptz IS NULL OR at >= $3)
        AND ($4::timestamptz IS NULL OR at < $4) AND ($5::bigint IS NULL OR (first_seq < $5 AND id < $5))
      ORDER BY first_seq DESC, id DESC LIMIT $6`,
    [hotelId, f.reservationId ?? null, f.from ?? null, f.to ?? null, f.before ?? null, limit + 1],
  );
  const items: AuditEntry[] = r.rows.slice(0, limit).map((x) => {
    const e: AuditEntry = {
      sequence: Number(x.id),
      at: (x.at as Date).toISOString(),
      actor: { kind: x.actor_kind, id: x.actor_id },
      command: publicCommand[x.command] ?? x.command,
      outcome: x.ok ? { ok: true, ...(x.status ? { status: x.status } : {}) } : { ok: false, ...(x.code ? { code: x.code } : {}) },
      version: Number(x.version),
    };
    if (x.reservation_id) e.reservationId = x.reservation_id;
    return e;
  });
  return { items, next: r.rows.length > limit ? items[items.length - 1].sequence : null };
}

/** Every relayable event committed since `since` of these types (and hotels, when given), by hotel and sequence. */
export async function eventsSince(pools: Pool[], since: string, types: string[], hotelIds: string[]): Promise<NotificationEvent[]> {
  const out: NotificationEvent[] = [];
  for (const p of pools) {
    const r = await p.query<OutboxEventRow>({
      text: `SELECT ${outboxEventColumns} FROM outbox o LEFT JOIN reservations r ON r.id = o.reservation_id
        WHERE o.created_at >= $1 AND o.sequence IS NOT NULL AND o.type = ANY($2::text[])
          AND (cardinality($3::uuid[]) = 0 OR o.hotel_id = ANY($3::uuid[]))
          AND ${shardAtHome('o.shard')}
        ORDER BY o.hotel_id, o.sequence LIMIT 200000`,
      values: [since, types, hotelIds],
      rowMode: 'array',
    });
    for (const row of r.rows) out.push(eventOfOutboxRow(row));
  }
  return out;
}
