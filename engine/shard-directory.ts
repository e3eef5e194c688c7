// The shard map of the catalog (catalog migration 010) as every process sees it: which shard database holds each
// virtual shard, and the pools to reach them. It is read at start, and read again when a move announces a new
// version on Redis (`<prefix>:shard-map`), when a shard database says a shard is not at home there (moved_to, see
// shard migration 007), and every few seconds in any case. A process whose copy is stale may read an old copy of a
// shard for a moment; it can never write there: the shard database's own fence refuses it.
import type { RedisClient as Redis } from './redis.js';
import type { Config } from './config.js';
import { databaseOfShard } from './shard-map.js';
import type { Pool } from './store/pg.js';

export interface ShardPlace {
  shard: number;
  database: number;
  movingTo: number | null;
  version: number;
}

/** How often a process reads the map's version even when nothing was announced (a lost message, a Redis outage). */
export const shardMapPollMs = 2_000;

export class ShardDirectory {
  private places: ShardPlace[] = [];
  private readonly urls = new Map<number, string>();
  private readonly pools = new Map<number, Pool>();
  private version = 0;
  private poll: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private subscriber: Redis | undefined;
  /** Called after a refresh that changed the map (shard → database). */
  onChange: (() => void) | undefined;

  constructor(
    private readonly catalog: Pool,
    private readonly config: Pick<Config, 'shardCount' | 'shardDatabaseUrls'>,
    private readonly makePool: (url: string, database: number) => Pool,
  ) {
    // Until the catalog is read (and whenever it cannot be): the configuration's rule.
    config.shardDatabaseUrls.forEach((u, i) => this.urls.set(i, u));
    this.places = Array.from({ length: config.shardCount }, (_, shard) => ({
      shard,
      database: databaseOfShard(shard, config.shardDatabaseUrls.length),
      movingTo: null,
      version: 0,
    }));
  }

  /**
   * Fill the map on first start (the configuration's databases as ids 0..N-1, shard k in database k mod N; rows
   * that exist are kept), then read it. Idempotent: every process does it at start.
   */
  async open(): Promise<void> {
    const urls = this.config.shardDatabaseUrls;
    await this.catalog.query(
      `INSERT INTO shard_databases (id, url) SELECT i - 1, u FROM unnest($1::text[]) WITH ORDINALITY AS x(u, i)
       ON CONFLICT (id) DO NOTHING`,
      [urls],
    );
    await this.catalog.query(
      `INSERT INTO shard_map (shard, database_id) SELECT k, k % $2 FROM generate_series(0, $1 - 1) AS k
       ON CONFLICT (shard) DO NOTHING`,
      [this.config.shardCount, urls.length],
    );
    await this.refresh();
  }

  private readAt = 0;

  /** Read the map again unless it was read within `ms` (a reader that missed a row asks this; bounded catalog load). */
  refreshIfOlderThan(ms: number): Promise<void> {
    return Date.now() - this.readAt < ms ? (this.refreshing ?? Promise.resolve()) : this.refresh();
  }

  /** Read the map again now (one at a time: concurrent callers share the read). */
  refresh(): Promise<void> {
    this.refreshing ??= this.read().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async read(): Promise<void> {
    const [dbs, map] = await Promise.all([
      this.catalog.query('SELECT id, url FROM shard_databases ORDER BY id'),
      this.catalog.query('SELECT shard, database_id, moving_to, version FROM shard_map WHERE shard < $1 ORDER BY shard', [this.config.shardCount]),
    ]);
    for (const row of dbs.rows) {
      const id = Number(row.id);
      // The configuration's URL wins for its own databases (a password or host changed since the first start).
      if (id >= this.config.shardDatabaseUrls.length) this.urls.set(id, row.url as string);
    }
    const before = this.places.map((p) => p.database).join(',');
    const places = [...this.places];
    let version = this.version;
    for (const row of map.rows) {
      const p: ShardPlace = { shard: Number(row.shard), database: Number(row.database_id), movingTo: row.moving_to === null ? null : Number(row.moving_to), version: Number(row.version) };
      places[p.shard] = p;
      version = Math.max(version, p.version);
    }
    this.places = places;
    this.version = version;
    this.readAt = Date.now();
    if (places.map((p) => p.database).join(',') !== before) this.onChange?.();
  }

  /** Follow announcements of new versions on Redis, and read the version every few seconds besides. */
  watch(subscriber: Redis, channel: string): void {
    this.subscriber = subscriber;
    void subscriber.subscribe(channel).catch(() => {});
    subscriber.on('message', (c: string, text: string) => {
      if (c === channel && Number(text) > this.version) void this.refresh().catch(() => {});
    });
    this.poll = setInterval(() => {
      this.catalog.query('SELECT max(version) AS v FROM shard_map').then(
        (r) => {
          if (Number(r.rows[0].v ?? 0) !== this.version) void this.refresh().catch(() => {});
        },
        () => {},
      );
    }, shardMapPollMs);
    this.poll.unref();
  }

  stop(): void {
    if (this.poll) clearInterval(this.poll);
    this.subscriber?.disconnect();
  }

  get mapVersion(): number {
    return this.version;
  }

  databaseOf(shard: number): number {
    return this.places[shard].database;
  }

  place(shard: number): ShardPlace {
    return this.places[shard];
  }

  allPlaces(): ShardPlace[] {
    return [...this.places];
  }

  /** Every known shard database id (those of the configuration and those added by moves). */
  databaseIds(): number[] {
    return [...this.urls.keys()].sort((a, b) => a - b);
  }

  urlOf(database: number): string | undefined {
    return this.urls.get(database);
  }

  /** The pool of a shard database, made on first use. */
  pool(database: number): Pool {
    let p = this.pools.get(database);
    if (!p) {
      const url = this.urls.get(database);
      if (url === undefined) throw new Error(`unknown shard database ${database}`);
      p = this.makePool(url, database);
      this.pools.set(database, p);
    }
    return p;
  }

  poolOfShard(shard: number): Pool {
    return this.pool(this.databaseOf(shard));
  }

  /** The pools of every known shard database, by id. */
  allPools(): { database: number; pool: Pool }[] {
    return this.databaseIds().map((database) => ({ database, pool: this.pool(database) }));
  }

  /** Pools made so far (to close them). */
  openPools(): Pool[] {
    return [...this.pools.values()];
  }

  /** Tell every process that the map changed (their next read of the map sees `version`). */
  static async announce(redis: Redis, channel: string, version: number): Promise<void> {
    await redis.publish(channel, String(version)).catch(() => 0);
  }
}
