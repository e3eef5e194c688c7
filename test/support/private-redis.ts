// A redis-server of the test's own on a free port, so that a test can pause, stop and restart Redis without touching
// the shared one (127.0.0.1:6379) and the other suites' data.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';

export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** Run one command on a short-lived connection of its own. */
  command(...args: (string | number)[]): Promise<unknown>;
  /**
   * Stop the server. By default SHUTDOWN SAVE: it writes its data to its own directory, which a restart loads;
   * with `empty`, SHUTDOWN NOSAVE and the saved data removed, so that it restarts empty.
   */
  stop(o?: { empty?: boolean }): Promise<void>;
  /** Start it again on the same port. */
  restart(): Promise<void>;
  /** Stop it and remove its directory. */
  destroy(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen({ port: 0, host: '127.0.0.1' }, () => {
      const port = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(port));
    });
  });
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bk-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const command = async (...args: (string | number)[]) => {
    const c = new Redis(url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
    c.on('error', () => {});
    try {
      await c.connect();
      return await c.call(String(args[0]), ...args.slice(1).map(String));
    } finally {
      c.disconnect();
    }
  };

  const start = async () => {
    // No automatic snapshots and no AOF: only an explicit SHUTDOWN SAVE writes the data, so a restart finds it.
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: 'ignore',
    });
    const c = child;
    exited = new Promise((resolve) => c.once('exit', () => resolve()));
    const until = Date.now() + 10_000;
    for (;;) {
      try {
        if ((await command('PING')) === 'PONG') return;
      } catch {
        if (Date.now() > until) throw new Error(`redis-server on port ${port} did not start`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const stop = async (o: { empty?: boolean } = {}) => {
    if (!child || child.exitCode !== null) return;
    await command('SHUTDOWN', o.empty ? 'NOSAVE' : 'SAVE').catch(() => {});
    const gone = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5_000))]);
    if (!gone) {
      child.kill('SIGKILL');
      await exited;
    }
    if (o.empty) await rm(path.join(dir, 'dump.rdb'), { force: true });
  };

  await start();
  return {
    port,
    url,
    command,
    stop,
    restart: start,
    destroy: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
