// CPU time this machine spent during a measured load, from /proc/stat: busy (user, nice, system, irq, softirq) and
// stolen by the hypervisor. Busy CPU per decision is a measure of work that moves much less with a shared host's
// load than throughput does (a starved run is slower, not busier); it covers every process of the machine, the load
// generator included, so it compares targets run the same way in the same benchmark.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface HostCpu {
  busyMs: number;
  stealMs: number;
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
