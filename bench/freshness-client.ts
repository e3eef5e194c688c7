// The freshness probe, run as its own process (forked by freshness.ts) so that parsing the events of 200 streams
// does not share an event loop with the load generator. It opens N Server-Sent Events streams on one hotel, then,
// on request, books one room of a probe room type every ~100 ms (one at a time) while the hot load runs, and
// records when each stream saw each probe's change.
//
// The probe room type is used by nothing else, so its `reserved` count on the probe night identifies the probe:
// the k-th held probe makes it k. A stream has "seen" probe k when it receives the first `availability` event whose
// changes give that night `reserved ≥ k`. Clock: one process, `performance.timeOrigin + performance.now()` (wall
// clock in ms, sub-ms resolution), compared with the reservation's `createdAt` (the writer's wall clock at decision
// time, same machine).
//
// Messages: parent → child `{type: 'start'}`, `{type: 'stop'}`; child → parent `{type: 'ready'}`,
// `{type: 'result', result}`, `{type: 'error', message}`.

import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

export interface FreshnessConfig {
  baseUrl: string;
  hotelId: string;
  probeRoomTypeId: string;
  checkIn: string;
  checkOut: string;
  token: string;
  clients: number;
  intervalMs: number;
}

export interface ProbeRecord {
  /** 1-based count of held probes when this one was held (its `reserved` on the probe night). */
  k: number;
  sentMs: number;
  answeredMs: number;
  /** The reservation's createdAt: when the writer decided it (before its commit). */
  decidedMs: number;
}

export interface Percentiles {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  min: number;
}

export interface FreshnessResult {
  clients: number;
  clientsConnected: number;
  probesSent: number;
  probesHeld: number;
  probesFailed: Record<string, number>;
  probeLatencyMs: Percentiles;
  /** Samples are (probe, stream) pairs; a stream that never saw a probe counts in `missed`. */
  eventAfterAnswerMs: Percentiles;
  eventAfterDecisionMs: Percentiles;
  eventAfterSendMs: Percentiles;
  /** Per probe: when the last of the streams had it, after its 201. */
  lastStreamAfterAnswerMs: Percentiles;
  missed: number;
  events: number;
  resets: number;
  disconnects: number;
  /** This process's own event-loop delay while it measured (it inflates every arrival time by about as much). */
  probeProcessLoopDelayMs: { p50: number; p99: number; max: number };
}

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentiles(values: number[]): Percentiles {
  const s = Float64Array.from(values).sort();
  const at = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] : NaN);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { n: s.length, p50: r(at(50)), p95: r(at(95)), p99: r(at(99)), max: r(s.length ? s[s.length - 1] : NaN), min: r(s.length ? s[0] : NaN) };
}

class Stream {
  /** seenAt[k] = when this stream first knew of reserved ≥ k on the probe night. */
  seenAt: number[] = [];
  maxSeen = 0;
  connected = false;
  events = 0;
  resets = 0;
  disconnects = 0;
  private buffer = '';
  private req?: http.ClientRequest;
  private closed = false;

  constructor(
    private readonly cfg: FreshnessConfig,
    private readonly agent: http.Agent,
    private readonly onConnected: () => void,
  ) {}

  open(): void {
    const url = new URL(`/v1/hotels/${this.cfg.hotelId}/availability/stream`, this.cfg.baseUrl);
    this.req = http.get(url, { agent: this.agent, headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        this.disconnects++;
        this.retry();
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => this.onData(chunk));
      res.on('end', () => this.retry());
      res.on('error', () => this.retry());
    });
    this.req.on('error', () => this.retry());
  }

  private retry(): void {
    if (this.closed) return;
    this.disconnects++;
    this.buffer = '';
    setTimeout(() => this.open(), 200);
  }

  private onData(chunk: string): void {
    const t = now();
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const frame = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      this.onFrame(frame, t);
    }
  }

  private onFrame(frame: string, t: number): void {
    if (!this.connected && frame.includes(': connected')) {
      this.connected = true;
      this.onConnected();
    }
    if (frame.startsWith('event: reset')) {
      this.resets++;
      return;
    }
    if (!frame.startsWith('event: availability')) return;
    this.events++;
    // Only events that name the probe room type are parsed.
    if (!frame.includes(this.cfg.probeRoomTypeId)) return;
    const dataLine = frame.split('\n').find((l) => l.startsWith('data: '));
    if (!dataLine) return;
    const data = JSON.parse(dataLine.slice(6)) as { changes: { roomTypeId: string; date: string; reserved: number }[] };
    for (const c of data.changes) {
      if (c.roomTypeId !== this.cfg.probeRoomTypeId || c.date !== this.cfg.checkIn) continue;
      for (let k = this.maxSeen + 1; k <= c.reserved; k++) this.seenAt[k] = t;
      this.maxSeen = Math.max(this.maxSeen, c.reserved);
    }
  }

  close(): void {
    this.closed = true;
    this.req?.destroy();
  }
}

async function main(cfg: FreshnessConfig): Promise<void> {
  const send = (m: unknown) => process.send?.(m);
  const streamAgent = new http.Agent({ keepAlive: true, maxSockets: cfg.clients + 10 });
  let connected = 0;
  let readyResolve!: () => void;
  const allConnected = new Promise<void>((r) => (readyResolve = r));
  const streams = Array.from({ length: cfg.clients }, () => new Stream(cfg, streamAgent, () => ++connected === cfg.clients && readyResolve()));
  for (const s of streams) s.open();
  await Promise.race([allConnected, sleep(30_000)]);

  let startResolve!: () => void;
  let stopping = false;
  const started = new Promise<void>((r) => (startResolve = r));
  process.on('message', (m: { type: string }) => {
    if (m.type === 'start') startResolve();
    if (m.type === 'stop') stopping = true;
  });
  send({ type: 'ready', connected });
  await started;

  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const probeAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL('/v1/reservations', cfg.baseUrl);
  const probes: ProbeRecord[] = [];
  const failed: Record<string, number> = {};
  let sent = 0;
  let held = 0;
  const latencies: number[] = [];
  while (!stopping) {
    const body = JSON.stringify({
      reservationId: randomUUID(),
      hotelId: cfg.hotelId,
      roomTypeId: cfg.probeRoomTypeId,
      checkIn: cfg.checkIn,
      checkOut: cfg.checkOut,
      roomCount: 1,
      guest: { name: 'Freshness Probe', email: 'probe@bench.example' },
    });
    const sentMs = now();
    sent++;
    const answer = await new Promise<{ status: number; text: string }>((resolve) => {
      const req = http.request(
        url,
        {
          method: 'POST',
          agent: probeAgent,
          headers: { authorization: `Bearer ${cfg.token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          res.on('error', () => resolve({ status: 0, text: '' }));
        },
      );
      req.setTimeout(30_000, () => req.destroy());
      req.on('error', () => resolve({ status: 0, text: '' }));
      req.end(body);
    });
    const answeredMs = now();
    latencies.push(answeredMs - sentMs);
    if (answer.status === 201) {
      held++;
      const r = JSON.parse(answer.text) as { createdAt: string };
      probes.push({ k: held, sentMs, answeredMs, decidedMs: Date.parse(r.createdAt) });
    } else {
      failed[String(answer.status)] = (failed[String(answer.status)] ?? 0) + 1;
    }
    const wait = cfg.intervalMs - (now() - sentMs);
    if (wait > 0) await sleep(wait);
  }
  // Give the last probes' events time to arrive.
  const deadline = now() + 3_000;
  while (now() < deadline && streams.some((s) => s.maxSeen < held)) await sleep(20);
  loop.disable();

  const afterAnswer: number[] = [];
  const afterDecision: number[] = [];
  const afterSend: number[] = [];
  const lastStream: number[] = [];
  let missed = 0;
  for (const p of probes) {
    let last = -Infinity;
    for (const s of streams) {
      const t = s.seenAt[p.k];
      if (t === undefined) {
        missed++;
        continue;
      }
      afterAnswer.push(t - p.answeredMs);
      afterDecision.push(t - p.decidedMs);
      afterSend.push(t - p.sentMs);
      last = Math.max(last, t);
    }
    if (last > -Infinity) lastStream.push(last - p.answeredMs);
  }
  const result: FreshnessResult = {
    clients: cfg.clients,
    clientsConnected: connected,
    probesSent: sent,
    probesHeld: held,
    probesFailed: failed,
    probeLatencyMs: percentiles(latencies),
    eventAfterAnswerMs: percentiles(afterAnswer),
    eventAfterDecisionMs: percentiles(afterDecision),
    eventAfterSendMs: percentiles(afterSend),
    lastStreamAfterAnswerMs: percentiles(lastStream),
    missed,
    events: streams.reduce((n, s) => n + s.events, 0),
    resets: streams.reduce((n, s) => n + s.resets, 0),
    disconnects: streams.reduce((n, s) => n + s.disconnects, 0),
    probeProcessLoopDelayMs: {
      p50: Math.round((loop.percentile(50) / 1e6) * 10) / 10,
      p99: Math.round((loop.percentile(99) / 1e6) * 10) / 10,
      max: Math.round((loop.max / 1e6) * 10) / 10,
    },
  };
  for (const s of streams) s.close();
  streamAgent.destroy();
  probeAgent.destroy();
  // Disconnect (and so exit) only once the result has been handed to the parent.
  process.send?.({ type: 'result', result }, () => process.disconnect?.());
}

// The benchmark went away (killed, interrupted): stop too, rather than reconnect to a stopped server forever.
process.on('disconnect', () => process.exit(0));
const cfg = JSON.parse(process.argv[2] ?? '{}') as FreshnessConfig;
main(cfg).catch((err: Error) => {
  process.exitCode = 1;
  process.send?.({ type: 'error', message: err.stack ?? err.message }, () => process.disconnect?.());
});
