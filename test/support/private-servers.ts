// Private Postgres and Redis servers for chaos tests (started, stopped and restarted by the test, on free ports in
// temp dirs, never the shared ones). The TCP proxy that cuts the worker's connections is in pg-proxy.ts.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A port nobody listens on now (the kernel's choice for port 0). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whatever a crashed test process leaves running or on disk goes when it exits (synchronously: 'exit' handlers). */
const onExit = new Set<() => void>();
process.once('exit', () => {
  for (const f of onExit) {
    try {
      f();
    } catch {
      // Best effort: the process is going away.
    }
  }
});

function pgBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error(`no PostgreSQL found under ${root}`);
  return path.join(root, versions[0], 'bin');
}

export interface PrivatePostgres {
  port: number;
  dir: string;
  /** A connection URL of database `db` for the OS user running the tests (the server's superuser). */
  url(db: string): string;
  /** Stop the server (`pg_ctl stop -m <mode>`). */
  stop(mode?: 'immediate' | 'fast' | 'smart'): Promise<void>;
  /** Start it again on the same port and data. */
  start(): Promise<void>;
  /** Stop it (if running) and remove its directory. */
  destroy(): Promise<void>;
}

/** Run a Postgres binary as the `postgres` OS user when we are root (initdb and postgres refuse root). */
function pgCommand(bin: string, args: string[]): { cmd: string; args: string[] } {
  if (process.getuid?.() === 0) return { cmd: 'runuser', args: ['-u', 'postgres', '--', bin, ...args] };
  return { cmd: bin, args };
}

function runSync(bin: string, args: string[], what: string): void {
  const c = pgCommand(bin, args);
  const r = spawnSync(c.cmd, c.args, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stderr || r.stdout || r.error?.message}`);
}

async function run(bin: string, args: string[], what: string): Promise<void> {
  const c = pgCommand(bin, args);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(c.cmd, c.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${what} failed (${code}): ${out.trim()}`))));
  });
}

/** The `postgres` OS user that runs the servers when we are root (undefined when we are not). */
function postgresOwner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const pw = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gw = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (pw.status !== 0) throw new Error('running as root needs a `postgres` OS user for initdb');
  return { uid: Number(pw.stdout.trim()), gid: Number(gw.stdout.trim()) };
}

let templateDir: string | undefined;

/** A freshly initdb'ed data directory, made once per test process and removed when it exits. */
function initdbTemplate(bin: string, user: string, owner: { uid: number; gid: number } | undefined): string {
  if (templateDir) return path.join(templateDir, 'data');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chaos-pg-template-'));
  onExit.add(() => rmSync(dir, { recursive: true, force: true }));
  if (owner) chownSync(dir, owner.uid, owner.gid);
  runSync(path.join(bin, 'initdb'), ['-D', path.join(dir, 'data'), '-U', user, '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions'], 'initdb');
  templateDir = dir;
  return path.join(dir, 'data');
}

/**
 * initdb and pg_ctl on a free port in a fresh temp dir, tuned for speed (no fsync; commits still wait for the WAL write, see below). The superuser is the OS user
 * running the tests, with trust auth on 127.0.0.1, so URLs need no password.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = pgBinDir();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chaos-pg-'));
  const data = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  const user = os.userInfo().username;
  const owner = postgresOwner();
  if (owner) chownSync(dir, owner.uid, owner.gid);
  let running = false;
  const cleanupSync = () => {
    if (running) {
      const c = pgCommand(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      spawnSync(c.cmd, c.args, { timeout: 20_000 });
      running = false;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  onExit.add(cleanupSync);
  try {
    // One initdb per test process; each server starts from a copy of it (cp -a keeps the owner and modes).
    const template = initdbTemplate(bin, user, owner);
    const cp = spawnSync('cp', ['-a', template, data], { encoding: 'utf8' });
    if (cp.status !== 0) throw new Error(`copying the initdb template failed: ${cp.stderr}`);
  } catch (err) {
    cleanupSync();
    onExit.delete(cleanupSync);
    throw err;
  }
  const port = await freePort();
  const settings = [
    `-p ${port}`,
    // No fsync (the OS's cache survives a server crash, which is all these tests make), but synchronous commit
    // stays on: with it off, `pg_ctl stop -m immediate` loses commits the server had already acknowledged (seen:
    // three reservations answered 201 and gone after the restart), which is the server's trade, not the engine's bug.
    '-c fsync=off',
    '-c full_page_writes=off',
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${dir}`,
    '-c max_connections=200',
    // A backend whose client died (kill -9 of a worker) notices within this while it waits on a lock, as it
    // would on a real crash with TCP keepalives, instead of committing for a process that is gone.
    '-c client_connection_check_interval=200',
    '-c shared_buffers=32MB',
  ].join(' ');
  const start = async () => {
    await run(path.join(bin, 'pg_ctl'), ['-D', data, '-l', logFile, '-o', settings, '-w', '-t', '60', 'start'], 'pg_ctl start');
    running = true;
  };
  const stop = async (mode: 'immediate' | 'fast' | 'smart' = 'immediate') => {
    await run(path.join(bin, 'pg_ctl'), ['-D', data, '-m', mode, '-w', '-t', '60', 'stop'], 'pg_ctl stop');
    running = false;
  };
  try {
    await start();
  } catch (err) {
    let log = '';
    try {
      log = readFileSync(logFile, 'utf8').slice(-2000);
    } catch {
      // No log yet.
    }
    cleanupSync();
    onExit.delete(cleanupSync);
    throw new Error(`${(err as Error).message}\n${log}`);
  }
  return {
    port,
    dir,
    url: (db: string) => `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/${db}`,
    stop,
    start,
    destroy: async () => {
      if (running) await stop('immediate').catch(() => {});
      cleanupSync();
      onExit.delete(cleanupSync);
    },
  };
}

export interface PrivateRedis {
  port: number;
  url: string;
  /** The server process now (undefined while stopped), e.g. to send it signals. */
  readonly process: ChildProcess | undefined;
  /** Stop it: SIGKILL (no save, like a crash) unless `graceful`, which sends SHUTDOWN NOSAVE. */
  stop(graceful?: boolean): Promise<void>;
  /** Start it again on the same port and dir (what it finds there: nothing without appendonly). */
  start(): Promise<void>;
  destroy(): Promise<void>;
  /** Run one command with redis-cli (CLIENT PAUSE, CONFIG SET, ...). */
  cli(...args: string[]): string;
}

export async function startPrivateRedis(options: { appendonly?: boolean } = {}): Promise<PrivateRedis> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chaos-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', options.appendonly ? 'yes' : 'no',
    '--appendfsync', 'everysec',
    '--dir', dir,
    '--protected-mode', 'no',
    '--loglevel', 'warning',
  ];
  const cli = (...a: string[]): string => {
    const r = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...a], { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0) throw new Error(`redis-cli ${a.join(' ')}: ${r.stderr || r.error?.message}`);
    return r.stdout.trim();
  };
  const start = async () => {
    const c = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr?.on('data', (d: Buffer) => (err = (err + d).slice(-2000)));
    child = c;
    const until = Date.now() + 10_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`redis-server exited (${c.exitCode}): ${err}`);
      try {
        if (cli('PING') === 'PONG') return;
      } catch {
        // Not up yet.
      }
      if (Date.now() > until) throw new Error(`redis-server did not answer on port ${port}: ${err}`);
      await sleep(50);
    }
  };
  const stop = async (graceful = false) => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) {
      child = undefined;
      return;
    }
    const gone = new Promise((r) => c.once('exit', r));
    if (graceful) {
      try {
        cli('SHUTDOWN', 'NOSAVE');
      } catch {
        c.kill('SIGKILL');
      }
    } else {
      c.kill('SIGKILL');
    }
    await gone;
    child = undefined;
  };
  const cleanupSync = () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  onExit.add(cleanupSync);
  try {
    await start();
  } catch (err) {
    cleanupSync();
    onExit.delete(cleanupSync);
    throw err;
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get process() {
      return child;
    },
    stop,
    start,
    cli,
    destroy: async () => {
      await stop().catch(() => {});
      cleanupSync();
      onExit.delete(cleanupSync);
    },
  };
}
