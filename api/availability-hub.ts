// Live availability for browsers: one Redis subscription per API process, fanned out in memory to the
// Server-Sent Events clients of each hotel. A client that falls behind is dropped with `reset`, never buffered.
import type { Response } from 'express';
import type { Redis } from 'ioredis';
import { cacheKeys, type AvailabilityCache, type ChangeMessage } from '../engine/availability-cache.js';
import { sseClientBufferedBytesMax, sseClientsMax } from '../engine/limits.js';

interface StreamClient {
  res: Response;
  hotelId: string;
  lastVersion: number;
  /** Live messages that arrive while the client is being caught up from the change log. */
  held: ChangeMessage[] | null;
  closed: boolean;
}

export class AvailabilityHub {
  private readonly byHotel = new Map<string, Set<StreamClient>>();
  private count = 0;
  private heartbeat: NodeJS.Timeout;

  constructor(
    private readonly subscriber: Redis,
    private readonly cache: AvailabilityCache,
    prefix: string,
    heartbeatMs: number,
  ) {
    const channel = cacheKeys(prefix, '').channel;
    void subscriber.subscribe(channel);
    subscriber.on('message', (ch: string, text: string) => {
      if (ch !== channel) return;
      let msg: ChangeMessage;
      try {
        msg = JSON.parse(text) as ChangeMessage;
      } catch {
        return;
      }
      for (const c of this.byHotel.get(msg.hotelId) ?? []) {
        if (c.held) c.held.push(msg);
        else this.send(c, msg);
      }
    });
    this.heartbeat = setInterval(() => {
      for (const set of this.byHotel.values()) for (const c of set) this.write(c, ': ping\n\n');
    }, heartbeatMs);
  }

  get clients(): number {
    return this.count;
  }

  /** Serve one stream; resumes after `lastEventId` from the change log, or says `reset` when the gap is too old. */
  async serve(hotelId: string, res: Response, lastEventId: number | undefined): Promise<boolean> {
    if (this.count >= sseClientsMax) return false;
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    const c: StreamClient = { res, hotelId, lastVersion: lastEventId ?? 0, held: lastEventId === undefined ? null : [], closed: false };
    let set = this.byHotel.get(hotelId);
    if (!set) this.byHotel.set(hotelId, (set = new Set()));
    set.add(c);
    this.count++;
    res.on('close', () => this.remove(c));
    this.write(c, 'retry: 2000\n: connected\n\n');
    if (lastEventId !== undefined) {
      try {
        const { complete, entries, current } = await this.cache.changesSince(hotelId, lastEventId);
        if (!complete) {
          // The client refetches; from then on it needs every change after the hotel's current version, even
          // when the id it came with was newer (another deployment, a restored database).
          c.lastVersion = current ?? entries.at(-1)?.version ?? 0;
          this.reset(c, c.lastVersion);
        } else for (const e of entries) this.send(c, e);
      } catch {
        this.reset(c, lastEventId);
      }
      const held = c.held ?? [];
      c.held = null;
      for (const m of held) this.send(c, m);
    }
    return true;
  }

  private send(c: StreamClient, msg: ChangeMessage): void {
    if (msg.version <= c.lastVersion) return;
    if (msg.changes === null) {
      this.reset(c, msg.version);
      return;
    }
    c.lastVersion = msg.version;
    this.write(c, `event: availability\nid: ${msg.version}\ndata: ${JSON.stringify({ hotelId: msg.hotelId, version: msg.version, changes: msg.changes })}\n\n`);
  }

  private reset(c: StreamClient, version: number): void {
    c.lastVersion = Math.max(c.lastVersion, version);
    this.write(c, `event: reset\nid: ${c.lastVersion}\ndata: ${JSON.stringify({ hotelId: c.hotelId, version: c.lastVersion })}\n\n`);
  }

  private write(c: StreamClient, text: string): void {
    if (c.closed) return;
    if (c.res.writableLength > sseClientBufferedBytesMax) {
      // Too slow to keep up: tell it to refetch, and let it reconnect, rather than hold its backlog in memory.
      c.res.write(`event: reset\ndata: ${JSON.stringify({ hotelId: c.hotelId, reason: 'slow_client' })}\n\n`);
      c.res.end();
      this.remove(c);
      return;
    }
    c.res.write(text);
  }

  private remove(c: StreamClient): void {
    if (c.closed) return;
    c.closed = true;
    const set = this.byHotel.get(c.hotelId);
    if (set?.delete(c)) this.count--;
    if (set && set.size === 0) this.byHotel.delete(c.hotelId);
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const set of this.byHotel.values()) for (const c of set) c.res.end();
    this.byHotel.clear();
    this.subscriber.disconnect();
  }
}
