// Which virtual shards each live worker should own: rendezvous (highest-random-weight) hashing with bounded loads.
// Every worker computes the same answer from the same membership, so no coordinator is needed; a join or a leave
// moves few shards, because each shard keeps going to the worker that weighs it highest unless that one is full.
import { fnv1a32 } from './shard-map.js';

/** A live worker as the membership shows it; `pinned` lists the shards a WORKER_SHARDS worker holds for itself. */
export interface Member {
  id: string;
  pinned?: number[];
}

/** A well-mixed 32-bit weight of (worker, shard): FNV-1a, then murmur3's finalizer (FNV alone clusters on similar ids). */
export function shardWeight(workerId: string, shard: number): number {
  let h = fnv1a32(`${workerId}#${shard}`);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Owner of every shard (worker id), or undefined for a shard nobody may take (none of the hashing workers). Shards
 * pinned by a live pinned worker go to it (the first by id when two pin the same shard) and take no part in the
 * hashing; the others are spread over the unpinned workers so that each gets ⌊n/w⌋ or ⌈n/w⌉ of them.
 *
 * Bounded loads: pairs (shard, worker) are visited from the highest weight down and a shard goes to the first
 * worker of its pairs that still has room (the stable matching of shards and workers under one common weight).
 * Plain rendezvous hashing would split 16 shards over 3 workers anywhere from 9/5/2 to 6/5/5.
 */
export function assignShards(shardCount: number, members: readonly Member[]): (string | undefined)[] {
  const owner: (string | undefined)[] = new Array(shardCount).fill(undefined);
  const sorted = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const m of sorted) {
    for (const s of m.pinned ?? []) if (s >= 0 && s < shardCount && owner[s] === undefined) owner[s] = m.id;
  }
  const hashing = sorted.filter((m) => m.pinned === undefined);
  const free = owner.flatMap((o, s) => (o === undefined ? [s] : []));
  if (hashing.length === 0 || free.length === 0) return owner;
  const base = Math.floor(free.length / hashing.length);
  let extras = free.length % hashing.length;
  const pairs: { shard: number; worker: number; weight: number }[] = [];
  for (const shard of free) hashing.forEach((m, worker) => pairs.push({ shard, worker, weight: shardWeight(m.id, shard) }));
  // Ties (rare) fall to the lower shard, then the lower id: the order is total, so every worker sees the same.
  pairs.sort((a, b) => b.weight - a.weight || a.shard - b.shard || a.worker - b.worker);
  const load = new Array<number>(hashing.length).fill(0);
  for (const p of pairs) {
    if (owner[p.shard] !== undefined) continue;
    if (load[p.worker] < base) load[p.worker]++;
    else if (load[p.worker] === base && extras > 0) {
      load[p.worker]++;
      extras--;
    } else continue;
    owner[p.shard] = hashing[p.worker].id;
  }
  return owner;
}

/** The shards `workerId` should own under `members` (see assignShards). */
export function shareOf(workerId: string, shardCount: number, members: readonly Member[]): Set<number> {
  const out = new Set<number>();
  assignShards(shardCount, members).forEach((o, s) => {
    if (o === workerId) out.add(s);
  });
  return out;
}
