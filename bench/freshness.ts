// Freshness of the live availability stream under the hot load (issue 4): how long after a reservation is
// committed do 200 connected Server-Sent Events clients see it?
//
// There is no commit timestamp in the events, so the commit is bracketed. A probe client (in its own process,
// freshness-client.ts) books one room of a probe room type of the hot hotel every ~100 ms, one at a time, while the
// hot load runs; the probe room type is created for this and is used by nothing else, so the k-th held probe is the
// change that makes its night's `reserved` equal k in the stream. For every (probe, stream) pair:
//   - event − 201 answer: a lower bound of commit→event (the commit happened before the answer was sent; it can be
//     negative, since the writer publishes the change before it replies);
//   - event − decision (the reservation's `createdAt`, stamped by the writer when it decided, before the commit):
//     an upper bound of commit→event, which the target (p99 ≤ 100 ms) is checked against;
//   - event − request sent: what a user who clicked "book" sees, queueing included.
// The probes go through the same shard queue, job and commit as the hot load's reservations.

import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { adminToken, api } from './engine-target.js';
import type { FreshnessConfig, FreshnessResult } from './freshness-client.js';

const clientScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'freshness-client.js');

export type { FreshnessResult };

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * Creates the probe room type, connects the streams, starts probing; the function it answers stops the probe and
 * answers its measurements.
 */
export async function startFreshnessProbe(options: {
  baseUrl: string;
  hotelId: string;
  partnerToken: string;
  firstNight: string;
  clients: number;
  intervalMs: number;
}): Promise<() => Promise<FreshnessResult>> {
  const rt = await api(
    options.baseUrl,
    'POST',
    `/v1/hotels/${options.hotelId}/room-types`,
    { name: 'Freshness probe', maxGuests: 2, totalInventory: 10_000, baseRate: 15_000 },
    adminToken,
  );
  const cfg: FreshnessConfig = {
    baseUrl: options.baseUrl,
    hotelId: options.hotelId,
    probeRoomTypeId: rt.id,
    checkIn: options.firstNight,
    checkOut: addDays(options.firstNight, 1),
    token: options.partnerToken,
    clients: options.clients,
    intervalMs: options.intervalMs,
  };
  const child = fork(clientScript, [JSON.stringify(cfg)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let onMessage: (m: any) => void = () => {};
  child.on('message', (m) => onMessage(m));
  const next = (type: string, timeoutMs: number) =>
    new Promise<any>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`freshness probe: no "${type}" within ${timeoutMs} ms`)), timeoutMs);
      onMessage = (m) => {
        if (m.type === 'error') {
          clearTimeout(t);
          reject(new Error(`freshness probe failed: ${m.message}`));
        } else if (m.type === type) {
          clearTimeout(t);
          resolve(m);
        }
      };
      void exited.then(() => {
        clearTimeout(t);
        reject(new Error(`freshness probe exited before "${type}"`));
      });
    });
  try {
    const ready = await next('ready', 40_000);
    if (ready.connected < options.clients) throw new Error(`freshness probe: only ${ready.connected} of ${options.clients} streams connected`);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  child.send({ type: 'start' });
  return async () => {
    try {
      const resultMessage = next('result', 30_000);
      child.send({ type: 'stop' });
      return (await resultMessage).result as FreshnessResult;
    } finally {
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    }
  };
}
