// Turns run records into the summary table: medians over rounds per scenario and target.

import type { RunRecord } from './runner.js';

export interface SummaryRow {
  scenario: string;
  target: string;
  rounds: number;
  failedRounds: number;
  requestsPerSecond: number;
  /** 201 answers per second: reservations actually held. */
  heldPerSecond: number;
  /** Decisions per second: 201 (held) and 409 (sold_out) answers, the answers that decide a request. */
  decisionsPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Outcomes of the median-throughput round ('201', '409 sold_out', …). */
  outcomes: Record<string, number>;
  /** Worst oversold counts over all rounds. */
  oversold: { overLimit: number; overbooked: number; mismatched: number };
  /** Flash: ms from the start until the last 201 (the stock was gone), median over rounds. */
  soldOutMs?: number;
  /**
   * Duration scenarios: ms from the start of the measured load to its first 409 (a night full), median over rounds
   * that had one. Once the busiest nights are full, cheap 409s add to decisions/s: a target that holds faster gets
   * there sooner.
   */
  firstRefusalMs?: number;
  /** Highest 1-minute host load average seen at the end of a round (2 cores: above 2 the runs competed for CPU). */
  hostLoadMax: number;
  /** Busy CPU ms of the whole machine (load generator included) per decision during the load, median over rounds. */
  cpuMsPerDecision?: number;
  targetCpuMsPerDecision?: number;
  /** Millions of instructions the whole machine retired per decision during the load (perf), median over rounds. */
  instructionsPerDecisionM?: number;
  /** Every check that failed in any round. */
  failedChecks: string[];
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function summarize(records: RunRecord[]): SummaryRow[] {
  const groups = new Map<string, RunRecord[]>();
  for (const r of records) {
    const key = `${r.scenario}\u0000${r.target}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const rows: SummaryRow[] = [];
  for (const group of groups.values()) {
    const ok = group.filter((r) => r.load && !r.error);
    const loads = ok.map((r) => r.load!);
    const held = loads.map((l) => ((l.statuses['201'] ?? 0) / l.durationMs) * 1000);
    const decided = loads.map((l) => (((l.statuses['201'] ?? 0) + (l.statuses['409'] ?? 0)) / l.durationMs) * 1000);
    const byThroughput = [...ok].sort((a, b) => a.load!.throughput - b.load!.throughput);
    const middle = byThroughput[Math.floor((byThroughput.length - 1) / 2)];
    const soldOut = loads.filter((l) => l.statusTimesMs['201']).map((l) => l.statusTimesMs['201'].last);
    const refused = loads.filter((l) => l.statusTimesMs['409']).map((l) => l.statusTimesMs['409'].first);
    rows.push({
      scenario: group[0].scenario,
      target: group[0].target,
      rounds: group.length,
      failedRounds: group.length - ok.length,
      requestsPerSecond: Math.round(median(loads.map((l) => l.throughput))),
      heldPerSecond: Math.round(median(held)),
      decisionsPerSecond: Math.round(median(decided)),
      p50: median(loads.map((l) => l.latencyMs.p50)),
      p95: median(loads.map((l) => l.latencyMs.p95)),
      p99: median(loads.map((l) => l.latencyMs.p99)),
      max: Math.max(0, ...loads.map((l) => l.latencyMs.max)),
      outcomes: middle?.load?.outcomes ?? {},
      oversold: {
        overLimit: Math.max(0, ...ok.map((r) => r.oversold?.overLimit ?? 0)),
        overbooked: Math.max(0, ...ok.map((r) => r.oversold?.overbooked ?? 0)),
        mismatched: Math.max(0, ...ok.map((r) => r.oversold?.mismatched ?? 0)),
      },
      hostLoadMax: Math.max(0, ...ok.map((r) => r.hostLoadAverage ?? 0)),
      cpuMsPerDecision: perDecision(ok, (r) => r.hostCpu?.busyMs, 1000),
      targetCpuMsPerDecision: perDecision(ok, (r) => r.targetCpuMs, 1000),
      instructionsPerDecisionM: perDecision(ok, (r) => (r.hostCpu?.instructions ? r.hostCpu.instructions / 1e6 : undefined), 100),
      soldOutMs: group[0].scenario === 'flash' && soldOut.length ? Math.round(median(soldOut)) : undefined,
      firstRefusalMs: group[0].scenario !== 'flash' && refused.length ? Math.round(median(refused)) : undefined,
      failedChecks: [
        ...new Set(group.flatMap((r) => [...r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`), ...(r.error ? [`error: ${r.error}`] : [])])),
      ],
    });
  }
  return rows;
}

/** A per-run amount divided by the run's decisions, median over rounds, rounded to 1/`scale`. */
function perDecision(ok: RunRecord[], amount: (r: RunRecord) => number | undefined, scale: number): number | undefined {
  const per = ok
    .map((r) => {
      const decided = (r.load?.statuses['201'] ?? 0) + (r.load?.statuses['409'] ?? 0);
      const a = amount(r);
      return a !== undefined && decided > 0 ? a / decided : undefined;
    })
    .filter((x): x is number => x !== undefined);
  return per.length ? Math.round(median(per) * scale) / scale : undefined;
}

export function markdownTable(rows: SummaryRow[]): string {
  const header = [
    'scenario', 'target', 'req/s', 'decisions/s', '201/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms',
    'answers', 'oversold (limit/booked/drift)', 'sold out at', 'CPU ms/decision', 'target CPU ms/decision', 'M instructions/decision', 'host load', 'failed checks',
  ];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const answers = Object.entries(r.outcomes)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
    lines.push(
      `| ${[
        r.scenario,
        r.target + (r.failedRounds ? ` (${r.failedRounds}/${r.rounds} failed)` : ''),
        r.requestsPerSecond,
        r.decisionsPerSecond,
        r.heldPerSecond,
        r.p50,
        r.p95,
        r.p99,
        r.max,
        answers,
        `${r.oversold.overLimit}/${r.oversold.overbooked}/${r.oversold.mismatched}`,
        r.soldOutMs !== undefined ? `${r.soldOutMs} ms` : r.firstRefusalMs !== undefined ? `first 409 at ${r.firstRefusalMs} ms` : '',
        r.cpuMsPerDecision ?? '',
        r.targetCpuMsPerDecision ?? '',
        r.instructionsPerDecisionM ?? '',
        r.hostLoadMax,
        r.failedChecks.join('; ') || 'none',
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}
