// Live availability for browsers: an API process subscribes to a hotel's announcements while it has Server-Sent
// Events clients for that hotel (one subscription per hotel, fanned out in memory), so announcements of hotels
// nobody watches cost it nothing. A client that falls behind is dropped with `reset`, never buffered.
import type { Response } from 'express';
import type { RedisClient } from '../engine/redis.js';
import type { AvailabilityCache, ChangeMessage } from '../engine/availability-cache.js';
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
  /** The hotels this process streams: their clients, and the subscription to their announcements. */
  private readonly byHotel = new Map<string, { clients: Set<StreamClient>; subscribed: Promise<boolean> }>();
  private count = 0;
  private heartbeat: NodeJS.Timeout;

  constructor(
    private readonly subscriber: RedisClient,
    private readonly cache: AvailabilityCache,
    heartbeatMs: number,
  ) {
    subscriber.on('message', (_channel: string, text: string) => {
      let msg: ChangeMessage;
      try {
        msg = JSON.parse(text) as ChangeMessage;
      } catch {
        return;
      }
      for (const c of this.byHotel.get(msg.hotelId)?.clients ?? []) {
        if (c.held) c.held.push(msg);
        else this.send(c, msg);
      }
    });
    // A little early (a tenth, at most half a second): a timer fires a few ms late, and the contract says "at least
    // every" SSE_HEARTBEAT_MS (measured gaps were 15,001-15,002 ms at exactly 15,000).
    this.heartbeat = setInterval(() => {
      for (const { clients } of this.byHotel.values()) for (const c of clients) this.write(c, ': ping\n\n');
    }, heartbeatMs - Math.min(500, Math.floor(heartbeatMs / 10)));
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
    let watch = this.byHotel.get(hotelId);
    if (!watch) {
      // Resolves once Redis confirms the subscription, so the change log read below covers every change the
      // subscription does not deliver. Commands on one connection run in order: an unsubscribe of this hotel still
      // in flight is undone by this subscribe.
      const subscribed = this.subscriber.subscribe(this.cache.keysOf(hotelId).channel).then(() => true, () => false);
      this.byHotel.set(hotelId, (watch = { clients: new Set(), subscribed }));
    }
    watch.clients.add(c);
    this.count++;
    res.on('close', () => this.remove(c));
    if (!(await watch.subscribed)) {
      // No subscription (Redis refused it): end the stream; the browser reconnects after `retry` and tries again.
      this.reset(c, c.lastVersion);
      c.res.end();
      this.remove(c);
      return true;
    }
    // From here on the stream is live (a client without Last-Event-ID gets every change committed after this).
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
    if (msg.deleted) {
      // The hotel is gone: refetch (which answers 404), and nothing more will come on this stream.
      this.reset(c, msg.version);
      c.res.end();
      this.remove(c);
      return;
    }
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
      // Too slow to keep up: tell it to refetch, and let it reconnect, rather than hold its backlog in memory. The
      // reset has the shape of every other (id and version: the last version it was sent), and says why.
      c.res.write(`event: reset\nid: ${c.lastVersion}\ndata: ${JSON.stringify({ hotelId: c.hotelId, version: c.lastVersion, reason: 'slow_client' })}\n\n`);
      c.res.end();
      this.remove(c);
      return;
    }
    c.res.write(text);
  }

  private remove(c: StreamClient): void {
    if (c.closed) return;
    c.closed = true;
    const watch = this.byHotel.get(c.hotelId);
    if (watch?.clients.delete(c)) this.count--;
    if (watch && watch.clients.size === 0) {
      this.byHotel.delete(c.hotelId);
      this.subscriber.unsubscribe(this.cache.keysOf(c.hotelId).channel).catch(() => {});
    }
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const { clients } of this.byHotel.values()) for (const c of clients) c.res.end();
    this.byHotel.clear();
    this.subscriber.disconnect();
  }
}
