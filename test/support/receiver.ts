// A webhook receiver for tests: node:http on a free port, recording every request, answering as a test says, and
// checking both signatures with its own implementation (not the notifier's).
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: any;
  at: number;
}

export class Receiver {
  readonly received: Received[] = [];
  /** Answer for a request (status, headers); 200 by default. A test replaces it. */
  answer: (r: Received) => { status: number; headers?: Record<string, string>; delayMs?: number } = () => ({ status: 200 });
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      const r: Received = { path: req.url ?? '', headers: req.headers, raw, body, at: Date.now() };
      this.received.push(r);
      const a = this.answer(r);
      const send = () => {
        res.writeHead(a.status, a.headers ?? {});
        res.end();
      };
      if (a.delayMs) setTimeout(send, a.delayMs);
      else send();
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  on(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }
}

/** Both signatures (API.md), checked independently of the notifier's code. */
export function signaturesValid(secret: string, r: Received): { xSignature: boolean; standard: boolean } {
  const x = String(r.headers['x-signature'] ?? '');
  const expectX = 'sha256=' + createHmac('sha256', Buffer.from(secret, 'utf8')).update(Buffer.from(r.raw, 'utf8')).digest('hex');
  const id = String(r.headers['webhook-id'] ?? '');
  const ts = String(r.headers['webhook-timestamp'] ?? '');
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const signed = `${id}.${ts}.${r.raw}`;
  const expected = createHmac('sha256', key).update(signed).digest();
  // Standard Webhooks: a space-separated list of "v1,<base64>" signatures; any one may match.
  const standard = String(r.headers['webhook-signature'] ?? '')
    .split(' ')
    .some((s) => {
      const [v, b64] = s.split(',');
      const got = Buffer.from(b64 ?? '', 'base64');
      return v === 'v1' && got.length === expected.length && timingSafeEqual(got, expected);
    });
  return { xSignature: x === expectX, standard };
}
