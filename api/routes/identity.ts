// API keys, users and sessions.
import { Router } from 'express';
import { v7 as uuidv7 } from 'uuid';
import { sessionTtlSeconds } from '../../engine/limits.js';
import { apiKeyBody, sessionBody, staffUserBody, userBody } from '../../schemas/http.js';
import { requireRole } from '../auth.js';
import type { ApiContext } from '../context.js';
import { dummyPasswordHash, hashPassword, newToken, tokenHash, verifyPassword } from '../credentials.js';
import { ApiError, notFound } from '../errors.js';
import { bodyOf, parse, pathId } from '../validate.js';

export function identityRoutes(ctx: ApiContext): Router {
  const r = Router();

  r.post('/v1/api-keys', async (req, res) => {
    requireRole(req, 'admin');
    const body = parse(apiKeyBody, bodyOf(req));
    const token = newToken('key');
    const key = {
      id: uuidv7(),
      name: body.name,
      role: body.role,
      hotelIds: [...new Set(body.hotelIds ?? [])],
      rateLimitPerSecond: body.rateLimitPerSecond ?? null,
    };
    await ctx.catalog.createApiKey(key, tokenHash(token));
    res.status(201).json({ id: key.id, name: key.name, role: key.role, hotelIds: key.hotelIds, token });
  });

  r.delete('/v1/api-keys/:id', async (req, res) => {
    requireRole(req, 'admin');
    const id = pathId(req.params.id, 'id');
    const hash = await ctx.catalog.revokeApiKey(id);
    if (!hash) throw notFound('API key');
    const hex = hash.toString('hex');
    ctx.auth.forget(hex);
    // Every other API process drops its cached copy too.
    await ctx.redis.publish(ctx.keys.revocations(), hex).catch(() => {});
    res.status(204).end();
  });

  r.post('/v1/users', async (req, res) => {
    const raw = bodyOf(req);
    if (raw && typeof raw === 'object' && 'role' in raw && (raw as { role: unknown }).role !== 'guest') {
      // A staff user: only an admin makes one. (A sign-up that says role "guest" is a guest's.)
      requireRole(req, 'admin');
      const body = parse(staffUserBody, raw);
      const hotelIds = [...new Set(body.hotelIds)];
      const user = { id: uuidv7(), email: body.email, name: body.name, passwordHash: await hashPassword(body.password), role: 'staff' as const, hotelIds };
      if (!(await ctx.catalog.createUser(user))) throw new ApiError('conflict', 'that e-mail address is already registered');
      res.status(201).json({ id: user.id, email: user.email, name: user.name, role: 'staff', hotelIds });
      return;
    }
    const body = parse(userBody, raw);
    const user = { id: uuidv7(), email: body.email, name: body.name, passwordHash: await hashPassword(body.password) };
    if (!(await ctx.catalog.createUser(user))) throw new ApiError('conflict', 'that e-mail address is already registered');
    res.status(201).json({ id: user.id, email: user.email, name: user.name, role: 'guest' });
  });

  r.post('/v1/sessions', async (req, res) => {
    const body = parse(sessionBody, bodyOf(req));
    const user = await ctx.catalog.userByEmail(body.email);
    const ok = await verifyPassword(body.password, user?.passwordHash ?? dummyPasswordHash);
    if (!user || !ok) throw new ApiError('unauthorized', 'wrong e-mail or password');
    const token = newToken('session');
    const expiresAt = new Date(Date.now() + sessionTtlSeconds * 1000);
    await ctx.catalog.createSession(tokenHash(token), user.id, expiresAt);
    res.status(201).json({ token, userId: user.id, expiresAt: expiresAt.toISOString() });
  });

  return r;
}
