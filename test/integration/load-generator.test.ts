// The benchmark's load generator speaks HTTP/1.1 itself (bench/load.ts): check it reads every framing a server may
// use, keeps its connections alive, reconnects after `Connection: close`, and times out a silent server.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { runLoad, type LoadSample } from '../../bench/load.js';

describe('bench load generator', function () {
  this.timeout(30_000);
  let server: http.Server;
  let baseUrl: string;
  const connections = new Set<unknown>();
  const received: { method: string; path: string; body: string; auth?: string }[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        received.push({ method: req.method ?? '', path: req.url ?? '', body, auth: req.headers.authorization });
        switch (req.url) {
          case '/created': {
            const text = JSON.stringify({ echo: body });
            res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
            res.end(text);
            return;
          }
          case '/sold-out':
            res.writeHead(409, { 'content-type': 'application/json' });
            // No content-length: node sends it chunked, in two chunks here.
            res.write('{"error":{"code":"sold_');
            setTimeout(() => res.end('out","message":"ünïcødé"}}'), 5);
            return;
          case '/close':
            res.writeHead(200, { connection: 'close', 'content-length': '2' });
            res.end('ok');
            return;
          case '/no-content':
            res.writeHead(204);
            res.end();
            return;
          default:
            // Never answers: the client's timeout ends it.
            return;
        }
      });
    });
    server.on('connection', (s) => connections.add(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('reads Content-Length, chunked and empty answers, error codes and bodies, over kept-alive connections', async () => {
    const paths = ['/created', '/sold-out', '/no-content'];
    const samples: LoadSample[] = [];
    connections.clear();
    received.length = 0;
    const result = await runLoad({
      baseUrl,
      concurrency: 3,
      count: 60,
      headers: { authorization: 'Bearer t' },
      next: (i) => ({ method: 'POST', path: paths[i % 3], body: { i, name: 'é"\\' } }),
      keepBodies: true,
      onSample: (s) => samples.push(s),
    });
    expect(result.count).to.equal(60);
    expect(result.statuses).to.deep.equal({ '201': 20, '409': 20, '204': 20 });
    expect(result.outcomes).to.deep.equal({ '201': 20, '409 sold_out': 20, '204': 20 });
    // Three clients, three connections for sixty requests.
    expect(connections.size).to.equal(3);
    expect(received.every((r) => r.auth === 'Bearer t')).to.equal(true);
    for (const s of samples) {
      const sent = JSON.stringify({ i: s.index, name: 'é"\\' });
      if (s.index % 3 === 0) expect(JSON.parse(s.body as string)).to.deep.equal({ echo: sent });
      if (s.index % 3 === 1) expect(JSON.parse(s.body as string)).to.deep.equal({ error: { code: 'sold_out', message: 'ünïcødé' } });
      if (s.index % 3 === 2) expect(s.body).to.equal('');
    }
    expect(received.filter((r) => r.path === '/created').map((r) => JSON.parse(r.body).i).sort((a, b) => a - b)).to.deep.equal(
      Array.from({ length: 20 }, (_, k) => 3 * k),
    );
  });

  it('opens a new connection after `Connection: close`, and a silent server times out as status 0', async () => {
    connections.clear();
    const closing = await runLoad({ baseUrl, concurrency: 2, count: 10, next: () => ({ path: '/close' }) });
    expect(closing.statuses).to.deep.equal({ '200': 10 });
    expect(connections.size).to.equal(10);
    const silent = await runLoad({ baseUrl, concurrency: 2, count: 2, requestTimeoutMs: 200, next: () => ({ path: '/silent' }) });
    expect(silent.outcomes).to.deep.equal({ '0 timeout': 2 });
  });
});
