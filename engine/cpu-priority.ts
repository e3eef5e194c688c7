// Lowering a background process's CPU priority so that it yields to decisions on cores it shares with them.
//
// A nice value alone is not enough on Linux with autogroup scheduling (`/proc/sys/kernel/sched_autogroup_enabled`,
// on by default, effective while the processes are in the root CPU cgroup, as on a plain host or VM): the scheduler
// first shares the CPU between sessions, and a nice value only weighs within its session. Each Postgres backend is
// a session of its own (it calls setsid), so a niced notifier beside the API's and workers' node processes still
// takes a whole session's share against the writers' Postgres backends. A process that leads its own session (started
// detached, as `npm start` and the bench start the notifier) also sets its session group's nice, through
// `/proc/self/autogroup`; raising it needs no privilege.
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import type { Logger } from './log.js';

export interface PriorityResult {
  nice: number;
  /** The autogroup's nice when this process leads its session and the kernel has autogroups; else undefined. */
  autogroupNice?: number;
}

/** This process's session id, from /proc (Linux), or undefined elsewhere. */
function sessionId(): number | undefined {
  try {
    // Fields after the command (which may hold spaces and parentheses): state, ppid, pgrp, session, …
    const stat = readFileSync('/proc/self/stat', 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
  } catch {
    return undefined;
  }
}

/** The nice of this process's autogroup ("/autogroup-N nice K"), or undefined when the file does not say it. */
function autogroupNice(): number | undefined {
  const m = /nice (-?\d+)/.exec(readFileSync('/proc/self/autogroup', 'utf8'));
  return m ? Number(m[1]) : undefined;
}

/** Lower this process's CPU priority to `nice` (never raises it), and its session's when it leads one. */
export function lowerCpuPriority(nice: number, log?: Logger): PriorityResult {
  const result: PriorityResult = { nice: os.getPriority() };
  if (nice <= 0) return result;
  try {
    if (result.nice < nice) os.setPriority(nice);
    result.nice = os.getPriority();
  } catch (err) {
    log?.warn('could not lower the CPU priority', { err: (err as Error).message });
  }
  if (sessionId() !== process.pid) return result;
  try {
    const current = autogroupNice();
    if (current === undefined) return result;
    if (current < nice) writeFileSync('/proc/self/autogroup', String(nice));
    result.autogroupNice = autogroupNice();
  } catch (err) {
    // No autogroups in this kernel (no file), or not allowed: the nice value above still applies within the session.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log?.warn('could not lower the session group CPU priority', { err: (err as Error).message });
  }
  return result;
}
