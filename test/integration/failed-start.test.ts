// A start that cannot succeed says in one line what is wrong and how to fix it, with no stack trace (unless
// LOG_LEVEL=debug), and exits non-zero: for `npm start`'s process and for each process of the Procfile.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import pg from 'pg';
import { Redis } from 'ioredis';
import { createTestEnv, type TestEnv } from '../support/env.js';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const entries = ['bin/start.js', 'api/main.js', 'workers/reservation-worker.js'];

interface Ended {
  code: number | null;
  lines: string[];
}

/** Run an entry point with these variables (and no others of the test's environment that could matter). */
function run(entry: string, vars: Record<string, string>): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...vars };
    const child = spawn(process.execPath, [path.join(dist, entry)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry} did not exit within 30 s; it printed:\n${out}`));
    }, 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, lines: out.split('\n').filter((l) => l.trim() !== '') });
    });
  });
}

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe('failed starts', function () {
  this.timeout(120_000);
  let env: TestEnv;
  let base: Record<string, string>;
  let deadPort = 0;
  /** A role that may log in but not create databases (roles are the server's: a unique name, dropped after). */
  const noCreateRole = `bk_failed_start_${randomBytes(4).toString('hex')}`;
  const asServer = async (sql: string) => {
    const c = new pg.Client({ connectionString: env.config.catalogUrl });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };

  /**
   * Deployments whose queue of an earlier version's names still holds a job (on the shared Redis): before the hash
   * tags (`<prefix>:shard-<k>`), and with the tag before the prefix (`{<prefix>:s<k>}:shard-<k>`).
   */
  let oldPrefix = '';
  let taggedPrefix = '';
  const oldQueues = () => [`${oldPrefix}:shard-1:wait`, `{${taggedPrefix}:s1}:shard-1:wait`];
  const onRedis = async (f: (r: Redis) => Promise<unknown>) => {
    const r = new Redis(env.config.redisUrl, { maxRetriesPerRequest: 1 });
    try {
      await f(r);
    } finally {
      r.disconnect();
    }
  };

  before(async () => {
    env = await createTestEnv();
    oldPrefix = `${env.config.redisPrefix}_old`;
    taggedPrefix = `${env.config.redisPrefix}_tagged`;
    await onRedis(async (r) => {
      for (const q of oldQueues()) await r.lpush(q, 'job-1');
    });
    deadPort = await closedPort();
    await asServer(`CREATE ROLE ${noCreateRole} LOGIN NOCREATEDB`);
    // A working configuration (Postgres and Redis answer), which each case breaks in one place.
    base = { ...env.vars, LOG_LEVEL: 'info', DEMO_DATA: '0' };
  });
  after(async () => {
    await onRedis((r) => r.del(...oldQueues())).catch(() => {});
    await asServer(`DROP ROLE IF EXISTS ${noCreateRole}`).catch(() => {});
    await env?.cleanup();
  });

  const cases: { name: string; vars: () => Record<string, string>; line: () => RegExp; code?: number; entries?: string[] }[] = [
    { name: 'a bad environment variable', vars: () => ({ HOLD_TTL_SECONDS: 'ten' }), line: () => /^configuration error: HOLD_TTL_SECONDS: must be a whole number.*fix that environment variable/, code: 2 },
    {
      name: 'Postgres unreachable',
      vars: () => ({ DATABASE_URL: `postgres://127.0.0.1:${deadPort}/bk_failed_start` }),
      line: () => new RegExp(`^cannot start: PostgreSQL at 127\\.0\\.0\\.1:${deadPort} cannot be reached \\(ECONNREFUSED\\): start PostgreSQL there, or set DATABASE_URL`),
    },
    {
      name: 'Postgres refusing the user',
      vars: () => ({ DATABASE_URL: 'postgres://no_such_role_bk@127.0.0.1:5432/bk_failed_start' }),
      line: () => /^cannot start: PostgreSQL at 127\.0\.0\.1:5432 refused the user "no_such_role_bk" \(role "no_such_role_bk" does not exist\): create that role .* or put a user it accepts in DATABASE_URL/,
    },
    {
      name: 'Postgres refusing to create the databases',
      vars: () => ({ DATABASE_URL: `postgres://${noCreateRole}@127.0.0.1:5432/bk_failed_start` }),
      line: () =>
        new RegExp(`^cannot start: PostgreSQL at 127\\.0\\.0\\.1:5432 does not let "${noCreateRole}" create or change the databases \\(permission denied to create database\\): grant it CREATEDB`),
    },
    {
      name: 'Redis unreachable',
      vars: () => ({ REDIS_URL: `redis://127.0.0.1:${deadPort}` }),
      line: () => new RegExp(`^cannot start: cannot reach Redis at 127\\.0\\.0\\.1:${deadPort} \\(ECONNREFUSED\\): start Redis there, or set REDIS_URL`),
    },
    {
      name: 'Redis Cluster unreachable',
      vars: () => ({ REDIS_CLUSTER_NODES: `127.0.0.1:${deadPort}` }),
      line: () => new RegExp(`^cannot start: cannot reach Redis at the Redis Cluster of 127\\.0\\.0\\.1:${deadPort} \\(.+\\): start Redis there, or set REDIS_CLUSTER_NODES`),
      entries: ['api/main.js', 'workers/notifier.js'],
    },
    {
      name: 'REDIS_CLUSTER_NODES naming a server that is not a cluster',
      vars: () => ({ REDIS_CLUSTER_NODES: new URL(env.config.redisUrl).host }),
      line: () => /^cannot start: the Redis Cluster of .* is not a cluster \(ERR This instance has cluster support disabled\): set REDIS_URL instead of REDIS_CLUSTER_NODES/,
      entries: ['workers/reservation-worker.js'],
    },
    {
      // Without SMTP, a MAIL_DIR that cannot be made (a path through a file) would stall every notification job.
      name: 'a MAIL_DIR that cannot be written',
      vars: () => ({ MAIL_DIR: '/proc/version/mail' }),
      line: () => /^configuration error: MAIL_DIR: cannot make or write the directory \/proc\/version\/mail \(ENOTDIR\): set it to a writable directory, or set SMTP_URL/,
      code: 2,
      entries: ['bin/start.js', 'workers/notifier.js'],
    },
    {
      name: 'a job waiting in a queue named as before the hash tags',
      vars: () => ({ REDIS_PREFIX: oldPrefix }),
      line: () => /^cannot start: 1 job\(s\) wait in queues named as before this version .*docs\/operations\.md/,
      entries: [...entries, 'workers/notifier.js'],
    },
    {
      name: 'a job waiting in a queue named with the tag before the prefix',
      vars: () => ({ REDIS_PREFIX: taggedPrefix }),
      line: () => /^cannot start: 1 job\(s\) wait in queues named as before this version .*docs\/operations\.md, "Upgrading the Redis key names"/,
      entries: [...entries, 'workers/notifier.js'],
    },
  ];

  for (const entry of [...entries, 'workers/notifier.js']) {
    for (const c of cases.filter((x) => (x.entries ?? entries).includes(entry))) {
      it(`${entry}, ${c.name}: one line saying what to fix, no stack trace, exit code non-zero`, async () => {
        const ended = await run(entry, { ...base, ...c.vars() });
        expect(ended.lines, ended.lines.join('\n')).to.have.length(1);
        expect(ended.lines[0]).to.match(c.line());
        expect(ended.code).to.equal(c.code ?? 1);
      });
    }
  }

  // npm start checks the port before it starts any part: a worker that started first would join the deployment
  // running there and take shards from it (at LOG_LEVEL=info it would log them, and "serving", before the line).
  for (const entry of ['bin/start.js', 'api/main.js']) {
    it(`${entry}, PORT in use: one line naming the port, exit code 1, and no part started`, async () => {
      const busy = net.createServer();
      await new Promise<void>((r) => busy.listen(0, r));
      const { port } = busy.address() as net.AddressInfo;
      try {
        const ended = await run(entry, { ...base, LOG_LEVEL: 'info', PORT: String(port) });
        expect(ended.lines, ended.lines.join('\n')).to.deep.equal([
          `cannot start: port ${port} is already in use by another process: stop that process, or set PORT (METRICS_PORT for a worker's or the notifier's metrics; under npm start the notifier takes the port after it) to a free port`,
        ]);
        expect(ended.code).to.equal(1);
      } finally {
        busy.close();
      }
    });
  }

  it('bin/start.js with a fixed METRICS_PORT starts: the worker serves /metrics on it, the notifier on the next port', async () => {
    // Two free ports in a row (both parts on one port: the second could not start, and npm start ended).
    let port = 0;
    for (let i = 0; i < 20 && port === 0; i++) {
      const p = await closedPort();
      const next = net.createServer();
      const free = await new Promise<boolean>((r) => next.once('error', () => r(false)).listen(p + 1, '127.0.0.1', () => r(true)));
      if (free) {
        await new Promise((r) => next.close(r));
        port = p;
      }
    }
    expect(port, 'two free ports in a row').to.be.greaterThan(0);
    const mailDir = path.join(os.tmpdir(), `bk-start-mail-${randomBytes(4).toString('hex')}`);
    const child = spawn(process.execPath, [path.join(dist, 'bin/start.js')], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...base, LOG_LEVEL: 'error', PORT: String(await closedPort()), METRICS_PORT: String(port), MAIL_DIR: mailDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const metricsAt = async (p: number) => {
      for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
        if (child.exitCode !== null) throw new Error(`bin/start.js ended (${child.exitCode}):\n${out}`);
        const text = await fetch(`http://127.0.0.1:${p}/metrics`).then((r) => (r.ok ? r.text() : ''), () => '');
        if (text) return text;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`nothing served /metrics on ${p}:\n${out}`);
    };
    try {
      const worker = await metricsAt(port);
      const notifier = await metricsAt(port + 1);
      // Each part fills its own families: the worker the shards it owns, the notifier the outbox lag per database.
      expect(worker).to.match(/^shards_owned \d+/m);
      expect(notifier).to.match(/^outbox_lag_seconds\{database="\d+"\} /m);
    } finally {
      child.kill('SIGTERM');
      await exited;
      rmSync(mailDir, { recursive: true, force: true });
    }
  });

  it('with LOG_LEVEL=debug the stack trace follows the line', async () => {
    const ended = await run('api/main.js', { ...base, LOG_LEVEL: 'debug', REDIS_URL: `redis://127.0.0.1:${deadPort}` });
    expect(ended.lines[0]).to.match(/^cannot start: cannot reach Redis/);
    expect(ended.lines.some((l) => /^\s+at /.test(l)), ended.lines.join('\n')).to.equal(true);
    expect(ended.code).to.equal(1);
  });
});
