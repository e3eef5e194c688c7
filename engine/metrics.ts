// The process's Prometheus metrics, one prom-client registry per process with the same families in every process
// kind (API.md, Operations): an API process fills the request and queue families, a worker the decision, commit and
// shard families, and each exposes the whole list (a family that has nothing to report yet shows its HELP and
// TYPE without samples). Default process metrics (CPU, memory, heap, GC, event-loop lag) come from prom-client.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const sizeBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 20000];

/** A depth reader for the queue families: the API reads every shard's queue, a worker those it owns. */
export type QueueDepthSource = () => Promise<{ shard: number; waiting: number; oldestWaitingMs: number | null }[]>;

/** What a worker's shard owner reports. */
export interface OwnerView {
  stats: { fencedCommits: number; shardsTaken: number; shardsLost: number; jobsTakenOver: number; retriesInPlace: number; leaseRenewalFailures: number; shardsHandedOver: number };
  owned: { shard: number; epoch: number }[];
}

export class ProcessMetrics {
  readonly registry = new Registry();
  private queueSource: QueueDepthSource | undefined;

  readonly httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by route (the route pattern; "unmatched" for 404s, "unrouted" before a route was chosen), method and status, and how long they took.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: latencyBuckets,
    registers: [this.registry],
  });
  readonly httpFastPathRequests = new Counter({
    name: 'http_fast_path_requests_total',
    help: 'POST /v1/reservations requests served by the fast path (api/fast-path.ts) rather than Express.',
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'http_rate_limited_total',
    help: 'Requests refused with 429, by limit (token, address).',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });
  readonly reservationDecisions = new Counter({
    name: 'reservation_decisions_total',
    help: "POST /v1/reservations answers by outcome as the API saw them: created, duplicate, late (202), or the refusal's code.",
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly routerJobs = this.fromStats('router_jobs_total', 'Jobs this API process queued.', () => this.routerStats?.().jobs);
  readonly routerCommands = this.fromStats('router_commands_total', 'Commands this API process queued.', () => this.routerStats?.().commands);
  readonly batchItems = new Counter({ name: 'batch_items_total', help: 'Items of partner batches accepted.', registers: [this.registry] });
  readonly batchPollRepliesRead = new Counter({
    name: 'batch_poll_replies_read_total',
    help: 'Stored replies read from the shard databases to answer batch polls.',
    registers: [this.registry],
  });

  readonly queueDepth = new Gauge({
    name: 'shard_queue_depth',
    help: 'Jobs waiting or active in a virtual shard queue (the API reports every shard, a worker those it owns).',
    labelNames: ['shard'] as const,
    registers: [this.registry],
    // Read at scrape time. A queue that cannot be read (Redis away) leaves the family without samples.
    collect: async () => {
      this.queueDepth.reset();
      for (const d of await this.depths()) this.queueDepth.set({ shard: String(d.shard) }, d.waiting);
    },
  });
  readonly queueOldestWaiting = new Gauge({
    name: 'shard_queue_oldest_waiting_seconds',
    help: 'Age of the oldest job not yet decided (waiting or being decided) in a virtual shard queue (0 when none).',
    labelNames: ['shard'] as const,
    registers: [this.registry],
    collect: async () => {
      this.queueOldestWaiting.reset();
      for (const d of await this.depths()) this.queueOldestWaiting.set({ shard: String(d.shard) }, (d.oldestWaitingMs ?? 0) / 1000);
    },
  });

  readonly decisions = new Counter({
    name: 'shard_decisions_total',
    help: "Commands a worker decided and committed, by command and outcome (ok, or the refusal's code).",
    labelNames: ['command', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly commitDuration = new Histogram({
    name: 'shard_commit_duration_seconds',
    help: 'Time of one successful commit (one transaction, group commit: the rounds of several shards of one database).',
    buckets: latencyBuckets,
    registers: [this.registry],
  });
  readonly commitRounds = new Histogram({
    name: 'shard_commit_rounds',
    help: 'Shard rounds (decided batches of jobs) carried by one commit.',
    buckets: sizeBuckets,
    registers: [this.registry],
  });
  readonly commitCommands = new Histogram({
    name: 'shard_commit_commands',
    help: 'Commands (decisions) carried by one commit: the batch size.',
    buckets: sizeBuckets,
    registers: [this.registry],
  });
  readonly commitRows = new Histogram({
    name: 'shard_commit_rows',
    help: 'Night and reservation rows written by one commit.',
    buckets: sizeBuckets,
    registers: [this.registry],
  });

  // A worker's shard owner (engine/shard-owner.ts OwnerStats): fencing, hand-overs and leases.
  readonly fencedCommits = this.fromStats('shard_fenced_commits_total', 'Commit attempts refused because another owner had taken the shard (epoch fence).', () => this.ownerStats?.().stats.fencedCommits);
  readonly takeovers = this.fromStats('shard_takeovers_total', 'Shards this worker took (leases claimed; a hand-over to this worker).', () => this.ownerStats?.().stats.shardsTaken);
  readonly losses = this.fromStats('shard_losses_total', 'Shards this worker let go (lease lost, fenced, stopped: a hand-over from it).', () => this.ownerStats?.().stats.shardsLost);
  readonly handovers = this.fromStats('shard_handovers_total', 'Shards this worker handed over because they left its fair share (also in shard_losses_total).', () => this.ownerStats?.().stats.shardsHandedOver);
  readonly jobsTakenOver = this.fromStats('shard_jobs_taken_over_total', 'Jobs a previous owner had in hand, decided by this worker when it took their shard.', () => this.ownerStats?.().stats.jobsTakenOver);
  readonly commitRetries = this.fromStats('shard_commit_retries_total', 'Commit attempts retried in place because the database failed.', () => this.ownerStats?.().stats.retriesInPlace);
  readonly leaseRenewalFailures = this.fromStats('shard_lease_renewal_failures_total', 'Lease renewal rounds that failed (Redis away or stalled); the shards are kept, their commits stay fenced.', () => this.ownerStats?.().stats.leaseRenewalFailures);
  readonly shardsOwned = new Gauge({
    name: 'shards_owned',
    help: 'Virtual shards this worker owns now.',
    registers: [this.registry],
    collect: () => {
      const o = this.ownerStats?.();
      if (o) this.shardsOwned.set(o.owned.length);
    },
  });
  readonly shardEpoch = new Gauge({
    name: 'shard_epoch',
    help: 'Epoch under which this worker owns a shard (grows by one with every hand-over).',
    labelNames: ['shard'] as const,
    registers: [this.registry],
    collect: () => {
      this.shardEpoch.reset();
      for (const o of this.ownerStats?.().owned ?? []) this.shardEpoch.set({ shard: String(o.shard) }, o.epoch);
    },
  });

  readonly outboxLag = new Gauge({
    name: 'outbox_lag_seconds',
    help: 'Age of the oldest committed outbox event the relay has not queued yet, by shard database (0 when caught up; the notifier).',
    labelNames: ['database'] as const,
    registers: [this.registry],
    collect: () => {
      this.outboxLag.reset();
      for (const l of this.outboxLagSource?.() ?? []) this.outboxLag.set({ database: String(l.database) }, l.seconds);
    },
  });
  readonly webhookDeliveries = new Counter({
    name: 'webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome: succeeded, failed (to be retried), gave_up (schedule exhausted), gone (410: webhook disabled); the notifier.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private readonly decisionCounters = new Map<string, Counter.Internal>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  private routerStats: (() => { jobs: number; commands: number }) | undefined;
  private ownerStats: (() => OwnerView) | undefined;

  /** A counter whose value is read at scrape time from counts kept elsewhere (no sample while there is no source). */
  private fromStats(name: string, help: string, read: () => number | undefined): Counter {
    const c: Counter = new Counter({
      name,
      help,
      registers: [this.registry],
      collect: () => {
        c.reset();
        const v = read();
        if (v !== undefined) c.inc(v);
      },
    });
    return c;
  }

  /** The command router's counts (an API process). */
  setRouterStats(read: () => { jobs: number; commands: number }): void {
    this.routerStats = read;
  }

  private outboxLagSource: (() => { database: number; seconds: number }[]) | undefined;

  /** The relay's lag by shard database (the notifier). */
  setOutboxLagSource(read: () => { database: number; seconds: number }[]): void {
    this.outboxLagSource = read;
  }

  /** The shard owner's counts and shards (a worker). */
  setOwner(read: () => OwnerView): void {
    this.ownerStats = read;
  }

  private depthRead: { at: number; read: ReturnType<QueueDepthSource> } | undefined;

  /** The queue depths, read once for both queue families of one scrape. */
  private depths(): ReturnType<QueueDepthSource> {
    const now = Date.now();
    if (!this.depthRead || now - this.depthRead.at > 250) {
      this.depthRead = { at: now, read: (this.queueSource?.() ?? Promise.resolve([])).catch(() => []) };
    }
    return this.depthRead.read;
  }

  /** Where the queue families are read from at scrape time. */
  setQueueSource(source: QueueDepthSource): void {
    this.queueSource = source;
  }

  /** One decided command (a worker, after its commit). */
  decided(command: string, outcome: string): void {
    const k = `${command}|${outcome}`;
    let c = this.decisionCounters.get(k);
    if (!c) this.decisionCounters.set(k, (c = this.decisions.labels(command, outcome)));
    c.inc();
  }

  /** One successful commit of `rounds` shard rounds. */
  committed(seconds: number, rounds: number, commands: number, rows: number): void {
    this.commitDuration.observe(seconds);
    this.commitRounds.observe(rounds);
    this.commitCommands.observe(commands);
    this.commitRows.observe(rows);
  }

  /** The Prometheus text exposition of every family. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** This process's metrics (an API process and a worker in one process, as in tests, share them). */
export const processMetrics = new ProcessMetrics();
