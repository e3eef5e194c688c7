// A closed-loop HTTP load generator: `concurrency` virtual clients, each sending its next request as soon as
// the previous one is answered, over keep-alive connections (one socket per client). It stops by itself: after
// `count` requests, at the end of `durationMs`, or at `maxDurationMs` whichever comes first, and every request
// has its own timeout, so a stuck server cannot hang a run.

import http from 'node:http';
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

function send(agent: http.Agent, url: URL, req: LoadRequest, headers: Record<string, string>, timeoutMs: number) {
  return new Promise<Answer>((resolve) => {
    const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const outgoing = http.request(
      {
        agent,
        hostname: url.hostname,
        port: url.port,
        method: req.method ?? (payload ? 'POST' : 'GET'),
        path: req.path,
        headers: {
          ...headers,
          ...req.headers,
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          resolve({ status, code: status >= 400 ? errorCode(body) : undefined, body });
        });
        res.on('error', (err: NodeJS.ErrnoException) => resolve({ status: 0, code: err.code ?? 'error', body: '' }));
      },
    );
    outgoing.setTimeout(timeoutMs, () => outgoing.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    outgoing.on('error', (err: NodeJS.ErrnoException) => resolve({ status: 0, code: err.code ?? 'error', body: '' }));
    outgoing.end(payload);
  });
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { concurrency, count, durationMs } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('concurrency must be a positive integer');
  if (count === undefined && durationMs === undefined) throw new Error('give a count, a duration, or both');
  const maxDurationMs = options.maxDurationMs ?? (durationMs !== undefined ? durationMs + 30_000 : defaultMaxDurationMs);
  const requestTimeoutMs = options.requestTimeoutMs ?? defaultRequestTimeoutMs;
  const url = new URL(options.baseUrl);
  const headers = options.headers ?? {};
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });

  const statuses: Record<string, number> = {};
  const outcomes: Record<string, number> = {};
  const statusTimesMs: Record<string, { first: number; last: number }> = {};
  const latencies: number[] = [];
  let issued = 0;
  let completed = 0;
  let lastEndMs = 0;

  if (options.preconnectPath) {
    const path = options.preconnectPath;
    const answers = await Promise.all(
      Array.from({ length: concurrency }, () => send(agent, url, { method: 'GET', path }, headers, requestTimeoutMs)),
    );
    const failed = answers.filter((a) => a.status < 200 || a.status >= 300).length;
    if (failed > 0) {
      agent.destroy();
      throw new Error(`preconnect: ${failed} of ${concurrency} GET ${path} failed`);
    }
  }

  const t0 = performance.now();
  const deadline = Math.min(durationMs ?? Infinity, maxDurationMs);

  const client = async () => {
    for (;;) {
      if (count !== undefined && issued >= count) return;
      if (performance.now() - t0 >= deadline) return;
      const index = issued++;
      const req = options.next(index);
      if (!req) return;
      const startMs = performance.now() - t0;
      const answer = await send(agent, url, req, headers, Math.min(requestTimeoutMs, Math.max(1, maxDurationMs - startMs)));
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
    await Promise.all(Array.from({ length: concurrency }, client));
  } finally {
    agent.destroy();
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
