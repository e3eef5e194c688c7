// A worker's own HTTP endpoint (WORKER_METRICS_PORT): /healthz while the process runs, /metrics in Prometheus text
// with what its shard owner counts (fenced commits, takeovers, retries in place) and the shards it owns.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ShardOwner } from './shard-owner.js';

const counters: [keyof ShardOwner['stats'], string, string][] = [
  ['fencedCommits', 'shard_fenced_commits_total', 'Commits refused because another owner had taken the shard (epoch fence).'],
  ['shardsTaken', 'shard_takeovers_total', 'Shards this worker took.'],
  ['shardsLost', 'shard_losses_total', 'Shards this worker let go (lease lost, fenced, stopped).'],
  ['shardsHandedOver', 'shard_handovers_total', "Shards this worker handed over because they left its fair share (also in shard_losses_total)."],
  ['jobsTakenOver', 'shard_jobs_taken_over_total', "Jobs a previous owner had in hand, decided by this worker when it took their shard."],
  ['retriesInPlace', 'shard_commit_retries_total', 'Commit attempts retried in place because the database failed.'],
];

export function renderWorkerMetrics(owner: ShardOwner): string {
  const out: string[] = [];
  for (const [key, name, help] of counters) out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${owner.stats[key]}`);
  const owned = owner.ownedShards();
  out.push('# HELP shards_owned Virtual shards this worker owns now.', '# TYPE shards_owned gauge', `shards_owned ${owned.length}`);
  out.push('# HELP shard_epoch Epoch under which this worker owns a shard.', '# TYPE shard_epoch gauge');
  for (const o of owned) out.push(`shard_epoch{shard="${o.shard}"} ${o.epoch}`);
  return out.join('\n') + '\n';
}

/** Serve /healthz and /metrics on a port; answers the server and the port it listens on. */
export async function serveWorkerMetrics(owner: ShardOwner, port: number): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(renderWorkerMetrics(owner));
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
