// How long a shard move pauses its hotels (issue 16). One engine (API, worker, notifier; SHARD_COUNT 16, two shard
// databases) with hotels created through its API, then `moves` moves of distinct shards, each to the other side:
// each from its home to a new database on the same server (added by its URL on the first move). Each move runs under a light probe load on a hotel of the moving shard (one reservation at a
// time), so that two figures are seen: the pause the engine records (lastMove.pauseMs: from the move job's start to
// the shard's owner ready on the target) and the longest reservation request a client saw during the move.
import { randomUUID } from 'node:crypto';
import { shardOf } from '../engine/shard-map.js';
import { adminToken, api, inParallel, startEngine, stopEngine, type EngineProcesses } from './engine-target.js';
import { adminDatabaseUrl, benchDatabaseName, databaseUrl, dropBenchDatabase } from './postgres.js';

export interface ShardMoveResult {
  moves: number;
  hotels: number;
  roomTypesPerHotel: number;
  shardCount: number;
  /** The engine's own record of each move's pause, ms. */
  pauseMs: { p50: number; max: number; all: number[] };
  /** The longest probe request (a reservation of a hotel of the moving shard) during each move, ms. */
  probeMaxMs: { p50: number; max: number; all: number[] };
  /** Probe requests outside the move windows: their p50, ms (what a request costs without a move). */
  probeBaselineP50Ms: number;
  rowsCopied: number[];
  /** Per move: seal + copy + fence + flip (started → flipped), and the re-take on the target (flipped → resumed), ms. */
  copyAndFlipMs: number[];
  retakeMs: number[];
  failed: number;
  probeErrors: number;
}

const shardCount = 16;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

interface ShardRow {
  shard: number;
  database: number;
  lastMove: { id: number; state: string; pauseMs: number | null; error: string | null } | null;
}

async function post(base: string, p: string, body: unknown): Promise<{ status: number; body: unknown; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(`${base}${p}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, ms: performance.now() - t0 };
}

export async function measureShardMoves(o: { moves: number; hotels: number; roomTypesPerHotel: number }, log: (line: string) => void): Promise<ShardMoveResult> {
  let engine: EngineProcesses | undefined;
  const targetName = benchDatabaseName('shard_move_target');
  const targetUrl = databaseUrl(adminDatabaseUrl(), targetName);
  try {
    engine = await startEngine('shardmove', { SHARD_COUNT: String(shardCount), REPLY_TIMEOUT_MS: '30000' });
    const base = engine.baseUrl;
    const hotels = await inParallel(Array.from({ length: o.hotels }, (_, i) => i), 16, (i) =>
      api(base, 'POST', '/v1/hotels', { name: `Move hotel ${i}`, city: 'Paris', country: 'FR', timezone: 'UTC', currency: 'EUR' }),
    );
    const types = await inParallel(hotels.flatMap((h) => Array.from({ length: o.roomTypesPerHotel }, () => h.id as string)), 16, (hotelId) =>
      api(base, 'POST', `/v1/hotels/${hotelId}/room-types`, { name: 'Double', maxGuests: 2, totalInventory: 10_000, baseRate: 10_000 }),
    );
    const typeOf = new Map<string, string>(types.map((t) => [t.hotelId as string, t.id as string]));
    const byShard = new Map<number, string[]>();
    for (const h of hotels) {
      const k = shardOf(h.id as string, shardCount);
      byShard.set(k, [...(byShard.get(k) ?? []), h.id as string]);
    }
    const shards = [...byShard.keys()].sort((a, b) => a - b).slice(0, o.moves);
    log(`  ${o.hotels} hotels × ${o.roomTypesPerHotel} room types over ${byShard.size} shards; moving shards ${shards.join(', ')}`);

    const pauses: number[] = [];
    const probeMax: number[] = [];
    const baseline: number[] = [];
    let failed = 0;
    let probeErrors = 0;
    let targetId: number | undefined;
    for (const [i, shard] of shards.entries()) {
      const hotelId = byShard.get(shard)![0];
      // The probe: one reservation at a time on a hotel of the shard, before, during and after the move.
      let inMove = false;
      let stop = false;
      let worst = 0;
      const probe = (async () => {
        for (let day = 1; !stop; day = (day % 300) + 1) {
          const r = await post(base, '/v1/reservations', {
            reservationId: randomUUID(),
            hotelId,
            roomTypeId: typeOf.get(hotelId),
            checkIn: dayFromToday(day),
            checkOut: dayFromToday(day + 1),
            guest: { name: 'Bench', email: 'bench@example.com' },
          }).catch(() => ({ status: 0, body: undefined, ms: 0 }));
          if (r.status !== 201) probeErrors++;
          if (inMove) worst = Math.max(worst, r.ms);
          else baseline.push(r.ms);
          await sleep(5);
        }
      })();
      await sleep(500);
      const shardsNow = (await api(base, 'GET', '/v1/ops/shards')) as ShardRow[];
      const from = shardsNow[shard].database;
      // Each shard moves once, from its home to the added database (given by its URL the first time).
      const to = targetId ?? targetUrl;
      inMove = true;
      const asked = await post(base, `/v1/ops/shards/${shard}/move`, { database: to });
      if (asked.status !== 202) throw new Error(`move of shard ${shard} answered ${asked.status}: ${JSON.stringify(asked.body)}`);
      const moveId = (asked.body as { moveId: number; to: number }).moveId;
      targetId ??= (asked.body as { to: number }).to;
      let done: ShardRow['lastMove'] = null;
      for (const until = Date.now() + 120_000; Date.now() < until; await sleep(50)) {
        const row = ((await api(base, 'GET', '/v1/ops/shards')) as ShardRow[])[shard];
        if (row.lastMove?.id === moveId && (row.lastMove.state === 'done' || row.lastMove.state === 'failed')) {
          done = row.lastMove;
          break;
        }
      }
      // The requests that waited are answered once the shard resumes: give the probe a moment to see them.
      await sleep(300);
      inMove = false;
      stop = true;
      await probe;
      if (!done || done.state !== 'done' || done.pauseMs === null) {
        failed++;
        log(`  move ${i + 1} (shard ${shard}): ${done ? `${done.state} ${done.error ?? ''}` : 'not done within 120 s'}`);
        continue;
      }
      pauses.push(done.pauseMs);
      probeMax.push(Math.round(worst));
      log(`  move ${i + 1}: shard ${shard} ${from} → ${targetId}: paused ${done.pauseMs} ms, longest probe request ${Math.round(worst)} ms`);
    }
    const phases = await movePhases(engine.catalogUrl);
    return {
      moves: shards.length,
      hotels: o.hotels,
      roomTypesPerHotel: o.roomTypesPerHotel,
      shardCount,
      pauseMs: { p50: pct(pauses, 50), max: Math.max(...pauses), all: pauses },
      probeMaxMs: { p50: pct(probeMax, 50), max: Math.max(...probeMax), all: probeMax },
      probeBaselineP50Ms: Math.round(pct(baseline, 50) * 10) / 10,
      rowsCopied: phases.map((p) => p.rows),
      copyAndFlipMs: phases.map((p) => p.copyAndFlipMs),
      retakeMs: phases.map((p) => p.retakeMs),
      failed,
      probeErrors,
    };
  } finally {
    await stopEngine(engine).catch(() => {});
    await dropBenchDatabase(targetName).catch(() => {});
  }
}

async function movePhases(catalogUrl: string): Promise<{ rows: number; copyAndFlipMs: number; retakeMs: number }[]> {
  const pg = (await import('pg')).default;
  const { pgConfig } = await import('./postgres.js');
  const c = new pg.Client(pgConfig(catalogUrl));
  await c.connect();
  try {
    const r = await c.query(
      `SELECT rows_copied, round(extract(epoch FROM flipped_at - started_at) * 1000)::int AS copy_ms,
              round(extract(epoch FROM resumed_at - flipped_at) * 1000)::int AS retake_ms
         FROM shard_moves ORDER BY id`,
    );
    return r.rows.map((x) => ({ rows: Number(x.rows_copied ?? 0), copyAndFlipMs: Number(x.copy_ms), retakeMs: Number(x.retake_ms) }));
  } finally {
    await c.end();
  }
}

function dayFromToday(offset: number): string {
  const d = new Date();
  d.setUTCHours(0, 0, 0, 0);
  d.setUTCDate(d.getUTCDate() + offset);
  return d.toISOString().slice(0, 10);
}
