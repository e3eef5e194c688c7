// `npm start`: create and migrate the databases, then run the API, the workers and the notifier together on this
// machine, as supervised child processes, and seed a demo hotel when the catalog is empty.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../engine/log.js';
import { checkPortFree, startOrExit } from '../engine/startup.js';
import { checkMailDir } from '../engine/notify/mail.js';
import { prepareDatabases } from '../engine/store/pg.js';
import { seedDemoHotel } from './demo-data.js';

// A bad variable, Redis or Postgres unreachable, a refused user: one line saying what to fix, and exit non-zero.
const { config } = await startOrExit(async (config) => {
  await checkPortFree(config.port);
  checkMailDir(config);
  await prepareDatabases(config.catalogUrl, config.shardDatabaseUrls);
});
const log = createLogger('start', config.logLevel);
const env = { ...process.env };
if (!config.adminApiKey) {
  env.ADMIN_API_KEY = `admin_${randomBytes(24).toString('base64url')}`;
  process.stdout.write(`ADMIN_API_KEY was not set; the admin token for this run is:\n  ${env.ADMIN_API_KEY}\n`);
}

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const parts: Record<string, string> = {
  worker: path.join(dist, 'workers/reservation-worker.js'),
  web: path.join(dist, 'api/main.js'),
  notifier: path.join(dist, 'workers/notifier.js'),
};
const children = new Map<string, ChildProcess>();
let stopping = false;

/** A part that fails its very first start (it has said why in one line) ends `npm start` with its exit code. */
const firstStartMs = 15_000;
const everRestarted = new Set<string>();

/**
 * A part's environment. With a fixed METRICS_PORT the worker serves its /metrics there and the notifier on the next
 * port (the two on one port would stop the second from starting); 0 lets each pick a free port.
 */
function envOf(name: string): NodeJS.ProcessEnv {
  const port = config.workerMetricsPort;
  if (name !== 'notifier' || port === undefined || port === 0) return env;
  const { WORKER_METRICS_PORT: _older, ...rest } = env;
  return { ...rest, METRICS_PORT: String(port + 1) };
}

function run(name: string): void {
  // The worker keeps its hotels in long-lived typed arrays and allocates little per decision: a small young
  // generation keeps its resident memory down (measured: about 40 MB less with 5,000 hotels loaded).
  const execArgv = name === 'worker' ? [...process.execArgv, '--max-semi-space-size=4'] : process.execArgv;
  // The notifier in a session of its own, so that its lower CPU priority also holds against Postgres's backends
  // (engine/cpu-priority.ts); this process forwards SIGINT and SIGTERM to it like to the others.
  const child = fork(parts[name], [], { env: envOf(name), stdio: 'inherit', execArgv, detached: name === 'notifier' });
  children.set(name, child);
  const startedAt = Date.now();
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (stopping) return;
    if (code && !everRestarted.has(name) && Date.now() - startedAt < firstStartMs) {
      stop(code);
      return;
    }
    everRestarted.add(name);
    log.warn('process ended; restarting it', { name, code, signal });
    setTimeout(() => run(name), 1000);
  });
}

run('worker');
run('web');
run('notifier');

function stop(exitCode = 0): void {
  stopping = true;
  for (const c of children.values()) c.kill('SIGTERM');
  setTimeout(() => process.exit(exitCode), 10_000).unref();
  const check = setInterval(() => {
    if (children.size === 0) {
      clearInterval(check);
      process.exit(exitCode);
    }
  }, 50);
}
process.on('SIGTERM', () => stop());
process.on('SIGINT', () => stop());

if (config.demoData) {
  seedDemoHotel(`http://127.0.0.1:${config.port}`, env.ADMIN_API_KEY as string).then(
    (made) => made && log.info('demo hotel created', { hotelId: made }),
    (err: Error) => log.warn('demo data not created', { err: err.message }),
  );
}
log.info('serving', { url: `http://localhost:${config.port}/` });
