// The commit statement of a shard database: one statement checks every epoch and writes a group of batches (their
// reservations, nights, versions, outbox rows and stored replies), each column sent as one typed array.
import { formatDay } from '../core/dates.js';
import type { HotelEvent, Reservation } from '../core/types.js';
import type { Pool, PoolClient } from './pg.js';
import { reservationInsertColumns } from './rows.js';

/** Thrown when a commit finds another owner's epoch: this process no longer owns the shard. */
export class FencedError extends Error {
  constructor(shard: number, mine: number, current: number | undefined) {
    super(`shard ${shard}: epoch ${mine} is fenced off (current ${current ?? 'none'})`);
  }
}

/**
 * A refusal assumed a reservation id new that was taken after all (a retry of a reservation its hotel no longer
 * holds in memory): nothing was committed, and the round is decided again with every id it names looked up.
 */
export class ReservationIdTaken extends Error {
  constructor() {
    super('a refused reservation id is taken: decide again with it looked up');
  }
}

/** A night whose final values a job's commit writes: reserved moves by `delta`, the rest is set from memory. */
export interface NightWrite {
  hotelId: string;
  roomTypeId: string;
  day: number;
  delta: number;
  total: number | null;
  limit: number | null;
  rate: number | null;
}

export interface CommitBatch {
  shard: number;
  epoch: number;
  /** The jobs whose decisions this is, each with its replies (what a redelivery or a late reader is answered). */
  jobs: { jobKey: string; replies: unknown }[];
  events: HotelEvent[];
  nights: NightWrite[];
  /** Final version per hotel touched. */
  versions: Map<string, number>;
  /** Final representation of each reservation the job created or changed. */
  reservations: Map<string, { reservation: Reservation; created: boolean }>;
  /** The hotel's event sequence of each of `events` (0 for events that leave no outbox row); absent: none. */
  eventSequences?: number[];
  /** One availability.changed per hotel whose nights changed, after its reservation events. */
  availability?: AvailabilityNotice[];
  /** The audit record of every decision of the round, refusals too. */
  audit?: AuditRow[];
  /**
   * The ids of refused reservation commands that the round assumed new (their hotels did not hold them and they
   * were not looked up): the commit checks them, as the INSERT checks the ids of the reservations it creates.
   */
  assumedNew?: string[];
}

/** An availability.changed outbox row: its payload is JSON text (`{roomTypeId, changes}`). */
export interface AvailabilityNotice {
  hotelId: string;
  sequence: number;
  version: number;
  payload: string;
}

/** One decision as the audit trail keeps it. */
export interface AuditRow {
  hotelId: string;
  /** The hotel's count of its writer's decisions, this one included (the record's `sequence`). */
  sequence: number;
  actorKind: string;
  actorId: string;
  command: string;
  ok: boolean;
  status: string | null;
  code: string | null;
  reservationId: string | null;
  version: number;
}

/**
 * Guarantees, in one statement: every batch's epoch is checked under FOR SHARE (a takeover waits for it), then
 * the reservations are inserted and updated, every touched night is updated exactly once with its reserved delta
 * and final values (so the CHECK sees only final values), hotel versions, outbox rows and each job's replies are
 * written; if any epoch is stale, or any id of `assumedNew` is taken (ReservationIdTaken), nothing is written, and
 * if any night row is missing the statement fails whole.
 */
export async function writeJobs(db: Pool | PoolClient, batches: CommitBatch[], planTag: string): Promise<void> {
  // Rows go over as one typed array per column (unnest), not as JSON documents: Postgres parses an array of
  // uuids or integers several times faster than json_populate_recordset parses the same rows, and the worker
  // builds the arrays with less garbage. Only the stored replies stay JSON (one document per job, split by
  // json_array_elements, which keeps each element's text as it is). An outbox row of a reservation event holds
  // the values that can change after creation and refers to the reservation for the rest (shard migration 003).
  const c = new ReservationColumns();
  const u = new ReservationChanges();
  const n = { roomType: [] as string[], date: [] as string[], delta: [] as number[], total: [] as (number | null)[], limit: [] as (number | null)[], rate: [] as (number | null)[] };
  const v = { id: [] as string[], version: [] as number[] };
  const box = { shard: [] as number[], hotel: [] as string[], version: [] as number[], type: [] as string[], seq: [] as (number | null)[], of: new ReservationChanges() };
  const avail = { shard: [] as number[], hotel: [] as string[], version: [] as number[], seq: [] as number[], payload: [] as string[] };
  // The audit trail, one row per hotel: its decisions of this commit as parallel arrays, in decision order, from
  // `first` on. A hotel's decisions of one commit follow one another; a gap (never expected) starts another row.
  const audit: AuditColumns[] = [];
  const auditOf = new Map<string, AuditColumns>();
  // The last sequence each hotel reaches in this commit (its committed high-water mark for the relay).
  const lastSeq = new Map<string, number>();
  const applied = { job: [] as string[], shard: [] as number[], replies: [] as unknown[] };
  for (const b of batches) {
    for (const { reservation, created } of b.reservations.values()) (created ? c : u).push(reservation);
    for (const x of b.nights) {
      n.roomType.push(x.roomTypeId);
      n.date.push(formatDay(x.day));
      n.delta.push(x.delta);
      n.total.push(x.total);
      n.limit.push(x.limit);
      n.rate.push(x.rate);
    }
    const seqs = b.eventSequences;
    for (let k = 0; k < b.events.length; k++) {
      const e = b.events[k];
      if (e.type !== 'reservation.created' && e.type !== 'reservation.status') continue;
      box.shard.push(b.shard);
      box.hotel.push(e.reservation.hotelId);
      box.version.push(e.version);
      box.type.push(e.type === 'reservation.created' ? 'reservation.created' : `reservation.${e.reservation.status}`);
      const seq = seqs ? seqs[k] : null;
      box.seq.push(seq);
      if (seq !== null) lastSeq.set(e.reservation.hotelId, seq);
      box.of.push(e.reservation);
    }
    for (const a of b.availability ?? []) {
      avail.shard.push(b.shard);
      avail.hotel.push(a.hotelId);
      avail.version.push(a.version);
      avail.seq.push(a.sequence);
      avail.payload.push(a.payload);
      lastSeq.set(a.hotelId, Math.max(a.sequence, lastSeq.get(a.hotelId) ?? 0));
    }
    for (const x of b.audit ?? []) {
      let a = auditOf.get(x.hotelId);
      if (!a || a.first + a.command.length !== x.sequence) {
        a = { hotelId: x.hotelId, first: x.sequence, actorKind: [], actorId: [], command: [], ok: [], status: [], code: [], reservation: [], version: [] };
        auditOf.set(x.hotelId, a);
        audit.push(a);
      }
      a.actorKind.push(x.actorKind);
      a.actorId.push(x.actorId);
      a.command.push(x.command);
      a.ok.push(x.ok ? 't' : 'f');
      a.status.push(x.status);
      a.code.push(x.code);
      a.reservation.push(x.reservationId);
      a.version.push(x.version);
    }
    for (const [id, version] of b.versions) {
      v.id.push(id);
      v.version.push(version);
    }
    for (const j of b.jobs) {
      applied.job.push(j.jobKey);
      applied.shard.push(b.shard);
      applied.replies.push(j.replies);
    }
  }
  const r = await db.query({
    // A new name (a new plan, made for the tables as they are now) each time one of them doubles.
    name: `shard-write-jobs-${planTag}`,
    text: `WITH fence AS (
            SELECT count(*) = cardinality($1::int[]) AS ok FROM (
              SELECT 1 FROM shard_leases l JOIN unnest($1::int[], $2::bigint[]) AS f(shard, epoch)
                  ON l.shard = f.shard AND l.epoch = f.epoch
                 FOR SHARE OF l) x),
          -- Reservation ids that refusals of these batches assumed new (their hotels did not hold them): if any was
          -- taken after all, nothing is written and the writer decides again with them looked up.
          taken AS (SELECT count(*)::int AS n FROM reservations WHERE id = ANY($73::uuid[])),
          go AS (SELECT (SELECT ok FROM fence) AND (SELECT n FROM taken) = 0 AS ok),
          ins AS (
            INSERT INTO reservations (${reservationInsertColumns})
            SELECT * FROM unnest($3::uuid[], $4::uuid[], $5::uuid[], $6::date[], $7::date[], $8::int[], $9::text[],
                                 $10::bigint[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
                                 $16::text[], $17::timestamptz[], $18::timestamptz[], $19::text[], $20::int[],
                                 $21::timestamptz[], $22::int[], $23::int[])
             WHERE (SELECT ok FROM go)
            RETURNING 1),
          upd AS (
            UPDATE reservations t SET status = v.status, expires_at = v.expires_at, cancel_reason = v.cancel_reason,
                   version = v.version, updated_at = v.updated_at, payment = v.payment, money = v.money,
                   money_due_at = v.money_due_at
              FROM unnest($24::uuid[], $25::text[], $26::timestamptz[], $27::text[], $28::int[], $29::timestamptz[],
                          $30::jsonb[], $31::jsonb[], $32::timestamptz[])
                     AS v(id, status, expires_at, cancel_reason, version, updated_at, payment, money, money_due_at)
             WHERE t.id = v.id AND (SELECT ok FROM go)
            RETURNING 1),
          nights AS (
            UPDATE room_type_inventory i
               SET reserved = i.reserved + v.delta,
                   total_inventory = COALESCE(v.total, i.total_inventory),
                   sellable_limit = COALESCE(v.lim, i.sellable_limit),
                   rate = COALESCE(v.rate, i.rate)
              FROM unnest($33::uuid[], $34::date[], $35::int[], $36::int[], $37::int[], $38::bigint[])
                     AS v(room_type_id, date, delta, total, lim, rate)
             WHERE i.room_type_id = v.room_type_id AND i.date = v.date AND (SELECT ok FROM go)
            RETURNING 1),
          vers AS (
            UPDATE hotels h SET version = v.version, event_sequence = GREATEST(h.event_sequence, COALESCE(v.seq, 0))
              FROM unnest($39::uuid[], $40::bigint[], $70::bigint[]) AS v(id, version, seq)
             WHERE h.id = v.id AND (SELECT ok FROM go)
            RETURNING 1),
          box AS (
            INSERT INTO outbox (shard, hotel_id, version, type, reservation_id, status, expires_at, cancel_reason,
                                reservation_version, updated_at, sequence, payment)
            SELECT * FROM unnest($41::int[], $42::uuid[], $43::bigint[], $44::text[], $45::uuid[], $46::text[],
                                 $47::timestamptz[], $48::text[], $49::int[], $50::timestamptz[], $55::bigint[], $71::jsonb[])
             WHERE (SELECT ok FROM go)
            RETURNING 1),
          avail AS (
            INSERT INTO outbox (shard, hotel_id, version, sequence, payload, type)
            SELECT v.shard, v.hotel_id, v.version, v.sequence, v.payload, 'availability.changed'
              FROM ROWS FROM (unnest($56::int[]), unnest($57::uuid[]), unnest($58::bigint[]), unnest($59::bigint[]),
                              json_array_elements($60::json)) AS v(shard, hotel_id, version, sequence, payload)
             WHERE (SELECT ok FROM go)
            RETURNING 1),
          audited AS (
            -- One row per hotel, its decisions as arrays in decision order: each array comes as the text of an
            -- array literal (grouped by the writer), so Postgres neither sorts nor groups anything here.
            INSERT INTO audit_log (hotel_id, first_seq, actor_kind, actor_id, command, ok, status, code, reservation_id, version)
            SELECT v.hotel_id, v.first_seq, v.actor_kind::text[], v.actor_id::text[], v.command::text[], v.ok::boolean[],
                   v.status::text[], v.code::text[], v.reservation_id::uuid[], v.version::bigint[]
              FROM unnest($61::uuid[], $72::bigint[], $62::text[], $63::text[], $64::text[], $65::text[], $66::text[],
                          $67::text[], $68::text[], $69::text[])
                   AS v(hotel_id, first_seq, actor_kind, actor_id, command, ok, status, code, reservation_id, version)
             WHERE (SELECT ok FROM go)
            RETURNING 1),
          applied AS (
            INSERT INTO applied_jobs (job_id, shard, replies)
            SELECT v.job_id, v.shard, v.replies
              FROM ROWS FROM (unnest($51::text[]), unnest($52::int[]), json_array_elements($53::json)) AS v(job_id, shard, replies)
             WHERE (SELECT ok FROM go)
            RETURNING 1)
     SELECT (SELECT ok FROM fence) AS fenced_in,
            -- A missing night row is a bug: fail the whole statement (division by zero) rather than commit it.
            1 / (CASE WHEN NOT (SELECT ok FROM go) OR (SELECT count(*) FROM nights) = $54 THEN 1 ELSE 0 END) AS nights_ok,
            (SELECT n FROM taken) AS taken`,
    values: [
      plainArray(batches.map((b) => b.shard)),
      plainArray(batches.map((b) => b.epoch)),
      ...c.literals(),
      ...u.updateLiterals(),
      textArray(n.roomType),
      textArray(n.date),
      plainArray(n.delta),
      plainArray(n.total),
      plainArray(n.limit),
      plainArray(n.rate),
      textArray(v.id),
      plainArray(v.version),
      plainArray(box.shard),
      textArray(box.hotel),
      plainArray(box.version),
      textArray(box.type),
      ...box.of.literals(),
      textArray(applied.job),
      plainArray(applied.shard),
      JSON.stringify(applied.replies),
      n.roomType.length,
      plainArray(box.seq),
      plainArray(avail.shard),
      textArray(avail.hotel),
      plainArray(avail.version),
      plainArray(avail.seq),
      '[' + avail.payload.join(',') + ']',
      textArray(audit.map((a) => a.hotelId)),
      ...auditColumnLiterals(audit),
      plainArray(v.id.map((id) => lastSeq.get(id) ?? null)),
      textArray(box.of.payment),
      plainArray(audit.map((a) => a.first)),
      textArray(batches.flatMap((b) => b.assumedNew ?? [])),
    ],
  });
  if (r.rows[0].fenced_in !== true) {
    // Name the first stale shard (a group that fails is committed again batch by batch, so each learns its own).
    const cur = await db.query('SELECT shard, epoch FROM shard_leases WHERE shard = ANY($1::int[])', [batches.map((b) => b.shard)]);
    const epochs = new Map(cur.rows.map((x) => [Number(x.shard), Number(x.epoch)]));
    const stale = batches.find((b) => epochs.get(b.shard) !== b.epoch) ?? batches[0];
    throw new FencedError(stale.shard, stale.epoch, epochs.get(stale.shard));
  }
  if (r.rows[0].taken > 0) throw new ReservationIdTaken();
}

/** One hotel's decisions of a commit, a column each, in decision order, the first being the hotel's `first`th. */
export interface AuditColumns {
  hotelId: string;
  first: number;
  actorKind: string[];
  actorId: string[];
  command: string[];
  ok: string[];
  status: (string | null)[];
  code: (string | null)[];
  reservation: (string | null)[];
  version: number[];
}

/** The eight audit columns, each an array (one element per hotel) of array literals (that hotel's decisions). */
export function auditColumnLiterals(hotels: AuditColumns[]): string[] {
  const column = (f: (a: AuditColumns) => string) => textArray(hotels.map(f));
  return [
    column((a) => textArray(a.actorKind)),
    column((a) => textArray(a.actorId)),
    column((a) => textArray(a.command)),
    column((a) => textArray(a.ok)),
    column((a) => textArray(a.status)),
    column((a) => textArray(a.code)),
    column((a) => textArray(a.reservation)),
    column((a) => plainArray(a.version)),
  ];
}

/**
 * What can change in a reservation after it is created, one array per value: id, status, expiresAt, cancelReason,
 * version, updatedAt, then its money (payment, money, moneyDueAt; all null for a new reservation).
 */
class ReservationChanges {
  readonly id: string[] = [];
  readonly status: string[] = [];
  readonly expiresAt: (string | null)[] = [];
  readonly cancelReason: (string | null)[] = [];
  readonly version: number[] = [];
  readonly updatedAt: string[] = [];
  readonly payment: (string | null)[] = [];
  readonly money: (string | null)[] = [];
  readonly moneyDueAt: (string | null)[] = [];

  push(r: Reservation): void {
    this.id.push(r.id);
    this.status.push(r.status);
    this.expiresAt.push(r.expiresAt);
    this.cancelReason.push(r.cancelReason);
    this.version.push(r.version);
    this.updatedAt.push(r.updatedAt);
    this.payment.push(r.payment === null ? null : JSON.stringify(r.payment));
    this.money.push(r.money === null ? null : JSON.stringify(r.money));
    this.moneyDueAt.push(r.moneyDueAt);
  }

  /** The six values a new reservation's insert takes from here. */
  literals(): string[] {
    return [textArray(this.id), textArray(this.status), textArray(this.expiresAt), textArray(this.cancelReason), plainArray(this.version), textArray(this.updatedAt)];
  }

  /** Everything, for the update of reservations that changed (an outbox row takes `literals()` and `payment`). */
  updateLiterals(): string[] {
    return [...this.literals(), textArray(this.payment), textArray(this.money), textArray(this.moneyDueAt)];
  }

}

/**
 * Reservations as one array per column of the reservations table, in `reservationColumns` order: what is fixed at
 * creation, and the values that can change (kept as a ReservationChanges, which updates and outbox rows send alone).
 */
class ReservationColumns {
  readonly changes = new ReservationChanges();
  readonly hotelId: string[] = [];
  readonly roomTypeId: string[] = [];
  readonly checkIn: string[] = [];
  readonly checkOut: string[] = [];
  readonly roomCount: number[] = [];
  readonly totalAmount: number[] = [];
  readonly currency: string[] = [];
  readonly guestName: string[] = [];
  readonly guestEmail: string[] = [];
  readonly ownerKind: string[] = [];
  readonly ownerId: string[] = [];
  readonly fingerprint: string[] = [];
  readonly createdAt: string[] = [];
  readonly policyFreeHours: number[] = [];
  readonly policyPenaltyPercent: number[] = [];

  push(r: Reservation): void {
    this.changes.push(r);
    this.policyFreeHours.push(r.policy.freeUntilHoursBefore);
    this.policyPenaltyPercent.push(r.policy.penaltyPercent);
    this.hotelId.push(r.hotelId);
    this.roomTypeId.push(r.roomTypeId);
    this.checkIn.push(r.checkIn);
    this.checkOut.push(r.checkOut);
    this.roomCount.push(r.roomCount);
    this.totalAmount.push(r.totalAmount);
    this.currency.push(r.currency);
    this.guestName.push(r.guest.name);
    this.guestEmail.push(r.guest.email);
    this.ownerKind.push(r.owner.kind);
    this.ownerId.push(r.owner.id);
    this.fingerprint.push(r.fingerprint);
    this.createdAt.push(r.createdAt);
  }

  literals(): string[] {
    const [id, status, expiresAt, cancelReason, version, updatedAt] = this.changes.literals();
    return [
      id,
      textArray(this.hotelId),
      textArray(this.roomTypeId),
      textArray(this.checkIn),
      textArray(this.checkOut),
      plainArray(this.roomCount),
      status,
      plainArray(this.totalAmount),
      textArray(this.currency),
      textArray(this.guestName),
      textArray(this.guestEmail),
      textArray(this.ownerKind),
      textArray(this.ownerId),
      textArray(this.fingerprint),
      textArray(this.createdAt),
      expiresAt,
      cancelReason,
      version,
      updatedAt,
      plainArray(this.policyFreeHours),
      plainArray(this.policyPenaltyPercent),
    ];
  }
}

/** A Postgres array literal of numbers (null → NULL). */
export function plainArray(values: readonly (number | null)[]): string {
  let nulls = false;
  for (const x of values) {
    if (x === null) nulls = true;
    else if (!Number.isFinite(x)) throw new Error(`assertion: ${x} in a numeric array`);
  }
  return '{' + (nulls ? values.map((x) => (x === null ? 'NULL' : x)) : values).join(',') + '}';
}

/**
 * A Postgres array literal of strings, each quoted (so that any text, the empty string and "NULL" survive). Built
 * with one join when nothing needs escaping (the common case: ids, dates, times), so it is one flat string.
 */
export function textArray(values: readonly (string | null)[]): string {
  let plain = true;
  for (const x of values) {
    if (x === null || needsEscape.test(x)) {
      plain = false;
      break;
    }
  }
  if (plain) return values.length === 0 ? '{}' : '{"' + values.join('","') + '"}';
  const quoted = values.map((x) => (x === null ? 'NULL' : '"' + x.replace(escapes, '\\$&') + '"'));
  return '{' + quoted.join(',') + '}';
}
const needsEscape = /[\\"]/;
const escapes = /[\\"]/g;
