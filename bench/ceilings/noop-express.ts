// The HTTP ceilings: a server that does no work at all. It parses the same JSON body as the engine and answers
// every `POST /v1/reservations` with 201 and a small JSON object, so that the hot load against it measures what
// Node, the framework and the load generator cost on this machine, and nothing else. By default it is an Express
// app (express.json()), the ceiling issue 3's target is stated against; with `--plain` it is Node's own http
// server, reading and parsing the body itself: the ceiling of the engine's fast path, which serves
// `POST /v1/reservations` before Express (api/fast-path.ts), reported beside it so that neither ratio hides the other.
//
//   node dist/bench/ceilings/noop-express.js --port 4100 [--plain]

import http from 'node:http';
import { parseArgs } from 'node:util';
import express from 'express';

const { values } = parseArgs({ options: { port: { type: 'string' }, plain: { type: 'boolean' } } });
const port = Number(values.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write('usage: noop-express.js --port N [--plain]\n');
  process.exit(2);
}

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.use(express.json({ limit: 1024 * 1024 }));
app.get('/healthz', (_req, res) => {
  res.json({ ok: true });
});
app.post('/v1/reservations', (req, res) => {
  const body = req.body as { reservationId?: unknown };
  res.status(201).json({ id: typeof body?.reservationId === 'string' ? body.reservationId : null, status: 'pending' });
});

const answer = (res: http.ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
};

/** The same server without Express: what Node's HTTP layer alone costs. */
const plain: http.RequestListener = (req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') return answer(res, 200, { ok: true });
  if (req.method !== 'POST' || req.url !== '/v1/reservations') return answer(res, 404, { error: 'not found' });
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let body: { reservationId?: unknown } | undefined;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { reservationId?: unknown };
    } catch {
      return answer(res, 400, { error: 'malformed JSON' });
    }
    answer(res, 201, { id: typeof body?.reservationId === 'string' ? body.reservationId : null, status: 'pending' });
  });
};

// Same keep-alive setting as the engine's API and the baselines: idle sockets outlive the load generator's.
const server = http.createServer({ keepAliveTimeout: 65_000 }, values.plain ? plain : app);
server.listen(port, '127.0.0.1');
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
