// Shard ownership: a worker process claims virtual shards with a Redis lease (renewed) plus an epoch in the
// shard's Postgres database (fencing), and runs one BullMQ consumer with concurrency 1 per shard it owns. Without
// WORKER_SHARDS it owns its fair share of the shards among the live workers (see shard-share.ts), and hands a
// shard that leaves its share over to the next owner after the job in hand.
import { AvailabilityCache } from './availability-cache.js';
import { v7 as uuidv7 } from 'uuid';
import type { Config } from './config.js';
import { appliedJobsKeptDays, appliedJobsPruneMs, commitRetryDelayMsMax, nextHorizonRollMs, commitRetryDelayMsMin, drainCommandsMax, drainJobsMax } from './limits.js';
import { createShardQueue, createShardWorker, WaitingError, type Job, type ShardJob } from './jobs.js';
import { HoldSweeper } from './hold-sweeper.js';
import { TestPaymentProvider, type PaymentProvider } from './payment-provider.js';
import { PaymentReconciler } from './payment-reconciler.js';
import type { Logger } from './log.js';
import { createRedis, RedisKeys, type RedisClient } from './redis.js';
import { ShardActor, type Delivery } from './shard-actor.js';
import { ShardDirectory } from './shard-directory.js';
import { runMove, settleNotHome, type MoveDeps } from './shard-move.js';
import { assignShards, type Member } from './shard-share.js';
import { WorkerMembership } from './worker-membership.js';
import { createPool, isRefusal, type Pool } from './store/pg.js';
import { ReservationClaims } from './store/reservation-claims.js';
import { createWriterPool, FencedError, ShardStore } from './store/shard-store.js';
import { ShardNotHomeError } from './store/shard-copy.js';
import { ShardMoves } from './store/shard-moves.js';
import type { Queue, Worker } from 'bullmq';

// Renew a lease that is still ours; answer 1 when renewed. One that ran out while nobody took it (Redis was paused
// or unreachable longer than the lease) is taken again: a stall of Redis is not a reason to move every shard, and
// if another owner did take the shard meanwhile, its epoch fences our commits off and we let the shard go then.
const renewScript = `local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if not cur then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;
const releaseScript = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

interface Owned {
  shard: number;
  epoch: number;
  actor: ShardActor;
  /** Absent while the new owner takes over the previous owner's jobs in hand. */
  worker?: Worker<ShardJob>;
  sweeper?: HoldSweeper;
  queue: Queue<ShardJob>;
  /** Jobs to take without asking how many wait behind them (after asks that found none), and the asks in a row that found none. */
  drain: { skip: number; emptyAsks: number };
}

/** Jobs moved to active at once when draining a queue (each move is one script call; they are sent together). */
const drainFetchesAtOnce = 8;
/**
 * After asks that found nobody waiting, the owner skips asking for the next 1, 3, then 7 jobs: with one job per
 * shard in flight from each API process, HTTP traffic rarely queues behind a job, and each ask is a Redis round
 * trip before the decision. Any ask that finds jobs waiting asks again on the next job.
 */
const drainAskBackoffMax = 3;

/** How soon a round runs again while a shard of this worker's new share is still held by its previous owner. */
const handOverPollMs = 200;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Who is alive and what each pins, in one comparable string. */
const membersKeyOf = (members: Member[]): string => members.map((m) => `${m.id}:${m.pinned?.join(',') ?? ''}`).sort().join(' ');

/** `p`, or false once `ms` have passed without it. */
const within = <T>(p: Promise<T>, ms: number): Promise<T | false> => Promise.race([p, sleep(ms).then(() => false as const)]);

/** The shard went to another owner (or this one stopped) while its jobs were in hand: they go back to the queue. */
class ShardLostError extends Error {
  constructor() {
    super('the shard was lost while its jobs were in hand');
  }
}

/** The X-Request-Ids of the commands of some jobs (the first 20), for the log lines about them. */
function requestIdsOf(deliveries: Delivery[]): string[] {
  const out: string[] = [];
  for (const d of deliveries) {
    if (d.job.httpRequestId !== undefined && out.length < 20) out.push(d.job.httpRequestId);
    for (const c of d.job.commands) if (c.httpRequestId !== undefined && out.length < 20) out.push(c.httpRequestId);
  }
  return out;
}

/** What a shard owner counts, for its /metrics. */
export interface OwnerStats {
  /** Commits refused because another owner had taken the shard (the epoch fence at work). */
  fencedCommits: number;
  /** Shards taken (claims that succeeded), and lost (lease not renewed, fenced, stopped). */
  shardsTaken: number;
  shardsLost: number;
  /** Jobs a previous owner had in hand, decided by this one when it took their shard. */
  jobsTakenOver: number;
  /** Attempts retried in place because the database failed. */
  retriesInPlace: number;
  /** Lease renewals that failed (Redis away or stalled). */
  leaseRenewalFailures: number;
  /** Shards handed over to another worker because they left this worker's share (also counted in shardsLost). */
  shardsHandedOver: number;
}

export class ShardOwner {
  readonly ownerId = `worker-${uuidv7()}`;
  readonly stats: OwnerStats = {
    fencedCommits: 0,
    shardsTaken: 0,
    shardsLost: 0,
    jobsTakenOver: 0,
    retriesInPlace: 0,
    leaseRenewalFailures: 0,
    shardsHandedOver: 0,
  };
  private readonly keys: RedisKeys;
  private readonly redis: RedisClient;
  private readonly bullConnection: RedisClient;
  /** The catalog's shard map, and a pool per shard database (made on first use). */
  readonly directory: ShardDirectory;
  private readonly stores = new Map<number, ShardStore>();
  private readonly moves: ShardMoves;
  private readonly moveDeps: MoveDeps;
  private readonly catalogPool: Pool;
  private readonly mapPool: Pool;
  private readonly claims: ReservationClaims;
  /** The payment provider the reconcilers call (the test provider's ledger lives in the catalog, written durably). */
  private readonly paymentsPool: Pool;
  private readonly payments: PaymentProvider;
  private readonly owned = new Map<number, Owned>();
  private readonly taking = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  /** The shards this worker looks after each round: its WORKER_SHARDS, else all of them (its share is worked out per round). */
  private readonly wanted: number[];
  private readonly membership: WorkerMembership;
  /** Fair share: shards being handed over (job in hand finishing, then the lease released). */
  private readonly handOvers = new Map<number, Promise<void>>();
  /** Fair share: who should own each shard by the last membership read, and what that read said. */
  private assignment: (string | undefined)[] = [];
  private members = new Map<string, Member>();
  private membersKey = '';
  private membersChangedAt = 0;
  private beatFailing = false;
  /** Fair share: when a shard outside this worker's share was first seen without an owner (the fallback claim). */
  private readonly freeSince = new Map<number, number>();
  /** Shards taken by the fallback, kept until then so that a stuck rightful owner does not make them flap. */
  private readonly fallbackUntil = new Map<number, number>();
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly cache: AvailabilityCache;
  private readonly preloads = new Set<Promise<unknown>>();

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
  ) {
    this.keys = new RedisKeys(config.redisPrefix);
    // Leases, the availability cache and the replies: no BullMQ scripts are defined on this connection, so that a
    // pipeline of it (one per commit) is cheap to make.
    this.redis = createRedis(config, `${this.ownerId}-control`);
    this.bullConnection = createRedis(config, `${this.ownerId}-jobs`, { blocking: true, pipelined: true });
    const perDb = Math.ceil(config.shardCount / config.shardDatabaseUrls.length);
    // Claims commit without waiting for their WAL flush: the shard commit that follows each claim flushes the WAL
    // past it when the catalog shares the shard's server (the default), so no reply is sent before the claim is
    // durable, and a round does not pay a second flush (hot bench, same machine: 13% fewer decisions/s with it).
    // With the catalog on a server of its own, a crash of that server can lose the claims of its last ~0.6 s: those
    // reservations are still found (an unclaimed id is looked for in every database), and only then could their
    // ids be reused for a hotel of another database.
    this.catalogPool = createPool(config.catalogUrl, 4, this.ownerId, { synchronous_commit: 'off' });
    // The map's own pool: its flips must be durable before anyone acts on them.
    const mapPool = createPool(config.catalogUrl, 2, `${this.ownerId}-map`);
    this.directory = new ShardDirectory(mapPool, config, (url) => createWriterPool(url, Math.min(20, perDb + 2), this.ownerId));
    this.moves = new ShardMoves(mapPool);
    this.mapPool = mapPool;
    this.moveDeps = { directory: this.directory, moves: this.moves, redis: this.redis, channel: this.keys.shardMap(), log: this.log };
    this.claims = new ReservationClaims(this.catalogPool);
    this.paymentsPool = createPool(config.catalogUrl, 4, `${this.ownerId}-payments`);
    this.payments = new TestPaymentProvider(this.paymentsPool);
    this.cache = new AvailabilityCache(this.redis, this.keys, config.shardCount);
    this.wanted = config.workerShards ?? Array.from({ length: config.shardCount }, (_, i) => i);
    // A worker that is not heard of for a lease is gone: its shards' leases lapse at about the same time.
    this.membership = new WorkerMembership(this.redis, this.keys, this.ownerId, config.workerShards, config.shardLeaseMs);
  }

  /** Pinned to WORKER_SHARDS, or taking a fair share of the rest. */
  private get pinned(): boolean {
    return this.config.workerShards !== undefined;
  }

  /** Shards this process owns now, with their epochs. */
  ownedShards(): { shard: number; epoch: number; hotelsLoaded: number; hotelBytes: number }[] {
    return [...this.owned.values()].map((o) => ({ shard: o.shard, epoch: o.epoch, hotelsLoaded: o.actor.hotelsLoaded, hotelBytes: o.actor.bytesHeld }));
  }

  /** Settles once the shard databases' settings have been checked (started by `start`, not waited for). */
  settingsChecked: Promise<void> = Promise.resolve();

  /** The store of a shard database (made on first use). */
  private storeOf(database: number): ShardStore {
    let st = this.stores.get(database);
    if (!st) {
      st = new ShardStore(this.directory.pool(database), this.config.horizonDays);
      this.stores.set(database, st);
    }
    return st;
  }

  async start(): Promise<void> {
    await this.directory.open();
    this.directory.watch(createRedis(this.config, `${this.ownerId}-map`), this.keys.shardMap());
    this.settingsChecked = this.checkDatabaseSettings();
    await this.tick();
    const every = Math.max(100, Math.floor(this.config.shardLeaseMs / 3));
    this.timer = setInterval(() => {
      void this.tick();
    }, every);
    if (!this.pinned) {
      // Between rounds, a cheap look at who is alive (one script call): a join or a leave starts a round at once
      // rather than up to a round later, so that a leaver's shards are taken as soon as it releases them.
      this.watchTimer = setInterval(() => void this.watchMembers(), handOverPollMs);
    }
  }

  private watching = false;

  private async watchMembers(): Promise<void> {
    if (this.stopping || this.watching || this.tickInFlight) return;
    this.watching = true;
    try {
      const members = await this.membership.members();
      // Without this worker in it, the membership was lost (Redis restarted empty) or our beat lapsed: that is the
      // rounds' to repair, on their own schedule; the look is for the others' joins and leaves.
      if (members.some((m) => m.id === this.ownerId) && membersKeyOf(members) !== this.membersKey) void this.tick();
    } catch {
      // Redis failing: the rounds say so.
    } finally {
      this.watching = false;
    }
  }

  /**
   * Say so when a shard database runs without autovacuum: dead row versions then pile up and statistics are never
   * refreshed, so every query plans with what the tables looked like when they were small (the commit statement
   * renews its own plan as the tables grow, see planSizeCheckMsDefault; the readers' queries do not).
   */
  private async checkDatabaseSettings(): Promise<void> {
    await Promise.all(
      this.directory.allPools().map(async ({ pool, database }) => {
        try {
          const r = await pool.query("SELECT current_setting('autovacuum') AS autovacuum, current_setting('track_counts') AS track_counts");
          const { autovacuum, track_counts: trackCounts } = r.rows[0] as { autovacuum: string; track_counts: string };
          if (autovacuum !== 'on' || trackCounts !== 'on') {
            this.log.warn('shard database runs without autovacuum: dead rows pile up and statistics go stale (see docs/operations.md)', { database, autovacuum, trackCounts });
          }
        } catch {
          // Unreachable now: the shards of that database report it when they try to take it.
        }
      }),
    );
  }

  /**
   * Renew what we own, drop what we lost, claim what nobody owns. One round at a time: a round still waiting (Redis
   * paused) is what the next timer tick answers, and what stop() waits for.
   */
  private tick(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    this.tickInFlight ??= this.tickOnce().finally(() => (this.tickInFlight = undefined));
    return this.tickInFlight;
  }

  private async tickOnce(): Promise<void> {
    const share = await this.shareThisRound();
    // Shards an operator asked this worker to hand over (POST /v1/ops/shards/:shard/drain): given up, and not taken
    // again while the ask lasts.
    const drains = await this.redis.mget(this.wanted.map((x) => this.keys.drain(x))).catch(() => [] as (string | null)[]);
    const drained = new Set(this.wanted.filter((_, i) => drains[i] === this.ownerId));
    await Promise.all(
      this.wanted.map(async (shard) => {
        try {
          if (drained.has(shard)) {
            if (this.owned.has(shard)) {
              // Renewed until the hand-over releases it, like any shard leaving this worker's share.
              await this.redis.eval(renewScript, 1, this.keys.lease(shard), this.ownerId, this.config.shardLeaseMs);
              if (!this.taking.has(shard)) this.handOver(shard);
            }
            return;
          }
          if (this.owned.has(shard)) {
            const ok = await this.redis.eval(renewScript, 1, this.keys.lease(shard), this.ownerId, this.config.shardLeaseMs);
            if (ok !== 1) await this.lose(shard, 'lease not renewed');
            else {
              this.renewalFailing = false;
              if (share && !share.has(shard) && !this.taking.has(shard) && (this.fallbackUntil.get(shard) ?? 0) <= Date.now()) this.handOver(shard);
            }
          } else if (!this.taking.has(shard) && !this.handOvers.has(shard)) {
            if (this.pinned || share?.has(shard)) await this.claim(shard);
            else if (share && (await this.freeTooLong(shard))) {
              this.log.warn('taking a shard outside this worker\'s share: it has had no owner for too long', { shard, owner: this.ownerId });
              this.fallbackUntil.set(shard, Date.now() + 2 * this.config.shardLeaseMs);
              this.freeSince.delete(shard);
              await this.claim(shard);
            }
          }
        } catch (err) {
          // Redis failing or stalled, not this worker: keep the shard. Whoever takes it once our lease is gone
          // bumps the epoch, and then our commits are fenced off and we let it go (lose on FencedError); until
          // then no job reaches anyone. Dropping it here made every worker drop every shard when Redis paused.
          if (this.owned.has(shard)) this.stats.leaseRenewalFailures++;
          if (this.owned.has(shard) && !this.renewalFailing) {
            this.renewalFailing = true;
            this.log.warn('lease renewal failed; keeping the shards until Redis answers (commits stay fenced)', { err: (err as Error).message });
          }
        }
      }),
    );
  }

  private tickInFlight: Promise<void> | undefined;
  private renewalFailing = false;

  /**
   * Beat, read the live workers, and answer the shards this worker should own this round: its WORKER_SHARDS when
   * pinned; else its fair share. Undefined means "keep what you own, take and give nothing": the membership could
   * not be read, or this worker was out of touch with Redis for long enough that the others' beats may have lapsed
   * meanwhile (after a Redis pause every worker would otherwise see itself alone for a round and grab shards).
   */
  private async shareThisRound(): Promise<Set<number> | undefined> {
    const started = Date.now();
    let members: Member[];
    try {
      members = await this.membership.beat();
    } catch (err) {
      if (!this.beatFailing) this.log.warn('could not beat into the membership; keeping the shards held, taking none', { err: (err as Error).message });
      this.beatFailing = true;
      return this.pinned ? new Set(this.wanted) : undefined;
    }
    // A beat that waited long (Redis paused) may have found the others' beats lapsed by Redis's clock meanwhile.
    const outOfTouch = this.beatFailing || Date.now() - started > this.config.shardLeaseMs / 3;
    this.beatFailing = false;
    if (this.pinned) return new Set(this.wanted);
    const key = membersKeyOf(members);
    if (key !== this.membersKey) {
      this.membersKey = key;
      this.membersChangedAt = Date.now();
      this.members = new Map(members.map((m) => [m.id, m]));
      this.assignment = assignShards(this.config.shardCount, members);
      const mine = this.assignment.filter((o) => o === this.ownerId).length;
      this.log.info('workers changed', { owner: this.ownerId, workers: members.length, share: mine });
    }
    if (outOfTouch) return undefined;
    const share = new Set<number>();
    this.assignment.forEach((o, shard) => {
      if (o === this.ownerId) share.add(shard);
    });
    // A shard of the new share still held by its previous owner comes free after its job in hand: look again soon
    // rather than a whole round later, for as long as the membership changed recently.
    if ([...share].some((x) => !this.owned.has(x)) && Date.now() - this.membersChangedAt < 2 * this.config.shardLeaseMs) this.pollSoon();
    return share;
  }

  private pollSoon(): void {
    if (this.stopping || this.pollTimer) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      // A round still running (claims) is not this look: wait for the next free moment.
      if (this.tickInFlight) this.pollSoon();
      else void this.tick();
    }, handOverPollMs);
  }

  /**
   * The fallback of fair sharing: a shard outside this worker's share whose lease has been free for a lease's time
   * (as this worker saw it) is taken anyway, so that no shard stays unowned while views of the membership differ.
   * Not a shard pinned by a live worker: that one is its pinner's to take.
   */
  private async freeTooLong(shard: number): Promise<boolean> {
    const rightful = this.assignment[shard];
    if (rightful !== undefined && this.members.get(rightful)?.pinned !== undefined) return false;
    if ((await this.redis.exists(this.keys.lease(shard))) === 1) {
      this.freeSince.delete(shard);
      return false;
    }
    const now = Date.now();
    const since = this.freeSince.get(shard) ?? now;
    this.freeSince.set(shard, since);
    return now - since >= this.config.shardLeaseMs;
  }

  /** Start handing a shard over (see letGo); the rounds keep renewing its lease until it is released. */
  private handOver(shard: number): void {
    const o = this.owned.get(shard);
    if (!o || this.handOvers.has(shard)) return;
    const next = this.assignment[shard];
    const t0 = Date.now();
    this.fallbackUntil.delete(shard);
    const done = this.letGo(o).then(() => {
      this.stats.shardsHandedOver++;
      this.stats.shardsLost++;
      this.log.info('shard handed over: it left this worker\'s share', { shard, epoch: o.epoch, owner: this.ownerId, next, ms: Date.now() - t0 });
    });
    this.handOvers.set(shard, done.finally(() => this.handOvers.delete(shard)));
  }

  private async claim(shard: number): Promise<void> {
    this.taking.add(shard);
    try {
      const got = await this.redis.set(this.keys.lease(shard), this.ownerId, 'PX', this.config.shardLeaseMs, 'NX');
      if (got !== 'OK') return;
      let epoch: number | undefined;
      let database = this.directory.databaseOf(shard);
      let store = this.storeOf(database);
      // The map as the catalog says now (a move may have flipped it since the last announcement reached us); a
      // database that says the shard is not at home there is settled (a move a dead owner left) and asked again.
      for (let attempt = 0; attempt < 3 && epoch === undefined; attempt++) {
        try {
          // A catalog that does not answer leaves the map as last read: a stale one is refused by the database.
          await this.directory.refresh().catch(() => {});
          database = this.directory.databaseOf(shard);
          store = this.storeOf(database);
          epoch = await store.takeShard(shard, this.ownerId);
        } catch (err) {
          if (err instanceof ShardNotHomeError && attempt < 2) {
            await settleNotHome(this.moveDeps, shard, database, err.movedTo).catch((e: Error) => this.log.warn('could not settle a shard move', { shard, err: e.message }));
            continue;
          }
          await this.redis.eval(releaseScript, 1, this.keys.lease(shard), this.ownerId).catch(() => {});
          this.log.warn('could not take shard (database)', { shard, database, err });
          return;
        }
      }
      if (epoch === undefined) {
        await this.redis.eval(releaseScript, 1, this.keys.lease(shard), this.ownerId).catch(() => {});
        return;
      }
      const actor = new ShardActor({
        shard,
        epoch,
        store,
        outbound: { pipeline: () => this.redis.pipeline(), repliesChannel: (apiId) => this.keys.replies(apiId) },
        horizonDays: this.config.horizonDays,
        holdTtlSeconds: this.config.holdTtlSeconds,
        paymentTimeoutSeconds: this.config.paymentTimeoutSeconds,
        // The process's budget, shared evenly by the shards it may own (hotels hash evenly over shards): pinned, the
        // shards it names; else its share now (a worker that later takes more may go over by that much).
        memoryBytes: Math.floor(this.config.workerHotelsBytes / this.shardsExpected()),
        cache: this.cache,
        claims: this.claims,
        log: this.log,
      });
      const queue = createShardQueue(this.bullConnection, this.keys, shard);
      // A Queue re-emits its connection's errors; unheard, BullMQ prints each with its stack (not a JSON line). The
      // failing calls report them.
      queue.on('error', () => {});
      const owned: Owned = { shard, epoch, actor, queue, drain: { skip: 0, emptyAsks: 0 } };
      this.owned.set(shard, owned);
      try {
        await this.takeOverJobsInHand(shard, actor, queue);
      } catch (err) {
        if (this.owned.get(shard) === owned) this.owned.delete(shard);
        actor.stopped = true;
        await queue.close().catch(() => {});
        await this.redis.eval(releaseScript, 1, this.keys.lease(shard), this.ownerId).catch(() => {});
        if (!(err instanceof ShardLostError)) this.log.warn('could not take over the jobs in hand; shard let go', { shard, err: (err as Error).message });
        return;
      }
      const worker = createShardWorker(
        this.bullConnection,
        this.keys,
        shard,
        this.config.jobLockMs,
        (job, token) => this.runDrained(shard, actor, worker, job, token),
      );
      worker.on('error', (err) => this.log.warn('queue worker error', { shard, err: err.message }));
      const sweeper = new HoldSweeper(shard, store.pool, queue, (err) =>
        this.log.warn('hold sweep failed', { shard, err: (err as Error).message }),
      );
      sweeper.start();
      const reconciler = new PaymentReconciler(
        shard,
        store.pool,
        queue,
        this.payments,
        this.config.paymentProviderTimeoutMs,
        (err) => this.log.warn('payment reconciliation failed; will try again', { shard, err: (err as Error).message }),
      );
      reconciler.start();
      sweeper.onStop(() => reconciler.stop());
      const prune = setInterval(
        () => void store.pruneAppliedJobs(shard, appliedJobsKeptDays).catch((err: Error) => this.log.warn('prune failed', { shard, err: err.message })),
        appliedJobsPruneMs,
      );
      prune.unref();
      sweeper.onStop(() => clearInterval(prune));
      // The nights that entered the horizon at the shard's hotels' midnights, for those no command loaded since.
      const roll = () =>
        void store.rollHorizon(shard, Date.now()).then(
          (hotels) => hotels > 0 && this.log.info('nights that entered the horizon made', { shard, hotels }),
          (err: Error) => this.log.warn('horizon roll failed; will try again', { shard, err: err.message }),
        );
      let rolling: NodeJS.Timeout | undefined;
      const rollNext = () => {
        rolling = setTimeout(() => {
          roll();
          rollNext();
        }, nextHorizonRollMs(Date.now()) - Date.now());
        rolling.unref();
      };
      rollNext();
      const firstRoll = setTimeout(roll, 10_000 + Math.floor(Math.random() * 20_000));
      firstRoll.unref();
      sweeper.onStop(() => {
        clearTimeout(rolling);
        clearTimeout(firstRoll);
      });
      owned.worker = worker;
      owned.sweeper = sweeper;
      this.stats.shardsTaken++;
      this.log.info('shard taken', { shard, epoch, database, owner: this.ownerId });
      // A move of this shard that flipped is done once it has an owner again: its pause ends here.
      void this.moves.resumed(shard).catch(() => {});
      const preloading = actor.preload().then(
        (n) => this.log.debug('shard preloaded', { shard, hotels: n }),
        (err: Error) => this.log.warn('preload stopped', { shard, err: err.message }),
      );
      this.preloads.add(preloading);
      void preloading.finally(() => this.preloads.delete(preloading));
    } finally {
      this.taking.delete(shard);
    }
  }

  /**
   * A new owner decides the jobs the previous owner had in hand (active in the queue, oldest taken first) before
   * any later job of the shard: they come first in the hotels' order, and waiting for BullMQ to find them stalled
   * (after the old owner's job lock runs out) let later jobs be decided before them. The epoch taken just before
   * fences the previous owner off, so each is decided once: one it committed is answered from its stored replies.
   * Their replies go to the API processes still waiting for them. BullMQ redelivers them later (stalled), and they
   * are then answered again from the stored replies.
   */
  private async takeOverJobsInHand(shard: number, actor: ShardActor, queue: Queue<ShardJob>): Promise<void> {
    // A move in hand is not decided here: BullMQ hands it over again (stalled), and it runs then in its turn.
    const inHand = (await queue.getJobs(['active'], 0, -1, true)).filter((j): j is Job<ShardJob> => !!j?.data?.commands && !j.data.move);
    if (inHand.length === 0) return;
    this.log.info('deciding the previous owner\'s jobs in hand first', { shard, jobs: inHand.length });
    this.stats.jobsTakenOver += inHand.length;
    await this.decideInPlace(shard, actor, inHand.map((j) => ({ job: j.data, redelivered: true })));
  }

  /**
   * Process a job BullMQ handed us together with the jobs waiting behind it in the shard's queue (up to a bound):
   * decided in order and committed together. BullMQ completes the first job when this returns; the others are
   * completed here, after their replies went out.
   */
  private async runDrained(shard: number, actor: ShardActor, worker: Worker<ShardJob>, job: Job<ShardJob>, token: string | undefined): Promise<void> {
    if (job.data.move) return this.runMoveJob(shard, actor, job, token);
    const jobs = [job];
    // How many wait behind it (one cheap read), then take them in one go: the moves are sent together on one
    // connection, so they come back in queue order.
    const o = this.owned.get(shard);
    let waiting = 0;
    if (o?.actor === actor) {
      if (o.drain.skip > 0) o.drain.skip--;
      else {
        waiting = await o.queue.getWaitingCount().catch(() => 0);
        o.drain.emptyAsks = waiting > 0 ? 0 : Math.min(o.drain.emptyAsks + 1, drainAskBackoffMax);
        o.drain.skip = waiting > 0 ? 0 : (1 << o.drain.emptyAsks) - 1;
      }
    }
    let commands = job.data.commands.length;
    for (let left = Math.min(waiting, drainJobsMax - 1); left > 0 && commands < drainCommandsMax; ) {
      const take = Math.min(left, drainFetchesAtOnce);
      // Settled, not all: a move that failed (Redis hiccup) leaves its job waiting, and every job that did move is
      // active with our token, so it is decided now rather than left to stall.
      const got = await Promise.allSettled(Array.from({ length: take }, () => worker.getNextJob(token ?? '', { block: false }) as Promise<Job<ShardJob> | undefined>));
      for (const r of got) {
        if (r.status !== 'fulfilled' || !r.value) continue;
        jobs.push(r.value);
        commands += r.value.data.commands.length;
      }
      left = got.every((r) => r.status === 'fulfilled' && r.value) ? left - take : 0;
    }
    // A move drained with the others runs in its own turn: it and every job behind it go back to the head of the queue.
    const moveAt = jobs.findIndex((j) => j.data.move !== undefined);
    if (moveAt > 0) await this.putBack(jobs.splice(moveAt), token);
    // BullMQ renews the lock of the job it handed us; the drained ones' locks are renewed here while they are in hand.
    const renew =
      jobs.length > 1
        ? setInterval(() => {
            for (const j of jobs.slice(1)) void j.extendLock(token ?? '', this.config.jobLockMs).catch(() => {});
          }, Math.max(100, Math.floor(this.config.jobLockMs / 2)))
        : undefined;
    try {
      await this.run(shard, actor, jobs, token);
    } catch (err) {
      if (err instanceof WaitingError) throw err;
      // Not decided (a bug): the first job fails as BullMQ's own; the drained ones go back to be tried again.
      await this.putBack(jobs.slice(1), token);
      throw err;
    } finally {
      clearInterval(renew);
    }
    if (jobs.length > 1) {
      await Promise.all(jobs.slice(1).map((j) => j.moveToCompleted(undefined, token ?? '', false).catch((err: Error) => this.log.warn('could not complete a drained job', { shard, err: err.message }))));
    }
  }

  /**
   * A shard move (see shard-move.ts), in the shard's turn: the jobs behind it wait in the queue. Moved, the shard is
   * let go and taken again at once, on its new database (next epoch); failed, it goes on here.
   */
  private async runMoveJob(shard: number, actor: ShardActor, job: Job<ShardJob>, token: string | undefined): Promise<void> {
    const o = this.owned.get(shard);
    const move = job.data.move as NonNullable<ShardJob['move']>;
    if (!o || o.actor !== actor || actor.stopped || this.stopping) {
      await this.putBack([job], token);
      throw new WaitingError();
    }
    let outcome;
    try {
      outcome = await runMove(this.moveDeps, shard, o.epoch, move);
    } catch (err) {
      // The catalog failing before the move began: the move waits at the head of the queue and is tried again.
      this.log.warn('shard move could not start; trying again', { shard, err: (err as Error).message });
      await sleep(1_000);
      await this.putBack([job], token);
      throw new WaitingError();
    }
    if (outcome === 'fenced') {
      this.stats.fencedCommits++;
      void this.lose(shard, 'fenced (move)', actor);
      await this.putBack([job], token);
      throw new WaitingError();
    }
    if (outcome !== 'moved') return;
    // Nothing more is decided by this actor (its epoch is fenced in the source): the jobs BullMQ hands it before the
    // close below go back to the queue untouched.
    actor.stopped = true;
    setImmediate(() => void this.resumeAfterMove(shard, o));
  }

  private async resumeAfterMove(shard: number, o: Owned): Promise<void> {
    if (this.owned.get(shard) !== o) return;
    await this.letGo(o);
    if (!this.stopping) await this.claim(shard);
  }

  /** Put jobs back at the head of their queue, in their order (the first taken ends up first again). */
  private async putBack(jobs: Job<ShardJob>[], token: string | undefined): Promise<void> {
    for (const j of [...jobs].reverse()) await j.moveToWait(token).catch(() => {});
  }

  /** Process jobs BullMQ handed us (see decideInPlace); put back if we lost the shard. */
  private async run(shard: number, actor: ShardActor, jobs: Job<ShardJob>[], token: string | undefined): Promise<void> {
    try {
      // A first delivery cannot have been committed before: skip the look-up of its stored replies.
      await this.decideInPlace(shard, actor, jobs.map((j) => ({ job: j.data, redelivered: (j.attemptsStarted ?? 1) > 1 || (j.stalledCounter ?? 0) > 0 })));
    } catch (err) {
      if (!(err instanceof ShardLostError)) throw err;
      await this.putBack(jobs, token);
      throw new WaitingError();
    }
  }

  /**
   * Decide deliveries, retried in place (order kept) for as long as the database fails; a shard's job never fails
   * because the database did. Only a refusal (see isRefusal) singles out jobs, then commands: the refused command
   * alone is answered internal_error. After any failed attempt the commit may have happened without us hearing of
   * it (an acknowledgement lost with the connection), so every later attempt looks up the stored replies first.
   * Throws ShardLostError when another owner took the shard.
   */
  private async decideInPlace(shard: number, actor: ShardActor, deliveries: Delivery[]): Promise<void> {
    let delay = commitRetryDelayMsMin;
    let ambiguous = false;
    let oneByOne = false;
    let failures = 0;
    for (;;) {
      if (this.stopping || actor.stopped || this.owned.get(shard)?.actor !== actor) throw new ShardLostError();
      const attempt = ambiguous ? deliveries.map((d) => ({ job: d.job, redelivered: true })) : deliveries;
      try {
        if (oneByOne) await actor.processOneByOne(attempt[0].job, (e) => e instanceof FencedError || !isRefusal(e));
        else await actor.process(attempt);
        if (failures > 0) this.log.info('decided after retrying in place', { shard, attempts: failures + 1, requestIds: requestIdsOf(deliveries) });
        return;
      } catch (err) {
        if (err instanceof FencedError) {
          this.stats.fencedCommits++;
          this.log.warn('fenced off: another owner took the shard', { shard, err: err.message });
          void this.lose(shard, 'fenced', actor);
          throw new ShardLostError();
        }
        ambiguous = true;
        failures++;
        if (isRefusal(err)) {
          // Refused by the fallback itself: a bug; the job fails loudly rather than loop.
          if (oneByOne) throw err;
          if (deliveries.length > 1) {
            // Refused together: take the jobs one at a time, so that only the job the database refuses is singled out.
            this.log.warn('jobs refused together by the database; deciding them one at a time', { shard, jobs: deliveries.length, err: (err as Error).message });
            for (const d of deliveries) await this.decideInPlace(shard, actor, [{ job: d.job, redelivered: true }]);
            return;
          }
          // The database refused the commit (a value it cannot store, a broken invariant: a bug, logged loudly).
          // Decide the commands one by one so that only the offending one is refused and no other is lost.
          this.log.error('job refused by the database; deciding its commands one by one', { shard, jobKey: deliveries[0].job.jobKey, requestIds: requestIdsOf(deliveries), err });
          oneByOne = true;
          continue;
        }
        this.stats.retriesInPlace++;
        // Said on the first failure and then every 20th: an outage of minutes is not thousands of lines.
        if (failures === 1 || failures % 20 === 0) {
          const code = (err as { code?: string }).code;
          this.log.warn('commit failed, the database is failing; retrying in place', { shard, attempts: failures, delayMs: delay, code, requestIds: requestIdsOf(deliveries), err: (err as Error).message });
        }
        await sleep(delay);
        delay = Math.min(delay * 2, commitRetryDelayMsMax);
      }
    }
  }

  /** Stop a shard; with `actor`, only if that actor still holds it (a stale one must not stop its successor). */
  private async lose(shard: number, why: string, actor?: ShardActor): Promise<void> {
    const o = this.owned.get(shard);
    if (!o || (actor !== undefined && o.actor !== actor)) return;
    this.owned.delete(shard);
    o.actor.stopped = true;
    this.stats.shardsLost++;
    this.log.warn('shard lost', { shard, epoch: o.epoch, why });
    o.sweeper?.stop();
    await o.worker?.close(true).catch(() => {});
    await o.queue.close().catch(() => {});
  }

  /** How many shards this worker expects to own: its pins, else its share (at least what it owns, plus one). */
  private shardsExpected(): number {
    if (this.pinned) return this.wanted.length;
    const share = this.assignment.filter((o) => o === this.ownerId).length;
    return Math.max(1, share, this.owned.size + 1);
  }

  /**
   * Let a shard go gracefully: the job in hand finishes and commits (within a bound), no further job is taken, then
   * the lease is released so that the next owner takes over at once, with the next epoch.
   */
  private async letGo(o: Owned): Promise<void> {
    o.actor.stopped = true;
    o.sweeper?.stop();
    // The job in hand finishes first, within a bound: a close that waits longer than a job lock is let go (its job
    // is redelivered to the next owner, and answered from its stored replies if it was committed). Seen after an
    // empty Redis restart: now and then BullMQ's close waited for a job forever.
    const closed = await within((o.worker?.close() ?? Promise.resolve()).then(() => true, () => true), this.config.jobLockMs);
    if (!closed) this.log.warn('the job in hand did not finish in time; the shard is released without it', { shard: o.shard });
    await o.queue.close().catch(() => {});
    // No longer ours before the release: a round must not renew (re-take) the lease once it is gone.
    if (this.owned.get(o.shard) === o) this.owned.delete(o.shard);
    await this.redis.eval(releaseScript, 1, this.keys.lease(o.shard), this.ownerId).catch(() => {});
  }

  /**
   * Graceful stop: leave the membership (the others count this worker out and take its shards as they come free),
   * finish the jobs in hand, then release the leases so that other owners take over at once.
   */
  async stop(): Promise<void> {
    const t0 = Date.now();
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    if (this.pollTimer) clearTimeout(this.pollTimer);
    if (this.watchTimer) clearInterval(this.watchTimer);
    // A round of claims in flight ends first, so that whatever it took is released below, and it beats no more.
    await this.tickInFlight;
    // Bounded: a Redis that does not answer must not keep the shards; the beat then lapses within a lease.
    await within(this.membership.leave().catch(() => {}), 1_000);
    const left = Date.now() - t0;
    const shards = this.owned.size;
    await Promise.all([...this.owned.values()].filter((o) => !this.handOvers.has(o.shard)).map((o) => this.letGo(o)));
    await Promise.all([...this.handOvers.values()]);
    this.owned.clear();
    this.log.info('every shard handed over', { owner: this.ownerId, shards, leftMs: left, ms: Date.now() - t0 });
    // A preload chunk in flight finishes (it stops at the next one) before the connections close.
    await Promise.all([...this.preloads]);
    // Bounded too: a pool ends once its clients are returned, and a job let go above may still hold one.
    this.directory.stop();
    await Promise.race([Promise.all([...this.directory.openPools(), this.catalogPool, this.paymentsPool, this.mapPool].map((p) => p.end().catch(() => {}))), sleep(this.config.jobLockMs)]);
    this.redis.disconnect();
    this.bullConnection.disconnect();
  }
}
