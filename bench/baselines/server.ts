// A lock-based baseline server: the `POST /v1/reservations` contract of API.md over Express and pg, with one of
// the three concurrency strategies of seeds/002 (pessimistic, optimistic, constraint).
//
//   node dist/bench/baselines/server.js --strategy pessimistic|optimistic|constraint --port 4100 \
//     --database postgres://user@127.0.0.1:5432/bench_base_x [--pool-size 20]

import http from 'node:http';
import { parseArgs } from 'node:util';
import express, { type NextFunction, type Request, type Response } from 'express';
import pg from 'pg';
import { pgConfig } from '../postgres.js';
import { reserveWithConstraint } from './constraint.js';
import { reserveOptimistic } from './optimistic.js';
import { reservePessimistic } from './pessimistic.js';
import {
  isDatabaseError,
  parseReservationRequest,
  retryCounters,
  type Outcome,
  type ReserveFn,
} from './reservation-contract.js';

const strategies: Record<string, ReserveFn> = {
  pessimistic: reservePessimistic,
  optimistic: reserveOptimistic,
  constraint: reserveWithConstraint,
};
type StrategyName = 'pessimistic' | 'optimistic' | 'constraint';

const bodyBytesMax = 1024 * 1024;
const poolSizeDefault = 20;
/** Longer than any client's idle keep-alive, so the server never closes a socket a client is about to reuse. */
const keepAliveTimeoutMs = 65_000;
const shutdownGraceMs = 5_000;

function sendError(res: Response, status: number, code: string, message: string, details?: unknown): void {
  res.status(status).json({ error: { code, message, ...(details ? { details } : {}) } });
}

function sendOutcome(res: Response, outcome: Outcome): void {
  switch (outcome.kind) {
    case 'created':
      res.status(201).json(outcome.reservation);
      return;
    case 'existing':
      res.status(200).json(outcome.reservation);
      return;
    case 'rejected':
      sendError(res, outcome.status, outcome.code, outcome.message, outcome.details);
  }
}

/** SQLSTATE classes that mean "the database is not serving right now", not "the request was wrong". */
function isUnavailable(err: unknown): boolean {
  if (isDatabaseError(err)) {
    const sqlClass = (err.code ?? '').slice(0, 2);
    return sqlClass === '08' || sqlClass === '53' || sqlClass === '57';
  }
  // Socket errors (ECONNREFUSED, ECONNRESET, ETIMEDOUT…) and node-postgres' own connection failures.
  const { code, message } = err as { code?: unknown; message?: unknown };
  return (
    (typeof code === 'string' && code.startsWith('E')) ||
    (typeof message === 'string' && /Connection terminated|timeout exceeded when trying to connect/.test(message))
  );
}

function buildApp(pool: pg.Pool, reserve: ReserveFn): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(express.json({ limit: bodyBytesMax }));

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });

  // Not part of API.md: the benchmark reads what retries cost after a run.
  app.get('/bench/stats', (_req, res) => {
    res.json(retryCounters);
  });

  app.post('/v1/reservations', async (req: Request, res: Response) => {
    const parsed = parseReservationRequest(req.body);
    if (!parsed.ok) {
      sendError(res, 400, 'validation_failed', 'The request body is invalid.', { fields: parsed.problems });
      return;
    }
    try {
      sendOutcome(res, await reserve(pool, parsed.request));
    } catch (err) {
      if (!isUnavailable(err)) throw err; // a bug: let the error handler answer 500 and log it
      sendError(res, 503, 'unavailable', 'The database is unavailable; try again.');
    }
  });

  app.use((_req: Request, res: Response) => sendError(res, 404, 'not_found', 'No such route.'));

  // Body-parser failures are the client's; anything else reaching here is a bug of this server.
  app.use((err: Error & { type?: string; status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    if (err.type === 'entity.too.large') return sendError(res, 413, 'payload_too_large', 'The body is over 1 MiB.');
    if (err.status && err.status >= 400 && err.status < 500) {
      return sendError(res, 400, 'validation_failed', `The request body could not be read: ${err.message}`);
    }
    console.error('baseline: unexpected error', err);
    sendError(res, 500, 'internal', 'Internal error.');
  });
  return app;
}

function parseCommandLine() {
  const { values } = parseArgs({
    options: {
      strategy: { type: 'string' },
      port: { type: 'string' },
      database: { type: 'string' },
      'pool-size': { type: 'string', default: String(poolSizeDefault) },
    },
  });
  const usage = 'usage: server.js --strategy pessimistic|optimistic|constraint --port N --database URL [--pool-size N]';
  const strategy = values.strategy ?? '';
  const port = Number(values.port);
  const poolSize = Number(values['pool-size']);
  if (!(strategy in strategies) || !Number.isInteger(port) || port <= 0 || !values.database) throw new Error(usage);
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 500) throw new Error(`bad --pool-size; ${usage}`);
  return { strategy: strategy as StrategyName, port, database: values.database, poolSize };
}

async function main(): Promise<void> {
  const { strategy, port, database, poolSize } = parseCommandLine();
  const pool = new pg.Pool(pgConfig(database, { max: poolSize, idleTimeoutMillis: 0 }));
  pool.on('error', (err) => console.error('baseline: idle connection failed', err.message));

  // Open every connection before serving, so the first requests do not pay for connection set-up.
  const clients = await Promise.all(Array.from({ length: poolSize }, () => pool.connect()));
  clients.forEach((c) => c.release());

  const server = http.createServer(buildApp(pool, strategies[strategy]));
  server.keepAliveTimeout = keepAliveTimeoutMs;
  server.headersTimeout = keepAliveTimeoutMs + 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', backlog: 8192 }, resolve);
  });
  console.log(`baseline ${strategy} listening on http://127.0.0.1:${port} (pool ${poolSize})`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`baseline ${strategy}: ${signal}, shutting down`);
    setTimeout(() => process.exit(1), shutdownGraceMs).unref();
    server.close(() => void pool.end().then(() => process.exit(0)));
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
