// The Express application: body limits, auth, routes, static web pages, and one error mapping.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express, type Request, type RequestHandler } from 'express';
import { consume, rateLimiter } from './auth.js';
import { batchBodyBytesMax, bodyBytesMax } from '../engine/limits.js';
import type { ApiContext } from './context.js';
import { docsAssets } from './docs-page.js';
import { ApiError, errorMiddleware, malformedJson, sendError } from './errors.js';
import { beginRequest } from './request-id.js';
import { availabilityRoutes } from './routes/availability.js';
import { batchRoutes } from './routes/batches.js';
import { hotelRoutes } from './routes/hotels.js';
import { identityRoutes } from './routes/identity.js';
import { healthRoutes, operationRoutes } from './routes/operations.js';
import { notificationRoutes } from './routes/notifications.js';
import { reservationRoutes } from './routes/reservations.js';

const webRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web');

/**
 * Routes limited per client address (sign-ups and sign-ins: guessing passwords), whatever token comes with them but
 * the admin's (which creates staff users): a guest token costs one sign-up, so it must not lift the limit.
 */
const limitedByAddress = new Set(['/v1/users', '/v1/sessions']);

/** ADDRESS_RATE_LIMIT_PER_MINUTE on POST /v1/users and POST /v1/sessions, across every API process. */
function addressLimit(ctx: ApiContext): RequestHandler {
  const perMinute = ctx.config.addressRateLimitPerMinute;
  const limiter = perMinute > 0 ? rateLimiter(ctx.rateLimits, 'address', perMinute, 60) : undefined;
  return (req, _res, next) => {
    if (!limiter || req.method !== 'POST' || req.principal?.kind === 'admin' || !limitedByAddress.has(req.path)) return next();
    consume(limiter, req.ip ?? req.socket.remoteAddress ?? 'unknown', `${perMinute} requests per minute from one address`, () =>
      ctx.metrics.process.rateLimited.inc({ limit: 'address' }),
    ).then(() => next(), next);
  };
}

export function createApp(ctx: ApiContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  if (ctx.config.trustProxyHops > 0) app.set('trust proxy', ctx.config.trustProxyHops);

  // First: the request's id (X-Request-Id) on every answer, and its latency and access log line when it ends.
  app.use((req, res, next) => {
    req.requestId = beginRequest(ctx.accessLog, ctx.metrics, req, res, () => ({
      // Never the path itself: paths are the client's to choose, and each label value is a series kept forever.
      route: (req.route?.path as string | undefined) ?? (res.statusCode === 404 ? 'unmatched' : 'unrouted'),
      path: req.path,
      principal: req.principal?.kind ?? 'none',
    }));
    next();
  });

  const json = express.json({
    limit: bodyBytesMax,
    strict: true,
    type: ['application/json', 'application/*+json'],
    // An empty body is not JSON. The parser would make it {}, which an update whose fields are all optional accepts
    // as a valid change of nothing (and a new version).
    verify: (req, _res, raw) => {
      if (raw.length === 0) (req as Request).bodyError = malformedJson();
    },
  });
  // Batches are read raw: a worker thread parses them, so that a 16 MiB body never blocks the event loop.
  const bigJson = express.raw({ limit: batchBodyBytesMax, type: ['application/json', 'application/*+json'] });
  app.use(healthRoutes(ctx));
  app.use(ctx.auth.middleware());
  app.use(addressLimit(ctx));
  // Malformed JSON is reported when the route reads its body, after the route has checked who is calling, so
  // that a write without a token is a 401 whatever its body. A body over the limit is 413 whatever its type (only
  // JSON is read, and measured as it is read; the others are measured by their Content-Length).
  app.use((req, res, next) => {
    const max = req.path === '/v1/batches' ? batchBodyBytesMax : bodyBytesMax;
    if (Number(req.headers['content-length'] ?? 0) > max) return sendError(res, new ApiError('payload_too_large', 'the request body is too large'));
    (req.path === '/v1/batches' ? bigJson : json)(req, res, (err?: unknown) => {
      if ((err as { type?: string } | undefined)?.type === 'entity.parse.failed') {
        req.bodyError = err;
        return next();
      }
      next(err);
    });
  });

  // The busiest routes first: Express tries routers in order.
  app.use(reservationRoutes(ctx));
  app.use(availabilityRoutes(ctx));
  app.use(batchRoutes(ctx));
  app.use(hotelRoutes(ctx));
  app.use(identityRoutes(ctx));
  app.use(operationRoutes(ctx));
  app.use(notificationRoutes(ctx));

  app.use('/v1', (_req, res) => sendError(res, new ApiError('not_found', 'no such route')));
  app.use('/docs/assets', docsAssets);
  app.use(express.static(webRoot, { index: 'index.html', maxAge: 0 }));
  app.use((_req, res) => sendError(res, new ApiError('not_found', 'no such route')));
  app.use(errorMiddleware(ctx.log));
  return app;
}
