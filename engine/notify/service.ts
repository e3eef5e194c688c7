// The notifier process's parts, together: the outbox relay of every shard database and the notifier.
import type { Config } from '../config.js';
import { createNotificationsQueue } from '../jobs.js';
import type { Logger } from '../log.js';
import { createRedis, RedisKeys } from '../redis.js';
import { ShardDirectory } from '../shard-directory.js';
import { createPool } from '../store/pg.js';
import { Notifier } from './notifier.js';
import { OutboxRelay } from './relay.js';

export interface NotificationService {
  relay: OutboxRelay;
  notifier: Notifier;
  stop(): Promise<void>;
}

export function startNotificationService(config: Config, log?: Logger): NotificationService {
  const catalog = createPool(config.catalogUrl, 6, 'notifier');
  // The relay follows the shard map's databases (a database added by a move gets a relay loop; rows of shards that
  // moved away are skipped by the databases themselves, see shards_away in shard migration 009).
  // Every write of this process to a shard database (relay cursors, recorded marks, pruning) is safe to lose in a crash
  // of Postgres (events are queued again, pruning waits): asynchronous commit, so none waits for a WAL flush beside
  // the writer's commits.
  const directory = new ShardDirectory(catalog, config, (u) => createPool(u, 3, 'outbox-relay', { synchronous_commit: 'off' }));
  void directory.open().catch((err: Error) => log?.warn('could not read the shard map; relaying the configured databases', { err: err.message }));
  const mapWatch = createRedis(config, 'notifier-map');
  directory.watch(mapWatch, new RedisKeys(config.redisPrefix).shardMap());
  const queueConnection = createRedis(config, 'notifier-queue');
  const workerConnection = createRedis(config, 'notifier-worker', { blocking: true });
  const queue = createNotificationsQueue(queueConnection, new RedisKeys(config.redisPrefix));
  queue.on('error', () => {});
  const relay = new OutboxRelay({ pools: () => directory.allPools(), queue, log, retentionHours: config.outboxRetentionHours, auditRetentionDays: config.auditRetentionDays });
  const notifier = new Notifier({
    catalog,
    shardPool: (database) => directory.pool(database),
    connection: workerConnection,
    prefix: config.redisPrefix,
    log,
    allowPrivate: config.webhookAllowPrivate,
    concurrency: config.webhookConcurrency,
    retryScale: config.webhookRetryScale,
    smtpUrl: config.smtpUrl,
    mailDir: config.mailDir,
    retentionHours: config.outboxRetentionHours,
  });
  relay.start();
  notifier.start();
  return {
    relay,
    notifier,
    stop: async () => {
      await relay.stop();
      await notifier.stop();
      await queue.close().catch(() => {});
      queueConnection.disconnect();
      workerConnection.disconnect();
      directory.stop();
      await Promise.all([catalog.end(), ...directory.openPools().map((p) => p.end())]);
    },
  };
}
