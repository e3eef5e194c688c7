// Runs a server as a child process for the length of one benchmark run: start, wait until its health URL
// answers 200 (bounded), stop with SIGTERM then SIGKILL (bounded). Its output is kept (last lines) for errors.

import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

export interface ServerProcess {
  readonly pid: number | undefined;
  /** The last lines the process wrote, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

const outputLinesKept = 60;
const stopGraceMs = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A free TCP port in [from, to] on 127.0.0.1 (the benchmark is confined to 4100-4199). */
export async function freePort(from = 4100, to = 4199): Promise<number> {
  for (let port = from; port <= to; port++) {
    const free = await new Promise<boolean>((resolve) => {
      const probe = net.createServer();
      probe.once('error', () => resolve(false));
      probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port in ${from}-${to}`);
}

export async function startServerProcess(options: {
  name: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  healthUrl: string;
  readyTimeoutMs?: number;
  /** Echo the server's output to this process's stderr as it comes. */
  echo?: boolean;
}): Promise<ServerProcess> {
  const lines: string[] = [];
  const child: ChildProcess = spawn(process.execPath, options.args, {
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      lines.push(line);
      if (lines.length > outputLinesKept) lines.shift();
      if (options.echo) process.stderr.write(`  [${options.name}] ${line}\n`);
    }
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal ? -1 : null);
      resolve();
    }),
  );

  const handle: ServerProcess = {
    pid: child.pid,
    output: () => lines.join('\n'),
    async stop() {
      if (exitCode !== undefined) return;
      child.kill('SIGTERM');
      const gone = await Promise.race([exited.then(() => true), sleep(stopGraceMs).then(() => false)]);
      if (!gone) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`${options.name} exited (${exitCode}) before it was ready:\n${handle.output()}`);
    try {
      const res = await fetch(options.healthUrl, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.ok) return handle;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await handle.stop();
  throw new Error(`${options.name} was not ready within ${options.readyTimeoutMs ?? 30_000} ms:\n${handle.output()}`);
}

/** Whether a process exists (one owned by another user counts: signalling it is merely not permitted). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
