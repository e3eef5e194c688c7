// A target is one system under test. The runner only knows this interface: adding the engine is one more object
// that starts the engine for a scenario (seeding it over its HTTP API) and names its shard databases.

import type { Catalog, Scenario } from './scenarios.js';

/** A notifier's progress and cost at one moment (see Target.notifierState). */
export interface NotifierState {
  behind: number;
  committed: number;
  /** CPU ms by pid: the notifier's process and the Postgres backends serving it. */
  cpuMs: Map<number, number>;
  /** The notifier's own process among them. */
  pid?: number;
}

export interface TargetEndpoint {
  /** Where requests go, e.g. http://127.0.0.1:4101. */
  baseUrl: string;
  /** Sent with every request (the engine needs a partner token; baselines need nothing). */
  headers?: Record<string, string>;
  /** The ids the target's seeding produced, from which the scenario generates requests. */
  catalog: Catalog;
}

export interface Target {
  name: string;
  /** The scenarios this target takes part in (default: every scenario). */
  scenarios?: readonly string[];
  /** Fresh databases, seeded for the scenario, server started and ready. */
  start(scenario: Scenario): Promise<TargetEndpoint>;
  /** Stops the server and drops what start() created; safe to call twice or after a failed start. */
  stop(): Promise<void>;
  /** The databases whose inventory and reservations the oversold check reads (valid between start and stop). */
  databaseUrlsForOversoldCheck(): string[];
  /** The target's own processes now: its servers and the Postgres backends serving its databases (for CPU time). */
  processIds?(): Promise<number[]>;
  /** Optional counters read after the load (retries, deadlocks…), shown in the raw records. */
  diagnostics?(): Promise<Record<string, number>>;
  /**
   * The target's notifier now, or undefined when it runs none: events committed that it has not recorded yet (mails
   * written, deliveries recorded), events committed in all, and the CPU its process and its Postgres sessions have
   * spent. Read before the load, when it ends, then until nothing is left to record.
   */
  notifierState?(): Promise<NotifierState | undefined>;
}
