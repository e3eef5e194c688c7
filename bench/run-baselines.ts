// Entry point: the three lock-based baselines × the scenarios, each run on fresh databases, then a table.
//
//   npx tsc -p . && node dist/bench/run-baselines.js
//
// Environment (all optional): BENCH_SECONDS (length of hot and spread, default 8), BENCH_WARMUP_MS (default
// 1000), BENCH_ROUNDS (default 1), BENCH_STRATEGIES (comma list, default all three), BENCH_SCENARIOS (comma
// list, default hot,spread,flash), BENCH_POOL_SIZE (connections per baseline server, default 20), BENCH_PG_URL
// (maintenance database, default postgres://<os user>@127.0.0.1:5432/postgres), BENCH_JSON (write raw records
// and the summary to this file), BENCH_ECHO=1 (show the servers' output).

import { writeFile } from 'node:fs/promises';
import { baselineStrategies, baselineTarget, type BaselineStrategy } from './baseline-target.js';
import { markdownTable, summarize } from './report.js';
import { dropOrphanBenchDatabases } from './postgres.js';
import { runBench, stopActiveTarget } from './runner.js';
import { benchScenarios } from './scenarios.js';

function intEnv(name: string, dflt: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer in ${min}..${max}`);
  return n;
}

function listEnv<T extends string>(name: string, all: readonly T[]): T[] {
  const raw = process.env[name];
  if (!raw) return [...all];
  const picked = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = picked.filter((p) => !all.includes(p as T));
  if (unknown.length) throw new Error(`${name}: unknown ${unknown.join(', ')} (known: ${all.join(', ')})`);
  return picked as T[];
}

async function main(): Promise<void> {
  const seconds = intEnv('BENCH_SECONDS', 8, 1, 3600);
  const rounds = intEnv('BENCH_ROUNDS', 1, 1, 100);
  const poolSize = intEnv('BENCH_POOL_SIZE', 20, 1, 500);
  const warmupMs = intEnv('BENCH_WARMUP_MS', 1000, 0, 600_000);
  const all = benchScenarios({ seconds, warmupMs });
  const names = listEnv('BENCH_SCENARIOS', all.map((s) => s.name));
  const scenarios = all.filter((s) => names.includes(s.name));
  const strategies = listEnv<BaselineStrategy>('BENCH_STRATEGIES', baselineStrategies);
  const targets = strategies.map((s) => baselineTarget(s, { poolSize, echo: process.env.BENCH_ECHO === '1' }));

  const interrupt = (signal: string) => {
    process.stderr.write(`\n${signal}: stopping the running server and dropping its database\n`);
    void stopActiveTarget().finally(() => process.exit(130));
  };
  process.once('SIGINT', () => interrupt('SIGINT'));
  process.once('SIGTERM', () => interrupt('SIGTERM'));

  const orphans = await dropOrphanBenchDatabases();
  if (orphans.length) process.stderr.write(`dropped ${orphans.length} database(s) left by killed runs\n`);

  const started = Date.now();
  const records = await runBench({ targets, scenarios, rounds });
  const summary = summarize(records);
  console.log(`\nBaselines: ${strategies.join(', ')}; ${rounds} round(s); hot/spread ${seconds} s each; pool ${poolSize}; ` +
    `medians over rounds; total ${Math.round((Date.now() - started) / 1000)} s\n`);
  console.log(markdownTable(summary));
  if (process.env.BENCH_JSON) {
    await writeFile(process.env.BENCH_JSON, JSON.stringify({ seconds, rounds, poolSize, summary, records }, null, 2));
    console.log(`\nraw records: ${process.env.BENCH_JSON}`);
  }
  const failed = summary.filter((r) => r.failedChecks.length > 0);
  process.exitCode = failed.length ? 1 : 0;
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  void stopActiveTarget().finally(() => process.exit(2));
});
