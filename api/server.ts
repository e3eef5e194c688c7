// Build and run one API process: its pools, Redis connections, command router and HTTP server.
import http from 'node:http';
import type { Express } from 'express';
import type { AddressInfo } from 'node:net';
import { CommandRouter } from '../engine/command-router.js';
import type { Config } from '../engine/config.js';
import { createLogger } from '../engine/log.js';
import { createRedis, redisReady, RedisKeys, type RedisOptions } from '../engine/redis.js';
import { BatchStore, CatalogStore } from '../engine/store/catalog-store.js';
import { createPool } from '../engine/store/pg.js';
import { ShardReader } from '../engine/store/shard-reader.js';
import { ShardDirectory } from '../engine/shard-directory.js';
import { ReservationClaims } from '../engine/store/reservation-claims.js';
import { createApp } from './app.js';
import { withFastPath } from './fast-path.js';
import { TestPaymentProvider } from '../engine/payment-provider.js';
import { AvailabilityHub } from './availability-hub.js';
import { AvailabilityCache } from '../engine/availability-cache.js';
import { apiRedisCommandTimeoutMs, apiRedisReconnectDelayMsMax, databaseProbeMs } from '../engine/limits.js';
import { Authenticator } from './auth.js';
import { createBatchPool } from './batch-pool.js';
import { BatchProgress } from './batch-progress.js';
import type { ApiContext } from './context.js';
import { Metrics } from './metrics.js';

export interface RunningApi {
  server: http.Server;
  app: Express;
  port: number;
  ctx: ApiContext;
  close(): Promise<void>;
}

export async function startApi(config: Config): Promise<RunningApi> {
  const log = createLogger('api', config.logLevel);
  const catalogPool = createPool(config.catalogUrl, 10, 'api');
  // The shard map of the catalog (engine/shard-directory.ts): reads follow it, and it follows the moves.
  const directory = new ShardDirectory(catalogPool, config, (u) => createPool(u, 20, 'api'));
  // Every Redis connection of the API fails a command that Redis does not answer in time, and reconnects soon after
  // Redis is back: a request gets 503 within a second when Redis stalls or is gone, never a hanging answer. The
  // command connection has no offline queue (a command sent while Redis is down fails at once instead of piling
  // up); the subscribers keep theirs for their few subscribe commands.
  const failFast: RedisOptions = { commandTimeoutMs: apiRedisCommandTimeoutMs, reconnectDelayMsMax: apiRedisReconnectDelayMsMax };
  const redis = createRedis(config, 'api', { ...failFast, offlineQueue: false });
  const revocations = createRedis(config, 'api-revocations', failFast);
  await redisReady(redis);
  const keys = new RedisKeys(config.redisPrefix);
  const catalog = new CatalogStore(catalogPool);
  const router = new CommandRouter(config, log);
  await router.start();
  const metrics = new Metrics();
  const rateLimits = { redis, prefix: config.redisPrefix, troubled: () => router.unavailableReason !== undefined };
  const auth = new Authenticator(catalog, config.adminApiKey, config.rateLimitPerSecond, log, rateLimits, () =>
    metrics.process.rateLimited.inc({ limit: 'token' }),
  );
  auth.startRevocationPolling();
  await revocations.subscribe(keys.revocations());
  revocations.on('message', (_c: string, hex: string) => auth.forget(hex));
  // A catalog that cannot be read at start leaves the configuration's rule in place until the map can be read.
  await directory.open().catch((err: Error) => log.warn('could not read the shard map; using the configured rule until it can be read', { err: err.message }));
  const mapWatch = createRedis(config, 'api-shard-map', failFast);
  directory.watch(mapWatch, keys.shardMap());
  const reader = new ShardReader(directory, config.shardCount, new ReservationClaims(catalogPool));
  reader.startProbing(databaseProbeMs);
  const cache = new AvailabilityCache(redis, keys, config.shardCount);
  const hub = new AvailabilityHub(createRedis(config, 'api-availability', failFast), cache, config.sseHeartbeatMs);
  const batchPool = createBatchPool();
  metrics.process.setRouterStats(() => router.stats);
  metrics.process.setQueueSource(() => router.queueDepths());
  const ctx: ApiContext = {
    batches: new BatchStore(catalogPool),
    batchProgress: new BatchProgress((jobs) => reader.appliedRepliesOfJobs(jobs)),
    payments: new TestPaymentProvider(catalogPool),
    batchPool,
    config,
    router,
    reader,
    cache,
    hub,
    catalog,
    auth,
    redis,
    keys,
    log,
    accessLog: createLogger('access', config.logLevel),
    metrics,
    rateLimits,
  };
  const app = createApp(ctx);
  const server = http.createServer({ keepAliveTimeout: 65_000 }, withFastPath(ctx, app));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, '0.0.0.0', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log.info('api listening', { port, apiId: router.apiId });
  return {
    server,
    app,
    port,
    ctx,
    close: async () => {
      hub.close();
      await batchPool.destroy().catch(() => {});
      reader.stopProbing();
      auth.stopRevocationPolling();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await router.close();
      revocations.disconnect();
      redis.disconnect();
      directory.stop();
      await Promise.all([catalogPool.end(), ...directory.openPools().map((p) => p.end())].map((p) => p.catch(() => {})));
    },
  };
}
