// The Express application: body limits, auth, routes, static web pages, and one error mapping.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express, type Request } from 'express';
import { batchBodyBytesMax, bodyBytesMax } from '../engine/limits.js';
import type { ApiContext } from './context.js';
import { ApiError, errorMiddleware, malformedJson, sendError } from './errors.js';
import { availabilityRoutes } from './routes/availability.js';
import { batchRoutes } from './routes/batches.js';
import { hotelRoutes } from './routes/hotels.js';
import { identityRoutes } from './routes/identity.js';
import { operationRoutes } from './routes/operations.js';
import { notificationRoutes } from './routes/notifications.js';
import { reservationRoutes } from './routes/reservations.js';

const webRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web');

export function createApp(ctx: ApiContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route?.path as string | undefined) ?? (res.statusCode === 404 ? 'unmatched' : req.path);
      ctx.metrics.observeRequest(route, req.method, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9);
    });
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
  app.use(ctx.auth.middleware());
  // Malformed JSON is reported when the route reads its body, after the route has checked who is calling, so
  // that a write without a token is a 401 whatever its body.
  app.use((req, res, next) =>
    (req.path === '/v1/batches' ? bigJson : json)(req, res, (err?: unknown) => {
      if ((err as { type?: string } | undefined)?.type === 'entity.parse.failed') {
        req.bodyError = err;
        return next();
      }
      next(err);
    }),
  );

  // The busiest routes first: Express tries routers in order.
  app.use(reservationRoutes(ctx));
  app.use(availabilityRoutes(ctx));
  app.use(batchRoutes(ctx));
  app.use(hotelRoutes(ctx));
  app.use(identityRoutes(ctx));
  app.use(operationRoutes(ctx));
  app.use(notificationRoutes(ctx));

  app.use('/v1', (_req, res) => sendError(res, new ApiError('not_found', 'no such route')));
  app.use(express.static(webRoot, { index: 'index.html', maxAge: 0 }));
  app.use((_req, res) => sendError(res, new ApiError('not_found', 'no such route')));
  app.use(errorMiddleware(ctx.log));
  return app;
}
