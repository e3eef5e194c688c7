// Who is calling: resolve `Authorization: Bearer <token>` to a principal (admin key, API key, or guest session),
// and the checks every route uses. Verified tokens are cached briefly; a revoked key is dropped from every API
// process at once through a Redis broadcast, and within a second through the catalog (revocationPollMs) when the
// broadcast was missed. While the catalog cannot be reached, a token verified before keeps its last-known principal
// (API.md, Outages: requests are still queued for callers whose token was verified before the outage).
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { RedisKeys, type RedisClient } from '../engine/redis.js';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { PrincipalKind } from '../engine/core/types.js';
import type { Logger } from '../engine/log.js';
import {
  revocationPollMs,
  revocationPollOverlapMs,
  tokenCacheMs,
  tokenCatalogRetryMs,
  tokenCatalogWaitMs,
  tokensKnownMax,
} from '../engine/limits.js';
import type { CatalogStore } from '../engine/store/catalog-store.js';
import { ApiError, notFound } from './errors.js';
import { tokenHash } from './credentials.js';

export interface Principal {
  kind: PrincipalKind;
  /** Key id, user id, or "admin" for the ADMIN_API_KEY. */
  id: string;
  /** Hotels a staff or partner key is scoped to. */
  hotelIds: ReadonlySet<string>;
  /** Requests per second this principal may make (0: unlimited). */
  rateLimitPerSecond: number;
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

interface Known {
  principal: Principal;
  hashHex: string;
  /** When the catalog (or the admin key) last confirmed the token. */
  verifiedAt: number;
  /** A session's end: past it the token is invalid whatever the catalog says, and never served again. */
  expiresAt?: number;
}

/** Where rate limits are counted: Redis (shared by every API process), or this process's memory. */
export interface RateLimitStore {
  redis: RedisClient;
  /** Prefix of the limits' keys (REDIS_PREFIX). */
  prefix: string;
  /** Whether Redis is known to be away or stalled now (the command router's probe): then memory counts at once. */
  troubled?: () => boolean;
}

/** A limit of `points` per window: counted in Redis, or in this process's memory while Redis is in trouble. */
export interface Limiter {
  points: number;
  seconds: number;
  shared?: RateLimiterRedis;
  local: RateLimiterMemory;
  troubled?: () => boolean;
}

/**
 * A rate limiter of `points` per `seconds`, counted in a fixed window per key shared by every API process
 * (rate-limiter-flexible on Redis). A key past its limit is refused from memory until its window ends (no Redis
 * call). While Redis fails (a command that fails or times out, or the router's probe says it is away) each process
 * counts in its own memory instead, so the limit then holds per process and a request never waits on a stalled Redis
 * for its limit.
 */
export function rateLimiter(store: RateLimitStore | undefined, name: string, points: number, seconds: number): Limiter {
  const local = new RateLimiterMemory({ keyPrefix: name, points, duration: seconds });
  if (!store) return { points, seconds, local };
  const shared = new RateLimiterRedis({
    storeClient: store.redis,
    keyPrefix: new RedisKeys(store.prefix).rateLimit(name),
    points,
    duration: seconds,
    inMemoryBlockOnConsumed: points,
    rejectIfRedisNotReady: true,
    insuranceLimiter: local,
  });
  return { points, seconds, shared, local, troubled: store.troubled };
}

/**
 * Spend one request of a limiter; past the limit, 429 `rate_limited` with Retry-After (whole seconds until the
 * window ends, at least 1). Any other failure (Redis and memory both failing) lets the request through.
 */
export async function consume(limiter: Limiter, key: string, what: string, onRefused?: () => void): Promise<void> {
  try {
    await (limiter.shared && !limiter.troubled?.() ? limiter.shared : limiter.local).consume(key);
  } catch (err) {
    if (!(err instanceof RateLimiterRes)) return;
    onRefused?.();
    const wait = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
    throw new ApiError('rate_limited', `more than ${what}`, { limit: limiter.points, windowSeconds: limiter.seconds, retryAfterSeconds: wait }, { 'Retry-After': String(wait) });
  }
}

const unreachable = () =>
  new ApiError('unavailable', 'the catalog that verifies tokens cannot be reached; try again', undefined, { 'Retry-After': '1' });

export class Authenticator {
  /** Verified tokens by their text, least recently verified first (a Map keeps insertion order). */
  private readonly known = new Map<string, Known>();
  /** Per-token limiters by their rate (requests per second). */
  private readonly limiters = new Map<number, Limiter>();
  private readonly adminHash: Buffer | undefined;
  /** Until when tokens past tokenCacheMs are served from their last-known principal without asking the catalog. */
  private catalogDownUntil = 0;
  private poll: { timer?: NodeJS.Timeout; since?: Date; running: boolean } = { running: false };
  /** Revocations already applied, by token hash, with when they were first seen: each poll reaches a minute back. */
  private readonly applied = new Map<string, number>();
  /** The clock of the token cache (tests move it forward to age tokens). */
  now: () => number = Date.now;

  constructor(
    private readonly catalog: CatalogStore,
    adminApiKey: string | undefined,
    private readonly defaultRateLimit: number,
    private readonly log?: Logger,
    /** Where rate limits are counted (absent: this process's memory). */
    private readonly limits?: RateLimitStore,
    /** Told of every request refused with 429 (metrics). */
    private readonly onRateLimited?: () => void,
  ) {
    this.adminHash = adminApiKey ? tokenHash(adminApiKey) : undefined;
  }

  /** Forget a token (its key was revoked, here or in another API process). */
  forget(hashHex: string): void {
    for (const [token, c] of this.known) if (c.hashHex === hashHex) this.known.delete(token);
  }

  /**
   * Ask the catalog every revocationPollMs for keys revoked since the last answer (with a margin), and forget
   * their tokens: a revocation whose Redis broadcast this process missed still takes effect within a second of the
   * catalog answering, however long the catalog was out of reach.
   */
  startRevocationPolling(): void {
    this.poll.timer = setInterval(() => void this.pollRevocations(), revocationPollMs);
    this.poll.timer.unref();
  }

  stopRevocationPolling(): void {
    clearInterval(this.poll.timer);
  }

  private async pollRevocations(): Promise<void> {
    if (this.poll.running) return;
    this.poll.running = true;
    try {
      const since = this.poll.since ?? new Date(Date.now() - revocationPollOverlapMs);
      const r = await this.catalog.keysRevokedSince(since);
      const now = Date.now();
      const revoked = new Set(r.hashes.map((h) => h.toString('hex')).filter((hex) => !this.applied.has(hex)));
      if (revoked.size > 0) {
        for (const [token, c] of this.known) if (revoked.has(c.hashHex)) this.known.delete(token);
        for (const hex of revoked) this.applied.set(hex, now);
      }
      for (const [hex, at] of this.applied) if (now - at > 2 * revocationPollOverlapMs) this.applied.delete(hex);
      this.poll.since = new Date(r.now.getTime() - revocationPollOverlapMs);
    } catch (err) {
      // The catalog is away: the next poll asks again from the last answer on, so nothing revoked meanwhile is missed.
      this.log?.debug('revocation poll failed', { err: (err as Error).message });
    } finally {
      this.poll.running = false;
    }
  }

  /** The principal of a token verified a moment ago, without hashing or a catalog query; else undefined. */
  cached(token: string, now = this.now()): Principal | undefined {
    // Verified tokens are kept by their own text for a short while, so that a busy client costs no hashing and
    // no catalog query per request.
    const hit = this.known.get(token);
    return hit && now - hit.verifiedAt < tokenCacheMs && usable(hit, now) ? hit.principal : undefined;
  }

  async resolve(token: string): Promise<Principal | null> {
    const now = this.now();
    const hit = this.known.get(token);
    if (hit && !usable(hit, now)) {
      // A session that ended is never served again, whether or not the catalog can be asked.
      this.known.delete(token);
      return null;
    }
    if (hit && now - hit.verifiedAt < tokenCacheMs) return hit.principal;
    // The catalog failed a moment ago: the last-known principal, without waiting on it again.
    if (hit && now < this.catalogDownUntil) return hit.principal;
    const hash = tokenHash(token);
    const hex = hash.toString('hex');
    if (this.adminHash && timingSafeEqual(hash, this.adminHash)) {
      const principal: Principal = { kind: 'admin', id: 'admin', hotelIds: new Set(), rateLimitPerSecond: 0 };
      this.remember(token, { principal, hashHex: hex, verifiedAt: now });
      return principal;
    }
    // Neither an API key nor a session: no catalog can make it valid.
    if (!token.startsWith('bk_') && !token.startsWith('bs_')) return null;
    // Nothing known of this token and the catalog failed a moment ago: 503 at once rather than wait on it again.
    if (!hit && now < this.catalogDownUntil) throw unreachable();
    const asked = this.verify(token, hash, hex, now);
    if (!hit) {
      // Nothing known of this token: the catalog decides, and a catalog that fails says nothing about the token
      // (503, never 401).
      return asked.catch(() => {
        this.catalogDownUntil = this.now() + tokenCatalogRetryMs;
        throw unreachable();
      });
    }
    // Known before: the catalog's answer if it comes soon, else the last-known principal (a catalog that fails or
    // hangs is an outage, not a revocation; a revocation is caught up on by the poll once it answers).
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), tokenCatalogWaitMs)));
    const answer = await Promise.race([asked.catch(() => 'failed' as const), late]).finally(() => clearTimeout(timer));
    if (answer !== 'late' && answer !== 'failed') return answer;
    this.catalogDownUntil = this.now() + tokenCatalogRetryMs;
    return hit.principal;
  }

  /** Ask the catalog about a token, and remember the answer (a token it does not know is forgotten). */
  private async verify(token: string, hash: Buffer, hex: string, now: number): Promise<Principal | null> {
    let principal: Principal | null = null;
    let expiresAt: number | undefined;
    if (token.startsWith('bk_')) {
      const key = await this.catalog.apiKeyByTokenHash(hash);
      if (key) {
        principal = {
          kind: key.role,
          id: key.id,
          hotelIds: new Set(key.hotelIds),
          rateLimitPerSecond: key.role === 'admin' ? 0 : (key.rateLimitPerSecond ?? this.defaultRateLimit),
        };
      }
    } else if (token.startsWith('bs_')) {
      const s = await this.catalog.sessionUser(hash);
      if (s) {
        // A staff user's session acts as staff of the user's hotels; anyone else's as a guest.
        principal = { kind: s.role === 'staff' ? 'staff' : 'guest', id: s.userId, hotelIds: new Set(s.hotelIds), rateLimitPerSecond: this.defaultRateLimit };
        expiresAt = new Date(s.expiresAt).getTime();
      }
    }
    // Unknown tokens are not remembered, so that a key created a moment ago in another process works at once.
    if (principal) this.remember(token, { principal, hashHex: hex, verifiedAt: now, expiresAt });
    else this.known.delete(token);
    return principal;
  }

  private remember(token: string, k: Known): void {
    // Delete first, so that the token moves to the end of the Map's order (the most recently verified).
    this.known.delete(token);
    this.known.set(token, k);
    if (this.known.size > tokensKnownMax) this.known.delete(this.known.keys().next().value as string);
  }

  /**
   * The principal of an Authorization header, with one request spent from its rate limit; 401 (thrown) for a
   * malformed header or an invalid token, 429 past the limit. Synchronous when the token was verified a moment ago
   * (the common case), so that a busy client's request does not wait a turn of the event loop.
   */
  authenticate(header: string): Principal | Promise<Principal> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw new ApiError('unauthorized', 'the Authorization header must be "Bearer <token>"');
    const hit = this.cached(m[1]);
    if (hit) {
      const spent = this.spend(hit);
      return spent ? spent.then(() => hit) : hit;
    }
    return this.resolve(m[1]).then(async (p) => {
      if (!p) throw new ApiError('unauthorized', 'the token is not valid');
      await this.spend(p);
      return p;
    });
  }

  /** Middleware: attach the principal when a token is given; a given but invalid token is a 401 everywhere. */
  middleware() {
    return (req: Request, _res: Response, next: NextFunction) => {
      const h = req.headers.authorization;
      if (!h) return next();
      const p = this.authenticate(h);
      if (!(p instanceof Promise)) {
        req.principal = p;
        return next();
      }
      p.then((principal) => {
        req.principal = principal;
        next();
      }, next);
    };
  }

  /**
   * One request from the principal's limit (rateLimitPerSecond), counted across every API process; undefined
   * (nothing to wait for) for an unlimited principal.
   */
  private spend(p: Principal): Promise<void> | undefined {
    const rate = p.rateLimitPerSecond;
    if (!rate) return undefined;
    let limiter = this.limiters.get(rate);
    if (!limiter) this.limiters.set(rate, (limiter = rateLimiter(this.limits, `token-${rate}`, rate, 1)));
    return consume(limiter, `${p.kind}:${p.id}`, `${rate} requests per second`, this.onRateLimited);
  }
}

/** Whether a known token may still be served: a session that has ended may not. */
function usable(k: Known, now: number): boolean {
  return k.expiresAt === undefined || k.expiresAt > now;
}

/** The caller, or 401. */
export function principalOf(req: Request): Principal {
  return callerOf(req.principal);
}

function callerOf(p: Principal | undefined): Principal {
  if (!p) throw new ApiError('unauthorized', 'this route needs a Bearer token');
  return p;
}

/** The caller (undefined: no token was given) if it has one of these roles; else 401/403. */
export function withRole(p: Principal | undefined, roles: readonly PrincipalKind[]): Principal {
  const caller = callerOf(p);
  if (!roles.includes(caller.kind)) throw new ApiError('forbidden', `this route is for ${roles.join(', ')}`);
  return caller;
}

/** The caller with one of these roles, or 401/403. */
export function requireRole(req: Request, ...roles: PrincipalKind[]): Principal {
  return withRole(req.principal, roles);
}

const owns = (p: Principal, owner: { kind: string; id: string }) => owner.kind === p.kind && owner.id === p.id;

/** Who may see a reservation: its owner, staff of its hotel, admin. Anyone else is told it does not exist. */
export function canSee(p: Principal, r: { hotelId: string; owner: { kind: string; id: string } }): boolean {
  if (p.kind === 'admin') return true;
  if (owns(p, r.owner)) return true;
  return p.kind === 'staff' && p.hotelIds.has(r.hotelId);
}

/**
 * Who may pay a reservation: its owner or an admin. Anyone else who may see it (staff of its hotel) gets 403; anyone
 * who may not gets 404, its existence not revealed.
 */
export function requirePayer(p: Principal, r: { hotelId: string; owner: { kind: string; id: string } }): void {
  if (p.kind === 'admin' || owns(p, r.owner)) return;
  if (canSee(p, r)) throw new ApiError('forbidden', 'only the reservation\'s owner or an admin may pay it');
  throw notFound('reservation');
}

/** Admin, or staff (and partner where allowed) whose key names this hotel; else 401/403. */
export function requireHotelAccess(req: Request, hotelId: string, roles: PrincipalKind[]): Principal {
  const p = requireRole(req, 'admin', ...roles);
  if (p.kind !== 'admin' && !p.hotelIds.has(hotelId)) throw new ApiError('forbidden', 'this key is not scoped to that hotel');
  return p;
}
