// The API and a shard owner running in this process (or as child processes, for tests that kill them).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApi, type RunningApi } from '../../api/server.js';
import type { Config } from '../../engine/config.js';
import { createLogger } from '../../engine/log.js';
import { ShardOwner } from '../../engine/shard-owner.js';
import { adminToken, createTestEnv, type TestEnv } from './env.js';
import { HttpClient } from './http.js';

export interface Stack {
  api: RunningApi;
  owner: ShardOwner;
  baseUrl: string;
  admin: HttpClient;
  /** A new shard owner in place of the one running (its memory empty: hotels are loaded again from the database). */
  restartOwner(): Promise<void>;
  stop(): Promise<void>;
}

export async function startStack(config: Config): Promise<Stack> {
  const owner = new ShardOwner(config, createLogger('worker', config.logLevel));
  await owner.start();
  const api = await startApi(config);
  const baseUrl = `http://127.0.0.1:${api.port}`;
  const stack: Stack = {
    api,
    owner,
    baseUrl,
    admin: new HttpClient(baseUrl, adminToken),
    restartOwner: async () => {
      await stack.owner.stop();
      stack.owner = new ShardOwner(config, createLogger('worker', config.logLevel));
      await stack.owner.start();
    },
    // Stops the owner the stack has now: a test may have replaced it with a new one.
    stop: async () => {
      await api.close();
      await stack.owner.stop();
    },
  };
  return stack;
}

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Run a Procfile part (`worker` or `web`) as a child process with these settings. */
export function spawnPart(part: 'worker' | 'web' | 'notifier', vars: Record<string, string>): ChildProcess {
  const file = part === 'worker' ? 'workers/reservation-worker.js' : part === 'notifier' ? 'workers/notifier.js' : 'api/main.js';
  const child = spawn(process.execPath, [path.join(dist, file)], {
    env: { ...process.env, ...vars },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (d: Buffer) => {
    if (process.env.TEST_LOG_LEVEL) process.stderr.write(`[${part}] ${d}`);
  });
  return child;
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A private environment (databases, Redis prefix) with a running stack, for a suite's `before`. */
export async function openStack(overrides: Record<string, string> = {}): Promise<{ env: TestEnv; stack: Stack }> {
  const env = await createTestEnv(overrides);
  return { env, stack: await startStack(env.config) };
}

/** Stop the stack and remove its environment, for a suite's `after` (safe when `before` failed half-way). */
export async function closeStack(stack: Stack | undefined, env: TestEnv | undefined): Promise<void> {
  await stack?.stop();
  await env?.cleanup();
}
