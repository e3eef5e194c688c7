import os from 'node:os';
import { envSchema, type Env } from '../schemas/config.js';

/** The parsed configuration every part of the program receives; the only reader of process.env. */
export interface Config {
  port: number;
  catalogUrl: string;
  shardDatabaseUrls: string[];
  shardCount: number;
  redisUrl: string;
  /** REDIS_CLUSTER_NODES: a Redis Cluster's start nodes; undefined: the one server of redisUrl. */
  redisClusterNodes: { host: string; port: number }[] | undefined;
  redisPrefix: string;
  adminApiKey: string | undefined;
  holdTtlSeconds: number;
  paymentTimeoutSeconds: number;
  paymentProviderTimeoutMs: number;
  replyTimeoutMs: number;
  rateLimitPerSecond: number;
  /** Requests per minute per client address on POST /v1/users and POST /v1/sessions without a token (0: off). */
  addressRateLimitPerMinute: number;
  /** Proxies in front of the API whose X-Forwarded-For names the client address. */
  trustProxyHops: number;
  demoData: boolean;
  horizonDays: number;
  workerShards: number[] | undefined;
  /** Memory a worker process gives to the hotels it holds (night tables, reservations); beyond it the least recently used go. */
  workerHotelsBytes: number;
  /** Port of a worker's /metrics and /healthz; undefined: none. */
  workerMetricsPort: number | undefined;
  shardLeaseMs: number;
  jobLockMs: number;
  sseHeartbeatMs: number;
  logLevel: Env['LOG_LEVEL'];
  smtpUrl: string | undefined;
  mailDir: string;
  webhookAllowPrivate: boolean;
  /** Requests in flight to one webhook at once (hotels delivered side by side; a hotel's events in order). */
  webhookConcurrency: number;
  outboxRetentionHours: number;
  /** The notifier process's nice value (it lowers its own CPU priority to this at start). */
  notifierNice: number;
  auditRetentionDays: number;
  /** Tests only: the retry schedule scaled by this fraction (1: as API.md says). */
  webhookRetryScale: number;
}

export class ConfigError extends Error {}

/**
 * A Postgres URL always names its user: CI may run without USER, and node-postgres would then fall back to an
 * undefined default. Take it from the URL, else from the operating system.
 */
export function withPgUser(urlText: string): string {
  const u = new URL(urlText);
  if (!u.username) u.username = os.userInfo().username;
  if (!u.hostname) u.hostname = '127.0.0.1';
  return u.toString();
}

/** The shard database URLs: SHARD_DATABASE_URLS, else `<catalog name>_shard_<i>` on the catalog's server. */
export function shardUrls(catalogUrl: string, pgShards: number, explicit: string[] | undefined): string[] {
  if (explicit) return explicit.map(withPgUser);
  const base = new URL(withPgUser(catalogUrl));
  const name = base.pathname.replace(/^\//, '') || 'booking';
  return Array.from({ length: pgShards }, (_, i) => {
    const u = new URL(base.toString());
    u.pathname = `/${name}_shard_${i}`;
    return u.toString();
  });
}

export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue.path[0] ?? 'environment');
    throw new ConfigError(`${name}: ${issue.message}`);
  }
  const e = parsed.data;
  const catalogUrl = withPgUser(e.DATABASE_URL);
  const shardDatabaseUrls = shardUrls(catalogUrl, e.PG_SHARDS, e.SHARD_DATABASE_URLS);
  if (e.WORKER_SHARDS?.some((s) => s >= e.SHARD_COUNT)) {
    throw new ConfigError(`WORKER_SHARDS: every shard must be below SHARD_COUNT (${e.SHARD_COUNT})`);
  }
  if (e.SHARD_LEASE_MS > e.JOB_LOCK_MS) {
    // A job's lock must outlive the lease, or a live owner could see its job redelivered while it still holds it.
    throw new ConfigError(`SHARD_LEASE_MS: must not exceed JOB_LOCK_MS (${e.JOB_LOCK_MS})`);
  }
  if (e.PAYMENT_PROVIDER_TIMEOUT_MS >= e.PAYMENT_TIMEOUT_SECONDS * 1000) {
    // A provider call must end (answer or time out) while its attempt still keeps the hold.
    throw new ConfigError(`PAYMENT_PROVIDER_TIMEOUT_MS: must be less than PAYMENT_TIMEOUT_SECONDS × 1000 (${e.PAYMENT_TIMEOUT_SECONDS * 1000})`);
  }
  return {
    port: e.PORT,
    catalogUrl,
    shardDatabaseUrls,
    shardCount: e.SHARD_COUNT,
    redisUrl: e.REDIS_URL,
    redisClusterNodes: e.REDIS_CLUSTER_NODES,
    redisPrefix: e.REDIS_PREFIX,
    adminApiKey: e.ADMIN_API_KEY,
    holdTtlSeconds: e.HOLD_TTL_SECONDS,
    paymentTimeoutSeconds: e.PAYMENT_TIMEOUT_SECONDS,
    paymentProviderTimeoutMs: e.PAYMENT_PROVIDER_TIMEOUT_MS,
    replyTimeoutMs: e.REPLY_TIMEOUT_MS,
    rateLimitPerSecond: e.RATE_LIMIT_PER_SECOND,
    addressRateLimitPerMinute: e.ADDRESS_RATE_LIMIT_PER_MINUTE,
    trustProxyHops: e.TRUST_PROXY_HOPS,
    demoData: e.DEMO_DATA,
    horizonDays: e.INVENTORY_HORIZON_DAYS,
    workerShards: e.WORKER_SHARDS,
    workerHotelsBytes: e.WORKER_HOTELS_MB * 1024 * 1024,
    workerMetricsPort: e.WORKER_METRICS_PORT >= 0 ? e.WORKER_METRICS_PORT : e.METRICS_PORT >= 0 ? e.METRICS_PORT : undefined,
    shardLeaseMs: e.SHARD_LEASE_MS,
    jobLockMs: e.JOB_LOCK_MS,
    sseHeartbeatMs: e.SSE_HEARTBEAT_MS,
    logLevel: e.LOG_LEVEL,
    smtpUrl: e.SMTP_URL,
    mailDir: e.MAIL_DIR,
    webhookAllowPrivate: e.WEBHOOK_ALLOW_PRIVATE,
    webhookConcurrency: e.WEBHOOK_CONCURRENCY,
    outboxRetentionHours: e.OUTBOX_RETENTION_HOURS,
    notifierNice: e.NOTIFIER_NICE,
    auditRetentionDays: e.AUDIT_RETENTION_DAYS,
    webhookRetryScale: e.WEBHOOK_RETRY_SCALE_PERMILLE / 1000,
  };
}

/** Parse process.env or stop the program with a one-line message naming the variable. */
export function loadConfigOrExit(): Config {
  try {
    return parseConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration error: ${err.message} (fix that environment variable; docs/api.md lists them all)\n`);
      process.exit(2);
    }
    throw err;
  }
}
