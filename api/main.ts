// `web` process (Procfile): migrate, then serve the API and the web pages.
import { randomBytes } from 'node:crypto';
import { startOrExit } from '../engine/startup.js';
import { prepareDatabases } from '../engine/store/pg.js';
import { startApi } from './server.js';

const { started: api } = await startOrExit(async (config) => {
  await prepareDatabases(config.catalogUrl, config.shardDatabaseUrls);
  if (!config.adminApiKey) {
    config.adminApiKey = `admin_${randomBytes(24).toString('base64url')}`;
    process.stdout.write(`ADMIN_API_KEY was not set; this process's admin token is: ${config.adminApiKey}\n`);
  }
  return startApi(config);
});
const stop = async () => {
  await api.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
