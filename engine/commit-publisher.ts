// What a commit sets in motion, after it: the hotels' availability (cache, change log, live stream) moved forward
// by their writer, then the replies to the API processes waiting, in one Redis round trip.
import type { ChainableCommander } from 'ioredis';
import { AvailabilityCache, type CachedNight, type ChangeMessage } from './availability-cache.js';
import { formatDay } from './core/dates.js';
import { nightPrice } from './core/pricing.js';
import type { HotelState } from './core/types.js';
import type { CommandReply, ShardJob } from './jobs.js';
import type { Logger } from './log.js';
import type { CommitBatch, NightWrite } from './store/shard-store.js';
import { cachedFields } from './availability-cache.js';

/** Where a commit's consequences go: Redis in production (cache, change log, live stream, replies). */
export interface Outbound {
  pipeline(): ChainableCommander;
  repliesChannel(apiId: string): string;
}

/**
 * Events after which a client must refetch rather than patch nights. A change of pricing tiers may move the price of
 * every night of the horizon: a reset (and a new snapshot, which carries the tiers to the cache's readers). So does
 * a hotel's new overbooking (every limit from today) or time zone (its today, which the snapshot carries).
 */
const structural = new Set(['hotel.created', 'roomType.created', 'roomType.deleted', 'roomType.updated', 'pricing.set']);

export interface PublisherOptions {
  outbound: Outbound;
  cache?: AvailabilityCache;
  log?: Logger;
  /** The committed state the writer holds for a hotel (undefined when it no longer holds it). */
  stateOf(hotelId: string): HotelState | undefined;
  /** Let go of a hotel whose cache could not be moved forward: its next load writes a whole snapshot. */
  forget(hotelId: string): void;
}

export class CommitPublisher {
  constructor(private readonly o: PublisherOptions) {}

  /**
   * One round trip after the commit, in this order: the cache, change log and live stream of each hotel the jobs
   * changed, then the replies, so that a client that just booked reads its own booking.
   */
  async send(answered: { job: ShardJob; replies: CommandReply[] }[], batch: CommitBatch | undefined): Promise<void> {
    const p = this.o.outbound.pipeline();
    // One script per changed hotel (cache, change log, announcement), in the order of `staged`.
    const staged: { hotelId: string; state: HotelState }[] = [];
    if (batch && this.o.cache) {
      for (const u of await this.availabilityUpdates(batch)) {
        this.o.cache.stage(p, u.state, u.msg, u.nights);
        staged.push({ hotelId: u.msg.hotelId, state: u.state });
      }
    }
    // Jobs nobody waits for (partner batches, hold expiries) have no reply channel: their answers are read back.
    const published: string[] = [];
    for (const { job, replies } of answered) {
      if (!job.replyTo) continue;
      p.publish(this.o.outbound.repliesChannel(job.replyTo), JSON.stringify({ jobKey: job.jobKey, replies }));
      published.push(job.jobKey);
    }
    const results = (await p.exec().catch(() => null)) ?? [];
    const behind: HotelState[] = [];
    staged.forEach(({ hotelId, state }, i) => {
      if (results[i]?.[0]) {
        // The cache missed this change: forget the hotel, so that its next load writes a whole new snapshot.
        this.o.log?.warn('availability publish failed; hotel will be reloaded', { hotelId, err: String(results[i][0]) });
        this.o.forget(hotelId);
      } else if (results[i]?.[1] === AvailabilityCache.needsSnapshot) behind.push(state);
    });
    published.forEach((jobKey, i) => {
      const r = results[staged.length + i];
      // Committed but not announced: the waiting requests answer 202 and their decision is read back later.
      if (!r || r[0]) this.o.log?.warn('replies not published', { jobKey, err: String(r?.[0] ?? 'no answer') });
    });
    // The cache held an older version than the change follows (a change it missed, or nothing after an empty
    // restart): the whole snapshot, from the state the writer holds, which is the committed one.
    for (const state of behind) {
      await this.o.cache?.writeSnapshot(state).catch((err: Error) => {
        this.o.log?.warn('cache snapshot failed; hotel will be reloaded', { hotelId: state.hotel.id, err: err.message });
        this.o.forget(state.hotel.id);
      });
    }
  }

  /** After a commit: what the writer (and only it) moves forward in the cache, per hotel the job changed. */
  private async availabilityUpdates(batch: CommitBatch): Promise<{ state: HotelState; msg: ChangeMessage; nights: CachedNight[] }[]> {
    const cache = this.o.cache;
    if (!cache) return [];
    const byHotel = new Map<string, { from: number; version: number; structural: boolean }>();
    for (const e of batch.events) {
      const hotelId = e.type === 'hotel.created' ? e.hotel.id : e.type === 'hotel.updated' ? e.hotel.id : 'hotelId' in e ? e.hotelId : 'roomType' in e ? e.roomType.hotelId : e.reservation.hotelId;
      const h = byHotel.get(hotelId) ?? { from: e.version, version: e.version, structural: false };
      h.version = e.version;
      if (structural.has(e.type) || (e.type === 'hotel.updated' && (e.limitsFromDay !== null || e.timezoneChanged === true))) h.structural = true;
      byHotel.set(hotelId, h);
    }
    for (const e of batch.events) {
      if (e.type === 'hotel.deleted') {
        byHotel.delete(e.hotelId);
        await cache.drop(e.hotelId, e.version).catch(() => {});
      }
    }
    const nightsOf = new Map<string, NightWrite[]>();
    for (const n of batch.nights) {
      const list = nightsOf.get(n.hotelId);
      if (list) list.push(n);
      else nightsOf.set(n.hotelId, [n]);
    }
    const out = [];
    for (const [hotelId, h] of byHotel) {
      const state = this.o.stateOf(hotelId);
      if (!state) continue;
      const nights: CachedNight[] = [];
      for (const n of nightsOf.get(hotelId) ?? []) {
        const t = state.roomTypes.get(n.roomTypeId)?.nights;
        const i = t ? n.day - t.firstDay : -1;
        if (!t || i < 0 || i >= t.total.length) continue;
        const changed =
          (n.total === null ? 0 : cachedFields.total) |
          (n.limit === null ? 0 : cachedFields.limit) |
          (n.delta === 0 ? 0 : cachedFields.reserved) |
          (n.rate === null ? 0 : cachedFields.rate);
        nights.push({ roomTypeId: n.roomTypeId, day: n.day, total: t.total[i], limit: t.limit[i], reserved: t.reserved[i], rate: t.rate[i], changed });
      }
      // A night's price follows its occupancy: a reservation that moves `reserved` across a tier changes the price of
      // that night, and its change carries the new one. Without tiers (the common case) the price is the rate.
      const tiers = state.pricing;
      const msg: ChangeMessage = {
        hotelId,
        from: h.from,
        version: h.version,
        changes: h.structural
          ? null
          : nights.map((n) => ({
              roomTypeId: n.roomTypeId,
              date: formatDay(n.day),
              totalInventory: n.total,
              reserved: n.reserved,
              available: Math.max(0, n.limit - n.reserved),
              rate: tiers.length === 0 ? n.rate : nightPrice(n.rate, n.reserved, n.total, tiers),
              baseRate: n.rate,
            })),
      };
      out.push({ state, msg, nights });
    }
    return out;
  }
}
