// `notifier` process (Procfile): the outbox relay (committed events → the notifications queue, in order per hotel)
// and the notifier (signed webhooks with retries, guest e-mails). With METRICS_PORT set it serves /healthz and
// /metrics there, like a worker (outbox_lag_seconds, webhook_deliveries_total, the process metrics).
import { lowerCpuPriority } from '../engine/cpu-priority.js';
import { createLogger } from '../engine/log.js';
import { processMetrics } from '../engine/metrics.js';
import { checkMailDir } from '../engine/notify/mail.js';
import { startNotificationService } from '../engine/notify/service.js';
import { startOrExit } from '../engine/startup.js';
import { prepareDatabases } from '../engine/store/pg.js';
import { serveMetrics } from '../engine/worker-metrics.js';

// Through startOrExit like the other parts: Redis (the server or the cluster) must answer, and no job may wait in a
// queue named as before the hash tags (the notifications queue is one of them).
const {
  config,
  started: { service, metrics, log },
} = await startOrExit(async (config) => {
  const log = createLogger('notifier', config.logLevel);
  // Background work: on cores shared with the API, the workers and Postgres, decisions go first and notifications
  // catch up in the lulls (outbox_lag_seconds shows how far behind). See engine/cpu-priority.ts for the session group.
  const priority = lowerCpuPriority(config.notifierNice, log);
  log.debug('cpu priority', { ...priority });
  checkMailDir(config);
  await prepareDatabases(config.catalogUrl, config.shardDatabaseUrls);
  const service = startNotificationService(config, log);
  processMetrics.setOutboxLagSource(() => service.relay.outboxLagSeconds());
  const metrics = config.workerMetricsPort === undefined ? undefined : await serveMetrics(config.workerMetricsPort, log);
  return { service, metrics, log };
});
log.info('notifier started', { smtp: config.smtpUrl ? 'on' : 'off', mailDir: config.smtpUrl ? undefined : config.mailDir, metricsPort: metrics?.port });
const stats = setInterval(() => {
  if (service.relay.relayed > 0) {
    log.info('notifier stats', { relayed: service.relay.relayed, lagP99Ms: service.relay.lagPercentile(99), ...service.notifier.counts });
  }
}, 30_000);
stats.unref();
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  metrics?.server.close();
  await service.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
