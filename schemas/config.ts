import { z } from 'zod';
import { jobLockMsDefault, shardLeaseMsDefault, sseHeartbeatMsDefault, workerHotelsMbDefault } from '../engine/limits.js';

const int = (min: number, max: number, dflt: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return dflt;
      if (!/^-?\d+$/.test(v)) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number, got "${v}"` });
        return z.NEVER;
      }
      const n = Number(v);
      if (n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be between ${min} and ${max}, got ${n}` });
        return z.NEVER;
      }
      return n;
    });

const url = (dflt: string, protocols: string[]) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const s = v === undefined || v === '' ? dflt : v;
      try {
        const u = new URL(s);
        if (!protocols.includes(u.protocol)) throw new Error('protocol');
      } catch {
        ctx.addIssue({ code: 'custom', message: `must be a ${protocols.join(' or ')}// URL, got "${s}"` });
        return z.NEVER;
      }
      return s;
    });

/**
 * The environment, exactly API.md's table (plus a few operator knobs, documented in docs/operations.md).
 * Defaults sit beside each field; nothing outside engine/config.ts reads process.env.
 */
export const envSchema = z.object({
  PORT: int(0, 65535, 3000),
  DATABASE_URL: url('postgres://localhost/booking', ['postgres:', 'postgresql:']),
  PG_SHARDS: int(1, 256, 2),
  SHARD_DATABASE_URLS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      const list = v.split(',').map((s) => s.trim());
      for (const s of list) {
        try {
          const u = new URL(s);
          if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new Error('protocol');
        } catch {
          ctx.addIssue({ code: 'custom', message: `every entry must be a postgres:// URL, got "${s}"` });
          return z.NEVER;
        }
      }
      return list;
    }),
  SHARD_COUNT: int(1, 4096, 16),
  REDIS_URL: url('redis://127.0.0.1:6379', ['redis:', 'rediss:']),
  // A Redis Cluster's nodes to start from (host:port, comma-separated); set, every process connects to the cluster
  // and REDIS_URL gives only the user, password and TLS (rediss:) of its nodes.
  REDIS_CLUSTER_NODES: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      const nodes: { host: string; port: number }[] = [];
      for (const s of v.split(',').map((x) => x.trim())) {
        const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/.exec(s);
        const port = m ? Number(m[2]) : 0;
        if (!m || port < 1 || port > 65535) {
          ctx.addIssue({ code: 'custom', message: `every entry must be host:port, got "${s}"` });
          return z.NEVER;
        }
        nodes.push({ host: m[1].replace(/^\[|\]$/g, ''), port });
      }
      return nodes;
    }),
  REDIS_PREFIX: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const s = v === undefined || v === '' ? 'booking' : v;
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(s)) {
        ctx.addIssue({ code: 'custom', message: 'must be 1..64 letters, digits, "_", "." or "-"' });
        return z.NEVER;
      }
      return s;
    }),
  ADMIN_API_KEY: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return undefined;
      if (v.length < 16) {
        ctx.addIssue({ code: 'custom', message: 'must be at least 16 characters' });
        return z.NEVER;
      }
      return v;
    }),
  HOLD_TTL_SECONDS: int(1, 7 * 24 * 3600, 900),
  // How long an open payment attempt keeps its hold from expiring; after it the reconciler settles the attempt by
  // asking the provider. Longer than a provider call may take (PAYMENT_PROVIDER_TIMEOUT_MS).
  PAYMENT_TIMEOUT_SECONDS: int(2, 3600, 120),
  // How long the API and the reconciler wait for one provider call.
  PAYMENT_PROVIDER_TIMEOUT_MS: int(100, 120_000, 10_000),
  REPLY_TIMEOUT_MS: int(1, 600_000, 10_000),
  RATE_LIMIT_PER_SECOND: int(0, 1_000_000, 100),
  // Requests per minute one client address may make to POST /v1/users and POST /v1/sessions without a token (0: off).
  ADDRESS_RATE_LIMIT_PER_MINUTE: int(0, 1_000_000, 30),
  // Proxies (load balancers) in front of the API whose X-Forwarded-For is believed for the client address (0: none).
  TRUST_PROXY_HOPS: int(0, 10, 0),
  DEMO_DATA: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '' || v === '1' || v === 'true') return true;
      if (v === '0' || v === 'false') return false;
      ctx.addIssue({ code: 'custom', message: `must be 0 or 1, got "${v}"` });
      return z.NEVER;
    }),
  INVENTORY_HORIZON_DAYS: int(30, 3650, 730),
  // Operator knobs beyond API.md's table.
  WORKER_SHARDS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '' || v.trim() === 'all') return undefined;
      const out: number[] = [];
      for (const part of v.split(',')) {
        const m = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
        if (!m) {
          ctx.addIssue({ code: 'custom', message: `must be "all" or a list like "0-7,12", got "${v}"` });
          return z.NEVER;
        }
        const a = Number(m[1]);
        const b = m[2] === undefined ? a : Number(m[2]);
        for (let i = Math.min(a, b); i <= Math.max(a, b); i++) out.push(i);
      }
      return out;
    }),
  WORKER_HOTELS_MB: int(1, 65_536, workerHotelsMbDefault),
  // -1: a worker serves no HTTP; else the port of its /metrics and /healthz (0: any free port).
  WORKER_METRICS_PORT: int(-1, 65_535, -1),
  // The same for a worker (and the notifier) under the name issue 16 gives it; WORKER_METRICS_PORT wins when both are set.
  METRICS_PORT: int(-1, 65_535, -1),
  SHARD_LEASE_MS: int(500, 600_000, shardLeaseMsDefault),
  JOB_LOCK_MS: int(500, 600_000, jobLockMsDefault),
  SSE_HEARTBEAT_MS: int(100, 60_000, sseHeartbeatMsDefault),
  // Notifications (API.md, "Notifications and webhooks").
  SMTP_URL: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      try {
        const u = new URL(v);
        if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:') throw new Error('protocol');
      } catch {
        ctx.addIssue({ code: 'custom', message: `must be a smtp:// or smtps:// URL, got "${v}"` });
        return z.NEVER;
      }
      return v;
    }),
  MAIL_DIR: z.string().optional().transform((v) => (v === undefined || v === '' ? './var/mail' : v)),
  WEBHOOK_ALLOW_PRIVATE: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '' || v === '0' || v === 'false') return false;
      if (v === '1' || v === 'true') return true;
      ctx.addIssue({ code: 'custom', message: `must be 0 or 1, got "${v}"` });
      return z.NEVER;
    }),
  // Requests in flight to one webhook at once (each to another hotel: a hotel's events go one after another).
  WEBHOOK_CONCURRENCY: int(1, 64, 4),
  // How long delivered outbox rows are kept (and how far back a replay may reach).
  OUTBOX_RETENTION_HOURS: int(1, 24 * 365, 7 * 24),
  // The notifier's CPU priority (Unix nice, 0..19): background work that yields to decisions on shared cores.
  NOTIFIER_NICE: int(0, 19, 19),
  AUDIT_RETENTION_DAYS: int(1, 3650, 400),
  // Tests only: the webhook retry schedule (and Retry-After) multiplied by this many thousandths (1000: as API.md says).
  WEBHOOK_RETRY_SCALE_PERMILLE: int(0, 1000, 1000),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).optional().default('info'),
});

export type Env = z.output<typeof envSchema>;
