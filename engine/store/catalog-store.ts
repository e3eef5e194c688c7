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
