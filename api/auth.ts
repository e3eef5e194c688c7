// Who is calling: resolve `Authorization: Bearer <token>` to a principal (admin key, API key, or guest session),
// and the checks every route uses. Verified tokens are cached briefly; a revoked key is dropped from every API
// process at once through a Redis broadcast.
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { PrincipalKind } from '../engine/core/types.js';
import { rateLimitBurstSeconds, tokenCacheMs } from '../engine/limits.js';
import type { CatalogStore } from '../engine/store/catalog-store.js';
import { ApiError } from './errors.js';
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

interface Cached {
  principal: Principal;
  hashHex: string;
  until: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class Authenticator {
  private readonly cache = new Map<string, Cached>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly adminHash: Buffer | undefined;

  constructor(
    private readonly catalog: CatalogStore,
    adminApiKey: string | undefined,
    private readonly defaultRateLimit: number,
  ) {
    this.adminHash = adminApiKey ? tokenHash(adminApiKey) : undefined;
  }

  /** Forget a token (its key was revoked, here or in another API process). */
  forget(hashHex: string): void {
    for (const [token, c] of this.cache) if (c.hashHex === hashHex) this.cache.delete(token);
  }

  /** The principal of a token verified a moment ago, without hashing or a catalog query; else undefined. */
  cached(token: string, now = Date.now()): Principal | undefined {
    // Verified tokens are kept by their own text for a short while, so that a busy client costs no hashing and
    // no catalog query per request.
    const hit = this.cache.get(token);
    return hit && hit.until > now ? hit.principal : undefined;
  }

  async resolve(token: string): Promise<Principal | null> {
    const now = Date.now();
    const hit = this.cached(token, now);
    if (hit) return hit;
    const hash = tokenHash(token);
    const hex = hash.toString('hex');
    if (this.adminHash && timingSafeEqual(hash, this.adminHash)) {
      const principal: Principal = { kind: 'admin', id: 'admin', hotelIds: new Set(), rateLimitPerSecond: 0 };
      this.cache.set(token, { principal, hashHex: hex, until: now + tokenCacheMs });
      return principal;
    }
    let principal: Principal | null = null;
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
      if (s) principal = { kind: 'guest', id: s.userId, hotelIds: new Set(), rateLimitPerSecond: this.defaultRateLimit };
    }
    // Unknown tokens are not cached, so that a key created a moment ago in another process works at once.
    if (principal) this.cache.set(token, { principal, hashHex: hex, until: now + tokenCacheMs });
    if (this.cache.size > 100_000) this.cache.clear();
    return principal;
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
      this.spend(hit);
      return hit;
    }
    return this.resolve(m[1]).then((p) => {
      if (!p) throw new ApiError('unauthorized', 'the token is not valid');
      this.spend(p);
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

  /** Token bucket per principal: `rate` per second with a burst of `rateLimitBurstSeconds` seconds' worth. */
  private spend(p: Principal): void {
    const rate = p.rateLimitPerSecond;
    if (!rate) return;
    const key = `${p.kind}:${p.id}`;
    const now = Date.now();
    const cap = rate * rateLimitBurstSeconds;
    const b = this.buckets.get(key) ?? { tokens: cap, at: now };
    b.tokens = Math.min(cap, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    if (b.tokens < 1) {
      const wait = Math.max(1, Math.ceil((1 - b.tokens) / rate));
      this.buckets.set(key, b);
      throw new ApiError('rate_limited', `more than ${rate} requests per second`, undefined, { 'Retry-After': String(wait) });
    }
    b.tokens -= 1;
    this.buckets.set(key, b);
    if (this.buckets.size > 100_000) this.buckets.clear();
  }
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

/** Admin, or staff (and partner where allowed) whose key names this hotel; else 401/403. */
export function requireHotelAccess(req: Request, hotelId: string, roles: PrincipalKind[]): Principal {
  const p = requireRole(req, 'admin', ...roles);
  if (p.kind !== 'admin' && !p.hotelIds.has(hotelId)) throw new ApiError('forbidden', 'this key is not scoped to that hotel');
  return p;
}
