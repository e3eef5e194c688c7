// `worker` process (Procfile): migrate, then own shards (a fair share of them among the live workers, or the
// WORKER_SHARDS named) and decide their commands. SIGTERM hands every shard over, then exits.
import { createLogger } from '../engine/log.js';
import { ShardOwner } from '../engine/shard-owner.js';
import { prepareDatabases } from '../engine/store/pg.js';
import { startOrExit } from '../engine/startup.js';
import { reportOwner, serveWorkerMetrics } from '../engine/worker-metrics.js';

const {
  config,
  started: { owner, metrics, log },
} = await startOrExit(async (config) => {
  const log = createLogger('worker', config.logLevel);
  await prepareDatabases(config.catalogUrl, config.shardDatabaseUrls);
  const owner = new ShardOwner(config, log);
  await owner.start();
  const metrics = config.workerMetricsPort === undefined ? undefined : await serveWorkerMetrics(owner, config.workerMetricsPort, log);
  return { owner, metrics, log };
});
const stopReporting = reportOwner(owner, config, config.redisPrefix);
log.info('worker started', { owner: owner.ownerId, shards: config.workerShards ?? 'all', metricsPort: metrics?.port });
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  log.info('stopping: leaving the workers, handing every shard over', { owner: owner.ownerId });
  metrics?.server.close();
  stopReporting();
  await owner.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
