// The notifier's lower CPU priority (engine/cpu-priority.ts): its nice value always, and its session group's nice
// (Linux autogroups) when it leads its own session, as `npm start` and the bench start it. Run in child processes,
// since a nice value cannot be raised back without privilege.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const moduleUrl = new URL('../../engine/cpu-priority.js', import.meta.url).href;

interface Seen {
  result: { nice: number; autogroupNice?: number };
  /** The process's nice and its autogroup's, read back after the call. */
  nice: number;
  autogroup: string | null;
}

/** Run lowerCpuPriority(nice) in a child (started at `startNice`, in a session of its own when detached). */
function lowerIn(nice: number, detached: boolean, startNice = 0): Promise<Seen> {
  const script = `
    import os from 'node:os';
    import { existsSync, readFileSync } from 'node:fs';
    const { lowerCpuPriority } = await import(${JSON.stringify(moduleUrl)});
    if (${startNice} > 0) os.setPriority(${startNice});
    const result = lowerCpuPriority(${nice});
    const autogroup = existsSync('/proc/self/autogroup') ? readFileSync('/proc/self/autogroup', 'utf8').trim() : null;
    process.stdout.write(JSON.stringify({ result, nice: os.getPriority(), autogroup }));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { detached, stdio: ['ignore', 'pipe', 'pipe'], cwd: path.dirname(fileURLToPath(import.meta.url)) });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as Seen) : reject(new Error(`child exited ${code}: ${err}`))));
  });
}

const autogroupNice = (s: string | null) => Number(/nice (-?\d+)/.exec(s ?? '')?.[1]);

describe('lowerCpuPriority', () => {
  it('lowers the nice value of a process that shares its session, and leaves the session group alone', async () => {
    const seen = await lowerIn(7, false);
    expect(seen.nice).to.equal(7);
    expect(seen.result.nice).to.equal(7);
    expect(seen.result.autogroupNice).to.equal(undefined);
    // The group is the test runner's session's, which is left as it was.
    if (seen.autogroup !== null) expect(seen.autogroup).to.equal(readFileSync('/proc/self/autogroup', 'utf8').trim());
  });

  it('also lowers the session group of a process that leads its own session (started detached); without autogroups, its nice alone', async () => {
    const seen = await lowerIn(7, true);
    expect(seen.nice).to.equal(7);
    if (seen.autogroup === null) {
      // A kernel without autogroups (no /proc/self/autogroup): nothing more to lower, and nothing claimed.
      expect(seen.result.autogroupNice).to.equal(undefined);
    } else {
      expect(autogroupNice(seen.autogroup)).to.equal(7);
      expect(seen.result.autogroupNice).to.equal(7);
    }
  });

  it('never raises a priority that is already lower', async () => {
    const seen = await lowerIn(5, true, 12);
    expect(seen.nice).to.equal(12);
    expect(seen.result.nice).to.equal(12);
  });

  it('does nothing for 0', async () => {
    const seen = await lowerIn(0, true);
    expect(seen.nice).to.equal(0);
    if (seen.autogroup !== null) expect(autogroupNice(seen.autogroup)).to.equal(0);
  });
});
