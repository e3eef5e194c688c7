// `npm run bench`: the whole benchmark in one run, and its results written to bench/results/<date>.{md,json,svg}.
//
//   1. hot, spread and flash against the engine and the three lock-based baselines, round after round, with the
//      order of the targets rotated every round; the no-op Express and node:http ceilings take the hot load in every round too;
//      during the engine's hot run, 200 Server-Sent Events clients and a probe measure freshness (freshness.ts);
//   2. every round also runs the batch ingest (engine, 100,000 reservations in batches of 1,000) and the raw
//      Postgres bulk-insert ceiling of the same rows (alternating which goes first);
//   3. once, at the end: the shard worker's resident memory with 5,000 hotels × 5 room types loaded; and, when
//      BENCH_SHARD_MOVE=1, how long shard moves pause their hotels (shard-move.ts);
//   4. medians over rounds, ratios, and every target of issues 3 and 4 checked (PASS/MISS).
//
// Environment (all optional):
//   BENCH_SECONDS (8)            length of the hot and spread loads
//   BENCH_WARMUP_MS (1000)       unmeasured warm-up with the same requests before hot and spread
//   BENCH_ROUNDS (3)             rounds; the tables show medians over rounds
//   BENCH_STRATEGIES             baselines, comma list (pessimistic,optimistic,constraint)
//   BENCH_SCENARIOS              comma list (hot,spread,flash), or none
//   BENCH_POOL_SIZE (20)         Postgres connections per baseline server
//   BENCH_NOOP (1)               0 skips the no-op Express and no-op node:http ceilings
//   BENCH_INGEST (1)             0 skips batch ingest and the bulk-insert ceiling
//   BENCH_INGEST_ITEMS (100000), BENCH_INGEST_BATCH (1000), BENCH_INGEST_CONCURRENCY (4 POSTs in flight)
//   BENCH_MEMORY (1)             0 skips the worker memory measurement; BENCH_MEMORY_HOTELS (5000)
//   BENCH_SHARD_MOVE (0)         1 measures the pause of shard moves: BENCH_SHARD_MOVES (6) moves of distinct shards
//                                with BENCH_SHARD_MOVE_HOTELS (64) hotels × 2 room types in 16 shards
//   BENCH_FRESHNESS (separate)   separate: freshness is measured in an extra engine run of the hot scenario (target
//                                "engine+sse"), so that the engine's own hot numbers are measured under the same
//                                load as the baselines'; inline: in the engine's hot run itself; 0: not measured
//   BENCH_FRESHNESS_CLIENTS (200), BENCH_FRESHNESS_INTERVAL_MS (100)
//   BENCH_RESULTS_DIR            where results go (default bench/results of the repository)
//   BENCH_CPU_PROF=<dir>         profile the engine's processes (engine-target.ts; summarize with profile-summary.js)
//   BENCH_SEED_CONCURRENCY (64)  HTTP requests in flight while seeding the engine
//   BENCH_TIERS                  occupancy pricing tiers on every engine hotel, occupancy:multiplier,… (e.g. 50:120,80:150)
//   BENCH_SCALE (2,4)            the scale curve: the spread scenario also with this many worker processes (comma
//                                list; the engine row is 1), sharing the shards by themselves; 0: none
//   BENCH_PG_URL, BENCH_REDIS_URL, BENCH_ECHO=1

import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { baselineStrategies, baselineTarget, type BaselineStrategy } from './baseline-target.js';
import { ingestBatches, runBatchIngest, type BatchIngestResult } from './batch-ingest.js';
import { createBulkTemplate, runBulkCeiling, type BulkCeilingResult, type BulkTemplate } from './ceilings/bulk-insert.js';
import { noopExpressTarget } from './ceilings/noop-target.js';
import { benchChart } from './chart.js';
import { dropEngineTemplates, engineTarget, stopAllEngines } from './engine-target.js';
import { startFreshnessProbe, type FreshnessResult } from './freshness.js';
import { measureWorkerMemory, type MemoryResult } from './memory.js';
import { measureShardMoves, type ShardMoveResult } from './shard-move.js';
import { adminDatabaseUrl, dropBenchDatabase, dropOrphanBenchDatabases, pgConfig } from './postgres.js';
import { markdownTable, median, summarize } from './report.js';
import { catchUpText, runBench, stopActiveTarget, type DuringLoadHook, type RunRecord } from './runner.js';
import { benchScenarios, type Scenario } from './scenarios.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');

function intEnv(name: string, dflt: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer in ${min}..${max}`);
  return n;
}

const flagEnv = (name: string, dflt: boolean) => {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? dflt : raw !== '0' && raw.toLowerCase() !== 'false';
};

function listEnv<T extends string>(name: string, all: readonly T[]): T[] {
  const raw = process.env[name];
  if (!raw) return [...all];
  // "none" picks nothing (e.g. BENCH_SCENARIOS=none to measure only the ingest or the memory).
  const picked = raw.split(',').map((s) => s.trim()).filter((s) => s && s !== 'none');
  const unknown = picked.filter((p) => !all.includes(p as T));
  if (unknown.length) throw new Error(`${name}: unknown ${unknown.join(', ')} (known: ${all.join(', ')})`);
  return picked as T[];
}

interface TargetCheck {
  id: string;
  target: string;
  measured: string;
  pass: boolean | undefined;
}

const round2 = (x: number) => Math.round(x * 100) / 100;
/**
 * A ratio as shown: three decimals below 1, two above, so that 0.496 is not shown as 0.5. Targets are checked on
 * the exact ratio, never on the shown one.
 */
const shownRatio = (x: number) => (x < 1 ? Math.round(x * 1000) / 1000 : round2(x));
const fmtInt = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? 'n/a' : Math.round(x).toLocaleString('en-US'));
const verdict = (pass: boolean | undefined) => (pass === undefined ? 'NOT RUN' : pass ? 'PASS' : 'MISS');

function medianOf<T>(items: T[], pick: (t: T) => number): number {
  return median(items.map(pick).filter((v) => Number.isFinite(v)));
}

function localDate(d = new Date()): string {
  const z = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${z(d.getMonth() + 1)}-${z(d.getDate())}`;
}

function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

async function postgresVersion(): Promise<string> {
  const c = new pg.Client(pgConfig(adminDatabaseUrl()));
  await c.connect();
  try {
    return (await c.query('SHOW server_version')).rows[0].server_version as string;
  } finally {
    await c.end();
  }
}

async function main(): Promise<void> {
  const seconds = intEnv('BENCH_SECONDS', 8, 1, 3600);
  const rounds = intEnv('BENCH_ROUNDS', 3, 1, 100);
  const poolSize = intEnv('BENCH_POOL_SIZE', 20, 1, 500);
  const warmupMs = intEnv('BENCH_WARMUP_MS', 1000, 0, 600_000);
  const withNoop = flagEnv('BENCH_NOOP', true);
  const withIngest = flagEnv('BENCH_INGEST', true);
  const withMemory = flagEnv('BENCH_MEMORY', true);
  const freshnessMode = (process.env.BENCH_FRESHNESS ?? 'separate').toLowerCase();
  if (!['separate', 'inline', '0', '1', 'false'].includes(freshnessMode)) throw new Error('BENCH_FRESHNESS must be separate, inline or 0');
  const withFreshness = freshnessMode !== '0' && freshnessMode !== 'false';
  const freshnessInline = freshnessMode === 'inline';
  const ingest = {
    items: intEnv('BENCH_INGEST_ITEMS', 100_000, 1, 10_000_000),
    batchSize: intEnv('BENCH_INGEST_BATCH', 1_000, 1, 10_000),
    concurrency: intEnv('BENCH_INGEST_CONCURRENCY', 4, 1, 256),
    pollMs: 50,
  };
  const memoryHotels = intEnv('BENCH_MEMORY_HOTELS', 5_000, 1, 100_000);
  const withShardMove = flagEnv('BENCH_SHARD_MOVE', false);
  const shardMoves = intEnv('BENCH_SHARD_MOVES', 6, 1, 16);
  const shardMoveHotels = intEnv('BENCH_SHARD_MOVE_HOTELS', 64, 1, 10_000);
  const freshnessClients = intEnv('BENCH_FRESHNESS_CLIENTS', 200, 1, 10_000);
  const freshnessIntervalMs = intEnv('BENCH_FRESHNESS_INTERVAL_MS', 100, 10, 10_000);
  const resultsDir = path.resolve(process.env.BENCH_RESULTS_DIR ?? path.join(repoRoot, 'bench/results'));

  const all = benchScenarios({ seconds, warmupMs });
  const names = listEnv('BENCH_SCENARIOS', all.map((s) => s.name));
  const scenarios = all.filter((s) => names.includes(s.name));
  const spreadShape = all.find((s) => s.name === 'spread') as Scenario;
  const strategies = listEnv<BaselineStrategy>('BENCH_STRATEGIES', baselineStrategies);

  const t0 = Date.now();
  const log = (line: string) => process.stderr.write(`[${String(Math.round((Date.now() - t0) / 1000)).padStart(4)} s] ${line}\n`);
  const echo = process.env.BENCH_ECHO === '1';
  const engine = engineTarget({ log });
  const engineSse = withFreshness && !freshnessInline ? engineTarget({ log, name: 'engine+sse', scenarios: ['hot'] }) : undefined;
  // The scale curve: spread again with more worker processes (the `engine` row has one).
  const scaleRaw = process.env.BENCH_SCALE ?? '2,4';
  const scaleWorkers = scaleRaw === '0' || !names.includes('spread') ? [] : scaleRaw.split(',').map((x) => Number(x.trim()));
  if (scaleWorkers.some((n) => !Number.isInteger(n) || n < 1 || n > 16)) throw new Error('BENCH_SCALE must list worker counts in 1..16');
  const scaleTargets = scaleWorkers.map((n) => engineTarget({ log, name: `engine×${n} workers`, scenarios: ['spread'], workers: n }));
  const freshnessTarget = engineSse ?? engine;
  const targets = [
    engine,
    ...(engineSse ? [engineSse] : []),
    ...scaleTargets,
    ...strategies.map((s) => baselineTarget(s, { poolSize, echo })),
    ...(withNoop ? [noopExpressTarget({ echo }), noopExpressTarget({ echo, plain: true })] : []),
  ];

  let bulkTemplate: BulkTemplate | undefined;
  const cleanUp = async () => {
    await stopActiveTarget().catch(() => {});
    await stopAllEngines().catch(() => {});
    await dropEngineTemplates().catch(() => {});
    if (bulkTemplate) await dropBenchDatabase(bulkTemplate.name).catch(() => {});
  };
  const interrupt = (signal: string) => {
    process.stderr.write(`\n${signal}: stopping the running servers and dropping the benchmark databases\n`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', () => interrupt('SIGINT'));
  process.once('SIGTERM', () => interrupt('SIGTERM'));

  const orphans = await dropOrphanBenchDatabases();
  if (orphans.length) log(`dropped ${orphans.length} database(s) left by killed runs`);

  const loadSamples: number[] = [];
  const loadSampler = setInterval(() => loadSamples.push(os.loadavg()[0]), 5_000);
  loadSampler.unref();
  const loadAtStart = os.loadavg().map(round2);
  log(`host: ${os.cpus().length} cores, load average ${loadAtStart.join(' / ')} (1/5/15 min)`);

  // Freshness rides on the engine's hot run.
  const freshness: { round: number; result?: FreshnessResult; error?: string }[] = [];
  const duringLoad: DuringLoadHook = async ({ round, scenario, target, endpoint, log: say }) => {
    if (!withFreshness || target !== freshnessTarget || scenario.name !== 'hot') return undefined;
    const rt = endpoint.catalog.roomTypes[0];
    const token = (endpoint.headers?.authorization ?? '').replace(/^Bearer /, '');
    try {
      const stop = await startFreshnessProbe({
        baseUrl: endpoint.baseUrl,
        hotelId: rt.hotelId,
        partnerToken: token,
        firstNight: endpoint.catalog.firstNight,
        clients: freshnessClients,
        intervalMs: freshnessIntervalMs,
      });
      say(`  freshness: ${freshnessClients} stream clients connected, probing every ${freshnessIntervalMs} ms`);
      return async () => {
        try {
          const result = await stop();
          freshness.push({ round, result });
          say(`  freshness: p50/p99 event−201 ${result.eventAfterAnswerMs.p50}/${result.eventAfterAnswerMs.p99} ms, event−decision ${result.eventAfterDecisionMs.p50}/${result.eventAfterDecisionMs.p99} ms (${result.probesHeld} probes, ${result.missed} missed, ${result.resets} resets)`);
          return { freshness: result };
        } catch (err) {
          freshness.push({ round, error: (err as Error).message });
          return { freshnessError: (err as Error).message };
        }
      };
    } catch (err) {
      freshness.push({ round, error: (err as Error).message });
      say(`  freshness probe could not start: ${(err as Error).message}`);
      return undefined;
    }
  };

  const ingestRuns: { round: number; result?: BatchIngestResult; error?: string }[] = [];
  const bulkRuns: { round: number; result?: BulkCeilingResult; error?: string }[] = [];
  const runIngest = async (round: number) => {
    log(`round ${round}: batch ingest × engine`);
    try {
      const result = await runBatchIngest(spreadShape, ingest, log);
      ingestRuns.push({ round, result });
      log(`  ${result.held + result.rejected} decided in ${result.durationMs} ms: ${fmtInt(result.reservationsPerSecond)} reservations/s; /healthz p99 ${result.healthz.p99} ms; host load ${result.hostLoadAverage}`);
      if (result.notifications) {
        const [behind, after, cpu] = catchUpText(result.notifications);
        log(`  notifier: ${behind} behind at the end, caught up after ${after}; ${cpu} of CPU per event`);
      }
    } catch (err) {
      ingestRuns.push({ round, error: (err as Error).message });
      log(`  failed: ${(err as Error).message}`);
    }
  };
  const runBulk = async (round: number) => {
    log(`round ${round}: batch ingest × raw Postgres bulk insert (ceiling)`);
    try {
      if (!bulkTemplate) {
        const s = Date.now();
        bulkTemplate = await createBulkTemplate(spreadShape.shape, 730);
        log(`  seeded the bulk-insert template in ${Math.round((Date.now() - s) / 1000)} s`);
      }
      const result = await runBulkCeiling(bulkTemplate, (c) => ingestBatches(c, ingest), spreadShape.shape.baseRate);
      result.hostLoadAverage = round2(os.loadavg()[0]);
      bulkRuns.push({ round, result });
      log(`  ${result.rows} rows in ${result.durationMs} ms: ${fmtInt(result.rowsPerSecond)} rows/s; host load ${result.hostLoadAverage}`);
    } catch (err) {
      bulkRuns.push({ round, error: (err as Error).message });
      log(`  failed: ${(err as Error).message}`);
    }
  };

  let records: RunRecord[] = [];
  let memory: MemoryResult | undefined;
  let memoryError: string | undefined;
  let shardMove: ShardMoveResult | undefined;
  let shardMoveError: string | undefined;
  try {
    records = await runBench({
      targets,
      scenarios,
      rounds,
      log,
      duringLoad,
      onRoundEnd: async (round) => {
        if (!withIngest) return;
        if (round % 2 === 1) {
          await runIngest(round);
          await runBulk(round);
        } else {
          await runBulk(round);
          await runIngest(round);
        }
      },
    });
    await dropEngineTemplates();
    if (bulkTemplate) {
      await dropBenchDatabase(bulkTemplate.name);
      bulkTemplate = undefined;
    }
    if (withMemory) {
      log(`worker memory: ${memoryHotels} hotels × 5 room types`);
      try {
        memory = await measureWorkerMemory({ hotels: memoryHotels, roomTypesPerHotel: 5 }, log);
      } catch (err) {
        memoryError = (err as Error).message;
        log(`  failed: ${memoryError}`);
      }
    }
    if (withShardMove) {
      log(`shard moves: ${shardMoves} moves, ${shardMoveHotels} hotels × 2 room types`);
      try {
        shardMove = await measureShardMoves({ moves: shardMoves, hotels: shardMoveHotels, roomTypesPerHotel: 2 }, log);
        log(`  pause p50 ${shardMove.pauseMs.p50} ms, max ${shardMove.pauseMs.max} ms; longest probe request p50 ${shardMove.probeMaxMs.p50} ms, max ${shardMove.probeMaxMs.max} ms`);
      } catch (err) {
        shardMoveError = (err as Error).message;
        log(`  failed: ${shardMoveError}`);
      }
    }
  } finally {
    await cleanUp();
    clearInterval(loadSampler);
  }

  // ---- Summaries ----------------------------------------------------------------------------------------------
  const summary = summarize(records);
  const row = (scenario: string, target: string) => summary.find((r) => r.scenario === scenario && r.target === target);
  const baselineRows = (scenario: string) => summary.filter((r) => r.scenario === scenario && strategies.includes(r.target as BaselineStrategy));
  const best = (scenario: string) => baselineRows(scenario).sort((a, b) => b.decisionsPerSecond - a.decisionsPerSecond)[0];
  const decisionsOf = (r: RunRecord) =>
    r.load && !r.error ? (((r.load.statuses['201'] ?? 0) + (r.load.statuses['409'] ?? 0)) / r.load.durationMs) * 1000 : NaN;
  const ratios = scenarios.map((s) => {
    const e = row(s.name, 'engine');
    const b = best(s.name);
    // The same ratio within each round (runs close in time, so less exposed to the shared host's drift).
    const perRound: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const inRound = records.filter((r) => r.round === round && r.scenario === s.name);
      const engineRun = inRound.find((r) => r.target === 'engine');
      const bestRun = Math.max(...inRound.filter((r) => strategies.includes(r.target as BaselineStrategy)).map(decisionsOf).filter(Number.isFinite));
      if (engineRun && Number.isFinite(decisionsOf(engineRun)) && bestRun > 0) perRound.push(shownRatio(decisionsOf(engineRun) / bestRun));
    }
    const exactRatio = e && b && b.decisionsPerSecond > 0 ? e.decisionsPerSecond / b.decisionsPerSecond : undefined;
    return {
      scenario: s.name,
      engineDecisionsPerSecond: e?.decisionsPerSecond,
      bestBaseline: b?.target,
      bestBaselineDecisionsPerSecond: b?.decisionsPerSecond,
      ratio: exactRatio !== undefined ? shownRatio(exactRatio) : undefined,
      exactRatio,
      perRound,
    };
  });
  const okIngest = ingestRuns.flatMap((r) => (r.result ? [r.result] : []));
  const okBulk = bulkRuns.flatMap((r) => (r.result ? [r.result] : []));
  const okFresh = freshness.flatMap((r) => (r.result ? [r.result] : []));
  const ingestMedian = okIngest.length ? medianOf(okIngest, (r) => r.reservationsPerSecond) : undefined;
  const bulkMedian = okBulk.length ? medianOf(okBulk, (r) => r.rowsPerSecond) : undefined;
  const fresh = okFresh.length
    ? {
        rounds: okFresh.length,
        afterAnswer: { p50: medianOf(okFresh, (r) => r.eventAfterAnswerMs.p50), p99: medianOf(okFresh, (r) => r.eventAfterAnswerMs.p99) },
        afterDecision: { p50: medianOf(okFresh, (r) => r.eventAfterDecisionMs.p50), p99: medianOf(okFresh, (r) => r.eventAfterDecisionMs.p99) },
        afterSend: { p50: medianOf(okFresh, (r) => r.eventAfterSendMs.p50), p99: medianOf(okFresh, (r) => r.eventAfterSendMs.p99) },
        lastStream: { p50: medianOf(okFresh, (r) => r.lastStreamAfterAnswerMs.p50), p99: medianOf(okFresh, (r) => r.lastStreamAfterAnswerMs.p99) },
        worstP99AfterDecision: Math.max(...okFresh.map((r) => r.eventAfterDecisionMs.p99)),
        missed: okFresh.reduce((n, r) => n + r.missed, 0),
        resets: okFresh.reduce((n, r) => n + r.resets, 0),
        probes: okFresh.reduce((n, r) => n + r.probesHeld, 0),
        probeProcessLoopDelayP99: medianOf(okFresh, (r) => r.probeProcessLoopDelayMs.p99),
      }
    : undefined;

  // ---- Targets ------------------------------------------------------------------------------------------------
  const checks: TargetCheck[] = [];
  const has = (s: string) => scenarios.some((x) => x.name === s);
  {
    const e = row('hot', 'engine');
    const r = ratios.find((x) => x.scenario === 'hot');
    checks.push({
      id: 'hot',
      target: 'hot: engine decisions/s ≥ 3× the best baseline, with p99 ≤ 50 ms',
      measured: e && r?.ratio !== undefined ? `${r.ratio}× ${r.bestBaseline} (${fmtInt(e.decisionsPerSecond)} vs ${fmtInt(r.bestBaselineDecisionsPerSecond)}/s), p99 ${e.p99} ms` : 'not run',
      pass: e && r?.exactRatio !== undefined ? r.exactRatio >= 3 && e.p99 <= 50 : undefined,
    });
  }
  {
    const r = ratios.find((x) => x.scenario === 'spread');
    checks.push({
      id: 'spread',
      target: 'spread: engine decisions/s ≥ 1.5× the best baseline',
      measured: r?.ratio !== undefined ? `${r.ratio}× ${r.bestBaseline} (${fmtInt(r.engineDecisionsPerSecond)} vs ${fmtInt(r.bestBaselineDecisionsPerSecond)}/s)` : 'not run',
      pass: r?.exactRatio !== undefined ? r.exactRatio >= 1.5 : undefined,
    });
  }
  {
    const flashEngine = records.filter((r) => r.scenario === 'flash' && r.target === 'engine');
    const e = row('flash', 'engine');
    const others = baselineRows('flash');
    const exact = flashEngine.length > 0 && flashEngine.every((r) => r.checks.find((c) => c.name === 'sold exactly the sellable limit')?.ok);
    const no5xx = flashEngine.length > 0 && flashEngine.every((r) => !r.error && r.checks.find((c) => c.name.startsWith('no 5xx'))?.ok);
    const faster = e?.soldOutMs !== undefined && others.every((b) => b.soldOutMs === undefined || e.soldOutMs! < b.soldOutMs);
    checks.push({
      id: 'flash',
      target: 'flash: exactly the sellable limit sold, sold out sooner than every baseline, zero 5xx',
      measured: e
        ? `${exact ? 'exact in every round' : 'NOT exact in every round'}; sold out at ${e.soldOutMs} ms vs ${others.map((b) => `${b.target} ${b.soldOutMs} ms`).join(', ')}; ${no5xx ? 'no 5xx' : '5xx or dropped answers'}`
        : 'not run',
      pass: e ? exact && no5xx && faster : undefined,
    });
  }
  {
    const e = row('hot', 'engine');
    const n = row('hot', 'no-op express');
    const exact = e && n && n.requestsPerSecond > 0 ? e.requestsPerSecond / n.requestsPerSecond : undefined;
    checks.push({
      id: 'noop',
      target: "engine's HTTP throughput ≥ 0.6× the no-op Express ceiling (hot load)",
      measured: exact !== undefined ? `${shownRatio(exact)}× (${fmtInt(e!.requestsPerSecond)} vs ${fmtInt(n!.requestsPerSecond)} req/s)` : 'not run',
      pass: exact !== undefined ? exact >= 0.6 : undefined,
    });
  }
  {
    const exact = ingestMedian !== undefined && bulkMedian ? ingestMedian / bulkMedian : undefined;
    checks.push({
      id: 'ingest',
      target: 'batch ingest ≥ 30,000 reservations/s and ≥ 0.5× the raw Postgres bulk ceiling',
      measured: ingestMedian !== undefined ? `${fmtInt(ingestMedian)}/s; ${exact !== undefined ? shownRatio(exact) : 'n/a'}× the bulk ceiling (${fmtInt(bulkMedian)} rows/s)` : 'not run',
      pass: ingestMedian !== undefined && exact !== undefined ? ingestMedian >= 30_000 && exact >= 0.5 : undefined,
    });
  }
  {
    const engineRows = summary.filter((r) => r.target === 'engine' || r.target === 'engine+sse');
    const bad = engineRows.filter((r) => r.oversold.overLimit + r.oversold.overbooked + r.oversold.mismatched > 0).map((r) => `${r.scenario} (${r.target})`);
    const ingestBad = okIngest.some((r) => r.oversold.overLimit + r.oversold.overbooked + r.oversold.mismatched > 0);
    if (ingestBad) bad.push('batch ingest');
    const ran = engineRows.length + okIngest.length > 0;
    checks.push({
      id: 'oversold',
      target: 'zero oversold nights for the engine in every scenario',
      measured: ran
        ? bad.length
          ? `oversold or drifted nights in ${bad.join(', ')}`
          : `0 in ${[...new Set([...engineRows.map((r) => r.scenario), ...(okIngest.length ? ['batch ingest'] : [])])].join(', ')}`
        : 'not run',
      pass: ran ? bad.length === 0 : undefined,
    });
  }
  checks.push({
    id: 'memory',
    target: `shard worker RSS with ${fmtInt(memoryHotels)} hotels × 5 room types loaded ≤ 400 MB`,
    measured: memory ? `${memory.workerRssMb.loaded} MB (idle ${memory.workerRssMb.idle} MB, peak ${memory.workerRssMb.peak} MB; ${memory.held} hotels touched)` : memoryError ? `failed: ${memoryError}` : 'not run',
    pass: memory ? memory.workerRssMb.loaded <= 400 && memory.held === memory.hotels && memoryHotels >= 5_000 : undefined,
  });
  checks.push({
    id: 'freshness',
    target: `freshness: p99 commit → SSE client ≤ 100 ms under the hot load with ${freshnessClients} stream clients`,
    measured: fresh
      ? `p99 ≤ ${fresh.afterDecision.p99} ms (upper bound: event − decision) and ≥ ${fresh.afterAnswer.p99} ms (event − 201); p50 ${fresh.afterDecision.p50} / ${fresh.afterAnswer.p50} ms`
      : freshness.find((f) => f.error)?.error ?? 'not run',
    pass: fresh ? fresh.afterDecision.p99 <= 100 && freshnessClients >= 200 : undefined,
  });

  // ---- Output -------------------------------------------------------------------------------------------------
  const finished = new Date();
  const date = localDate(finished);
  // A second run on the same day keeps the first: <date>.md, then <date>-2.md, <date>-3.md, …
  let name = date;
  for (let n = 2; existsSync(path.join(resultsDir, `${name}.json`)); n++) name = `${date}-${n}`;
  const durationS = Math.round((Date.now() - t0) / 1000);
  const loadAtEnd = os.loadavg().map(round2);
  const hostLoad = {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    atStart: loadAtStart,
    atEnd: loadAtEnd,
    sampled1m: loadSamples.length
      ? { min: round2(Math.min(...loadSamples)), median: round2(median(loadSamples)), max: round2(Math.max(...loadSamples)) }
      : undefined,
  };
  const commit = git(['rev-parse', '--short', 'HEAD']);
  const dirty = (git(['status', '--porcelain']) ?? '').split('\n').filter(Boolean).length;
  const settings = {
    seconds,
    warmupMs,
    rounds,
    poolSize,
    strategies,
    scenarios: scenarios.map((s) => s.name),
    ingest,
    memoryHotels,
    freshnessClients,
    freshnessIntervalMs,
    cpuProfile: process.env.BENCH_CPU_PROF ?? null,
  };
  const command = 'npm run bench' + Object.entries(process.env).filter(([k]) => k.startsWith('BENCH_')).map(([k, v]) => ` ${k}=${v}`).join('');

  const md: string[] = [];
  md.push(`# Benchmark results, ${date}`, '');
  md.push(
    `\`${command}\` — commit ${commit ?? 'unknown'}${dirty ? ` (+${dirty} uncommitted files)` : ''}, ${finished.toISOString()}, ` +
      `${durationS} s in total. Host: ${hostLoad.cores} cores (${hostLoad.cpu}), Node ${process.version}, Postgres ${await postgresVersion().catch(() => '?')}; ` +
      `1-minute load average ${loadAtStart[0]} at the start, ${loadAtEnd[0]} at the end` +
      (hostLoad.sampled1m ? `, sampled every 5 s: min ${hostLoad.sampled1m.min}, median ${hostLoad.sampled1m.median}, max ${hostLoad.sampled1m.max}` : '') +
      ` (the machine is shared: above ${hostLoad.cores} the runs competed for CPU with other work).`,
    '',
  );
  md.push(
    `${rounds} round(s); every round runs each scenario against every target in a rotated order, then the batch ingest and its ` +
      `bulk-insert ceiling; numbers are medians over rounds (latency percentiles: median of the per-round percentiles). ` +
      `hot and spread: ${seconds} s measured after a ${warmupMs} ms warm-up; flash: 5,000 clients, one attempt each. ` +
      `Decisions = 201 (held) + 409 sold_out answers.`,
    '',
  );
  md.push('## Targets', '', '| target | measured | verdict |', '|---|---|---|');
  for (const c of checks) md.push(`| ${c.target} | ${c.measured} | **${verdict(c.pass)}** |`);
  md.push('');
  md.push(`![throughput and p99 per strategy and scenario](${name}.svg)`, '');
  md.push('## Scenarios (medians over rounds)', '', markdownTable(summary), '');
  md.push(
    'Oversold is the worst over all rounds: nights over the sellable limit / nights whose live reservations exceed it / nights whose counter differs from the reservations. Sold out at: flash, when the last 201 came (the stock was gone); hot and spread, when the first 409 came (a night full: from then on, cheap refusals add to decisions/s, so a target that holds faster gets more of them). CPU ms/decision: busy CPU time of the whole machine during the measured load (from /proc/stat: every process, the load generator and Postgres included; time stolen by the hypervisor excluded) ÷ decisions, median over rounds. A starved run is slower but hardly busier, so this moves much less with the shared host\'s load than throughput does. Target CPU ms/decision: CPU time of the target\'s own processes only (its servers, and the Postgres backends connected to its databases at the start of the load; /proc/<pid>/stat) ÷ decisions: other work on the machine does not count in it, so it is the figure to compare commits with on a busy host. M instructions/decision: instructions retired by the whole machine during the load (perf stat -a, where perf may count) ÷ decisions, median over rounds; steadier still (the same code measures within a few percent across runs).',
    '',
  );
  const scaleRows = [{ workers: 1, row: summary.find((r) => r.scenario === 'spread' && r.target === 'engine') }, ...scaleWorkers.map((n) => ({ workers: n, row: summary.find((r) => r.scenario === 'spread' && r.target === `engine×${n} workers`) }))];
  if (scaleWorkers.length > 0) {
    const one = scaleRows[0].row?.decisionsPerSecond;
    md.push(
      '## Scale curve (spread, worker processes)',
      '',
      `The spread scenario with 1, ${scaleWorkers.join(', ')} worker processes sharing the ${'virtual'} shards by themselves (fair sharing, no WORKER_SHARDS), one API process and the notifier, on this ${os.cpus().length}-core machine: every process, Postgres and the load generator share the same cores, so more workers cannot add CPU here; what the curve shows is what splitting the shards costs or gains on one machine (more, smaller commits; more processes to schedule). Medians over rounds.`,
      '',
      '| workers | decisions/s | ÷ 1 worker | p99 ms | target CPU ms/decision |',
      '|---|---|---|---|---|',
      ...scaleRows.map(({ workers, row }) => `| ${workers} | ${fmtInt(row?.decisionsPerSecond)} | ${row && one ? `${round2(row.decisionsPerSecond / one)}×` : 'n/a'} | ${row?.p99 ?? 'n/a'} | ${row?.targetCpuMsPerDecision ?? 'n/a'} |`),
      '',
    );
  }
  md.push(
    '## Ratios',
    '',
    'Medians over rounds (the targets are checked on these); the last column gives the same ratio within each round (engine ÷ best baseline of that round), which is less exposed to the shared host\'s drift between rounds.',
    '',
    '| scenario | engine decisions/s | best baseline | its decisions/s | engine ÷ best | per round |',
    '|---|---|---|---|---|---|',
  );
  for (const r of ratios) {
    md.push(`| ${r.scenario} | ${fmtInt(r.engineDecisionsPerSecond)} | ${r.bestBaseline ?? 'n/a'} | ${fmtInt(r.bestBaselineDecisionsPerSecond)} | ${r.ratio ?? 'n/a'}× | ${r.perRound.map((x) => `${x}×`).join(', ')} |`);
  }
  {
    const e = row('hot', 'engine');
    const n = row('hot', 'no-op express');
    const perRound = (a: (round: number) => number | undefined, b: (round: number) => number | undefined) =>
      Array.from({ length: rounds }, (_, i) => i + 1)
        .map((round) => {
          const x = a(round);
          const y = b(round);
          return x !== undefined && y ? `${shownRatio(x / y)}×` : undefined;
        })
        .filter(Boolean)
        .join(', ');
    const hotReqs = (target: string) => (round: number) => records.find((r) => r.round === round && r.scenario === 'hot' && r.target === target && !r.error)?.load?.throughput;
    if (e && n) {
      md.push(
        `| hot, HTTP | ${fmtInt(e.requestsPerSecond)} req/s | no-op Express ceiling | ${fmtInt(n.requestsPerSecond)} req/s | ${shownRatio(e.requestsPerSecond / n.requestsPerSecond)}× | ${perRound(hotReqs('engine'), hotReqs('no-op express'))} |`,
      );
    }
    const plain = row('hot', 'no-op node:http');
    if (e && plain) {
      md.push(
        `| hot, HTTP (not a target) | ${fmtInt(e.requestsPerSecond)} req/s | no-op node:http ceiling (no framework, as the engine's fast path) | ${fmtInt(plain.requestsPerSecond)} req/s | ${shownRatio(e.requestsPerSecond / plain.requestsPerSecond)}× | ${perRound(hotReqs('engine'), hotReqs('no-op node:http'))} |`,
      );
    }
    if (ingestMedian !== undefined && bulkMedian) {
      md.push(
        `| batch ingest | ${fmtInt(ingestMedian)} reservations/s | raw Postgres bulk insert (1 connection) | ${fmtInt(bulkMedian)} rows/s | ${shownRatio(ingestMedian / bulkMedian)}× | ${perRound(
          (round) => ingestRuns.find((x) => x.round === round)?.result?.reservationsPerSecond,
          (round) => bulkRuns.find((x) => x.round === round)?.result?.rowsPerSecond,
        )} |`,
      );
    }
  }
  md.push('');
  if (withIngest) {
    md.push('## Batch ingest', '');
    md.push(
      `${fmtInt(ingest.items)} reservations as batches of ${fmtInt(ingest.batchSize)} (\`POST /v1/batches\`, ${ingest.concurrency} in flight) across 1,000 hotels × 5 room types, ` +
        `random 1–3-night stays in a 60-night window; timed from the first POST until the last batch is seen \`done\` (polled every ${ingest.pollMs} ms). ` +
        `The ceiling inserts the same rows into a copy of a database with the same tables and inventory, one statement per batch of ${fmtInt(ingest.batchSize)} on one connection ` +
        '(reservations from arrays + the nights\' `reserved` counters; no decision, idempotency record, outbox or version). ' +
        'The notifier: events not yet recorded when the last batch was done, when none were left, and the CPU of its process and its Postgres sessions from the first POST until then, per event.',
      '',
    );
    md.push(
      '| round | engine reservations/s | held / rejected | all 202 at | POST p50/p99 ms | /healthz p50/p99/max ms | API loop lag max / p99 ms (before → after) | oversold | notifier behind at the end | caught up after | notifier CPU per event | bulk rows/s | bulk batch p50/p99 ms | host load |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (let r = 1; r <= rounds; r++) {
      const i = ingestRuns.find((x) => x.round === r);
      const b = bulkRuns.find((x) => x.round === r);
      const ir = i?.result;
      const br = b?.result;
      md.push(
        `| ${r} | ${ir ? fmtInt(ir.reservationsPerSecond) : `failed: ${i?.error ?? 'not run'}`} | ${ir ? `${ir.held} / ${ir.rejected}` : ''} | ${ir ? `${ir.allAcceptedMs} ms` : ''} | ${ir ? `${ir.postLatencyMs.p50} / ${ir.postLatencyMs.p99}` : ''} | ` +
          `${ir ? `${ir.healthz.p50} / ${ir.healthz.p99} / ${ir.healthz.max}` : ''} | ${ir ? `${ir.eventLoopLag.before.maxMs} / ${ir.eventLoopLag.before.p99Ms} → ${ir.eventLoopLag.after.maxMs} / ${ir.eventLoopLag.after.p99Ms}` : ''} | ` +
          `${ir ? `${ir.oversold.overLimit}/${ir.oversold.overbooked}/${ir.oversold.mismatched}` : ''} | ${catchUpText(ir?.notifications).join(' | ')} | ${br ? fmtInt(br.rowsPerSecond) : `failed: ${b?.error ?? 'not run'}`} | ${br ? `${br.batchLatencyMs.p50} / ${br.batchLatencyMs.p99}` : ''} | ${ir?.hostLoadAverage ?? ''} / ${br?.hostLoadAverage ?? ''} |`,
      );
    }
    md.push('', 'The API\'s event-loop lag gauges are cumulative since the API process started (start-up and the warm-up included), so "before → after" shows whether the ingest raised them; the /healthz latency is sampled every 50 ms during the ingest only.', '');
  }
  if (withMemory) {
    md.push('## Shard worker memory', '');
    if (memory) {
      md.push(
        `${fmtInt(memory.hotels)} hotels × ${memory.roomTypesPerHotel} room types × ${memory.nightsPerRoomType} nights written into the shard databases by SQL (${Math.round(memory.seedMs / 1000)} s), ` +
          `then one reservation per hotel through partner batches so that the worker loads every hotel (${memory.held} held, ${Math.round(memory.loadMs / 1000)} s). ` +
          `Worker VmRSS: **${memory.workerRssMb.loaded} MB** (idle before loading ${memory.workerRssMb.idle} MB, peak VmHWM ${memory.workerRssMb.peak} MB); API VmRSS ${memory.apiRssMb} MB. ` +
          `Engine bounds on hotels in memory at the time: ${memory.hotelsInMemoryMax ?? 'unknown'} hotels and ` +
          `${memory.workerHotelsMb === undefined ? 'no byte budget' : `WORKER_HOTELS_MB = ${memory.workerHotelsMb} (night tables and reservations; least recently used hotels beyond it are evicted, so not all touched hotels stay in memory)`}.`,
        '',
      );
    } else md.push(`Failed: ${memoryError ?? 'not run'}`, '');
  }
  if (withShardMove) {
    md.push('## Shard move pause', '');
    if (shardMove) {
      md.push(
        `${shardMove.moves} moves of distinct virtual shards (${shardMove.hotels} hotels × ${shardMove.roomTypesPerHotel} room types × 730 nights over ${shardMove.shardCount} shards), each from its shard database to a database added by its URL on the same server, ` +
          `under a probe load of one reservation at a time on a hotel of the moving shard. ` +
          `Pause recorded by the engine (move job start → owner ready on the target): **p50 ${shardMove.pauseMs.p50} ms, max ${shardMove.pauseMs.max} ms** (${shardMove.pauseMs.all.join(', ')}). ` +
          `Longest probe request during each move: p50 ${shardMove.probeMaxMs.p50} ms, max ${shardMove.probeMaxMs.max} ms (${shardMove.probeMaxMs.all.join(', ')}), against ${shardMove.probeBaselineP50Ms} ms p50 outside moves. ` +
          `Of each pause, seal + copy + fence + flip took ${shardMove.copyAndFlipMs.join(', ')} ms and the re-take on the target ${shardMove.retakeMs.join(', ')} ms. ` +
          `Rows copied per move: ${shardMove.rowsCopied.join(', ')}. Failed moves: ${shardMove.failed}; probe requests not answered 201: ${shardMove.probeErrors}.`,
        '',
      );
    } else md.push(`Failed: ${shardMoveError ?? 'not run'}`, '');
  }
  if (withFreshness && has('hot')) {
    md.push('## Freshness (commit → SSE client)', '');
    md.push(
      (freshnessInline
        ? `During the engine's hot run (so the engine's hot numbers above carry this extra work), `
        : `During an extra engine run of the hot scenario (row \`engine+sse\`; the \`engine\` row is measured without streams, under the same load as the baselines, and the difference between the two rows is what the streams and the probe cost on this shared 2-core machine), `) +
        `${freshnessClients} clients hold \`GET /v1/hotels/:id/availability/stream\` of the hot hotel open (in a separate process), and a probe books one room of a ` +
        `probe room type of the same hotel every ${freshnessIntervalMs} ms, one at a time (so its reservations go through the same shard queue, jobs and commits as the hot load). ` +
        'Nothing else books the probe room type, so the k-th held probe is the event that makes its night\'s `reserved` reach k. Events carry no commit time, so the commit is bracketed: ' +
        '**event − 201 answer** is a lower bound (the commit happened before the answer; it is negative when the event arrives before the answer, since the writer publishes before it replies), ' +
        '**event − decision** (the reservation\'s `createdAt`, stamped by the writer before its commit) is an upper bound, and **event − request sent** is what a user sees. ' +
        'Samples are (probe, stream) pairs; the target is checked against the upper bound.',
      '',
    );
    md.push('| round | probes held | event − 201 p50/p99 ms | event − decision p50/p99 ms | event − sent p50/p99 ms | last of 200 streams − 201 p50/p99 ms | missed | resets | probe 201 p50/p99 ms | probe process loop delay p99 ms |', '|---|---|---|---|---|---|---|---|---|---|');
    for (const f of freshness) {
      const r = f.result;
      if (!r) {
        md.push(`| ${f.round} | failed: ${f.error} | | | | | | | | |`);
        continue;
      }
      md.push(
        `| ${f.round} | ${r.probesHeld} of ${r.probesSent} | ${r.eventAfterAnswerMs.p50} / ${r.eventAfterAnswerMs.p99} | ${r.eventAfterDecisionMs.p50} / ${r.eventAfterDecisionMs.p99} | ` +
          `${r.eventAfterSendMs.p50} / ${r.eventAfterSendMs.p99} | ${r.lastStreamAfterAnswerMs.p50} / ${r.lastStreamAfterAnswerMs.p99} | ${r.missed} | ${r.resets} | ${r.probeLatencyMs.p50} / ${r.probeLatencyMs.p99} | ${r.probeProcessLoopDelayMs.p99} |`,
      );
    }
    md.push('');
  }
  {
    const engineRuns = records.filter((r) => r.target.startsWith('engine') && r.load && r.diagnostics);
    if (engineRuns.length) {
      md.push('## Engine internals per run', '');
      md.push(
        'Counters over the measured load: commands per job (the API\'s group commit: commands it coalesced into one queued job), transactions committed in the shard databases ' +
          'per decision, and Redis commands per decision (`total_commands_processed` of the whole Redis server, which other users share: an upper bound).',
        '',
      );
      md.push(
        'The notifier (when it runs): events committed that it had not recorded yet (guest mails written, deliveries recorded) when the load ended, how long after the end it had none left, ' +
          'and the CPU time of its process and its Postgres sessions from the load\'s start until then, per event committed meanwhile.',
        '',
      );
      md.push(
        '| round | scenario | target | decisions | jobs | commands per job | shard Postgres commits per decision | Redis commands per decision (≤) | notifier behind at the end | caught up after | notifier CPU per event |',
        '|---|---|---|---|---|---|---|---|---|---|---|',
      );
      for (const r of engineRuns) {
        const d = r.diagnostics!;
        const l = r.load!;
        const n = r.notifications;
        const decisions = (l.statuses['201'] ?? 0) + (l.statuses['409'] ?? 0);
        md.push(
          `| ${r.round} | ${r.scenario} | ${r.target} | ${fmtInt(decisions)} | ${fmtInt(d.routerJobs)} | ${round2(d.routerCommands / d.routerJobs)} | ${round2(d.shardPgCommits / decisions)} | ${round2(d.redisCommandsServerWide / decisions)} | ` +
            `${catchUpText(n).join(' | ')} |`,
        );
      }
      md.push('');
    }
  }
  md.push('## Every run', '', '| round | scenario | target | req/s | decisions/s | p50 / p99 ms | answers | oversold | host load | failed checks |', '|---|---|---|---|---|---|---|---|---|---|');
  for (const r of records) {
    const l = r.load;
    const dec = l ? (((l.statuses['201'] ?? 0) + (l.statuses['409'] ?? 0)) / l.durationMs) * 1000 : NaN;
    const answers = l ? Object.entries(l.outcomes).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}: ${v}`).join(', ') : '';
    const o = r.oversold;
    md.push(
      `| ${r.round} | ${r.scenario} | ${r.target} | ${l ? fmtInt(l.throughput) : ''} | ${fmtInt(dec)} | ${l ? `${l.latencyMs.p50} / ${l.latencyMs.p99}` : ''} | ${answers} | ${o ? `${o.overLimit}/${o.overbooked}/${o.mismatched}` : ''} | ${r.hostLoadAverage ?? ''} | ${[...r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`), ...(r.error ? [`error: ${r.error.split('\n')[0]}`] : [])].join('; ') || 'none'} |`,
    );
  }
  md.push('');

  const svg = benchChart({
    summary,
    scenarios: scenarios.map((s) => s.name),
    order: ['engine', 'engine+sse', ...scaleWorkers.map((n) => `engine×${n} workers`), ...strategies, 'no-op express', 'no-op node:http'],
    date,
    subtitle: `medians of ${rounds} round(s), ${hostLoad.cores} cores, load average ${loadAtStart[0]}→${loadAtEnd[0]}; decisions = 201 + 409 sold_out; flash = 5,000 one-shot clients`,
  });

  const json = {
    date,
    finishedAt: finished.toISOString(),
    durationS,
    command,
    commit,
    uncommittedFiles: dirty,
    host: hostLoad,
    node: process.version,
    settings,
    targets: checks.map((c) => ({ ...c, verdict: verdict(c.pass) })),
    summary,
    ratios,
    batchIngest: { medianReservationsPerSecond: ingestMedian, runs: ingestRuns },
    bulkCeiling: { medianRowsPerSecond: bulkMedian, runs: bulkRuns },
    memory: memory ?? { error: memoryError ?? 'not run' },
    shardMove: withShardMove ? (shardMove ?? { error: shardMoveError ?? 'not run' }) : undefined,
    freshness: { median: fresh, runs: freshness },
    records,
  };

  await mkdir(resultsDir, { recursive: true });
  const base = path.join(resultsDir, name);
  await writeFile(`${base}.md`, md.join('\n'));
  await writeFile(`${base}.json`, JSON.stringify(json, null, 2));
  await writeFile(`${base}.svg`, svg);

  console.log(`\n${md.slice(0, md.indexOf('## Every run')).join('\n')}`);
  console.log(`results: ${path.relative(process.cwd(), base)}.md, .json, .svg`);
  for (const c of checks) console.log(`${verdict(c.pass).padEnd(7)} ${c.target} — ${c.measured}`);
  // Missed targets are results, not failures; a run that broke (a target that failed to start, a crashed
  // measurement) exits 1 so that it is not mistaken for a complete benchmark.
  const broken =
    records.some((r) => r.error) ||
    ingestRuns.some((r) => r.error) ||
    bulkRuns.some((r) => r.error) ||
    freshness.some((r) => r.error) ||
    memoryError !== undefined ||
    shardMoveError !== undefined;
  if (broken) console.log('some runs failed: see the tables and the log above');
  process.exitCode = broken ? 1 : 0;
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  void stopActiveTarget()
    .then(() => stopAllEngines())
    .then(() => dropEngineTemplates())
    .finally(() => process.exit(2));
});
