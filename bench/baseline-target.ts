// The lock-based baselines as benchmark targets: for every run a fresh `bench_base_…` database with the engine's
// shard schema (plus the version column the optimistic strategy needs), seeded by SQL, and the baseline server
// started on it as a child process.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freePort, startServerProcess, type ServerProcess } from './child-process.js';
import { optimisticSchemaSql } from './baselines/optimistic.js';
import {
  adminDatabaseUrl,
  databaseCounters,
  benchDatabaseName,
  createBenchDatabase,
  dropBenchDatabase,
  migrateShardDatabase,
  pgConfig,
} from './postgres.js';
import type { Scenario } from './scenarios.js';
import { backendPids } from './host-cpu.js';
import type { Target, TargetEndpoint } from './target.js';

export type BaselineStrategy = 'pessimistic' | 'optimistic' | 'constraint';
export const baselineStrategies: BaselineStrategy[] = ['pessimistic', 'optimistic', 'constraint'];

const serverScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'baselines', 'server.js');

export function baselineTarget(strategy: BaselineStrategy, options: { poolSize: number; echo?: boolean }): Target {
  let database: { name: string; url: string } | undefined;
  let server: ServerProcess | undefined;
  let baseUrl: string | undefined;

  const target: Target = {
    name: strategy,

    async start(scenario: Scenario): Promise<TargetEndpoint> {
      const name = benchDatabaseName(`${strategy}_${scenario.name}`);
      database = { name, url: await createBenchDatabase(name) };
      try {
        await migrateShardDatabase(database.url);
        const db = new pg.Client(pgConfig(database.url));
        await db.connect();
        let catalog;
        try {
          if (strategy === 'optimistic') await db.query(optimisticSchemaSql);
          catalog = await scenario.seedBaseline(db);
        } finally {
          await db.end();
        }
        const port = await freePort();
        server = await startServerProcess({
          name: strategy,
          args: [serverScript, '--strategy', strategy, '--port', String(port), '--database', database.url,
            '--pool-size', String(options.poolSize)],
          healthUrl: `http://127.0.0.1:${port}/healthz`,
          echo: options.echo,
        });
        baseUrl = `http://127.0.0.1:${port}`;
        return { baseUrl, catalog };
      } catch (err) {
        await target.stop();
        throw err;
      }
    },

    async stop() {
      const s = server;
      const d = database;
      server = undefined;
      database = undefined;
      if (s) await s.stop();
      if (d) await dropBenchDatabase(d.name);
    },

    databaseUrlsForOversoldCheck: () => (database ? [database.url] : []),

    async processIds() {
      if (!server?.pid || !database) return [];
      return [server.pid, ...(await backendPids(adminDatabaseUrl(), [database.name]))];
    },

    async diagnostics() {
      const res = await fetch(`${baseUrl}/bench/stats`, { signal: AbortSignal.timeout(5_000) });
      const counters = (await res.json()) as Record<string, number>;
      return { ...counters, ...(database ? await databaseCounters(database.url) : {}) };
    },
  };
  return target;
}
