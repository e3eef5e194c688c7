// The one table that maps every rejection to its HTTP status, and the error middleware that writes the contract's
// error body `{ error: { code, message, details? } }`.
import type { ServerResponse } from 'node:http';
import type { ErrorRequestHandler } from 'express';
import { writeAnswer, type Answer } from './answer.js';
import type { RejectionCode } from '../engine/core/types.js';
import type { Logger } from '../engine/log.js';
import { isRedisUnavailable } from '../engine/redis.js';
import { isConnectionError, isDatabaseTrouble, ShardDatabaseNotMigrated } from '../engine/store/pg.js';

export type ErrorCode =
  | RejectionCode
  | 'unauthorized'
  | 'forbidden'
  | 'payment_declined'
  | 'payload_too_large'
  | 'rate_limited'
  | 'unavailable'
  | 'internal_error';

export const httpStatusOf: Record<ErrorCode, number> = {
  validation_failed: 400,
  unauthorized: 401,
  payment_declined: 402,
  forbidden: 403,
  not_found: 404,
  sold_out: 409,
  conflict: 409,
  invalid_status: 409,
  hold_expired: 409,
  inventory_below_reserved: 409,
  payload_too_large: 413,
  idempotency_mismatch: 422,
  rate_limited: 429,
  internal_error: 500,
  unavailable: 503,
};

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    // An ApiError is an answer (sold_out, validation_failed, …), never logged with its stack: capturing one would
    // cost more than the rest of a busy rejection's work.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }
}

/** The contract's answer for an error: its status, `{ error: { code, message, details? } }`, and its headers. */
export function errorAnswer(err: ApiError): Answer {
  const body: { code: string; message: string; details?: Record<string, unknown> } = { code: err.code, message: err.message };
  if (err.details) body.details = err.details;
  return { status: httpStatusOf[err.code], body: { error: body }, headers: err.headers };
}

export function sendError(res: ServerResponse, err: ApiError): void {
  writeAnswer(res, errorAnswer(err));
}

export const notFound = (what: string) => new ApiError('not_found', `${what} not found`);

/** A reservation whose hotel was deleted can no longer change (its writer no longer knows the hotel). */
export const hotelDeleted = (status: string) =>
  new ApiError('invalid_status', `the hotel was deleted; the reservation can no longer change (status ${status})`, { status });

/**
 * What anything thrown while serving a request becomes: an ApiError as it is; Express's own errors (body parser) and
 * unreachable stores as contract errors; anything else is a bug, logged, and a 500.
 */
export function apiErrorOf(log: Logger, err: unknown, method: string, path: string, requestId?: string): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as { type?: string; status?: number; message?: string };
  if (e.type === 'entity.too.large' || e.status === 413) return new ApiError('payload_too_large', 'the request body is too large');
  if (e.type === 'entity.parse.failed') return malformedJson();
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    // The contract's validation_failed names each bad field: here the part of the request the parser refused.
    const message = e.message ?? 'bad request';
    return new ApiError('validation_failed', message, { fields: [{ field: requestPartOf(err), message }] });
  }
  if (err instanceof ShardDatabaseNotMigrated) {
    log.error('a registered shard database is not migrated', { method, path, requestId, database: err.database });
    return new ApiError('unavailable', `${err.message}: an operator has to migrate it`, undefined, { 'Retry-After': '30' });
  }
  // Postgres or Redis could not be reached: nothing is wrong with the request; it can be sent again (every write
  // is idempotent on its key).
  if (isConnectionError(err) || isRedisUnavailable(err) || isDatabaseTrouble(err)) {
    log.warn('a store is unreachable', { method, path, requestId, err: e.message });
    return new ApiError('unavailable', 'a database or the queue is unreachable; try again', undefined, { 'Retry-After': '1' });
  }
  log.error('unhandled error', { method, path, requestId, err });
  return new ApiError('internal_error', 'an internal error occurred');
}


/** The part of the request that Express's router (a path escape) or body-parser (the body's framing) refused. */
function requestPartOf(err: unknown): string {
  if (err instanceof URIError) return 'path';
  const type = (err as { type?: string }).type;
  if (type === 'charset.unsupported') return 'Content-Type';
  if (type === 'encoding.unsupported') return 'Content-Encoding';
  return 'body';
}

/** The body parser refused the body: malformed JSON, or a bare value (`null`, `"x"`, `1`) where an object goes. */
export const malformedJson = () =>
  new ApiError('validation_failed', 'the body is not a JSON object (malformed JSON, or a bare value such as null)', {
    fields: [{ field: 'body', message: 'must be a JSON object' }],
  });

export function errorMiddleware(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (res.headersSent) return;
    sendError(res, apiErrorOf(log, err, req.method, req.path, req.requestId));
  };
}
