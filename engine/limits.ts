// Every bound of the engine in one place, with its unit last in the name (DESIGN.md, house style 3).

/** Longest stay one reservation may cover. */
export const nightsMax = 30;
/** Widest window one availability read may cover. */
export const availabilityNightsMax = 92;
/** Rooms one reservation may hold. */
export const roomCountMax = 10;
/** Alternatives offered with a `sold_out` answer. */
export const alternativesMax = 5;
/** How far the same room type is shifted (in days, both ways) when looking for alternatives. */
export const alternativeShiftDaysMax = 3;
/** Nights before today that a loaded hotel keeps in memory (cancellations of stays that began earlier). */
export const pastNightsKept = 2;
/** Largest nightly amount accepted, in minor units (keeps every sum inside a safe integer). */
export const amountMax = 1_000_000_000;
/** Room type inventory bounds (API.md). */
export const totalInventoryMax = 10_000;
export const maxGuestsMax = 20;
export const overbookingPercentMax = 50;
export const overbookingPercentDefault = 10;
/** Occupancy pricing (API.md): tiers per hotel, their thresholds (percent of total inventory) and multipliers. */
export const pricingTiersMax = 10;
export const occupancyPercentMax = 100;
export const multiplierPercentMin = 50;
export const multiplierPercentMax = 500;

/** Body limits (API.md conventions). */
export const bodyBytesMax = 1024 * 1024;
export const batchBodyBytesMax = 16 * 1024 * 1024;
/** Items one partner batch may carry. */
export const batchItemsMax = 10_000;
/** Longest Idempotency-Key accepted on the create routes (hotels, room types). */
export const idempotencyKeyCharsMax = 200;
/** Page sizes of list routes. */
export const pageLimitDefault = 50;
export const pageLimitMax = 200;

/** Commands the API coalesces into one job for a shard (group commit bound). */
export const jobCommandsMax = 500;
/** Jobs one API process keeps in flight per shard: while one is out, new commands wait for the next (smart batching: a busy writer gets bigger jobs, an idle one gets each command at once). */
export const jobsInFlightPerShardMax = 1;
/** A shard owner takes up to this many waiting jobs of a shard (and this many commands) into one decision round. */
export const drainJobsMax = 32;
export const drainCommandsMax = 2_000;
/**
 * Group commit: commits in flight per shard database, and how much one commit may carry. One: the rounds of every
 * shard that finish while a commit is in flight go together in the next one. A commit's fixed cost in Postgres
 * (~1.6 M instructions: one statement of eight parts, its plan, its WAL flush) is most of a small commit's, so under
 * a spread load a second commit in flight, started at once with a single small round, costs more than the wait it
 * saves: whole-machine instructions per decision 3.60 → 3.03 M (spread) going from 2 to 1, hot (one shard: one commit
 * at a time either way) and batch ingest unchanged (bench/README.md). An idle database still commits a round at once.
 */
export const commitsInFlightPerDatabaseMax = 1;
export const commitBatchesMax = 64;
export const commitRowsMax = 20_000;
/**
 * How often a shard store looks at the size of the tables its named statements join (one query, before a commit or
 * a load that is due). Each time one of them has doubled since, the statements are prepared again under new names:
 * a cached plan keeps the table sizes it was made with, and one made while a table was nearly empty reads all of it
 * once it is large. About 30 doublings per table bound the names a connection prepares.
 */
export const planSizeCheckMsDefault = 1_000;
/** Commands buffered per shard in one API process before new ones are refused with 503. */
export const routerBufferedCommandsMax = 50_000;

/** Shard lease: how long a Redis lease lives without renewal, and how often it is renewed. */
export const shardLeaseMsDefault = 10_000;
/** BullMQ job lock duration while a shard owner works on a job; a dead owner's job is redelivered after it. */
export const jobLockMsDefault = 15_000;
/** Back-off bounds when a commit fails (database unreachable): the job is retried in place, in order. */
export const commitRetryDelayMsMin = 50;
export const commitRetryDelayMsMax = 2_000;
/** reservationId claims (id → hotel) an API process remembers; a claim never changes, so none is ever stale. */
export const claimsRememberedMax = 100_000;
/** Hotels a shard owner keeps in memory before it evicts the least recently used. */
export const hotelsInMemoryMax = 20_000;
/** WORKER_HOTELS_MB's default: about 3,500 hotels of 5 room types with two years of nights each. */
export const workerHotelsMbDefault = 128;
/** What one reservation held in memory is counted as, against WORKER_HOTELS_MB. */
export const reservationBytesEstimate = 600;
/** How long an API process keeps a verified token before it checks the catalog again. */
export const tokenCacheMs = 30_000;
/**
 * Verified tokens an API process remembers. Past it the least recently verified is forgotten: while the catalog is
 * unreachable a forgotten token can no longer be served from its last-known principal (503 instead of queued).
 */
export const tokensKnownMax = 100_000;
/**
 * Catalog outage (issue 13, item 4): how long a token past tokenCacheMs waits for the catalog before its last-known
 * principal is served, and how long after a failed look-up such tokens are served without asking, so that a
 * catalog that hangs or refuses does not slow every request down.
 */
export const tokenCatalogWaitMs = 500;
export const tokenCatalogRetryMs = 500;
/**
 * How often an API process asks the catalog for keys revoked lately, so that a revocation whose broadcast it missed
 * (Redis away, or made while the catalog was cut off from it) takes effect within a second of the catalog answering;
 * and how far back each asking reaches (a revocation's time is its transaction's start, before its commit).
 */
export const revocationPollMs = 500;
export const revocationPollOverlapMs = 60_000;
/** Lifetime of a guest session token. */
export const sessionTtlSeconds = 30 * 24 * 3600;
/** How long the API remembers that a reservation is queued (answering 202 to GET meanwhile). */
export const inflightMarkerSeconds = 7 * 24 * 3600;
/** Days a committed job's replies are kept for redeliveries, late readers (202) and partner batch results. */
export const appliedJobsKeptDays = 14;
/** How often a shard owner prunes replies older than that. */
export const appliedJobsPruneMs = 60_000;
/**
 * A shard's owner makes the nights that entered the horizon at its hotels' local midnights (ShardStore rollHorizon)
 * just after every quarter hour of UTC, when some zone's midnight may have passed (every zone's offset is a whole
 * number of quarter hours): a hotel nobody asks its writer about shows its newest night a few seconds after its
 * midnight. See nextHorizonRollMs.
 */
export const horizonRollEveryMs = 15 * 60_000;
/** How long after the quarter hour the roll runs (clocks of the owner and of Postgres may differ a little). */
export const horizonRollAfterMs = 2_000;

/** The instant of the next horizon roll after `nowMs`. */
export function nextHorizonRollMs(nowMs: number): number {
  return Math.floor((nowMs - horizonRollAfterMs) / horizonRollEveryMs + 1) * horizonRollEveryMs + horizonRollAfterMs;
}
/** Server-Sent Events: a comment line at least this often keeps proxies from closing an idle stream. */
export const sseHeartbeatMsDefault = 15_000;
/** Bytes a stream client may leave unread before it is dropped with `reset` instead of buffered. */
export const sseClientBufferedBytesMax = 256 * 1024;
/** Stream clients one API process serves at once. */
export const sseClientsMax = 20_000;
/**
 * An API process's Redis commands fail after this long without a reply, so that a Redis that stalls (paused, swapping,
 * a lost network path) gets a request answered 503 within a second instead of hung (issue 13, item 10). Well above a
 * healthy round trip (under a millisecond here) and below the one second the contract allows.
 */
export const apiRedisCommandTimeoutMs = 600;
/** The longest an API process waits between two attempts to reconnect to Redis, so that it is back soon after Redis. */
export const apiRedisReconnectDelayMsMax = 500;
/** How often the command router checks that Redis answers, and how long an unanswered check may be out before the queue counts as stalled. */
export const redisProbeMs = 200;
export const redisStallMs = 500;
/** The longest /readyz waits for any one of its checks: past it the check counts as failed ("not ready" within a second). */
export const readinessCheckMs = 800;
/** How often an API process checks that its shard databases answer (for `stale` answers from the cache). */
export const databaseProbeMs = 1_000;
