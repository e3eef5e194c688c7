// An answer as data: status, JSON body, extra headers. Routes that are served both by Express and by the fast path
// (fast-path.ts) compute an Answer, and one function writes it to any Node response, Express's included, so that the
// two transports cannot answer differently.
import type { ServerResponse } from 'node:http';

export interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Write an answer as Express's `res.status(s).json(body)` does (same Content-Type, Content-Length, no ETag). */
export function writeAnswer(res: ServerResponse, a: Answer): void {
  const text = JSON.stringify(a.body);
  res.statusCode = a.status;
  if (a.headers) for (const k in a.headers) res.setHeader(k, a.headers[k]);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
