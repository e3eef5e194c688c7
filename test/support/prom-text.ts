// Reading Prometheus text exposition in tests: with the parse-prometheus-text-format parser, and with a strict
// check of what a parser may forgive (each family has one HELP and one TYPE line before its samples, and its samples
// are contiguous: a family never comes back after another one started).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const parsePrometheus = require('parse-prometheus-text-format') as (text: string) => ParsedFamily[];

export interface ParsedFamily {
  name: string;
  help: string;
  type: string;
  metrics: { value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string; sum?: string }[];
}

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.eE+-]+|[+-]Inf|NaN)( -?\d+)?$/;

/** The families of an exposition, or the list of what breaks the text format. */
export function strictCheck(text: string): { families: Map<string, string>; problems: string[] } {
  const problems: string[] = [];
  const help = new Set<string>();
  const types = new Map<string, string>();
  const finished = new Set<string>();
  let current: string | undefined;
  const enter = (family: string, line: string) => {
    if (family === current) return;
    if (finished.has(family)) problems.push(`family ${family} comes back after another one: ${line}`);
    if (current) finished.add(current);
    current = family;
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      enter(name, line);
      if (kind === 'HELP') {
        if (help.has(name)) problems.push(`two HELP lines for ${name}`);
        if (!rest.trim()) problems.push(`empty HELP for ${name}`);
        help.add(name);
      } else {
        if (types.has(name)) problems.push(`two TYPE lines for ${name}`);
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) problems.push(`bad TYPE ${rest} for ${name}`);
        types.set(name, rest);
      }
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = sampleLine.exec(line);
    if (!m) {
      problems.push(`not a sample line: ${line}`);
      continue;
    }
    const name = m[1];
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    const type = types.get(family);
    if (!type) problems.push(`sample before (or without) a TYPE line: ${line}`);
    else if (family !== name && type !== 'histogram' && type !== 'summary') problems.push(`suffixed sample of a ${type}: ${line}`);
    if (!help.has(family)) problems.push(`sample without a HELP line: ${line}`);
    enter(family, line);
  }
  for (const name of types.keys()) if (!help.has(name)) problems.push(`TYPE without HELP: ${name}`);
  for (const name of help) if (!types.has(name)) problems.push(`HELP without TYPE: ${name}`);
  return { families: types, problems };
}

/** Parse with parse-prometheus-text-format; a family name that comes back (non-contiguous samples) is an error. */
export function parseExposition(text: string): Map<string, ParsedFamily> {
  const families = parsePrometheus(text);
  const out = new Map<string, ParsedFamily>();
  for (const f of families) {
    if (out.has(f.name)) throw new Error(`the parser read family ${f.name} twice (its samples are not contiguous)`);
    out.set(f.name, f);
  }
  return out;
}

/** The families API.md's Operations section lists, in every process kind. */
export const apiMdFamilies: Record<string, string> = {
  http_request_duration_seconds: 'histogram',
  shard_queue_depth: 'gauge',
  shard_queue_oldest_waiting_seconds: 'gauge',
  reservation_decisions_total: 'counter',
  shard_decisions_total: 'counter',
  shard_commit_duration_seconds: 'histogram',
  shard_commit_commands: 'histogram',
  shard_commit_rounds: 'histogram',
  shard_fenced_commits_total: 'counter',
  shard_takeovers_total: 'counter',
  shard_losses_total: 'counter',
  shard_lease_renewal_failures_total: 'counter',
  shards_owned: 'gauge',
  shard_epoch: 'gauge',
  outbox_lag_seconds: 'gauge',
  webhook_deliveries_total: 'counter',
  nodejs_eventloop_lag_seconds: 'gauge',
  nodejs_eventloop_lag_p99_seconds: 'gauge',
  process_cpu_seconds_total: 'counter',
  process_resident_memory_bytes: 'gauge',
  nodejs_heap_size_used_bytes: 'gauge',
  nodejs_gc_duration_seconds: 'histogram',
};

/**
 * Every sample line as name, labels and value (the parser above merges a labelled histogram's series into one, so
 * tests that look at one series read them here).
 */
export function samplesOf(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const out: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    const m = sampleLine.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}
