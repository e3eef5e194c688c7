// The catalog database: API keys, users and sessions. Tokens and passwords are stored only as hashes.
import type { Pool } from './pg.js';

export interface ApiKeyRow {
  id: string;
  name: string;
  role: 'admin' | 'staff' | 'partner';
  hotelIds: string[];
  rateLimitPerSecond: number | null;
}

export interface UserRow {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
}

const keyOf = (r: Record<string, unknown>): ApiKeyRow => ({
  id: r.id as string,
  name: r.name as string,
  role: r.role as ApiKeyRow['role'],
  hotelIds: (r.hotel_ids as string[]) ?? [],
  rateLimitPerSecond: r.rate_limit_per_second === null ? null : Number(r.rate_limit_per_second),
});

export class CatalogStore {
  constructor(readonly pool: Pool) {}

  async createApiKey(k: ApiKeyRow, tokenHash: Buffer): Promise<void> {
    await this.pool.query(
      'INSERT INTO api_keys (id, name, role, hotel_ids, rate_limit_per_second, token_hash) VALUES ($1, $2, $3, $4, $5, $6)',
      [k.id, k.name, k.role, k.hotelIds, k.rateLimitPerSecond, tokenHash],
    );
  }

  async revokeApiKey(id: string): Promise<Buffer | undefined> {
    const r = await this.pool.query(
      'UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING token_hash',
      [id],
    );
    return r.rowCount ? (r.rows[0].token_hash as Buffer) : undefined;
  }

  /**
   * Token hashes of the keys revoked at or after `since`, and the database's clock now (the next call's `since`,
   * less a margin: a revocation's time is its transaction's start, which may be earlier than its commit).
   */
  async keysRevokedSince(since: Date): Promise<{ hashes: Buffer[]; now: Date }> {
    const r = await this.pool.query('SELECT now() AS now, ARRAY(SELECT token_hash FROM api_keys WHERE revoked_at >= $1) AS hashes', [since]);
    return { hashes: r.rows[0].hashes as Buffer[], now: r.rows[0].now as Date };
  }

  async apiKeyByTokenHash(hash: Buffer): Promise<ApiKeyRow | undefined> {
    const r = await this.pool.query(
      'SELECT id, name, role, hotel_ids, rate_limit_per_second FROM api_keys WHERE token_hash = $1 AND revoked_at IS NULL',
      [hash],
    );
    return r.rowCount ? keyOf(r.rows[0]) : undefined;
  }

  /** Insert a user; false when the e-mail (case-insensitive) is taken. */
  async createUser(u: UserRow): Promise<boolean> {
    const r = await this.pool.query(
      'INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
      [u.id, u.email, u.name, u.passwordHash],
    );
    return r.rowCount === 1;
  }

  async userByEmail(email: string): Promise<UserRow | undefined> {
    const r = await this.pool.query('SELECT id, email, name, password_hash FROM users WHERE lower(email) = lower($1)', [email]);
    if (!r.rowCount) return undefined;
    const row = r.rows[0];
    return { id: row.id, email: row.email, name: row.name, passwordHash: row.password_hash };
  }

  async createSession(tokenHash: Buffer, userId: string, expiresAt: Date): Promise<void> {
    await this.pool.query('INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)', [
      tokenHash,
      userId,
      expiresAt,
    ]);
  }

  async sessionUser(tokenHash: Buffer): Promise<{ userId: string; expiresAt: Date } | undefined> {
    const r = await this.pool.query('SELECT user_id, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > now()', [
      tokenHash,
    ]);
    return r.rowCount ? { userId: r.rows[0].user_id, expiresAt: r.rows[0].expires_at } : undefined;
  }
}

export interface BatchPlan {
  reservationIds: (string | null)[];
  invalid: { index: number; message: string }[];
  /** Each queued job: its shard, key, and the item index and request id of each of its commands. */
  jobs: { shard: number; jobKey: string; indexes: number[]; requestIds: string[] }[];
}

export interface BatchRow {
  id: string;
  creator: { kind: string; id: string };
  fingerprint: string;
  total: number;
  atomic: boolean;
  status: 'processing' | 'done';
  plan: BatchPlan;
  results: unknown[] | null;
  held: number | null;
  rejected: number | null;
}

const batchOf = (r: Record<string, unknown>): BatchRow => ({
  id: r.id as string,
  creator: { kind: r.creator_kind as string, id: r.creator_id as string },
  fingerprint: r.fingerprint as string,
  total: Number(r.total),
  atomic: r.atomic as boolean,
  status: r.status as BatchRow['status'],
  plan: r.plan as BatchPlan,
  results: (r.results as unknown[] | null) ?? null,
  held: r.held === null ? null : Number(r.held),
  rejected: r.rejected === null ? null : Number(r.rejected),
});

/** Plans of recent batches kept in memory: a plan never changes, and a partner polls its batch until done. */
const plansKept = 256;

export class BatchStore {
  private readonly plans = new Map<string, BatchPlan>();

  constructor(readonly pool: Pool) {}

  private keepPlan(id: string, plan: BatchPlan): void {
    this.plans.delete(id);
    this.plans.set(id, plan);
    if (this.plans.size > plansKept) this.plans.delete(this.plans.keys().next().value as string);
  }

  /** Record a batch; with an idempotency key, answers the existing batch instead when the key was used before. */
  async create(b: BatchRow, idempotencyKey: string | undefined): Promise<{ created: boolean; batch: BatchRow }> {
    const r = await this.pool.query(
      `INSERT INTO batches (id, creator_kind, creator_id, idempotency_key, fingerprint, total, atomic, status, plan)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'processing', $8)
       ON CONFLICT (creator_kind, creator_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
       RETURNING id`,
      [b.id, b.creator.kind, b.creator.id, idempotencyKey ?? null, b.fingerprint, b.total, b.atomic, JSON.stringify(b.plan)],
    );
    if (r.rowCount === 1) {
      this.keepPlan(b.id, b.plan);
      return { created: true, batch: b };
    }
    const existing = await this.pool.query(
      'SELECT * FROM batches WHERE creator_kind = $1 AND creator_id = $2 AND idempotency_key = $3',
      [b.creator.kind, b.creator.id, idempotencyKey],
    );
    return { created: false, batch: batchOf(existing.rows[0]) };
  }

  async get(id: string): Promise<BatchRow | undefined> {
    // The plan (every item's id and job, ~100 KB for 1,000 items) is read from the database only when not kept.
    const kept = this.plans.get(id);
    const r = await this.pool.query(
      `SELECT id, creator_kind, creator_id, fingerprint, total, atomic, status, results, held, rejected,
              CASE WHEN $2 THEN NULL ELSE plan END AS plan
         FROM batches WHERE id = $1`,
      [id, kept !== undefined],
    );
    if (!r.rowCount) return undefined;
    const row = batchOf(r.rows[0]);
    if (kept) row.plan = kept;
    else if (row.status === 'processing') this.keepPlan(id, row.plan);
    return row;
  }

  async remove(id: string): Promise<void> {
    this.plans.delete(id);
    await this.pool.query('DELETE FROM batches WHERE id = $1', [id]);
  }

  async finish(id: string, results: unknown[], held: number, rejected: number): Promise<void> {
    this.plans.delete(id);
    await this.pool.query(
      "UPDATE batches SET status = 'done', results = $2, held = $3, rejected = $4 WHERE id = $1",
      [id, JSON.stringify(results), held, rejected],
    );
  }
}

/**
 * Claim an Idempotency-Key for a body: true when this body may proceed (first use, or the same body again),
 * false when the key was used with a different body.
 */
export async function claimIdempotencyKey(
  pool: Pool,
  scope: string,
  owner: { kind: string; id: string },
  key: string,
  fingerprint: string,
): Promise<boolean> {
  const r = await pool.query(
    `WITH ins AS (
       INSERT INTO idempotency_keys (scope, owner_kind, owner_id, key, fingerprint) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING RETURNING fingerprint)
     SELECT fingerprint FROM ins
     UNION ALL
     SELECT fingerprint FROM idempotency_keys WHERE scope = $1 AND owner_kind = $2 AND owner_id = $3 AND key = $4
     LIMIT 1`,
    [scope, owner.kind, owner.id, key, fingerprint],
  );
  if (r.rowCount) return r.rows[0].fingerprint === fingerprint;
  // A concurrent first use committed after this statement's snapshot: read it now.
  const again = await pool.query(
    'SELECT fingerprint FROM idempotency_keys WHERE scope = $1 AND owner_kind = $2 AND owner_id = $3 AND key = $4',
    [scope, owner.kind, owner.id, key],
  );
  return again.rows[0]?.fingerprint === fingerprint;
}

/** The first answer given under an Idempotency-Key, kept so that a retry gets it again. */
export interface KeptAnswer {
  status: number;
  body: unknown;
}

/**
 * Claim an Idempotency-Key for a request that answers from a stored answer (payments): whether the body's
 * fingerprint is the one first recorded, and the first answer once one was kept (undefined while the first request
 * is in flight, or if it ended without an answer worth repeating, a 503).
 */
export async function claimKeyWithAnswer(
  pool: Pool,
  scope: string,
  owner: { kind: string; id: string },
  key: string,
  fingerprint: string,
): Promise<{ matches: boolean; answer?: KeptAnswer }> {
  const read = () =>
    pool.query('SELECT fingerprint, answer FROM idempotency_keys WHERE scope = $1 AND owner_kind = $2 AND owner_id = $3 AND key = $4', [
      scope,
      owner.kind,
      owner.id,
      key,
    ]);
  await pool.query(
    `INSERT INTO idempotency_keys (scope, owner_kind, owner_id, key, fingerprint) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
    [scope, owner.kind, owner.id, key, fingerprint],
  );
  const row = (await read()).rows[0] as { fingerprint: string; answer: KeptAnswer | null } | undefined;
  if (!row) return { matches: false };
  return { matches: row.fingerprint === fingerprint, answer: row.answer ?? undefined };
}

/** Keep the first answer given under an Idempotency-Key (a later one never replaces it). */
export async function keepAnswer(pool: Pool, scope: string, owner: { kind: string; id: string }, key: string, answer: KeptAnswer): Promise<void> {
  await pool.query(
    'UPDATE idempotency_keys SET answer = $5 WHERE scope = $1 AND owner_kind = $2 AND owner_id = $3 AND key = $4 AND answer IS NULL',
    [scope, owner.kind, owner.id, key, JSON.stringify(answer)],
  );
}

/**
 * Claim an Idempotency-Key for a request that creates something: the first claim of (scope, owner, key) records the
 * body's fingerprint, and every claim answers whether its fingerprint is the recorded one, whether it was the
 * first, and when the key was first claimed (the same for every claim, so the created thing's id can be derived
 * from it and be the same for every retry).
 */
export async function claimCreationKey(
  pool: Pool,
  scope: string,
  owner: { kind: string; id: string },
  key: string,
  fingerprint: string,
): Promise<{ matches: boolean; first: boolean; claimedAt: Date }> {
  const existing = 'SELECT fingerprint, created_at, false AS first FROM idempotency_keys WHERE scope = $1 AND owner_kind = $2 AND owner_id = $3 AND key = $4';
  const r = await pool.query(
    `WITH ins AS (
       INSERT INTO idempotency_keys (scope, owner_kind, owner_id, key, fingerprint) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING RETURNING fingerprint, created_at, true AS first)
     SELECT * FROM ins
     UNION ALL
     ${existing}
     LIMIT 1`,
    [scope, owner.kind, owner.id, key, fingerprint],
  );
  // Nothing: a concurrent first claim committed after this statement's snapshot; read it now.
  const row = r.rows[0] ?? (await pool.query(existing, [scope, owner.kind, owner.id, key])).rows[0];
  return { matches: row.fingerprint === fingerprint, first: row.first as boolean, claimedAt: row.created_at as Date };
}
