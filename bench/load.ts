// A closed-loop HTTP load generator: `concurrency` virtual clients, each sending its next request as soon as
// the previous one is answered, over keep-alive connections (one socket per client, a minimal HTTP/1.1 client). It stops by itself: after
// `count` requests, at the end of `durationMs`, or at `maxDurationMs` whichever comes first, and every request
// has its own timeout, so a stuck server cannot hang a run.

import net from 'node:net';
import { performance } from 'node:perf_hooks';

export interface LoadRequest {
  method?: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** One answered (or failed) request, for callers that want more than the summary. */
export interface LoadSample {
  index: number;
  /** HTTP status, or 0 when no answer came (connection error, timeout). */
  status: number;
  /** `error.code` of an error body, the socket error code, or 'timeout'. */
  code?: string;
  /** When the request was sent and answered, in ms since the run began. */
  startMs: number;
  endMs: number;
  body?: string;
}

export interface LoadOptions {
  baseUrl: string;
  /** Virtual clients, and keep-alive sockets (maxSockets = concurrency). */
  concurrency: number;
  /** The request with this index, or undefined when there are no more. */
  next: (index: number) => LoadRequest | undefined;
  /** Total requests; with durationMs, whichever ends first. At least one of the two is required. */
  count?: number;
  durationMs?: number;
  /** Hard stop of the whole run (default: durationMs + 30 s, else 120 s). */
  maxDurationMs?: number;
  /** Per-request timeout (default 30 s); a timed-out request counts as status 0, code 'timeout'. */
  requestTimeoutMs?: number;
  /** Headers sent with every request (auth, for instance). */
  headers?: Record<string, string>;
  /**
   * Open every client's connection before the clock starts, with one GET of this path (e.g. '/healthz'), so
   * that a burst scenario measures the decisions rather than thousands of simultaneous TCP and HTTP set-ups.
   */
  preconnectPath?: string;
  /** Called for every completed request; `keepBodies` adds the response text. */
  onSample?: (sample: LoadSample) => void;
  keepBodies?: boolean;
}

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export interface LoadResult {
  /** Requests completed (answered or failed). */
  count: number;
  durationMs: number;
  /** Completed requests per second over durationMs. */
  throughput: number;
  /** By HTTP status ('201', '409', …; '0' for no answer). */
  statuses: Record<string, number>;
  /** By status and error code ('409 sold_out', '0 timeout', '201'). */
  outcomes: Record<string, number>;
  /** Latency of answered requests, in ms. */
  latencyMs: LatencySummary;
  /** First and last completion per status, in ms since the start (flash: when the last room went). */
  statusTimesMs: Record<string, { first: number; last: number }>;
}

const defaultRequestTimeoutMs = 30_000;
const defaultMaxDurationMs = 120_000;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length) - 1; // nearest rank
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

function summarize(latencies: number[]): LatencySummary {
  const sorted = Float64Array.from(latencies).sort();
  const sum = latencies.reduce((a, b) => a + b, 0);
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.length ? sorted[sorted.length - 1] : 0),
    mean: round(latencies.length ? sum / latencies.length : 0),
  };
}

/** The `error.code` of a JSON error body, if it has one. */
function errorCode(text: string): string | undefined {
  try {
    const code = (JSON.parse(text) as { error?: { code?: unknown } })?.error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

interface Answer {
  status: number;
  code?: string;
  body: string;
}

const crlfcrlf = Buffer.from('\r\n\r\n');
const crlf = Buffer.from('\r\n');
const noBytes = Buffer.alloc(0);

/**
 * One virtual client's keep-alive connection, speaking just enough HTTP/1.1 for the benchmark: a request is written
 * as one buffer, the answer read by Content-Length or chunked encoding (or until the server closes). Node's
 * `http.request` and Agent cost the load generator about 0.06 ms of CPU per request, a third of the 2-core
 * machine's time under the hot load, taken from the servers it measures; this costs a fraction of that.
 */
class Connection {
  private socket: net.Socket | undefined;
  private buf: Buffer = noBytes;
  private waiting: { resolve: (a: Answer) => void; timer: NodeJS.Timeout; wantBody: boolean } | undefined;
  /** Where the head ends (-1: not yet), and the answer's framing once the head is read. */
  private headEnd = -1;
  private status = 0;
  private length = -1;
  private chunked = false;
  private close = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  request(bytes: Buffer, timeoutMs: number, wantBody: boolean): Promise<Answer> {
    return new Promise<Answer>((resolve) => {
      const timer = setTimeout(() => this.fail('timeout'), timeoutMs);
      this.waiting = { resolve, timer, wantBody };
      this.buf = noBytes;
      this.headEnd = -1;
      if (!this.socket) this.connect();
      (this.socket as net.Socket).write(bytes);
    });
  }

  destroy(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private connect(): void {
    const socket = net.connect({ host: this.host, port: this.port, noDelay: true });
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      if (socket !== this.socket) return;
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      this.parse();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (socket === this.socket) this.fail(err.code ?? 'error');
    });
    socket.on('close', () => {
      if (socket !== this.socket) return;
      // A body read until the server closes, or an answer cut off.
      if (this.waiting && this.headEnd >= 0 && this.length < 0 && !this.chunked) this.done(this.buf.subarray(this.headEnd));
      else this.fail('ECONNRESET');
    });
  }

  private fail(code: string): void {
    this.destroy();
    const w = this.waiting;
    if (!w) return;
    this.waiting = undefined;
    clearTimeout(w.timer);
    w.resolve({ status: 0, code, body: '' });
  }

  private done(body: Buffer): void {
    const w = this.waiting;
    if (!w) return;
    this.waiting = undefined;
    clearTimeout(w.timer);
    if (this.close) this.destroy();
    // The body is decoded only where it is used: error codes, and callers that keep bodies.
    const text = w.wantBody || this.status >= 400 ? body.toString('utf8') : '';
    w.resolve({ status: this.status, code: this.status >= 400 ? errorCode(text) : undefined, body: text });
  }

  private parse(): void {
    if (this.headEnd < 0) {
      const at = this.buf.indexOf(crlfcrlf);
      if (at < 0) return;
      this.headEnd = at + 4;
      const lines = this.buf.toString('latin1', 0, at).split('\r\n');
      this.status = Number(lines[0].split(' ')[1]) || 0;
      this.length = -1;
      this.chunked = false;
      this.close = false;
      for (let i = 1; i < lines.length; i++) {
        const colon = lines[i].indexOf(':');
        const name = lines[i].slice(0, colon).trim().toLowerCase();
        const value = lines[i].slice(colon + 1).trim().toLowerCase();
        if (name === 'content-length') this.length = Number(value);
        else if (name === 'transfer-encoding') this.chunked = value.includes('chunked');
        else if (name === 'connection') this.close = value === 'close';
      }
      if (this.chunked) this.length = -1;
      // Answers without a body.
      if (this.status === 204 || this.status === 304 || (this.status >= 100 && this.status < 200)) this.length = 0;
    }
    if (this.length >= 0) {
      if (this.buf.length >= this.headEnd + this.length) this.done(this.buf.subarray(this.headEnd, this.headEnd + this.length));
      return;
    }
    if (this.chunked) {
      const parts: Buffer[] = [];
      let at = this.headEnd;
      for (;;) {
        const eol = this.buf.indexOf(crlf, at);
        if (eol < 0) return;
        const size = parseInt(this.buf.toString('latin1', at, eol).split(';')[0], 16);
        if (!Number.isFinite(size)) return this.fail('bad_chunk');
        if (size === 0) {
          // Trailers (none expected) end with an empty line.
          if (this.buf.indexOf(crlf, eol + 2) < 0) return;
          return this.done(Buffer.concat(parts));
        }
        if (this.buf.length < eol + 2 + size + 2) return;
        parts.push(this.buf.subarray(eol + 2, eol + 2 + size));
        at = eol + 2 + size + 2;
      }
    }
    // Otherwise the body lasts until the server closes the connection.
  }
}

/** A request as the bytes sent on the wire. */
function requestBytes(url: URL, req: LoadRequest, headers: Record<string, string>): Buffer {
  const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
  const all: Record<string, string> = {
    host: url.host,
    connection: 'keep-alive',
    ...headers,
    ...req.headers,
    ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
  };
  let head = `${req.method ?? (payload ? 'POST' : 'GET')} ${req.path} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(all)) head += `${k}: ${v}\r\n`;
  head += '\r\n';
  return payload ? Buffer.concat([Buffer.from(head, 'latin1'), payload]) : Buffer.from(head, 'latin1');
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { concurrency, count, durationMs } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('concurrency must be a positive integer');
  if (count === undefined && durationMs === undefined) throw new Error('give a count, a duration, or both');
  const maxDurationMs = options.maxDurationMs ?? (durationMs !== undefined ? durationMs + 30_000 : defaultMaxDurationMs);
  const requestTimeoutMs = options.requestTimeoutMs ?? defaultRequestTimeoutMs;
  const url = new URL(options.baseUrl);
  const headers = options.headers ?? {};
  const port = Number(url.port) || 80;
  const connections = Array.from({ length: concurrency }, () => new Connection(url.hostname, port));
  const wantBodies = options.keepBodies === true;

  const statuses: Record<string, number> = {};
  const outcomes: Record<string, number> = {};
  const statusTimesMs: Record<string, { first: number; last: number }> = {};
  const latencies: number[] = [];
  let issued = 0;
  let completed = 0;
  let lastEndMs = 0;

  if (options.preconnectPath) {
    const path = options.preconnectPath;
    const bytes = requestBytes(url, { method: 'GET', path }, headers);
    const answers = await Promise.all(connections.map((c) => c.request(bytes, requestTimeoutMs, false)));
    const failed = answers.filter((a) => a.status < 200 || a.status >= 300).length;
    if (failed > 0) {
      for (const c of connections) c.destroy();
      throw new Error(`preconnect: ${failed} of ${concurrency} GET ${path} failed`);
    }
  }

  const t0 = performance.now();
  const deadline = Math.min(durationMs ?? Infinity, maxDurationMs);

  const client = async (connection: Connection) => {
    for (;;) {
      if (count !== undefined && issued >= count) return;
      if (performance.now() - t0 >= deadline) return;
      const index = issued++;
      const req = options.next(index);
      if (!req) return;
      const startMs = performance.now() - t0;
      const answer = await connection.request(requestBytes(url, req, headers), Math.min(requestTimeoutMs, Math.max(1, maxDurationMs - startMs)), wantBodies);
      const endMs = performance.now() - t0;
      completed++;
      lastEndMs = Math.max(lastEndMs, endMs);
      const key = String(answer.status);
      statuses[key] = (statuses[key] ?? 0) + 1;
      const outcome = answer.code ? `${key} ${answer.code}` : key;
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      const times = (statusTimesMs[key] ??= { first: endMs, last: endMs });
      times.last = endMs;
      if (answer.status > 0) latencies.push(endMs - startMs);
      options.onSample?.({
        index,
        status: answer.status,
        code: answer.code,
        startMs,
        endMs,
        ...(options.keepBodies ? { body: answer.body } : {}),
      });
    }
  };

  try {
    await Promise.all(connections.map(client));
  } finally {
    for (const c of connections) c.destroy();
  }
  const elapsedMs = lastEndMs || performance.now() - t0;
  return {
    count: completed,
    durationMs: Math.round(elapsedMs),
    throughput: Math.round((completed / elapsedMs) * 1000 * 10) / 10,
    statuses,
    outcomes,
    latencyMs: summarize(latencies),
    statusTimesMs: Object.fromEntries(
      Object.entries(statusTimesMs).map(([k, v]) => [k, { first: Math.round(v.first), last: Math.round(v.last) }]),
    ),
  };
}
