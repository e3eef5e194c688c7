// The load of a chaos test: one lane per (principal, hotel) sending reservations one at a time, each request with
// a deadline and its answer recorded.
import { randomUUID } from 'node:crypto';
import type { ChaosHotel, ChaosStack, Principal } from './chaos-harness.js';
import { sleep } from './chaos-harness.js';
import { dayFromToday } from './fixtures.js';
import type { HttpClient } from './http.js';

/** One POST /v1/reservations as the load sent it and what came back. */
export interface Sent {
  lane: number;
  /** Position in its lane: a lane sends one request at a time to one hotel, so this is the hotel's send order. */
  seq: number;
  principal: Principal;
  hotel: ChaosHotel;
  body: { reservationId: string; checkIn: string; checkOut: string; roomCount: number; [k: string]: unknown };
  sentAt: number;
  answeredAt?: number;
  status?: number;
  response?: unknown;
  error?: string;
}

/** A request with a deadline: a hanging request is recorded as such rather than hanging the test. */
export async function timedRequest(client: HttpClient, method: string, p: string, body?: unknown, timeoutMs = 30_000): Promise<{ status: number; body: unknown; ms: number; error?: string }> {
  const t0 = Date.now();
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (client.token) headers.authorization = `Bearer ${client.token}`;
  try {
    const res = await fetch(`${client.baseUrl}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : text;
    } catch {
      // Not JSON: keep the text.
    }
    return { status: res.status, body: parsed, ms: Date.now() - t0 };
  } catch (err) {
    return { status: 0, body: undefined, ms: Date.now() - t0, error: (err as Error).name === 'TimeoutError' ? 'timeout' : (err as Error).message };
  }
}

export interface LoadOptions {
  /** Pause between two requests of a lane. */
  pauseMs?: number;
  /** Nights the load books: check-in among days [firstDay, firstDay + spanDays) from today. */
  firstDay?: number;
  spanDays?: number;
  /** Requests per lane at most (the load is bounded even if nobody stops it). */
  perLaneMax?: number;
  /** A request unanswered after this long counts as hanging. */
  requestTimeoutMs?: number;
}

/**
 * A steady, bounded load: one lane per (principal, hotel) pair, each sending one reservation at a time (a new
 * random reservationId each), so that within a lane the send order is the hotel's queue order.
 */
export class ReservationLoad {
  readonly sent: Sent[] = [];
  private stopped = false;
  private running: Promise<void> = Promise.resolve();
  private readonly o: Required<LoadOptions>;

  constructor(
    private readonly stack: ChaosStack,
    options: LoadOptions = {},
  ) {
    this.o = { pauseMs: 40, firstDay: 2, spanDays: 30, perLaneMax: 2_000, requestTimeoutMs: 30_000, ...options };
  }

  start(): this {
    const lanes: { principal: Principal; hotel: ChaosHotel }[] = [];
    for (const [i, hotel] of this.stack.hotels.entries()) {
      // Two principals per hotel, rotating, so that every principal kind books in both databases.
      const ps = this.stack.principals;
      lanes.push({ principal: ps[i % ps.length], hotel }, { principal: ps[(i + 1) % ps.length], hotel });
    }
    this.running = Promise.all(lanes.map((l, i) => this.lane(i, l.principal, l.hotel))).then(() => undefined);
    return this;
  }

  /** Requests answered so far. */
  get answered(): number {
    return this.sent.filter((s) => s.answeredAt !== undefined).length;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async lane(lane: number, principal: Principal, hotel: ChaosHotel): Promise<void> {
    for (let seq = 0; !this.stopped && seq < this.o.perLaneMax; seq++) {
      const start = this.o.firstDay + Math.floor(Math.random() * this.o.spanDays);
      const nights = 1 + Math.floor(Math.random() * 3);
      const body = {
        reservationId: randomUUID(),
        hotelId: hotel.id,
        roomTypeId: hotel.roomTypeId,
        checkIn: dayFromToday(start),
        checkOut: dayFromToday(start + nights),
        roomCount: 1 + Math.floor(Math.random() * 2),
        guest: { name: 'Chaos Guest', email: 'chaos@example.com' },
      };
      const s: Sent = { lane, seq, principal, hotel, body, sentAt: Date.now() };
      this.sent.push(s);
      const r = await timedRequest(principal.client, 'POST', '/v1/reservations', body, this.o.requestTimeoutMs);
      s.answeredAt = Date.now();
      s.status = r.status;
      s.response = r.body;
      s.error = r.error;
      // A client backs off a little after 503 (the API says Retry-After), rather than spinning.
      await sleep(r.status === 503 ? Math.max(this.o.pauseMs, 250) : this.o.pauseMs);
    }
  }
}

/** A reservation body for one hotel and its room type, `nights` nights from day `day` (from today). */
export function stayBody(hotel: ChaosHotel, day: number, nights = 1, name = 'Chaos Guest') {
  return {
    reservationId: randomUUID(),
    hotelId: hotel.id,
    roomTypeId: hotel.roomTypeId,
    checkIn: dayFromToday(day),
    checkOut: dayFromToday(day + nights),
    roomCount: 1,
    guest: { name, email: 'chaos@example.com' },
  };
}
