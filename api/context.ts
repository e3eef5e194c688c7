import type { PaymentProvider } from '../engine/payment-provider.js';
import type { AvailabilityCache } from '../engine/availability-cache.js';
import type { AvailabilityHub } from './availability-hub.js';
import type { CommandRouter } from '../engine/command-router.js';
import type { Config } from '../engine/config.js';
import type { Logger } from '../engine/log.js';
import type { RedisClient, RedisKeys } from '../engine/redis.js';
import type { BatchStore, CatalogStore } from '../engine/store/catalog-store.js';
import type { ShardReader } from '../engine/store/shard-reader.js';
import type { Authenticator, RateLimitStore } from './auth.js';
import type { BatchProgress } from './batch-progress.js';
import type { Metrics } from './metrics.js';

/** Everything a route needs, built once per API process. */
export interface ApiContext {
  config: Config;
  router: CommandRouter;
  reader: ShardReader;
  catalog: CatalogStore;
  auth: Authenticator;
  redis: RedisClient;
  keys: RedisKeys;
  log: Logger;
  /** The access log (one line per request, component "access"). */
  accessLog: Logger;
  metrics: Metrics;
  /** Where rate limits are counted (Redis, shared by every API process). */
  rateLimits: RateLimitStore;
  cache: AvailabilityCache;
  payments: PaymentProvider;
  batches: BatchStore;
  /** The decisions of processing batches seen by earlier polls. */
  batchProgress: BatchProgress;
  /** Worker threads that parse and split partner batches off the event loop. */
  batchPool: { run(task: unknown): Promise<unknown> };
  hub: AvailabilityHub;
}
