// Runs every scenario against every target, round after round, rotating which target goes first each round so
// that no target always runs on a warmer (or more fragmented) machine. Each run: start the target (fresh,
// seeded databases), optional warm-up, the measured load, the oversold check in the target's databases, stop.

import os from 'node:os';
import { countInstructions, hostCpuSince, processCpuSince, readHostCpu, readProcessCpu, type HostCpu } from './host-cpu.js';
import { runLoad, type LoadResult } from './load.js';
import { countOversoldNightsIn, type OversoldCount } from './oversold.js';
import type { Scenario, ScenarioCheck } from './scenarios.js';
import type { NotifierState, Target, TargetEndpoint } from './target.js';

export interface RunRecord {
  round: number;
  scenario: string;
  target: string;
  load?: LoadResult;
  warmup?: LoadResult;
  oversold?: OversoldCount;
  diagnostics?: Record<string, number>;
  /** 1-minute load average of the host when the measured load ended (the machine may be shared). */
  hostLoadAverage?: number;
  /** CPU time the whole machine spent (busy) and lost to the hypervisor (steal) during the measured load. */
  hostCpu?: HostCpu;
  /** CPU ms the target's own processes (servers, Postgres backends of its databases) spent during the measured load. */
  targetCpuMs?: number;
  /**
   * The notifier after the measured load: events committed but not yet recorded when the load ended, and how long
   * after the load's end the backlog was gone (null: not within notifiedWithinMs).
   */
  notifications?: NotifierCatchUp;
  /** What a `duringLoad` hook measured beside the load (the engine's freshness probe, for instance). */
  extra?: Record<string, unknown>;
  checks: ScenarioCheck[];
  error?: string;
}

let activeTarget: Target | undefined;

/** Stops whatever target is running (for signal handlers): its server is killed and its databases dropped. */
export async function stopActiveTarget(): Promise<void> {
  const t = activeTarget;
  activeTarget = undefined;
  if (t) await t.stop();
}

/**
 * Started right before a run's measured load (after its warm-up); the function it answers is called right after
 * the load, and what it answers is kept in the record (`extra`).
 */
export type DuringLoadHook = (run: {
  round: number;
  scenario: Scenario;
  target: Target;
  endpoint: TargetEndpoint;
  log: (line: string) => void;
}) => Promise<(() => Promise<Record<string, unknown> | undefined>) | undefined>;

export async function runBench(options: {
  targets: Target[];
  scenarios: Scenario[];
  rounds: number;
  log?: (line: string) => void;
  duringLoad?: DuringLoadHook;
  /** Runs at the end of every round (measurements that are not target × scenario, e.g. ceilings). */
  onRoundEnd?: (round: number) => Promise<void>;
}): Promise<RunRecord[]> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const records: RunRecord[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    for (const scenario of options.scenarios) {
      const targets = options.targets.filter((t) => !t.scenarios || t.scenarios.includes(scenario.name));
      const n = targets.length;
      const order = targets.map((_, i) => targets[(i + round - 1) % n]);
      for (const target of order) {
        log(`round ${round}: ${scenario.name} × ${target.name}`);
        const record = await runOne(target, scenario, round, log, options.duringLoad);
        records.push(record);
        if (record.error) log(`  failed: ${record.error}`);
        else {
          const d = record.diagnostics ? ` ${JSON.stringify(record.diagnostics)}` : '';
          log(`  ${record.load?.count} requests, ${record.load?.throughput} req/s, p99 ${record.load?.latencyMs.p99} ms, host load ${record.hostLoadAverage}${d}`);
        }
      }
    }
    await options.onRoundEnd?.(round);
  }
  return records;
}

async function runOne(
  target: Target,
  scenario: Scenario,
  round: number,
  log: (l: string) => void,
  duringLoad?: DuringLoadHook,
): Promise<RunRecord> {
  const record: RunRecord = { round, scenario: scenario.name, target: target.name, checks: [] };
  activeTarget = target;
  try {
    const endpoint = await target.start(scenario);
    const common = { baseUrl: endpoint.baseUrl, headers: endpoint.headers, concurrency: scenario.load.concurrency };
    if (scenario.warmupMs > 0) {
      record.warmup = await runLoad({ ...common, durationMs: scenario.warmupMs, next: scenario.requests(endpoint.catalog) });
    }
    log(`  seeded ${endpoint.catalog.roomTypes.length} room types; loading ${endpoint.baseUrl}`);
    const before = await target.diagnostics?.().catch(() => undefined);
    const finishSideMeasure = await duringLoad?.({ round, scenario, target, endpoint, log });
    // A fresh generator: every target is sent the same sequence of stays.
    const pids = (await target.processIds?.().catch(() => undefined)) ?? [];
    const targetCpuBefore = readProcessCpu(pids);
    const notifierBefore = await target.notifierState?.().catch(() => undefined);
    const cpuBefore = readHostCpu();
    const instructions = countInstructions();
    try {
      record.load = await runLoad({ ...common, ...scenario.load, next: scenario.requests(endpoint.catalog) });
      record.hostCpu = hostCpuSince(cpuBefore);
      if (targetCpuBefore.size > 0) record.targetCpuMs = processCpuSince(targetCpuBefore);
      const counted = await instructions.stop();
      if (record.hostCpu && counted) record.hostCpu.instructions = counted;
    } finally {
      await instructions.stop();
      if (finishSideMeasure) record.extra = await finishSideMeasure();
    }
    if (record.load && notifierBefore) record.notifications = await notificationsCatchUp(() => target.notifierState!(), notifierBefore);
    record.hostLoadAverage = Math.round(os.loadavg()[0] * 100) / 100;
    const after = await target.diagnostics?.().catch(() => undefined);
    if (after) {
      // Counters of the measured load only (the warm-up's are subtracted).
      record.diagnostics = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before?.[k] ?? 0)]));
    }
    record.oversold = await countOversoldNightsIn(target.databaseUrlsForOversoldCheck());
    const o = record.oversold;
    record.checks = [
      ...scenario.checks(record.load, endpoint.catalog),
      {
        name: 'no oversold night',
        ok: o.overLimit === 0 && o.overbooked === 0 && o.mismatched === 0,
        detail: `${o.overLimit} over the limit, ${o.overbooked} overbooked by reservations, ${o.mismatched} counter ≠ reservations`,
      },
    ];
  } catch (err) {
    record.error = err instanceof Error ? err.message : String(err);
  } finally {
    activeTarget = undefined;
    await target.stop().catch((err: Error) => log(`  stop failed: ${err.message}`));
  }
  return record;
}

/**
 * The notifier after a load: events it had not recorded when the load ended, when it had none left, and what it
 * cost: the CPU of its process and its Postgres sessions from the load's start until it caught up, per event
 * committed meanwhile (so a notifier that trails pays for its events all the same).
 */
export interface NotifierCatchUp {
  behindAtEnd: number;
  /** Milliseconds after the load's end (null: not within notifiedWithinMs). */
  caughtUpAfterMs: number | null;
  /** Events committed from the load's start until the notifier caught up (or gave up). */
  events: number;
  /** Its CPU µs per event meanwhile (null without events), and the part of it spent by its Postgres sessions. */
  cpuUsPerEvent: number | null;
  postgresUsPerEvent: number | null;
}

const notifiedWithinMs = 120_000;

/** Follow a notifier from the end of a load until it has nothing left to record (its state before the load given). */
export async function notificationsCatchUp(state: () => Promise<NotifierState | undefined>, before: NotifierState): Promise<NotifierCatchUp | undefined> {
  const ended = Date.now();
  const atEnd = await state().catch(() => undefined);
  if (atEnd === undefined) return undefined;
  const result = (s: NotifierState, caughtUpAfterMs: number | null): NotifierCatchUp => {
    let cpuMs = 0;
    let postgresMs = 0;
    // Sessions opened during the load count whole; those closed meanwhile are not seen.
    for (const [pid, ms] of s.cpuMs) {
      const spent = ms - (before.cpuMs.get(pid) ?? 0);
      cpuMs += spent;
      if (pid !== s.pid) postgresMs += spent;
    }
    const events = s.committed - before.committed;
    const perEvent = (ms: number) => (events > 0 ? Math.round((ms * 1000) / events) : null);
    return { behindAtEnd: atEnd.behind, caughtUpAfterMs, events, cpuUsPerEvent: perEvent(cpuMs), postgresUsPerEvent: perEvent(postgresMs) };
  };
  for (let s = atEnd; ; s = (await state().catch(() => undefined)) ?? s) {
    if (s.behind === 0) return result(s, Date.now() - ended);
    if (Date.now() - ended > notifiedWithinMs) return result(s, null);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A catch-up as the report shows it: behind at the end, caught up after, CPU per event. */
export function catchUpText(n: NotifierCatchUp | undefined): [string, string, string] {
  if (!n) return ['', '', ''];
  return [
    `${n.behindAtEnd.toLocaleString('en-US')} events`,
    n.caughtUpAfterMs === null ? `not within ${notifiedWithinMs / 1000} s` : `${n.caughtUpAfterMs.toLocaleString('en-US')} ms`,
    n.cpuUsPerEvent === null ? 'n/a' : `${n.cpuUsPerEvent} µs (Postgres ${n.postgresUsPerEvent} µs)`,
  ];
}
