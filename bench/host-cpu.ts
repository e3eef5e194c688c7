// CPU time this machine spent during a measured load, from /proc/stat: busy (user, nice, system, irq, softirq) and
// stolen by the hypervisor. Busy CPU per decision is a measure of work that moves much less with a shared host's
// load than throughput does (a starved run is slower, not busier); it covers every process of the machine, the load
// generator included, so it compares targets run the same way in the same benchmark.
//
// Where `perf` may count (Linux with perf_event_paranoid permitting, as root here), the machine's retired
// instructions during the load are recorded too: even steadier than busy CPU on a shared host, since a starved
// process retires the same instructions for the same work (two runs of the same code agree within a few percent;
// throughput on this host moves by ±20%).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface HostCpu {
  busyMs: number;
  stealMs: number;
  /** Instructions retired by the whole machine (every CPU, kernel included), where perf could count them. */
  instructions?: number;
}

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(out.stdout?.trim());
    ticksPerSecond = Number.isFinite(n) && n > 0 ? n : 100;
  }
  return ticksPerSecond;
}

/** The machine's CPU counters so far, or undefined where /proc/stat cannot be read. */
export function readHostCpu(): HostCpu | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    const ms = 1000 / clockTicks();
    return { busyMs: (user + nice + system + irq + softirq) * ms, stealMs: (steal ?? 0) * ms };
  } catch {
    return undefined;
  }
}

/** What was spent between two readings. */
export function hostCpuSince(before: HostCpu | undefined): HostCpu | undefined {
  const after = readHostCpu();
  if (!before || !after) return undefined;
  return { busyMs: Math.round(after.busyMs - before.busyMs), stealMs: Math.round(after.stealMs - before.stealMs) };
}

/**
 * Count the whole machine's instructions until `stop()` (`perf stat -a`); `stop()` answers undefined where perf is
 * missing or not permitted. Costs nothing measurable: the counters are the CPU's own.
 */
export function countInstructions(): { stop(): Promise<number | undefined> } {
  let out = '';
  let closed: Promise<void> | undefined;
  let child: ReturnType<typeof spawn> | undefined;
  try {
    child = spawn('perf', ['stat', '-a', '-x', ',', '-e', 'instructions'], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    closed = new Promise((resolve) => {
      child?.once('close', () => resolve());
      // perf missing: no count.
      child?.once('error', () => resolve());
    });
  } catch {
    child = undefined;
  }
  let result: Promise<number | undefined> | undefined;
  return {
    stop: () =>
      (result ??= (async () => {
        if (!child || !closed) return undefined;
        child.kill('SIGINT');
        await closed;
        const line = out.split('\n').find((l) => l.includes(',instructions'));
        const n = line ? Number(line.split(',')[0]) : NaN;
        return Number.isFinite(n) && n > 0 ? n : undefined;
      })()),
  };
}

/**
 * CPU time (user + system, every thread) of some processes so far, by pid, from /proc/<pid>/stat; a process that
 * is gone is left out. The target's own processes (its servers and the Postgres backends serving its databases)
 * measured this way are much less exposed than the machine's busy time to other work on a shared host: only how
 * fast each instruction runs moves them, not who else is busy.
 */
export function readProcessCpu(pids: number[]): Map<number, number> {
  const ms = 1000 / clockTicks();
  const out = new Map<number, number>();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): state is the 3rd field, utime the 14th, stime the 15th.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, (Number(f[11]) + Number(f[12])) * ms);
    } catch {
      // Gone (or not ours to read).
    }
  }
  return out;
}

/** CPU ms the processes of `before` spent since (those still running at both readings). */
export function processCpuSince(before: Map<number, number>): number {
  const after = readProcessCpu([...before.keys()]);
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? ms);
  return Math.round(total);
}

/** The pids of the Postgres backends connected to some databases now. */
export async function backendPids(adminUrl: string, databases: string[]): Promise<number[]> {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    const r = await c.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = ANY($1)', [databases]);
    return r.rows.map((x) => x.pid);
  } finally {
    await c.end();
  }
}
