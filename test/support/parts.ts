// API and worker processes for tests that read what a process writes (logs) or serves beside the API (a worker's
// METRICS_PORT): each a child process of this test, with its stderr's JSON log lines kept.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './private-servers.js';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

export class LoggedProcess {
  private text = '';
  readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.stderr?.on('data', (d: Buffer) => {
      this.text += d.toString();
      if (process.env.TEST_LOG_LEVEL) process.stderr.write(`[${name}] ${d}`);
    });
    running.add(child);
    this.exited = new Promise((r) => child.once('exit', () => (running.delete(child), r())));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Every JSON line written so far (anything else on stderr is kept as `{ text }`). */
  lines(): Record<string, unknown>[] {
    return this.text
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return { text: l };
        }
      });
  }

  tail(): string {
    return this.text.slice(-3000);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 8_000);
    await this.exited;
    clearTimeout(t);
  }
}

/** An API process (`web`) on a free port. */
export async function spawnApi(vars: Record<string, string>, name = 'api'): Promise<LoggedProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(dist, 'api/main.js')], { env: { ...process.env, ...vars, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  return new LoggedProcess(name, child, port);
}

/** A worker process with its /metrics on a free METRICS_PORT. */
export function spawnWorker(vars: Record<string, string>, name = 'worker'): Promise<LoggedProcess> {
  return spawnWithMetrics('workers/reservation-worker.js', vars, name);
}

/** A notifier process (relay, webhooks, mail) with its /metrics on a free METRICS_PORT. */
export function spawnNotifier(vars: Record<string, string>, name = 'notifier'): Promise<LoggedProcess> {
  return spawnWithMetrics('workers/notifier.js', vars, name);
}

async function spawnWithMetrics(script: string, vars: Record<string, string>, name: string): Promise<LoggedProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(dist, script)], {
    env: { ...process.env, ...vars, METRICS_PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new LoggedProcess(name, child, port);
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000, detail?: () => string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${detail ? `\n${detail()}` : ''}`);
}
