// The single writer of one virtual shard: holds its hotels in memory, decides each job's commands in order, and
// commits them in one fenced transaction before anyone hears an answer (what follows a commit: commit-publisher.ts).
import { hotelsInMemoryMax, reservationBytesEstimate } from './limits.js';
import { decide } from './core/decide.js';
import { evolve } from './core/evolve.js';
import { assertWithinLimits } from './core/invariants.js';
import type { Command, DecideContext, HotelEvent, HotelState, Reply } from './core/types.js';
import type { AvailabilityCache } from './availability-cache.js';
import { localDay } from './core/dates.js';
import type { Actor, CommandReply, ShardJob } from './jobs.js';
import { expandReplies, type StoredReply } from './stored-replies.js';
import type { Logger } from './log.js';
import { processMetrics } from './metrics.js';
import { hotelWindow, loadedAuditSequence, loadedEventSequence, ReservationIdTaken, type AuditRow, type CommitBatch, type ShardStore } from './store/shard-store.js';
import { batchOf, storedRepliesOf } from './commit-batch.js';
import { CommitPublisher, type Outbound } from './commit-publisher.js';

export type { Outbound };

/** Hotels loaded from the database in one round of queries. */
const hotelsLoadedAtOnceMax = 50;

/** Reservations one hotel keeps in memory between jobs; older ones are loaded again when a command names them. */
const reservationsKeptPerHotel = 2_000;

interface Loaded {
  state: HotelState;
  day: number;
  /** What the hotel is counted as against the memory budget (night tables and reservations). */
  bytes: number;
  /** The hotel's last event sequence (committed, or given to a round now being committed). */
  seq: number;
  /** The sequence of the hotel's last audited decision (committed, or in a round now being committed). */
  audited: number;
}

/** The memory a hotel's state holds, as counted against the budget. */
function bytesOf(state: HotelState): number {
  let n = 1024 + state.reservations.size * reservationBytesEstimate;
  for (const rt of state.roomTypes.values()) n += 256 + rt.nights.total.buffer.byteLength;
  return n;
}

export interface ShardActorOptions {
  shard: number;
  epoch: number;
  store: ShardStore;
  outbound: Outbound;
  horizonDays: number;
  holdTtlSeconds: number;
  /** PAYMENT_TIMEOUT_SECONDS: how long an open payment attempt keeps its hold. */
  paymentTimeoutSeconds?: number;
  /** Memory this actor may give to the hotels it holds; the least recently used go beyond it. */
  memoryBytes?: number;
  /**
   * The deployment-wide claim of reservation ids (catalog): a new reservation's id is claimed for its hotel before
   * it is decided, and one claimed for another hotel is refused. Absent in pure store tests (ids unique per database).
   */
  claims?: { claim(pairs: { id: string; hotelId: string }[]): Promise<Map<string, string>> };
  /** Where committed availability goes (cache, change log, live stream); absent in pure store tests. */
  cache?: AvailabilityCache;
  log?: Logger;
  now?: () => number;
}

/** A job as delivered: a redelivered one may have been committed before (its stored replies are answered). */
export interface Delivery {
  job: ShardJob;
  redelivered: boolean;
}

/** A job with the replies it gets. */
interface Answered {
  job: ShardJob;
  replies: CommandReply[];
}

/** The commit's INSERT found a reservation with an id the decision took for new. */
function isReservationIdTaken(err: unknown): boolean {
  if (err instanceof ReservationIdTaken) return true;
  const e = err as { code?: string; constraint?: string };
  return e?.code === '23505' && e.constraint === 'reservations_pkey';
}

/** A round created reservations whose ids were claimed for other hotels first: it is decided again knowing so. */
class ClaimedElsewhere extends Error {
  constructor(readonly claims: Map<string, string>) {
    super(`reservation ids claimed for other hotels: ${[...claims.keys()].join(', ')}`);
  }
}

/** Passes of one round's decision (see decideAndCommit). */
const reDecidePassesMax = 8;



/**
 * The audit records of one decision: who asked, what, and how it ended. An atomic batch is one record per item
 * (its reservation, and how that item ended), numbered from `sequence` on.
 */
function auditRowsOf(command: Command, actor: Actor | undefined, reply: Reply, version: number, sequence: number): AuditRow[] {
  if (command.kind === 'reserveAtomic' && reply.ok && reply.kind === 'batch') {
    return command.items.map((item, i) => ({ ...auditRowOf(item, actor, reply.replies[i], version, sequence + i), command: command.kind }));
  }
  return [auditRowOf(command, actor, reply, version, sequence)];
}

function auditRowOf(command: Command, actor: Actor | undefined, reply: Reply, version: number, sequence: number): AuditRow {
  const system = command.kind === 'expireHold' ? 'hold-sweeper' : command.kind === 'settleMoney' || command.kind === 'completePayment' ? 'payment-reconciler' : 'writer';
  const who = actor ?? (command.kind === 'reserve' ? command.owner : { kind: 'system', id: system });
  return {
    hotelId: command.hotelId,
    sequence,
    actorKind: who.kind,
    actorId: who.id,
    command: command.kind,
    ok: reply.ok,
    status: reply.ok ? (reply.kind === 'reservation' || reply.kind === 'paymentAttempt' ? reply.reservation.status : null) : null,
    code: reply.ok ? null : reply.code,
    reservationId: 'reservationId' in command ? command.reservationId : null,
    version,
  };
}

export class ShardActor {
  private readonly hotels = new Map<string, Loaded>();
  private readonly now: () => number;

  private readonly publisher: CommitPublisher;

  constructor(private readonly o: ShardActorOptions) {
    this.now = o.now ?? Date.now;
    this.publisher = new CommitPublisher({ outbound: o.outbound, cache: o.cache, log: o.log, stateOf: (id) => this.hotels.get(id)?.state, forget: (id) => this.forget(id) });
  }

  get hotelsLoaded(): number {
    return this.hotels.size;
  }

  /** Bytes the hotels held count for (see bytesOf). */
  get bytesHeld(): number {
    return this.held;
  }

  private held = 0;

  /** Hold a hotel (most recently used: last in the map's order). */
  private hold(id: string, state: HotelState, day: number): void {
    this.forget(id);
    const bytes = bytesOf(state);
    this.hotels.set(id, { state, day, bytes, seq: loadedEventSequence(state), audited: loadedAuditSequence(state) });
    this.held += bytes;
  }

  private forget(id: string): void {
    const l = this.hotels.get(id);
    if (!l) return;
    this.hotels.delete(id);
    this.held -= l.bytes;
  }

  /** A held hotel grew or shrank (reservations, room types): count it again. */
  private recount(id: string): void {
    const l = this.hotels.get(id);
    if (!l) return;
    const bytes = bytesOf(l.state);
    this.held += bytes - l.bytes;
    l.bytes = bytes;
  }

  /**
   * Evict the least recently used hotels while over the budget (or the count bound), never one that `inUse` names:
   * an evicted hotel is loaded again from the database when a command names it.
   */
  private evict(inUse: Set<string>): void {
    const budget = this.o.memoryBytes ?? Number.POSITIVE_INFINITY;
    for (const id of this.hotels.keys()) {
      if (this.held <= budget && this.hotels.size <= hotelsInMemoryMax) return;
      if (!inUse.has(id)) this.forget(id);
    }
  }

  /**
   * Decide and commit jobs (in order, in one commit), then reply to each. A job delivered before (its worker died,
   * or it was put back) may have been committed already: then its stored replies are answered instead.
   */
  async process(jobs: Delivery[]): Promise<void> {
    await this.exclusive(async () => {
      const { answered, batch } = await this.decideAndCommit(jobs);
      await this.publisher.send(answered, batch);
    });
  }

  private turn: Promise<unknown> = Promise.resolve();
  /** Set when the shard is lost: background work stops. */
  stopped = false;

  /** Jobs and background loads take turns: a hotel is never loaded while a job holds decisions not yet committed. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.turn.then(fn, fn);
    this.turn = run.catch(() => {});
    return run;
  }

  /**
   * Committed decisions in the process metrics, and (LOG_LEVEL=debug) one log line each, carrying the request id the
   * API gave the request (X-Request-Id) so that an access log line leads to the decision.
   */
  private report(committed: Answered[]): void {
    const log = this.o.log?.enabled('debug') ? this.o.log : undefined;
    for (const a of committed) {
      const commands = a.job.commands;
      for (let i = 0; i < commands.length; i++) {
        const reply = a.replies[i].reply as Reply;
        const outcome = reply.ok ? 'ok' : reply.code;
        processMetrics.decided(commands[i].command.kind, outcome);
        log?.debug('decided', {
          shard: this.o.shard,
          epoch: this.o.epoch,
          requestId: commands[i].httpRequestId ?? a.job.httpRequestId,
          jobKey: a.job.jobKey,
          command: commands[i].command.kind,
          hotelId: commands[i].command.hotelId,
          outcome,
        });
      }
    }
  }

  /**
   * Warm start: load the shard's hotels (most recently changed first, up to the memory bound) in small chunks
   * between jobs, so that the first requests after a takeover do not each wait for their hotel to load.
   */
  async preload(): Promise<number> {
    const ids = await this.o.store.hotelIdsOfShard(this.o.shard, hotelsInMemoryMax);
    let n = 0;
    const budget = this.o.memoryBytes ?? Number.POSITIVE_INFINITY;
    for (let i = 0; i < ids.length && !this.stopped && this.held < budget; i += hotelsLoadedAtOnceMax) {
      const chunk = ids.slice(i, i + hotelsLoadedAtOnceMax);
      await this.exclusive(() => this.ensureLoaded(chunk, this.now()));
      n += chunk.length;
      // Let waiting jobs go first.
      await new Promise((r) => setImmediate(r));
    }
    return n;
  }

  /**
   * The fallback when the database refused a job's commit for a reason other than being unreachable (a value it
   * cannot store, a broken invariant): decide and commit the commands one by one, so that one bad command is
   * answered `internal_error` on its own and the others are decided as usual. Then record the job's replies.
   */
  processOneByOne(job: ShardJob, isRetryable: (err: unknown) => boolean): Promise<void> {
    return this.exclusive(() => this.oneByOne(job, isRetryable));
  }

  private async oneByOne(job: ShardJob, isRetryable: (err: unknown) => boolean): Promise<void> {
    const replies: CommandReply[] = [];
    for (const [i, queued] of job.commands.entries()) {
      try {
        const sub = { ...job, jobKey: `${job.jobKey}.${i}`, replyTo: '', commands: [queued] };
        const done = await this.decideAndCommit([{ job: sub, redelivered: true }]);
        replies.push(...done.answered[0].replies);
        if (done.batch) await this.publisher.send([], done.batch);
      } catch (err) {
        if (isRetryable(err)) throw err;
        this.o.log?.error('command refused by the database', { shard: this.o.shard, jobKey: job.jobKey, kind: queued.command.kind, err });
        replies.push({ requestId: queued.requestId, reply: { ok: false, code: 'internal_error', message: 'The request could not be stored; it was not applied.' } });
      }
    }
    await this.o.store.commit(this.emptyBatch(job.jobKey, replies));
    await this.publisher.send([{ job, replies }], undefined);
  }

  private emptyBatch(jobKey: string, replies: CommandReply[]): CommitBatch {
    return {
      shard: this.o.shard,
      epoch: this.o.epoch,
      jobs: [{ jobKey, replies: storedRepliesOf(replies) }],
      events: [],
      nights: [],
      versions: new Map(),
      reservations: new Map(),
    };
  }

  /**
   * A reservation id that a hotel does not hold in memory is assumed new (the common case: a first request) rather
   * than looked up in the database before every decision; the commit is the check, for the reservations a round
   * creates (their INSERT) and for the reservation commands it refuses (sold out, say: a retry of a reservation
   * memory no longer holds must get the reservation, not the refusal). If an id was taken after all, the commit fails
   * whole, nothing is kept, and the jobs are decided again with every id they name looked up first.
   */
  private async decideAndCommit(jobs: Delivery[]): Promise<{ answered: Answered[]; batch?: CommitBatch }> {
    const claimed = new Map<string, string>();
    let lookUpAll = false;
    // Each pass that fails learns something it did not know (ids taken here, or claimed for other hotels), so the
    // passes are few: at most one more for taken ids, and one more per new conflict, which only a misuse makes.
    for (let pass = 0; ; pass++) {
      try {
        return await this.decideAndCommitOnce(jobs, lookUpAll, claimed);
      } catch (err) {
        if (pass >= reDecidePassesMax) throw err;
        if (err instanceof ClaimedElsewhere) for (const [id, hotelId] of err.claims) claimed.set(id, hotelId);
        else if (!lookUpAll && isReservationIdTaken(err)) lookUpAll = true;
        else throw err;
      }
    }
  }

  private async decideAndCommitOnce(jobs: Delivery[], lookUpAll: boolean, claimed: Map<string, string>): Promise<{ answered: Answered[]; batch?: CommitBatch }> {
    const answered: Answered[] = [];
    const fresh: Answered[] = [];
    for (const { job, redelivered } of jobs) {
      const stored = redelivered
        ? ((await this.o.store.appliedReplies(job.jobKey)) as { requestId: string; reply: StoredReply }[] | undefined)
        : undefined;
      if (stored) {
        const full = await expandReplies(stored.map((x) => x.reply), (ids) => this.o.store.loadReservations(ids));
        answered.push({ job, replies: stored.map((x, i) => ({ requestId: x.requestId, reply: full[i] })) });
      } else {
        const a = { job, replies: [] as CommandReply[] };
        answered.push(a);
        fresh.push(a);
      }
    }
    if (fresh.length === 0) return { answered };
    const nowMs = this.now();
    const hotelIds = new Set<string>();
    for (const { job } of fresh) for (const c of job.commands) hotelIds.add(c.command.hotelId);
    await this.ensureLoaded([...hotelIds], nowMs);
    const reservationHotel = await this.prefetchReservations(fresh.map((a) => a.job), lookUpAll, claimed);
    await this.prefetchOwing(fresh.map((a) => a.job));
    const deleted = await this.deletedAmongCreated(fresh.map((a) => a.job));

    const ctx: DecideContext = {
      nowMs,
      horizonDays: this.o.horizonDays,
      holdTtlSeconds: this.o.holdTtlSeconds,
      paymentTimeoutSeconds: this.o.paymentTimeoutSeconds,
      reservationHotel: (id) => reservationHotel.get(id),
      wasDeleted: (id) => deleted.has(id),
    };
    const events: HotelEvent[] = [];
    const touched = new Set<string>();
    const audit: AuditRow[] = [];
    // Sequences of hotels deleted in this round (no longer held) for the events they had before.
    const retiredSeq = new Map<string, number>();
    // Hotels whose audit count this round moved on, refusals only included: a round that does not commit forgets
    // them too, and their count is read again from the database (which knows, even when a commit's outcome was lost).
    const audited = new Set<string>();
    // Refused reservation commands whose ids were assumed new: the commit checks them (see decideAndCommit).
    const assumedNew: string[] = [];
    const unknown = (state: HotelState | undefined, id: string) => !lookUpAll && state !== undefined && !state.reservations.has(id) && !reservationHotel.has(id);
    let batch: CommitBatch | undefined;
    try {
      for (const a of fresh) {
        for (const { requestId, command, actor } of a.job.commands) {
          const held = this.hotels.get(command.hotelId);
          let state = held?.state;
          const existed = state !== undefined;
          const d = decide(state, command, ctx);
          if (command.kind === 'reserve' && !d.reply.ok && unknown(state, command.reservationId)) assumedNew.push(command.reservationId);
          else if (command.kind === 'reserveAtomic' && d.events.length === 0) {
            for (const i of command.items) if (unknown(state, i.reservationId)) assumedNew.push(i.reservationId);
          }
          for (const e of d.events) {
            touched.add(command.hotelId);
            const w = e.type === 'hotel.created' ? hotelWindow(nowMs, e.hotel.timezone, this.o.horizonDays) : undefined;
            state = evolve(state, e, w?.firstDay ?? 0, w?.endDay ?? 0);
            if (e.type === 'hotel.created' && state && w) this.hold(command.hotelId, state, w.today);
            if (e.type === 'hotel.deleted') {
              retiredSeq.set(command.hotelId, this.hotels.get(command.hotelId)?.seq ?? 0);
              this.forget(command.hotelId);
            }
            if (e.type === 'reservation.created') reservationHotel.set(e.reservation.id, command.hotelId);
            events.push(e);
          }
          a.replies.push({ requestId, reply: d.reply satisfies Reply });
          // The audit trail of a hotel: every decision about it, refusals too (none for an id naming no hotel),
          // numbered by the hotel's count (held before the decision, or created by it; a deleted one still counts).
          const counter = held ?? this.hotels.get(command.hotelId);
          if ((existed || state) && counter) {
            audited.add(command.hotelId);
            const rows = auditRowsOf(command, actor, d.reply, state?.hotel.version ?? 0, counter.audited + 1);
            counter.audited += rows.length;
            audit.push(...rows);
          }
        }
      }
      for (const id of touched) {
        const state = this.hotels.get(id)?.state;
        if (state) assertWithinLimits(state);
      }
      await this.claimCreated(events, claimed);
      // Always committed, rejections too: applied_jobs is how a redelivery or a late reader learns the answers.
      const nextSequence = (id: string): number => {
        const l = this.hotels.get(id);
        if (l) return ++l.seq;
        const n = (retiredSeq.get(id) ?? 0) + 1;
        retiredSeq.set(id, n);
        return n;
      };
      batch = batchOf(this.o.shard, this.o.epoch, fresh, events, (id) => this.hotels.get(id)?.state, { nextSequence, audit });
      if (assumedNew.length > 0) batch.assumedNew = assumedNew;
      await this.o.store.commit(batch);
    } catch (err) {
      // Memory holds decisions that did not commit: forget those hotels; they are loaded again from the database.
      for (const id of touched) this.forget(id);
      for (const id of audited) this.forget(id);
      throw err;
    }
    for (const id of touched) {
      this.pruneReservations(id);
      this.recount(id);
    }
    this.evict(hotelIds);
    this.report(fresh);
    return { answered, batch };
  }

  private async ensureLoaded(hotelIds: string[], nowMs: number): Promise<void> {
    const missing: string[] = [];
    for (const id of hotelIds) {
      const l = this.hotels.get(id);
      if (l && localDay(nowMs, l.state.hotel.timezone) === l.day) {
        // Least recently used order: a hit moves the hotel to the end.
        this.hotels.delete(id);
        this.hotels.set(id, l);
      } else {
        this.forget(id);
        missing.push(id);
      }
    }
    if (missing.length === 0) return;
    const loaded = new Map<string, HotelState>();
    // In chunks: a partner batch may name hundreds of cold hotels, and one huge load would spike memory.
    for (let i = 0; i < missing.length; i += hotelsLoadedAtOnceMax) {
      for (const [id, s] of await this.o.store.loadHotels(missing.slice(i, i + hotelsLoadedAtOnceMax), nowMs)) loaded.set(id, s);
    }
    for (const [id, state] of loaded) {
      this.hold(id, state, localDay(nowMs, state.hotel.timezone));
      // Every load refreshes the hotel's cache snapshot (the version check keeps it from going backwards).
      await this.o.cache?.writeSnapshot(state).catch((err: Error) => this.o.log?.warn('cache snapshot failed', { hotelId: id, err: err.message }));
    }
    this.evict(new Set(hotelIds));
  }

  /**
   * The ids of hotels and room types the jobs would create that were deleted: a create repeated under the same
   * Idempotency-Key after a delete (the writer holds live ones only). One query, only for rounds that create them.
   */
  private async deletedAmongCreated(jobs: ShardJob[]): Promise<Set<string>> {
    const hotels: string[] = [];
    const roomTypes: string[] = [];
    // Nested loops, not flatMap: this runs for every round, and creates are rare.
    for (const j of jobs) {
      for (const { command } of j.commands) {
        if (command.kind === 'createHotel' && !this.hotels.has(command.hotelId)) hotels.push(command.hotelId);
        else if (command.kind === 'createRoomType') roomTypes.push(command.roomTypeId);
      }
    }
    if (hotels.length === 0 && roomTypes.length === 0) return new Set();
    return this.o.store.deletedIds(hotels, roomTypes);
  }

  /**
   * Claim, deployment-wide, the ids of the reservations this round creates, before it commits. An id claimed for
   * another hotel first (the same reservationId sent for a hotel of another shard database) fails the round: it is
   * decided again knowing the claim, and that command is refused as idempotency_mismatch. Only created reservations
   * claim their id, so a refused request (sold out, unknown hotel) leaves the id free for another hotel.
   */
  private async claimCreated(events: HotelEvent[], known: Map<string, string>): Promise<void> {
    const claims = this.o.claims;
    if (!claims) return;
    const pairs: { id: string; hotelId: string }[] = [];
    for (const e of events) {
      if (e.type === 'reservation.created' && !known.has(e.reservation.id)) pairs.push({ id: e.reservation.id, hotelId: e.reservation.hotelId });
    }
    if (pairs.length === 0) return;
    const got = await claims.claim(pairs);
    const elsewhere = pairs.filter((p) => got.get(p.id) !== p.hotelId);
    for (const p of pairs) known.set(p.id, got.get(p.id) as string);
    if (elsewhere.length > 0) throw new ClaimedElsewhere(new Map(elsewhere.map((p) => [p.id, got.get(p.id) as string])));
  }

  /**
   * Load the reservations the jobs name that their hotels do not hold in memory: those a command acts on (pay,
   * cancel, expire), and, when `lookUpAll`, those a reservation command would create; map ids to their hotels.
   */
  private async prefetchReservations(jobs: ShardJob[], lookUpAll: boolean, claimed: Map<string, string>): Promise<Map<string, string>> {
    const byId = new Map<string, string>();
    const missing: string[] = [];
    const named = (hotelId: string, reservationId: string, creates: boolean) => {
      const held = this.hotels.get(hotelId)?.state.reservations.get(reservationId);
      const claim = claimed.get(reservationId);
      if (held) byId.set(held.id, held.hotelId);
      // Claimed for another hotel: decided as a mismatch without a look-up.
      else if (claim !== undefined && claim !== hotelId) byId.set(reservationId, claim);
      else if (!creates || lookUpAll) missing.push(reservationId);
    };
    for (const j of jobs) {
      for (const { command } of j.commands) {
        if (command.kind === 'reserveAtomic') for (const i of command.items) named(i.hotelId, i.reservationId, true);
        else if ('reservationId' in command) named(command.hotelId, command.reservationId, command.kind === 'reserve');
      }
    }
    for (const r of await this.o.store.loadReservations([...new Set(missing)])) {
      byId.set(r.id, r.hotelId);
      this.hotels.get(r.hotelId)?.state.reservations.set(r.id, r);
    }
    return byId;
  }

  /** For a deletion: the hotel's reservations that still owe money, held in memory (decide refuses while any does). */
  private async prefetchOwing(jobs: ShardJob[]): Promise<void> {
    const hotels: string[] = [];
    // Nested loops, not flatMap: this runs for every round, and deletions are rare.
    for (const j of jobs) for (const { command } of j.commands) if (command.kind === 'deleteHotel' && this.hotels.has(command.hotelId)) hotels.push(command.hotelId);
    if (hotels.length === 0) return;
    for (const r of await this.o.store.loadOwingReservations(hotels)) {
      const state = this.hotels.get(r.hotelId)?.state;
      if (state && !state.reservations.has(r.id)) state.reservations.set(r.id, r);
    }
  }

  private pruneReservations(hotelId: string): void {
    const state = this.hotels.get(hotelId)?.state;
    if (!state || state.reservations.size <= reservationsKeptPerHotel) return;
    let drop = state.reservations.size - reservationsKeptPerHotel / 2;
    for (const id of state.reservations.keys()) {
      if (drop-- <= 0) break;
      state.reservations.delete(id);
    }
  }


}
