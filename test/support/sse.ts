// A small Server-Sent Events client over node:http for tests: parses `event:`, `id:`, `data:`, `retry:` and comment
// lines, sends `Last-Event-ID` when asked, and records when each event and comment arrived.
import http from 'node:http';

export interface SseEvent {
  /** `message` when the server sent no `event:` field. */
  event: string;
  id: string | undefined;
  data: string;
  /** performance.now() when the blank line that ends the event arrived. */
  at: number;
}

export interface SseComment {
  text: string;
  at: number;
}

export interface SseOpenOptions {
  lastEventId?: string | number;
  headers?: Record<string, string>;
  /** How long to wait for the response headers. */
  timeoutMs?: number;
}

export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: SseComment[] = [];
  retry: number | undefined;
  /** Set once the server ends the response or the socket fails. */
  ended = false;
  private req: http.ClientRequest | undefined;
  private res: http.IncomingMessage | undefined;
  private buffer = '';
  private pending: { event?: string; id?: string; data: string[] } = { data: [] };
  private waiters: (() => void)[] = [];

  private constructor(
    readonly status: number,
    readonly headers: http.IncomingHttpHeaders,
  ) {}

  /**
   * Open a stream. A 200 `text/event-stream` answer gives a client that is reading; any other answer gives a
   * client whose `body` holds the (JSON-parsed when possible) body and which reads nothing more.
   */
  static open(url: string, o: SseOpenOptions = {}): Promise<SseClient & { body?: any }> {
    const headers: Record<string, string> = { accept: 'text/event-stream', ...o.headers };
    if (o.lastEventId !== undefined) headers['last-event-id'] = String(o.lastEventId);
    return new Promise((resolve, reject) => {
      const req = http.get(url, { headers, agent: false }, (res) => {
        clearTimeout(timer);
        const c = new SseClient(res.statusCode ?? 0, res.headers) as SseClient & { body?: any };
        c.req = req;
        c.res = res;
        res.setEncoding('utf8');
        if (res.statusCode !== 200 || !String(res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
          let text = '';
          res.on('data', (d: string) => (text += d));
          res.on('end', () => {
            try {
              c.body = JSON.parse(text);
            } catch {
              c.body = text;
            }
            c.ended = true;
            resolve(c);
          });
          return;
        }
        res.on('data', (d: string) => c.feed(d));
        const end = () => {
          c.ended = true;
          c.wake();
        };
        res.on('end', end);
        res.on('close', end);
        res.on('error', end);
        resolve(c);
      });
      const timer = setTimeout(() => req.destroy(new Error(`no response from ${url} within ${o.timeoutMs ?? 10_000} ms`)), o.timeoutMs ?? 10_000);
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** Events of one type (`availability`, `reset`, …). */
  of(type: string): SseEvent[] {
    return this.events.filter((e) => e.event === type);
  }

  /** The id of the last event that carried one (what a browser would send as Last-Event-ID). */
  get lastEventId(): string | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i].id !== undefined) return this.events[i].id;
    return undefined;
  }

  /** Wait until `check` holds over what was received (checked after every event and comment). */
  async until(what: string, check: (c: SseClient) => boolean, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check(this)) {
      const left = deadline - Date.now();
      if (left <= 0 || this.ended) {
        if (check(this)) return;
        throw new Error(
          `${this.ended ? 'stream ended' : 'timed out'} waiting for ${what}; got events ${JSON.stringify(this.events.map((e) => ({ event: e.event, id: e.id })))}`,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, left);
        function done() {
          clearTimeout(t);
          resolve();
        }
        this.waiters.push(done);
      });
    }
  }

  /** Wait for at least `n` events of a type. */
  untilCount(type: string, n: number, timeoutMs = 5_000): Promise<void> {
    return this.until(`${n} '${type}' events`, (c) => c.of(type).length >= n, timeoutMs);
  }

  close(): void {
    this.res?.destroy();
    this.req?.destroy();
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, nl);
      const sep = this.buffer[nl] === '\r' && this.buffer[nl + 1] === '\n' ? 2 : 1;
      // A lone '\r' at the very end may be the first half of '\r\n': wait for more.
      if (this.buffer[nl] === '\r' && nl + 1 === this.buffer.length) break;
      this.buffer = this.buffer.slice(nl + sep);
      this.line(line);
    }
    this.wake();
  }

  private line(line: string): void {
    const at = performance.now();
    if (line === '') {
      const p = this.pending;
      this.pending = { data: [] };
      if (p.data.length === 0 && p.event === undefined && p.id === undefined) return;
      this.events.push({ event: p.event ?? 'message', id: p.id, data: p.data.join('\n'), at });
      return;
    }
    if (line.startsWith(':')) {
      this.comments.push({ text: line.slice(1).trimStart(), at });
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.pending.event = value;
    else if (field === 'data') this.pending.data.push(value);
    else if (field === 'id') this.pending.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
  }
}
