// X-Request-Id and the access log. A request's id is the X-Request-Id it was sent with when that is 1..128 characters
// of [A-Za-z0-9._-], else a new UUID; it is returned on every answer, written in the request's access log line, and
// travels with the commands it queues into the log lines of the worker that decides them.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../engine/log.js';
import type { Metrics } from './metrics.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** This request's id (X-Request-Id), set before anything else runs. */
    requestId?: string;
  }
}

const acceptable = /^[A-Za-z0-9._-]{1,128}$/;

/** The id of a request: its X-Request-Id when acceptable, else a new UUID. */
export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && acceptable.test(header) ? header : randomUUID();
}

/**
 * Start serving a request: its id is chosen and set on the answer now (so that every answer has it, errors and
 * refusals included), and once the answer is written (or the client went away) its latency goes to the metrics
 * and one access log line is written. `seen` is asked then for the route pattern and the caller's kind.
 */
export function beginRequest(
  log: Logger,
  metrics: Metrics,
  req: IncomingMessage,
  res: ServerResponse,
  seen: () => { route: string; path: string; principal: string },
): string {
  const started = process.hrtime.bigint();
  const id = requestIdOf(req.headers['x-request-id']);
  res.setHeader('X-Request-Id', id);
  res.once('close', () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const s = seen();
    const method = req.method ?? 'GET';
    metrics.observeRequest(s.route, method, res.statusCode, seconds);
    if (log.enabled('info')) {
      log.info('request', {
        method,
        path: s.path,
        status: res.statusCode,
        ms: Math.round(seconds * 1e4) / 10,
        requestId: id,
        principal: s.principal,
        ...(res.writableFinished ? {} : { aborted: true }),
      });
    }
  });
  return id;
}
