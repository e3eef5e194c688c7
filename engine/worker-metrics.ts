// A worker's (and the notifier's) own HTTP endpoint (METRICS_PORT, or WORKER_METRICS_PORT): /healthz while the process runs, /metrics in
// Prometheus text (engine/metrics.ts: the whole list, with what its shard owner counts and the queues of the shards
// it owns). It is a separate port, not the public API's: operators keep it on the internal network.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Queue } from 'bullmq';
import { createShardQueue, queueDepthOf, type ShardJob } from './jobs.js';
import type { Logger } from './log.js';
import { processMetrics } from './metrics.js';
import { createRedis, RedisKeys, type RedisEndpoint } from './redis.js';
import type { ShardOwner } from './shard-owner.js';

/** The owner's counts and shards, and the depth of the queues it owns, in this process's metrics. */
export function reportOwner(owner: ShardOwner, redis: RedisEndpoint, redisPrefix: string): () => void {
  processMetrics.setOwner(() => ({ stats: owner.stats, owned: owner.ownedShards() }));
  const keys = new RedisKeys(redisPrefix);
  let connection: ReturnType<typeof createRedis> | undefined;
  const queues = new Map<number, Queue<ShardJob>>();
  processMetrics.setQueueSource(async () => {
    connection ??= createRedis(redis, `${owner.ownerId}-metrics`, { commandTimeoutMs: 1_000 });
    const conn = connection;
    return Promise.all(
      owner.ownedShards().map(({ shard }) => {
        let q = queues.get(shard);
        if (!q) {
          queues.set(shard, (q = createShardQueue(conn, keys, shard)));
          q.on('error', () => {});
        }
        return queueDepthOf(q, shard);
      }),
    );
  });
  return () => {
    for (const q of queues.values()) void q.close().catch(() => {});
    connection?.disconnect();
  };
}

/** Serve a worker's /healthz and /metrics on a port; answers the server and the port it listens on. */
export function serveWorkerMetrics(owner: ShardOwner, port: number, log?: Logger): Promise<{ server: http.Server; port: number }> {
  processMetrics.setOwner(() => ({ stats: owner.stats, owned: owner.ownedShards() }));
  return serveMetrics(port, log);
}

/** Serve this process's /healthz and /metrics (every family it fills) on a port of its own (a worker, the notifier). */
export async function serveMetrics(port: number, log?: Logger): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else if (req.url === '/metrics') {
      processMetrics.render().then(
        (text) => res.writeHead(200, { 'content-type': processMetrics.contentType }).end(text),
        (err: Error) => {
          log?.error('metrics could not be rendered', { err });
          res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"code":"internal_error","message":"metrics failed"}}');
        },
      );
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"not_found","message":"Not found."}}');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
