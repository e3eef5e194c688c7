// What the three lock-based baselines share: the `POST /v1/reservations` contract of API.md (body validation,
// reservation representation, error shape), the SQL that is not the concurrency strategy itself (insert the
// reservation idempotently, explain why no night was found, replay an existing reservation), and the bounded
// retry of transient database errors. Each strategy file holds only its own way of taking the rooms.

import { z } from 'zod';
import pg from 'pg';

/** Bounds of API.md, repeated here so the baselines stay independent of the engine's code. */
export const nightsMax = 30;
export const roomCountMax = 10;
export const inventoryHorizonDays = 730;
export const holdTtlSeconds = 900;
/** Attempts of one request before a transient failure (deadlock, serialization, version conflict) becomes 409. */
export const attemptsMax = 20;
/** Full-jitter back-off between attempts: a random wait in [0, min(cap, base × 2^attempt)) ms. */
export const backoffBaseMs = 1;
export const backoffCapMs = 50;

const msPerDay = 86_400_000;

function dayNumber(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const d = new Date(ms);
  if (d.getUTCFullYear() !== Number(m[1]) || d.getUTCMonth() !== Number(m[2]) - 1 || d.getUTCDate() !== Number(m[3])) {
    return undefined;
  }
  return ms / msPerDay;
}

const calendarDate = z.string().refine((s) => dayNumber(s) !== undefined, 'must be a real date in YYYY-MM-DD form');

const reservationBody = z
  .strictObject({
    reservationId: z.uuid(),
    hotelId: z.uuid(),
    roomTypeId: z.uuid(),
    checkIn: calendarDate,
    checkOut: calendarDate,
    roomCount: z.int().min(1).max(roomCountMax).optional(),
    guest: z.strictObject({
      name: z.string().trim().min(1).max(200),
      email: z.email().max(320),
    }),
  })
  .superRefine((b, ctx) => {
    const checkIn = dayNumber(b.checkIn);
    const checkOut = dayNumber(b.checkOut);
    if (checkIn === undefined || checkOut === undefined) return;
    if (checkOut <= checkIn) {
      ctx.addIssue({ code: 'custom', path: ['checkOut'], message: 'must be after checkIn' });
    } else if (checkOut - checkIn > nightsMax) {
      ctx.addIssue({ code: 'custom', path: ['checkOut'], message: `a stay covers at most ${nightsMax} nights` });
    }
    // "Today" in the hotel's time zone is checked by the database; the horizon is a coarse UTC bound here.
    const horizonEnd = Math.floor(Date.now() / msPerDay) + inventoryHorizonDays + 1;
    if (checkOut - 1 > horizonEnd) {
      ctx.addIssue({ code: 'custom', path: ['checkOut'], message: 'is beyond the inventory horizon' });
    }
  });

/** A valid reservation request, with its defaults filled in. */
export interface ReservationRequest {
  reservationId: string;
  hotelId: string;
  roomTypeId: string;
  checkIn: string;
  checkOut: string;
  roomCount: number;
  nights: number;
  guest: { name: string; email: string };
}

export interface FieldProblem {
  path: string;
  message: string;
}

export function parseReservationRequest(
  body: unknown,
): { ok: true; request: ReservationRequest } | { ok: false; problems: FieldProblem[] } {
  const parsed = reservationBody.safeParse(body);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }));
    return { ok: false, problems };
  }
  const b = parsed.data;
  return {
    ok: true,
    request: {
      ...b,
      roomCount: b.roomCount ?? 1,
      nights: (dayNumber(b.checkOut) as number) - (dayNumber(b.checkIn) as number),
    },
  };
}

/** The Reservation of API.md. */
export interface Reservation {
  id: string;
  hotelId: string;
  roomTypeId: string;
  checkIn: string;
  checkOut: string;
  roomCount: number;
  status: string;
  totalAmount: number;
  currency: string;
  guest: { name: string; email: string };
  createdAt: string;
  expiresAt: string | null;
  cancelReason: string | null;
  version: number;
}

/** How a strategy ends a request; the server maps it to HTTP in one place. */
export type Outcome =
  | { kind: 'created'; reservation: Reservation }
  | { kind: 'existing'; reservation: Reservation }
  | { kind: 'rejected'; status: number; code: string; message: string; details?: Record<string, unknown> };

/** A strategy takes the rooms of one valid request, or says why not. */
export type ReserveFn = (pool: pg.Pool, request: ReservationRequest) => Promise<Outcome>;

export function rejected(status: number, code: string, message: string, details?: Record<string, unknown>): Outcome {
  return { kind: 'rejected', status, code, message, ...(details ? { details } : {}) };
}

export const soldOut = (): Outcome => rejected(409, 'sold_out', 'Not enough rooms are left on every night of the stay.');

const reservationColumns = `
  id, hotel_id, room_type_id, check_in::text AS check_in, check_out::text AS check_out, room_count, status,
  total_amount, currency, guest_name, guest_email, created_at, expires_at, cancel_reason, version`;

interface ReservationRow {
  id: string;
  hotel_id: string;
  room_type_id: string;
  check_in: string;
  check_out: string;
  room_count: number;
  status: string;
  total_amount: string;
  currency: string;
  guest_name: string;
  guest_email: string;
  created_at: Date;
  expires_at: Date | null;
  cancel_reason: string | null;
  version: number;
}

function toReservation(r: ReservationRow): Reservation {
  return {
    id: r.id,
    hotelId: r.hotel_id,
    roomTypeId: r.room_type_id,
    checkIn: r.check_in,
    checkOut: r.check_out,
    roomCount: r.room_count,
    status: r.status,
    totalAmount: Number(r.total_amount),
    currency: r.currency,
    guest: { name: r.guest_name, email: r.guest_email },
    createdAt: r.created_at.toISOString(),
    expiresAt: r.expires_at ? r.expires_at.toISOString() : null,
    cancelReason: r.cancel_reason,
    version: r.version,
  };
}

/**
 * Inserts the pending reservation; the primary key is the idempotency key, so a reservation that already exists
 * (or is being inserted by a concurrent duplicate, whose commit this waits for) yields null and changes nothing.
 */
export async function insertReservation(
  client: pg.PoolClient,
  req: ReservationRequest,
  totalAmount: number,
  currency: string,
): Promise<Reservation | null> {
  const { rows } = await client.query<ReservationRow>(
    `INSERT INTO reservations (id, hotel_id, room_type_id, check_in, check_out, room_count, status, total_amount,
       currency, guest_name, guest_email, owner_kind, owner_id, fingerprint, created_at, expires_at, version,
       updated_at)
     VALUES ($1::uuid, $2, $3, $4, $5, $6, 'pending', $7, $8, $9, $10, 'partner', 'bench', $1::uuid::text, now(),
       now() + make_interval(secs => ${holdTtlSeconds}), 1, now())
     ON CONFLICT (id) DO NOTHING
     RETURNING ${reservationColumns}`,
    [
      req.reservationId,
      req.hotelId,
      req.roomTypeId,
      req.checkIn,
      req.checkOut,
      req.roomCount,
      totalAmount,
      currency,
      req.guest.name,
      req.guest.email,
    ],
  );
  return rows[0] ? toReservation(rows[0]) : null;
}

function sameRequest(r: Reservation, req: ReservationRequest): boolean {
  return (
    r.hotelId === req.hotelId &&
    r.roomTypeId === req.roomTypeId &&
    r.checkIn === req.checkIn &&
    r.checkOut === req.checkOut &&
    r.roomCount === req.roomCount &&
    r.guest.name === req.guest.name &&
    r.guest.email === req.guest.email
  );
}

/**
 * The answer to a request whose reservationId already exists: the reservation itself (200) for the same body,
 * 422 idempotency_mismatch for a different one. Undefined when no such reservation exists.
 */
export async function replayExisting(db: pg.Pool | pg.PoolClient, req: ReservationRequest): Promise<Outcome | undefined> {
  const { rows } = await db.query<ReservationRow>(`SELECT ${reservationColumns} FROM reservations WHERE id = $1`, [
    req.reservationId,
  ]);
  if (!rows[0]) return undefined;
  const reservation = toReservation(rows[0]);
  if (!sameRequest(reservation, req)) {
    return rejected(422, 'idempotency_mismatch', 'This reservationId was already used with a different body.');
  }
  return { kind: 'existing', reservation };
}

/**
 * Why a stay found fewer inventory rows than nights: unknown hotel or room type (404), a check-in before today
 * in the hotel's time zone (400), or nights without inventory (409 sold_out). A repeated request for a
 * reservation that exists is answered with that reservation first.
 */
export async function explainMissingNights(db: pg.Pool | pg.PoolClient, req: ReservationRequest): Promise<Outcome> {
  return (await replayExisting(db, req)) ?? (await classifyMissingNights(db, req));
}

async function classifyMissingNights(db: pg.Pool | pg.PoolClient, req: ReservationRequest): Promise<Outcome> {
  const { rows } = await db.query<{ today: string }>(
    `SELECT (now() AT TIME ZONE h.timezone)::date::text AS today
       FROM room_types rt JOIN hotels h ON h.id = rt.hotel_id
      WHERE rt.id = $1 AND rt.hotel_id = $2 AND rt.deleted_at IS NULL AND h.deleted_at IS NULL`,
    [req.roomTypeId, req.hotelId],
  );
  if (!rows[0]) return rejected(404, 'not_found', 'No such hotel or room type.');
  if (req.checkIn < rows[0].today) {
    return rejected(400, 'validation_failed', 'The request body is invalid.', {
      fields: [{ path: 'checkIn', message: `must not be before today (${rows[0].today}) in the hotel's time zone` }],
    });
  }
  return soldOut();
}

/** Answers sold_out, unless the request repeats a reservation that exists (then that reservation). */
export async function soldOutUnlessReplay(db: pg.Pool | pg.PoolClient, req: ReservationRequest): Promise<Outcome> {
  return (await replayExisting(db, req)) ?? soldOut();
}

/**
 * The condition every strategy puts on its first statement: the stay must not begin before today in the hotel's
 * time zone. Written once so the three strategies read the same rows.
 */
export const notBeforeToday = `$3::date >= (now() AT TIME ZONE h.timezone)::date`;

/** Raised by a strategy when another writer changed the rows it read; the attempt is retried. */
export class VersionConflict extends Error {
  constructor() {
    super('version conflict');
  }
}

/** For the impossible-in-practice race of a conflicting id that is gone when read back: try the request again. */
export function retryLater(): never {
  throw new VersionConflict();
}

const transientCodes = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected

function isTransient(err: unknown): boolean {
  if (err instanceof VersionConflict) return true;
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && transientCodes.has(code);
}

/** What the retries cost, since the process started (served by the baseline server for the benchmark's report). */
export const retryCounters = { attempts: 0, versionConflicts: 0, deadlocks: 0, serializationFailures: 0, gaveUp: 0 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs one attempt after another while it fails with a transient error (deadlock, serialization failure,
 * version conflict), with full-jitter back-off; after `attemptsMax` attempts the request is answered 409 conflict.
 */
export async function withRetries(attempt: () => Promise<Outcome>): Promise<Outcome> {
  for (let i = 0; i < attemptsMax; i++) {
    retryCounters.attempts++;
    try {
      return await attempt();
    } catch (err) {
      if (!isTransient(err)) throw err;
      if (err instanceof VersionConflict) retryCounters.versionConflicts++;
      else if ((err as { code?: string }).code === '40P01') retryCounters.deadlocks++;
      else retryCounters.serializationFailures++;
      await sleep(Math.random() * Math.min(backoffCapMs, backoffBaseMs * 2 ** i));
    }
  }
  retryCounters.gaveUp++;
  return rejected(409, 'conflict', `The rooms kept changing under this request; gave up after ${attemptsMax} attempts.`);
}

/** Whether an error came from the server as a SQLSTATE (the connection is still usable after ROLLBACK). */
export function isDatabaseError(err: unknown): err is pg.DatabaseError {
  return err instanceof pg.DatabaseError;
}

/**
 * How a transaction ends: committed with its outcome, or rolled back, after which `answer` runs on the same
 * connection outside any transaction (so explaining a rejection never holds the stay's row locks).
 */
export type TransactionEnd =
  | { commit: true; outcome: Outcome }
  | { commit: false; answer: (db: pg.PoolClient) => Promise<Outcome> };

/**
 * Runs `body` inside BEGIN … COMMIT on a pooled connection. Any error rolls back; a connection that failed
 * mid-way is destroyed rather than returned to the pool.
 */
export async function inTransaction(
  pool: pg.Pool,
  body: (client: pg.PoolClient) => Promise<TransactionEnd>,
): Promise<Outcome> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    let end: TransactionEnd;
    try {
      end = await body(client);
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw err;
    }
    if (end.commit) {
      await client.query('COMMIT');
      return end.outcome;
    }
    await client.query('ROLLBACK');
    return await end.answer(client);
  } catch (err) {
    if (!broken && !isDatabaseError(err) && !(err instanceof VersionConflict)) broken = err as Error;
    throw err;
  } finally {
    client.release(broken);
  }
}
