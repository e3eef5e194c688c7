// A process that cannot start says so in one line: what is wrong and how to fix it (Postgres unreachable or refusing
// the user or database, Redis unreachable, a bad environment variable), and exits non-zero. The stack trace follows
// only with LOG_LEVEL=debug. Every entry point (bin/start.ts, api/main.ts, workers/reservation-worker.ts) starts
// through `startOrExit`.
import net from 'node:net';
import { ConfigError, loadConfigOrExit, type Config } from './config.js';
import { jobsInPreviousQueues } from './jobs.js';
import { createProbe, type RedisEndpoint } from './redis.js';

/** Redis answered no PING in time at start. */
export class RedisUnreachable extends Error {}

/** Queues named as by an earlier version still hold jobs (see jobsInPreviousQueues). */
export class PreviousQueuesNotEmpty extends Error {}

/** What a URL names, without its password. */
function where(urlText: string): string {
  try {
    const u = new URL(urlText);
    const user = u.username ? `${decodeURIComponent(u.username)}@` : '';
    return `${user}${u.hostname}:${u.port || (u.protocol.startsWith('redis') ? '6379' : '5432')}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return urlText;
  }
}

/** What an endpoint names, without a password: the URL's server, or the cluster's start nodes. */
function whereRedis(r: RedisEndpoint): string {
  if (typeof r !== 'string' && r.redisClusterNodes?.length) return `the Redis Cluster of ${r.redisClusterNodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
  return where(typeof r === 'string' ? r : r.redisUrl);
}

/** Resolve once Redis (the server, or the cluster) answers a PING, or reject within `timeoutMs` with RedisUnreachable. */
export async function checkRedis(endpoint: RedisEndpoint, timeoutMs = 5000): Promise<void> {
  const r = createProbe(endpoint, timeoutMs);
  let last: Error | undefined;
  r.on('error', (e: Error) => (last = e));
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      r.connect().then(() => r.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    // A cluster client's own error says only that no start node answered; the node's error says why.
    const nodeError = (last as { lastNodeError?: Error } | undefined)?.lastNodeError?.message;
    if (nodeError && /cluster support disabled/i.test(nodeError)) {
      throw new RedisUnreachable(`${whereRedis(endpoint)} is not a cluster (${nodeError}): set REDIS_URL instead of REDIS_CLUSTER_NODES for a single server`);
    }
    const why = (last as { code?: string } | undefined)?.code ?? (err as { code?: string }).code ?? (err as Error).message;
    const fix = typeof endpoint !== 'string' && endpoint.redisClusterNodes?.length ? 'set REDIS_CLUSTER_NODES to nodes of a running cluster' : 'set REDIS_URL to where it runs';
    throw new RedisUnreachable(`cannot reach Redis at ${whereRedis(endpoint)} (${why}): start Redis there, or ${fix}`);
  } finally {
    clearTimeout(timer);
    r.disconnect();
  }
}

/** Refuse to start while queues named as by an earlier version hold jobs, which this version would never decide. */
export async function checkNoPreviousQueues(config: Config): Promise<void> {
  const r = createProbe(config);
  r.on('error', () => {});
  try {
    await r.connect();
    const n = await jobsInPreviousQueues(r, config.redisPrefix, config.shardCount);
    if (n > 0) {
      const p = config.redisPrefix;
      throw new PreviousQueuesNotEmpty(
        `${n} job(s) wait in queues named as before this version ({${p}:s<k>}:shard-<k>, ${p}:shard-<k>, and the notifications queue): let the previous version's workers and notifier decide them (docs/operations.md, "Upgrading the Redis key names"), then start this version`,
      );
    }
  } finally {
    r.disconnect();
  }
}

/**
 * Refuse to start when the API's port is taken (before anything else starts: under `npm start`, a worker that joined
 * the running deployment would take shards from it before the API found the port taken). Answers when it is free.
 */
export function checkPortFree(port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => reject(Object.assign(err, { port })));
    probe.listen(port, '0.0.0.0', () => probe.close(() => resolve()));
  });
}

const unreachable = ['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET'];

/** One line saying what stopped the start and how to fix it. */
export function explainStartFailure(err: unknown, config?: Config): string {
  if (err instanceof ConfigError) return `configuration error: ${err.message} (fix that environment variable; docs/api.md lists them all)`;
  if (err instanceof RedisUnreachable || err instanceof PreviousQueuesNotEmpty) return `cannot start: ${err.message}`;
  const e = err as { code?: string; message?: string; address?: string; port?: number };
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = (e?.message ?? String(err)).split('\n')[0];
  // The Postgres URL the error is about: its host and port when the driver says them, else the catalog's.
  const pgUrl = config?.catalogUrl;
  const server = e?.address && e.port ? `${e.address}:${e.port}` : pgUrl ? where(pgUrl).replace(/^[^@]*@/, '').replace(/\/.*$/, '') : 'the server';
  const user = pgUrl ? decodeURIComponent(new URL(pgUrl).username) : undefined;
  if (code === 'EADDRINUSE') {
    return `cannot start: port ${e.port ?? config?.port} is already in use by another process: stop that process, or set PORT (METRICS_PORT for a worker's or the notifier's metrics; under npm start the notifier takes the port after it) to a free port`;
  }
  if (unreachable.includes(code) || /timeout exceeded when trying to connect|Connection terminated unexpectedly/i.test(message)) {
    return `cannot start: PostgreSQL at ${server} cannot be reached (${code || message}): start PostgreSQL there, or set DATABASE_URL (and SHARD_DATABASE_URLS, if used) to where it runs`;
  }
  if (code.startsWith('28') || /no PostgreSQL user name specified|role .* does not exist|password authentication failed/i.test(message)) {
    return `cannot start: PostgreSQL at ${server} refused the user${user ? ` "${user}"` : ''} (${message}): create that role (e.g. \`createuser --createdb ${user || 'NAME'}\` as the postgres user), or put a user it accepts in DATABASE_URL (postgres://USER:PASSWORD@HOST:PORT/DB)`;
  }
  if (code === '53300') {
    return `cannot start: PostgreSQL at ${server} has no connection left (${message}): raise max_connections in its postgresql.conf (a deployment on one machine holds about 40), or stop other clients of that server`;
  }
  if (code === '3D000') {
    return `cannot start: PostgreSQL at ${server} has no such database (${message}): create it, or set DATABASE_URL to an existing one`;
  }
  if (code === '42501') {
    return `cannot start: PostgreSQL at ${server} does not let${user ? ` "${user}"` : ' this user'} create or change the databases (${message}): grant it CREATEDB (ALTER ROLE ... CREATEDB) or create the databases for it`;
  }
  return `cannot start: ${message}${code ? ` (${code})` : ''} (LOG_LEVEL=debug shows the stack trace)`;
}

function debugWanted(config: Config | undefined): boolean {
  return config ? config.logLevel === 'debug' : process.env.LOG_LEVEL === 'debug';
}

/** Print the one line (and with LOG_LEVEL=debug the stack) on stderr, and exit: 2 for configuration, else 1. */
export function exitOnStartFailure(err: unknown, config?: Config): never {
  process.stderr.write(`${explainStartFailure(err, config)}\n`);
  if (debugWanted(config) && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
}

/**
 * Load the configuration (a bad variable ends the process with its one line), check that Redis answers, then run
 * `start`; whatever fails on the way ends the process with one line.
 */
export async function startOrExit<T>(start: (config: Config) => Promise<T>): Promise<{ config: Config; started: T }> {
  const config = loadConfigOrExit();
  try {
    await checkRedis(config);
    await checkNoPreviousQueues(config);
    return { config, started: await start(config) };
  } catch (err) {
    exitOnStartFailure(err, config);
  }
}
