// `notifier` process (Procfile): the outbox relay (committed events → the notifications queue, in order per hotel)
// and the notifier (signed webhooks with retries, guest e-mails).
import { loadConfigOrExit } from '../engine/config.js';
import { createLogger } from '../engine/log.js';
import { startNotificationService } from '../engine/notify/service.js';
import { prepareDatabases } from '../engine/store/pg.js';

const config = loadConfigOrExit();
const log = createLogger('notifier', config.logLevel);
await prepareDatabases(config.catalogUrl, config.shardDatabaseUrls);
const service = startNotificationService(config, log);
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
