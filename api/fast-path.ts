// The busiest route before Express. `POST /v1/reservations` is most of a booking site's writes; Express's router,
// its middleware chain and body-parser cost more CPU per request than the engine's own work for it (about 0.3 ms of
// the API's CPU per request, against about 0.06 ms here; bench/README.md). So the HTTP server hands that route, in
// its common shape, to this function, and everything else to Express.
//
// Nothing is decided twice: the caller is resolved by the same Authenticator (rate limit included), the body goes
// to the same `createReservation` as the Express route's, errors map through the same `apiErrorOf`, and the answer
// is written by the same `writeAnswer`. What this path does itself is what Express's middleware would: read the
// body, parse it as strict JSON, time the request for /metrics. Which requests it takes is decided from the request
// line and headers alone, before a byte of the body is read; any other shape of the request (a query string, a
// charset or media type other than UTF-8 JSON, a compressed or chunked body, an empty or oversized one) goes to
// Express untouched, which answers it exactly as before. test/integration/fast-path.test.ts sends the same requests
// both ways and compares the answers.
import type { IncomingMessage, RequestListener } from 'node:http';
import { bodyBytesMax } from '../engine/limits.js';
import { writeAnswer, type Answer } from './answer.js';
import type { Principal } from './auth.js';
import { withRole } from './auth.js';
import type { ApiContext } from './context.js';
import { beginRequest } from './request-id.js';
import { apiErrorOf, errorAnswer, malformedJson } from './errors.js';
import { createReservation, createRoles } from './routes/reservations.js';

const route = '/v1/reservations';
const jsonUtf8 = /^application\/json\s*(?:;\s*charset\s*=\s*(?:utf-8|"utf-8")\s*)?$/i;

/** Whether the fast path takes this request, from its request line and headers only. */
function takesFastPath(req: IncomingMessage): boolean {
  if (req.method !== 'POST' || req.url !== route) return false;
  const h = req.headers;
  const length = Number(h['content-length']);
  return length > 0 && length <= bodyBytesMax && !h['content-encoding'] && !h['transfer-encoding'] && jsonUtf8.test(h['content-type'] ?? '');
}

/** The request listener: the fast path for the requests it takes, `app` (Express) for all others. */
export function withFastPath(ctx: ApiContext, app: RequestListener): RequestListener {
  return (req, res) => {
    if (!takesFastPath(req)) return void app(req, res);
    const caller: { principal?: Principal } = {};
    const requestId = beginRequest(ctx.accessLog, ctx.metrics, req, res, () => ({ route, path: route, principal: caller.principal?.kind ?? 'none' }));
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void answerOf(ctx, req, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), requestId, caller).then((a) => {
        if (res.headersSent || res.destroyed) return;
        writeAnswer(res, a);
        ctx.metrics.count('http_fast_path_requests_total');
      });
    });
  };
}

async function answerOf(ctx: ApiContext, req: IncomingMessage, raw: Buffer, requestId: string, caller: { principal?: Principal }): Promise<Answer> {
  try {
    // The order of Express's chain: who is calling (401, 429), then the route's role check (401, 403), then the body.
    const header = req.headers.authorization;
    caller.principal = header === undefined ? undefined : await ctx.auth.authenticate(header);
    const p = withRole(caller.principal, createRoles);
    return await createReservation(ctx, p, strictJson(raw), requestId);
  } catch (err) {
    return errorAnswer(apiErrorOf(ctx.log, err, 'POST', route, requestId));
  }
}

/** JSON as `express.json({ strict: true })` reads it: UTF-8 (a BOM dropped), an object or an array, else 400. */
function strictJson(raw: Buffer): unknown {
  let text = raw.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformedJson();
  }
  if (typeof value !== 'object' || value === null) throw malformedJson();
  return value;
}
