// The invariants every chaos test checks in the shard databases after its fault, and the findings list that
// reports every broken one at once.
import { expect } from 'chai';
import { sleep, withClient, type ChaosStack } from './chaos-harness.js';
import { timedRequest, type Sent } from './chaos-load.js';
import { dayFromToday } from './fixtures.js';

export interface InvariantOptions {
  /** When the fault was over: every 202 must be decided within `decideWithinMs` of it. */
  recoveredAt: number;
  decideWithinMs?: number;
  /** Statuses a reservation request may get (201 created, 202 queued, 409 refused unless the test allows more). */
  allowedStatuses?: number[];
  /** Check that each lane's created reservations were decided in send order (hotel version from the outbox). */
  order?: boolean;
  /** When the fault began: a request answered wrongly says when it was sent relative to it. */
  faultAt?: number;
}

export interface Decided {
  sent: Sent;
  /** 'created' (201, or 202 then 200 on GET), 'refused' (409, or 202 then 404), 'unavailable' (503). */
  final: 'created' | 'refused' | 'unavailable';
  /** For a request answered 202: the body of the GET that found it decided. */
  answer?: unknown;
}

/**
 * The invariants of issue 13, checked in the shard databases: every request answered 202 is decided within the
 * bound; every reservation acknowledged (201, or 200 on its GET) is stored exactly once and nothing else is; no
 * night is over its sellable limit; each night's reserved count equals the rooms its live reservations hold; and,
 * if asked, each lane was decided in the order it was sent.
 */
export async function checkInvariants(stack: ChaosStack, sent: Sent[], o: InvariantOptions, findings?: Findings): Promise<Decided[]> {
  const f = findings ?? new Findings(stack);
  const allowed = o.allowedStatuses ?? [201, 202, 409];
  f.expectEmpty(
    'requests without an answer (hanging or refused connection)',
    sent.filter((s) => s.status === undefined || s.status === 0).map((s) => `${s.body.reservationId}: ${s.error} after ${(s.answeredAt ?? Date.now()) - s.sentAt} ms`),
  );
  f.expectEmpty(
    `reservation requests answered outside ${allowed.join('/')}`,
    sent
      .filter((s) => s.status && !allowed.includes(s.status))
      .map((s) => `${o.faultAt === undefined ? '' : `sent at ${((s.sentAt - o.faultAt) / 1000).toFixed(1)} s of the fault: `}${s.status} ${JSON.stringify(s.response).slice(0, 200)}`),
  );

  // Every 202 is decided within the bound: GET (as its owner) answers 200, or 404 (refused, or never decided).
  const deadline = o.recoveredAt + (o.decideWithinMs ?? 15_000);
  const decided: Decided[] = [];
  const undecided: string[] = [];
  await Promise.all(
    chunk(sent, 8).map(async (part) => {
      for (const s of part) {
        if (s.status === 201) decided.push({ sent: s, final: 'created' });
        else if (s.status === 409 || s.status === 422) decided.push({ sent: s, final: 'refused' });
        else if (s.status === 503) decided.push({ sent: s, final: 'unavailable' });
        else if (s.status === 202) {
          let last = 0;
          for (;;) {
            const g = await timedRequest(s.principal.client, 'GET', `/v1/reservations/${s.body.reservationId}`, undefined, 5_000);
            last = g.status;
            if (g.status === 200 || g.status === 404) {
              decided.push({ sent: s, final: g.status === 200 ? 'created' : 'refused', answer: g.body });
              break;
            }
            if (Date.now() > deadline) {
              undecided.push(`${s.body.reservationId} (${s.principal.name}): still ${last}`);
              break;
            }
            await sleep(200);
          }
        }
      }
    }),
  );
  f.expectEmpty(`requests answered 202 and not decided within ${o.decideWithinMs ?? 15_000} ms of recovery`, undecided);

  // Stored exactly once (across every shard database) when acknowledged; not at all otherwise.
  const ids = sent.map((s) => s.body.reservationId);
  const stored = new Map<string, number>();
  // Rows of shards that moved away from a database stay there as a copy the database no longer serves (see
  // shard_is_home, shard migration 007): only the databases where each shard is at home count.
  for (const url of stack.allShardUrls()) {
    const rows = await withClient(url, async (c) =>
      (await c.query(
        `SELECT id::text, count(*)::int AS n FROM reservations r
          WHERE id = ANY($1::uuid[]) AND shard_is_home((SELECT h.shard FROM hotels h WHERE h.id = r.hotel_id)) GROUP BY id`,
        [ids],
      )).rows,
    );
    for (const r of rows) stored.set(r.id, (stored.get(r.id) ?? 0) + r.n);
  }
  f.expectEmpty(
    'acknowledged reservations not stored exactly once',
    decided.filter((d) => d.final === 'created' && stored.get(d.sent.body.reservationId) !== 1).map((d) => `${d.sent.body.reservationId} answered ${d.sent.status}: stored ${stored.get(d.sent.body.reservationId) ?? 0}×`),
  );
  f.expectEmpty(
    'reservations stored though their request was refused or answered unavailable',
    decided.filter((d) => d.final !== 'created' && stored.has(d.sent.body.reservationId)).map((d) => `${d.sent.body.reservationId} answered ${d.sent.status} (${d.final}): stored`),
  );

  // Nights: never over the limit, and reserved = rooms of the live reservations covering them.
  for (const h of stack.hotels) {
    const nights = await withClient(stack.shardDbUrl(h.id), async (c) =>
      (await c.query(
        `SELECT to_char(i.date, 'YYYY-MM-DD') AS date, i.reserved, i.sellable_limit,
                COALESCE((SELECT sum(r.room_count) FROM reservations r
                           WHERE r.room_type_id = i.room_type_id AND r.status IN ('pending', 'paid')
                             AND r.check_in <= i.date AND r.check_out > i.date), 0)::int AS held
           FROM room_type_inventory i WHERE i.room_type_id = $1 ORDER BY i.date`,
        [h.roomTypeId],
      )).rows,
    );
    f.expectEmpty(`nights over their sellable limit (hotel ${h.id})`, nights.filter((n) => n.reserved > n.sellable_limit).map((n) => `${n.date}: ${n.reserved} > ${n.sellable_limit}`));
    f.expectEmpty(
      `nights whose reserved count is not the rooms of their live reservations (hotel ${h.id})`,
      nights.filter((n) => n.reserved !== n.held).map((n) => `${n.date}: reserved ${n.reserved}, held ${n.held}`),
    );
  }

  if (o.order) f.expectEmpty('reservations decided out of their hotel send order', await laneOrderViolations(stack, decided));
  if (!findings) f.done();
  return decided;
}

/**
 * Violated expectations, collected so that one run reports every broken invariant at once (a fault that breaks
 * several shows all of them), then failed together with the parts' logs.
 */
export class Findings {
  readonly list: string[] = [];

  constructor(private readonly stack?: ChaosStack) {}

  /** A list that should be empty (shown up to 12 items). */
  expectEmpty(what: string, items: string[]): void {
    if (items.length === 0) return;
    const shown = items.slice(0, 12).join('\n    ');
    this.list.push(`${what} (${items.length}):\n    ${shown}${items.length > 12 ? `\n    … ${items.length - 12} more` : ''}`);
  }

  /** Run an expectation; record its failure and go on. */
  async check(what: string, fn: () => unknown): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.list.push(`${what}: ${(err as Error).message.slice(0, 2_000)}`);
    }
  }

  done(): void {
    if (this.list.length === 0) return;
    expect.fail(`${this.list.length} expectation(s) failed:\n- ${this.list.join('\n- ')}\n\nlogs:\n${this.stack?.logs() ?? ''}`);
  }
}

/** The hotel version each reservation was created at (its `reservation.created` outbox row). */
export async function createdVersions(stack: ChaosStack, ids: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const url of stack.allShardUrls()) {
    const rows = await withClient(url, async (c) =>
      (await c.query(`SELECT reservation_id::text AS id, version FROM outbox WHERE type = 'reservation.created' AND reservation_id = ANY($1::uuid[])`, [ids])).rows,
    );
    for (const r of rows) out.set(r.id, Number(r.version));
  }
  return out;
}

/** Within each lane (one principal, one hotel, one request at a time), created reservations have rising versions. */
async function laneOrderViolations(stack: ChaosStack, decided: Decided[]): Promise<string[]> {
  const created = decided.filter((d) => d.final === 'created').map((d) => d.sent);
  const versions = await createdVersions(stack, created.map((s) => s.body.reservationId));
  const lanes = new Map<number, Sent[]>();
  for (const s of created) lanes.set(s.lane, [...(lanes.get(s.lane) ?? []), s]);
  const reordered: string[] = [];
  for (const [lane, list] of lanes) {
    list.sort((a, b) => a.seq - b.seq);
    for (let i = 1; i < list.length; i++) {
      const a = versions.get(list[i - 1].body.reservationId);
      const b = versions.get(list[i].body.reservationId);
      if (a === undefined || b === undefined || b <= a) {
        reordered.push(`lane ${lane}: #${list[i - 1].seq} (${list[i - 1].status}) at version ${a}, then #${list[i].seq} (${list[i].status}) at version ${b}`);
      }
    }
  }
  return reordered;
}

function chunk<T>(xs: T[], n: number): T[][] {
  const out: T[][] = Array.from({ length: n }, () => []);
  xs.forEach((x, i) => out[i % n].push(x));
  return out;
}

/**
 * Availability as the API answers it (not stale) equals the shard databases' nights, for every hotel over days
 * [fromDay, toDay): waits up to `timeoutMs` for the cache to catch up, then answers the nights that differ.
 */
export async function availabilityDiffs(stack: ChaosStack, fromDay: number, toDay: number, timeoutMs = 5_000): Promise<string[]> {
  const diffs = async (): Promise<string[]> => {
    const out: string[] = [];
    for (const h of stack.hotels) {
      const a = await timedRequest(stack.admin, 'GET', `/v1/hotels/${h.id}/availability?checkIn=${dayFromToday(fromDay)}&checkOut=${dayFromToday(toDay)}&roomTypeId=${h.roomTypeId}`, undefined, 5_000);
      if (a.status !== 200) {
        out.push(`hotel ${h.id}: availability answered ${a.status} ${JSON.stringify(a.body).slice(0, 200)}`);
        continue;
      }
      const body = a.body as { stale: boolean; roomTypes: { nights: { date: string; reserved: number; available: number }[] }[] };
      if (body.stale) out.push(`hotel ${h.id}: stale`);
      const db = await withClient(stack.shardDbUrl(h.id), async (c) =>
        (await c.query(`SELECT to_char(date, 'YYYY-MM-DD') AS date, reserved, sellable_limit FROM room_type_inventory
                         WHERE room_type_id = $1 AND date >= $2 AND date < $3`, [h.roomTypeId, dayFromToday(fromDay), dayFromToday(toDay)])).rows,
      );
      const byDate = new Map(db.map((r) => [r.date as string, r]));
      for (const n of body.roomTypes[0]?.nights ?? []) {
        const d = byDate.get(n.date);
        if (!d || d.reserved !== n.reserved || Math.max(0, d.sellable_limit - d.reserved) !== n.available) {
          out.push(`hotel ${h.id} ${n.date}: answered reserved ${n.reserved} available ${n.available}, database reserved ${d?.reserved} limit ${d?.sellable_limit}`);
        }
      }
      if ((body.roomTypes[0]?.nights.length ?? 0) !== toDay - fromDay) out.push(`hotel ${h.id}: ${body.roomTypes[0]?.nights.length ?? 0} nights answered`);
    }
    return out;
  };
  let last: string[] = [];
  const until = Date.now() + timeoutMs;
  do {
    last = await diffs();
    if (last.length === 0) return [];
    await sleep(250);
  } while (Date.now() < until);
  return last;
}
