// A Redis Cluster of the test's own: three masters (no replicas) on free ports, made with `redis-cli --cluster
// create`, in a temporary directory removed when it is destroyed (or when the test process exits).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface PrivateCluster {
  /** host:port of every master, as REDIS_CLUSTER_NODES takes them. */
  nodes: string;
  ports: number[];
  /** Run one command on one node with redis-cli. */
  cli(port: number, ...args: string[]): string;
  destroy(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function listenable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.unref();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A free port whose cluster bus port (port + 10000) is free too. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (taken.has(port) || taken.has(port + 10_000)) continue;
    if ((await listenable(port)) && (await listenable(port + 10_000))) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('no free port pair for a Redis Cluster node');
}

const running = new Set<() => void>();
process.once('exit', () => {
  for (const f of running) f();
});

export async function startPrivateCluster(masters = 3): Promise<PrivateCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bk-cl-redis-'));
  const taken = new Set<number>();
  const ports: number[] = [];
  for (let i = 0; i < masters; i++) ports.push(await freeClusterPort(taken));
  const children: ChildProcess[] = [];
  const cleanupSync = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  running.add(cleanupSync);
  const cli = (port: number, ...args: string[]): string => {
    const r = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8', timeout: 20_000 });
    if (r.status !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${r.stderr || r.error?.message}`);
    return r.stdout.trim();
  };
  try {
    for (const port of ports) {
      const c = spawn(
        'redis-server',
        [
          '--port', String(port),
          '--bind', '127.0.0.1',
          '--cluster-enabled', 'yes',
          '--cluster-config-file', path.join(dir, `nodes-${port}.conf`),
          // A master that stops is declared failed within about two seconds (default 15 s), for tests that stop one.
          '--cluster-node-timeout', '2000',
          '--save', '',
          '--appendonly', 'no',
          '--daemonize', 'no',
          '--dir', dir,
          '--loglevel', 'warning',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      c.stderr?.resume();
      children.push(c);
    }
    for (const port of ports) {
      const until = Date.now() + 10_000;
      for (;;) {
        try {
          if (cli(port, 'PING') === 'PONG') break;
        } catch {
          // Not up yet.
        }
        if (Date.now() > until) throw new Error(`redis-server on port ${port} did not start`);
        await sleep(50);
      }
    }
    const made = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (made.status !== 0) throw new Error(`redis-cli --cluster create: ${made.stdout}${made.stderr}`);
    const until = Date.now() + 20_000;
    while (!ports.every((p) => /cluster_state:ok/.test(cli(p, 'CLUSTER', 'INFO')))) {
      if (Date.now() > until) throw new Error('the cluster did not reach cluster_state:ok');
      await sleep(100);
    }
  } catch (err) {
    cleanupSync();
    running.delete(cleanupSync);
    throw err;
  }
  return {
    nodes: ports.map((p) => `127.0.0.1:${p}`).join(','),
    ports,
    cli,
    destroy: async () => {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              c.once('exit', () => resolve());
              c.kill('SIGKILL');
            }),
        ),
      );
      cleanupSync();
      running.delete(cleanupSync);
    },
  };
}
