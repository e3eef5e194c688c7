import type { Request } from 'express';
import type { z } from 'zod';
import { issueFields, uuidSchema } from '../schemas/http.js';
import { ApiError, malformedJson } from './errors.js';

/** Parse a value with a schema, or throw 400 `validation_failed` listing each bad field and why. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where = 'body'): z.output<S> {
  const r = schema.safeParse(value === undefined && where === 'body' ? undefined : value);
  if (r.success) return r.data;
  const fields = issueFields(r.error.issues, where);
  const summary = fields.map((f) => `${f.field}: ${f.message}`).join('; ');
  throw new ApiError('validation_failed', `invalid ${where}: ${summary}`, { fields });
}

/** A path id must be a UUID; anything else is a 400 naming the parameter. */
export function pathId(value: string | undefined, name: string): string {
  const r = uuidSchema.safeParse(value);
  if (!r.success) {
    throw new ApiError('validation_failed', `${name}: must be a UUID`, { fields: [{ field: name, message: 'must be a UUID' }] });
  }
  return r.data;
}

declare module 'express-serve-static-core' {
  interface Request {
    bodyError?: unknown;
  }
}

/**
 * The parsed JSON body, or 400 when it was not valid JSON, or when a body came with another Content-Type (only JSON
 * is read: such a body would otherwise read as missing).
 */
export function bodyOf(req: Request): unknown {
  if (req.bodyError) {
    throw malformedJson();
  }
  if (req.body === undefined && (Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined)) {
    const message = 'must be sent with Content-Type: application/json';
    throw new ApiError('validation_failed', `body: ${message} (it came as ${req.headers['content-type'] || 'no Content-Type'})`, { fields: [{ field: 'body', message }] });
  }
  return req.body;
}
