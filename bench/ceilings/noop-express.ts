// The HTTP ceiling: an Express server that does no work at all. It parses the same JSON body as the engine
// (express.json()) and answers every `POST /v1/reservations` with 201 and a small JSON object, so that the hot
// load against it measures what Node, Express and the load generator cost on this machine, and nothing else.
//
//   node dist/bench/ceilings/noop-express.js --port 4100

import http from 'node:http';
import { parseArgs } from 'node:util';
import express from 'express';

const { values } = parseArgs({ options: { port: { type: 'string' } } });
const port = Number(values.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write('usage: noop-express.js --port N\n');
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

// Same keep-alive setting as the engine's API and the baselines: idle sockets outlive the load generator's.
const server = http.createServer({ keepAliveTimeout: 65_000 }, app);
server.listen(port, '127.0.0.1');
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
