// `notifier` process (Procfile): the outbox relay (committed events → the notifications queue, in order per hotel)
// and the notifier (signed webhooks with retries, guest e-mails).
import { createLogger } from '../engine/log.js';
import { startNotificationService } from '../engine/notify/service.js';
import { startOrExit } from '../engine/startup.js';
import { prepareDatabases } from '../engine/store/pg.js';

// Through startOrExit like the other parts: Redis (the server or the cluster) must answer, and no job may wait in a
// queue named as before the hash tags (the notifications queue is one of them).
const {
  config,
  started: { log, service },
} = await startOrExit(async (config) => {
  const log = createLogger('notifier', config.logLevel);
  await prepareDatabases(config.catalogUrl, config.shardDatabaseUrls);
  return { log, service: startNotificationService(config, log) };
});
log.info('notifier started', { smtp: config.smtpUrl ? 'on' : 'off', mailDir: config.smtpUrl ? undefined : config.mailDir });
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
  await service.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
