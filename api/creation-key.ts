// `Idempotency-Key`: how every route reads it, and its use on the routes that create a hotel or a room type. The
// server makes their ids, so a create that came back late (503) and was sent again used to create a second one
// (issue 13, item 8). With the header, the id is derived from the key instead of drawn at random: every retry of the
// same body sends the writer the same create, which answers the one already made; a different body under the same
// key is refused (422).
import { createHash } from 'node:crypto';
import type { Request } from 'express';
import { v7 as uuidv7 } from 'uuid';
import { idempotencyKeyCharsMax } from '../engine/limits.js';
import { claimCreationKey } from '../engine/store/catalog-store.js';
import type { Principal } from './auth.js';
import type { ApiContext } from './context.js';
import { ApiError } from './errors.js';

/**
 * A request's `Idempotency-Key` (every route that honours one reads it here): trimmed, undefined when absent or
 * empty (an empty key is no key), and 400 when longer than the limit, never cut short (two long keys that share
 * their first characters are different keys).
 */
export function idempotencyKeyOf(req: Request): string | undefined {
  const key = req.header('idempotency-key')?.trim();
  if (!key) return undefined;
  if (key.length > idempotencyKeyCharsMax) {
    throw new ApiError('validation_failed', `Idempotency-Key: at most ${idempotencyKeyCharsMax} characters`, {
      fields: [{ field: 'Idempotency-Key', message: 'too long' }],
    });
  }
  return key;
}

/**
 * The id of the thing a create makes: a fresh UUIDv7 without an Idempotency-Key; with one, the same UUIDv7 for every
 * request of this principal with this key (its time is the key's first use, its other bits a hash of the key), or
 * 422 `idempotency_mismatch` when the key was first used with another body.
 */
export async function idOfCreate(ctx: ApiContext, req: Request, p: Principal, scope: string, body: unknown): Promise<string> {
  const key = idempotencyKeyOf(req);
  if (!key) return uuidv7();
  const fingerprint = createHash('sha256').update(JSON.stringify(body)).digest('base64url');
  const owner = { kind: p.kind, id: p.id };
  const claim = await claimCreationKey(ctx.catalog.pool, scope, owner, key, fingerprint);
  if (!claim.matches) throw new ApiError('idempotency_mismatch', 'This Idempotency-Key was already used with a different body.');
  return uuidV7Of(claim.claimedAt.getTime(), createHash('sha256').update(JSON.stringify([scope, owner.kind, owner.id, key])).digest());
}

/** A UUIDv7 (RFC 9562) with this millisecond time and its 74 other bits taken from `bits`. */
export function uuidV7Of(ms: number, bits: Buffer): string {
  const b = Buffer.alloc(16);
  b.writeUIntBE(ms, 0, 6);
  b[6] = 0x70 | (bits[0] & 0x0f);
  b[7] = bits[1];
  b[8] = 0x80 | (bits[2] & 0x3f);
  bits.copy(b, 9, 3, 10);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
