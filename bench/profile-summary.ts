// Summarizes V8 CPU profiles (`node --cpu-prof`, written by the engine's processes when the benchmark runs with
// BENCH_CPU_PROF=<dir>): for each profile, how much of the wall time the process was busy, and where the busy time
// went by self time, grouped by package or source directory, then the top functions.
//
//   node dist/bench/profile-summary.js <dir> [top]

import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  wallMs: number;
  busyMs: number;
  categories: { name: string; ms: number; share: number }[];
  functions: { name: string; where: string; ms: number; share: number }[];
}

/** Where a frame's code comes from: a package, a directory of this project, a part of Node, or V8 itself. */
function categoryOf(url: string, functionName: string): string {
  if (!url) {
    if (functionName === '(garbage collector)') return 'V8: garbage collector';
    if (functionName === '(program)') return 'V8/native: (program)';
    if (functionName === '(idle)') return '(idle)';
    return `native: ${functionName || '(anonymous)'}`;
  }
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (nm) return `npm: ${nm[1]}`;
  if (url.startsWith('node:')) {
    const m = /^node:(?:internal\/)?([^/]+)/.exec(url);
    return `node: ${m?.[1] ?? url}`;
  }
  const own = /\/dist\/([^/]+\/(?:[^/]+\/)?)/.exec(url);
  if (own) return `project: ${own[1]}`;
  return url;
}

export function summarizeProfile(profiles: CpuProfile | CpuProfile[], file: string, top = 20): ProfileSummary {
  const list = Array.isArray(profiles) ? profiles : [profiles];
  const categories = new Map<string, number>();
  const functions = new Map<string, { name: string; where: string; ms: number }>();
  let idle = 0;
  let total = 0;
  let wall = 0;
  for (const profile of list) {
    wall += (profile.endTime - profile.startTime) / 1000;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const self = new Map<number, number>();
    // timeDeltas[i] is the time between sample i-1 and sample i: charge it to sample i-1's frame.
    for (let i = 0; i < profile.samples.length; i++) {
      const dt = profile.timeDeltas[i + 1] ?? 0;
      self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt / 1000);
    }
    for (const [id, ms] of self) {
      const node = byId.get(id);
      if (!node) continue;
      const { functionName, url, lineNumber } = node.callFrame;
      total += ms;
      // A piscina worker thread waiting for work blocks in Atomics.wait inside atomicsWaitLoop: idle, not busy.
      if (functionName === '(idle)' || functionName === 'atomicsWaitLoop') {
        idle += ms;
        continue;
      }
      const cat = categoryOf(url, functionName);
      categories.set(cat, (categories.get(cat) ?? 0) + ms);
      const where = url ? `${url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}` : '';
      const key = `${functionName}@${where}`;
      const f = functions.get(key) ?? { name: functionName || '(anonymous)', where, ms: 0 };
      f.ms += ms;
      functions.set(key, f);
    }
  }
  const busy = total - idle;
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    file,
    wallMs: round(wall),
    busyMs: round(busy),
    categories: [...categories]
      .map(([name, ms]) => ({ name, ms: round(ms), share: round((ms / busy) * 100) }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top),
    functions: [...functions.values()]
      .map((f) => ({ ...f, ms: round(f.ms), share: round((f.ms / busy) * 100) }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top),
  };
}

async function profilesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir)) {
    const p = path.join(dir, entry);
    if ((await stat(p)).isDirectory()) out.push(...(await profilesUnder(p)));
    else if (entry.endsWith('.cpuprofile')) out.push(p);
  }
  return out.sort();
}

export function formatProfileSummary(s: ProfileSummary): string {
  const lines = [
    `## ${s.file}`,
    `wall ${s.wallMs} ms (summed over profiles), busy ${s.busyMs} ms (${Math.round((s.busyMs / s.wallMs) * 100)}% of one core)`,
    '',
    '| where (self time) | ms | % of busy |',
    '|---|---|---|',
    ...s.categories.map((c) => `| ${c.name} | ${c.ms} | ${c.share} |`),
    '',
    '| function | location | ms | % of busy |',
    '|---|---|---|---|',
    ...s.functions.map((f) => `| ${f.name} | ${f.where} | ${f.ms} | ${f.share} |`),
    '',
  ];
  return lines.join('\n');
}

/** Main thread (thread id 0 in the file name CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile) or a worker thread. */
const isMainThread = (file: string) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(path.basename(file));

async function main(): Promise<void> {
  const dir = process.argv[2];
  const top = Number(process.argv[3] ?? 20);
  if (!dir) {
    process.stderr.write('usage: profile-summary.js <dir> [top]\n');
    process.exit(2);
  }
  // One summary per directory and kind of thread: the main thread of each process, and all its worker threads
  // together (piscina may start and stop many of them).
  const groups = new Map<string, string[]>();
  for (const file of await profilesUnder(dir)) {
    const key = `${path.relative(dir, path.dirname(file)) || '.'} — ${isMainThread(file) ? 'main thread' : 'worker threads'}`;
    groups.set(key, [...(groups.get(key) ?? []), file]);
  }
  for (const [key, files] of groups) {
    const profiles = await Promise.all(files.map(async (f) => JSON.parse(await readFile(f, 'utf8')) as CpuProfile));
    console.log(formatProfileSummary(summarizeProfile(profiles, `${key} (${files.length} profile${files.length > 1 ? 's' : ''})`, top)));
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${path.resolve(process.argv[1])}`).href) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
