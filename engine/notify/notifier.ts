// The notifier: takes the relay's jobs (hotels' ranges of events, read from their shard database), records a
// delivery for every webhook each event matches and a mail for each reservation event, then delivers webhooks. Each
// webhook is a lane of its own, with at most WEBHOOK_CONCURRENCY requests in flight (a hotel's events one after
// another) and at most backlogPerRequest times that many deliveries in memory, so a slow or dead receiver only ever
// delays itself.
import { DelayedError, type Job, type Worker } from 'bullmq';
import { createNotificationsWorker, hotelsOfLegacyJob, type HotelEvents, type HotelRange, type LegacyNotificationJob, type NotificationJob } from '../jobs.js';
import type { Logger } from '../log.js';
import { RedisKeys, type RedisClient } from '../redis.js';
import type { Pool } from '../store/pg.js';
import { attempt, laneAgents, nextAttemptDelayMs, signatureHeaders } from './delivery.js';
import { Mailer, mailOf } from './mail.js';
import { markRecorded, readRanges } from './outbox-read.js';
import { processMetrics } from '../metrics.js';
import { reservationEventTypes } from './events.js';
import { matches, WebhookStore, type DeliveryRow, type Webhook } from './webhook-store.js';

/** Deliveries a lane claims at once, per request it may have in flight (4 in flight: 64 claimed). */
const backlogPerRequest = 16;
/** How often a lane with a request free looks for new deliveries while others are in flight. */
const laneLookMs = 100;
/** Disabled after failing this long without a success (API.md: 5 days), scaled like the schedule. */
const failingDisableMs = 5 * 24 * 3600_000;
/** A claimed delivery whose notifier died is due again after this long (scaled like the schedule). */
const claimMs = 120_000;

export interface NotifierOptions {
  catalog: Pool;
  /** The pool of a shard database, by its id in the shard map: jobs name the database their events are read from. */
  shardPool: (database: number) => Pool;
  connection: RedisClient;
  prefix: string;
  log?: Logger;
  allowPrivate: boolean;
  /** Requests in flight to one webhook at once (4 when not given). */
  concurrency?: number;
  retryScale: number;
  smtpUrl?: string;
  mailDir: string;
  pollMs?: number;
  /** Finished deliveries and sent mails are kept this long (the outbox's retention). */
  retentionHours?: number;
}

export class Notifier {
  readonly store: WebhookStore;
  readonly mailer: Mailer;
  private worker: Worker<NotificationJob | LegacyNotificationJob> | undefined;
  private running = false;
  private scheduler: Promise<void> | undefined;
  private readonly lanes = new Map<string, Promise<void>>();
  private webhooks: { at: number; list: Webhook[] } = { at: 0, list: [] };
  /** Attempts by outcome, for /metrics and the bench. */
  readonly counts = { delivered: 0, failed: 0 };

  constructor(private readonly o: NotifierOptions) {
    this.store = new WebhookStore(o.catalog);
    this.mailer = new Mailer(o.catalog, { smtpUrl: o.smtpUrl, mailDir: o.mailDir, log: o.log, retryScale: o.retryScale });
  }

  start(): void {
    this.running = true;
    this.worker = createNotificationsWorker(this.o.connection, new RedisKeys(this.o.prefix), (job, token) => this.record(job, token));
    this.worker.on('error', (err) => this.o.log?.warn('notifications worker error', { err: err.message }));
    this.mailer.start();
    this.scheduler = this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.worker?.close().catch(() => {});
    await this.scheduler;
    await Promise.all(this.lanes.values());
    await this.mailer.stop();
  }

  /**
   * The enabled webhooks, as of a read that began after `committedBy` (a database time by which every event of the
   * job had committed): a webhook created just before an event always gets it. A read is reused while it is that
   * fresh.
   */
  private async enabledWebhooks(committedBy: number): Promise<Webhook[]> {
    if (this.webhooks.at <= committedBy || this.webhooks.at === 0) this.webhooks = await this.store.allAsOf();
    return this.webhooks.list;
  }

  /**
   * Record a job's deliveries and mails, retried in place until the catalog takes them (a job retried later would
   * let the hotel's next events pass it). The job completes only once they are recorded: a notifier killed before
   * that gets the job again, and the recorded rows are not duplicated (unique by webhook and event id).
   */
  private async record(job: Job<NotificationJob | LegacyNotificationJob>, token?: string): Promise<void> {
    for (let wait = 100; ; wait = Math.min(wait * 2, 5_000)) {
      try {
        const byDatabase = new Map<number, HotelRange[]>();
        let hotels: HotelEvents[] = [];
        let hooks: Webhook[];
        if ('ranges' in job.data) {
          for (const x of job.data.ranges) {
            const list = byDatabase.get(x.database);
            if (list) list.push(x);
            else byDatabase.set(x.database, [x]);
          }
          hooks = await this.enabledWebhooks(job.data.at);
          // Only the events someone gets: every reservation event (its guest's mail), and the types a webhook takes.
          const types = new Set<string>(reservationEventTypes);
          for (const w of hooks) for (const t of w.events) types.add(t);
          for (const [database, ranges] of byDatabase) hotels.push(...(await readRanges(this.o.shardPool(database), ranges, [...types], this.o.log)));
        } else {
          hotels = hotelsOfLegacyJob(job.data);
          let newest = 0;
          for (const h of hotels) for (const e of h.events) newest = Math.max(newest, Date.parse(e.createdAt));
          hooks = await this.enabledWebhooks(newest);
        }
        const pairs = [];
        for (const h of hotels) for (const e of h.events) for (const w of hooks) if (matches(w, e)) pairs.push({ webhookId: w.id, event: e });
        await this.store.enqueue(pairs);
        const mails = [];
        for (const h of hotels) {
          for (const e of h.events) {
            const m = mailOf(e, h.hotelName);
            if (m) mails.push(m);
          }
        }
        await this.mailer.enqueue(mails);
        for (const [database, ranges] of byDatabase) await markRecorded(this.o.shardPool(database), ranges);
        return;
      } catch (err) {
        if (!this.running) {
          // Stopping before the catalog took them: back to the queue for the next notifier, not failed (a failed
          // job is never tried again, and the relay's cursor has already passed its events).
          await job.moveToDelayed(Date.now() + 1_000, token);
          throw new DelayedError();
        }
        this.o.log?.warn('recording notifications failed; retrying', { err: (err as Error).message });
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  private async schedule(): Promise<void> {
    let prunedAt = Date.now();
    while (this.running) {
      if (Date.now() - prunedAt > 60_000) {
        prunedAt = Date.now();
        await this.store.prune(this.o.retentionHours ?? 7 * 24).catch((err: Error) => this.o.log?.warn('pruning deliveries failed', { err: err.message }));
      }
      try {
        for (const id of await this.store.dueWebhooks()) {
          if (!this.lanes.has(id)) {
            const lane = this.lane(id).finally(() => this.lanes.delete(id));
            this.lanes.set(id, lane);
          }
        }
      } catch (err) {
        this.o.log?.warn('webhook scheduling failed', { err: (err as Error).message });
      }
      await new Promise((r) => setTimeout(r, this.o.pollMs ?? 50));
    }
  }

  /**
   * Deliver one webhook's due deliveries until none is due. A hotel's deliveries go one after another, in sequence
   * order; up to `concurrency` hotels at once. Deliveries are claimed while requests are in flight, at most
   * `backlogPerRequest` of one hotel at a time beyond those in hand (a hotel's next ones wait behind them, so one hotel
   * streams without pauses), and never more than `concurrency × backlogPerRequest` in all: a slow hotel holds only
   * itself, and a dead receiver at most that many.
   */
  private async lane(webhookId: string): Promise<void> {
    const concurrency = this.o.concurrency ?? 4;
    const cap = concurrency * backlogPerRequest;
    const agents = laneAgents(concurrency);
    /** Claimed and not yet taken up, by hotel, in claim order (a hotel being delivered takes its own next). */
    const waiting = new Map<string, DeliveryRow[]>();
    /** Hotels being delivered. */
    const inHand = new Set<string>();
    const active = new Set<Promise<void>>();
    let held = 0;
    let gone = false;
    // Successes are recorded together, before each claim and at the end (one statement); a notifier that dies first
    // delivers them again, which receivers drop by webhook-id.
    let delivered: { id: number; status: number }[] = [];
    const flush = async () => {
      const list = delivered;
      delivered = [];
      await this.store.succeededMany(list);
    };
    // The webhook as of the latest claim: its deliveries are signed with its secret and sent to its URL of then.
    let w: Webhook | undefined;
    let readAt = 0;
    // Wakes the claiming loop when a hotel took its waiting deliveries in hand: its next ones can be claimed while it
    // delivers these.
    let wake = () => {};
    const work = async (hotelId: string) => {
      try {
        for (let rows = waiting.get(hotelId); rows && !gone && this.running; rows = waiting.get(hotelId)) {
          waiting.delete(hotelId);
          wake();
          for (const d of rows) {
            held--;
            if (gone || !this.running) continue;
            const r = await this.deliver(w!, d, agents);
            if (r === 'gone') gone = true;
            else if (typeof r === 'number') delivered.push({ id: d.id, status: r });
          }
        }
      } catch (err) {
        // A failure could not be recorded (the catalog): the hotel's rest is due again once its claim runs out.
        this.o.log?.warn('webhook delivery failed', { webhookId, hotelId, err: (err as Error).message });
      } finally {
        held -= waiting.get(hotelId)?.length ?? 0;
        waiting.delete(hotelId);
        inHand.delete(hotelId);
      }
    };
    try {
      while (this.running && !gone) {
        const canClaim = () => waiting.size < concurrency && held < cap;
        // Resolved when a hotel takes its waiting deliveries in hand from here on (also by a worker started below).
        const woken = new Promise<void>((r) => (wake = r));
        if (canClaim()) {
          await flush();
          // Read again at most once a second (a lane claims often while one hotel streams).
          if (Date.now() - readAt >= 1_000) {
            w = await this.store.get(webhookId);
            readAt = Date.now();
          }
          if (!w || !w.enabled) break;
          // Not a hotel whose next deliveries already wait.
          for (const d of await this.claim(webhookId, cap - held, [...waiting.keys()])) {
            const list = waiting.get(d.hotelId);
            if (list) list.push(d);
            else waiting.set(d.hotelId, [d]);
            held++;
          }
        }
        for (const hotelId of waiting.keys()) {
          if (active.size >= concurrency) break;
          if (inHand.has(hotelId)) continue;
          inHand.add(hotelId);
          const p: Promise<void> = work(hotelId).finally(() => active.delete(p));
          active.add(p);
        }
        if (active.size === 0) break;
        // Until a hotel is done or takes deliveries in hand (its next ones may be claimed then); while more may be
        // claimed, also to look for deliveries recorded since.
        if (canClaim()) await Promise.race([...active, woken, new Promise((r) => setTimeout(r, laneLookMs))]);
        else await Promise.race([...active, woken]);
      }
    } catch (err) {
      this.o.log?.warn('webhook lane failed', { webhookId, err: (err as Error).message });
    } finally {
      gone = true;
      await Promise.allSettled(active);
      await flush().catch((err: Error) => this.o.log?.warn('recording deliveries failed', { webhookId, err: err.message }));
      agents.http.destroy();
      agents.https.destroy();
    }
  }

  /**
   * Take up to `limit` due deliveries, oldest first, none of the hotels in `except` and at most `backlogPerRequest`
   * of one hotel (so that one slow hotel cannot fill the lane's backlog); a notifier that dies leaves them due again
   * later.
   */
  private async claim(webhookId: string, limit: number, except: string[]): Promise<DeliveryRow[]> {
    const due = await this.store.due(webhookId, limit, except, backlogPerRequest);
    if (due.length === 0) return due;
    await this.o.catalog.query(
      `UPDATE webhook_deliveries SET next_attempt_at = now() + make_interval(secs => $2::float8 / 1000) WHERE id = ANY($1::bigint[])`,
      [due.map((d) => d.id), Math.max(1_000, claimMs * this.o.retryScale)],
    );
    return due;
  }

  /** One attempt: the status of a success (recorded by the caller), or how the failure was recorded. */
  private async deliver(w: Webhook, d: DeliveryRow, agents: ReturnType<typeof laneAgents>): Promise<number | 'failed' | 'gone'> {
    const headers = signatureHeaders(w.secret, d.eventId, Math.floor(Date.now() / 1000), d.body);
    const r = await attempt(w.url, headers, d.body, this.o.allowPrivate, undefined, agents);
    if (r.ok) {
      this.counts.delivered++;
      processMetrics.webhookDeliveries.inc({ outcome: 'succeeded' });
      return r.status;
    }
    this.counts.failed++;
    if (r.gone) {
      processMetrics.webhookDeliveries.inc({ outcome: 'gone' });
      await this.store.failed(d.id, r.status, r.error, null, failingDisableMs * this.o.retryScale);
      await this.store.disable(w.id, 'the receiver answered 410 Gone');
      this.o.log?.info('webhook disabled: 410 Gone', { webhookId: w.id });
      return 'gone';
    }
    const delay = nextAttemptDelayMs(d.attempts + 1, this.o.retryScale, r.retryAfterMs);
    processMetrics.webhookDeliveries.inc({ outcome: delay === null ? 'gave_up' : 'failed' });
    const disabled = await this.store.failed(d.id, r.status, r.error, delay === null ? null : new Date(Date.now() + delay), failingDisableMs * this.o.retryScale);
    if (disabled) {
      this.o.log?.info('webhook disabled: failing for 5 days', { webhookId: w.id });
      return 'gone';
    }
    return 'failed';
  }
}
