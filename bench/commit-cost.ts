// What one commit of the shard writer costs, in isolation and in units that do not drift with the host's load:
// Postgres instructions (perf stat on the backend, when perf can count them here), CPU time of the backend and
// of this process, and the WAL written, per commit of N new reservations (spread over hotels, 1–3 nights each,
// with their outbox rows and stored replies), through ShardStore.commit exactly as the writer calls it.
//
//   node dist/bench/commit-cost.js            (COMMIT_COST_ROUNDS=20, COMMIT_COST_RESERVATIONS=1000, COMMIT_COST_HOTELS=500)
//
// It creates its own database (bench_base_commit_cost_…: 500 hotels × 5 room types × 730 nights) and drops it.
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { formatDay, parseDay } from '../engine/core/dates.js';
import { mulberry32 } from '../engine/core/random.js';
import type { Reservation } from '../engine/core/types.js';
import { migrate } from '../engine/store/pg.js';
import { createWriterPool, ShardStore, type CommitBatch } from '../engine/store/shard-store.js';
import { benchDatabaseName, createBenchDatabase, dropBenchDatabase } from './postgres.js';

const hotels = 500;
const roomTypesPerHotel = 5;
const hotelId = (h: number) => `00000000-0000-4000-8000-${h.toString(16).padStart(12, '0')}`;
const roomTypeId = (h: number, t: number) => `00000000-0000-4000-9000-${(h * 10 + t).toString(16).padStart(12, '0')}`;

/** utime + stime of a process, in ms. */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

/** perf stat counting instructions of a process until stopped, or null when perf cannot count them here. */
function countInstructions(pid: number): { stop: () => Promise<number | null> } | null {
  const probe = spawnSync('perf', ['stat', '-x,', '-e', 'instructions', 'true'], { encoding: 'utf8' });
  if (probe.status !== 0 || !/^\d+,/m.test(probe.stderr)) return null;
  const perf = spawn('perf', ['stat', '-x,', '-e', 'instructions', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  perf.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return {
    stop: () =>
      new Promise((resolve) => {
        perf.on('close', () => {
          const m = /^(\d+),/m.exec(out);
          resolve(m ? Number(m[1]) : null);
        });
        perf.kill('SIGINT');
      }),
  };
}

function batchOf(shard: number, epoch: number, count: number, today: number, next: () => number): CommitBatch {
  const reservations = new Map<string, { reservation: Reservation; created: boolean }>();
  const nights = new Map<string, CommitBatch['nights'][number]>();
  const versions = new Map<string, number>();
  const events: CommitBatch['events'] = [];
  const replies: unknown[] = [];
  const now = new Date().toISOString();
  for (let i = 0; i < count; i++) {
    const h = 1 + Math.floor(next() * hotelsHit);
    const t = 1 + Math.floor(next() * roomTypesPerHotel);
    const first = today + Math.floor(next() * 60);
    const length = 1 + Math.floor(next() * 3);
    const r: Reservation = {
      id: randomUUID(),
      hotelId: hotelId(h),
      roomTypeId: roomTypeId(h, t),
      checkIn: formatDay(first),
      checkOut: formatDay(first + length),
      roomCount: 1,
      status: 'pending',
      totalAmount: 10_000 * length,
      currency: 'EUR',
      guest: { name: 'Guest Name', email: 'guest@example.com' },
      owner: { kind: 'partner', id: 'partner-1' },
      fingerprint: 'f'.repeat(43),
      createdAt: now,
      expiresAt: now,
      cancelReason: null,
      payment: null,
      policy: { freeUntilHoursBefore: 0, penaltyPercent: 0 },
      money: null,
      moneyDueAt: null,
      version: 1,
      updatedAt: now,
    };
    reservations.set(r.id, { reservation: r, created: true });
    for (let d = first; d < first + length; d++) {
      const key = `${r.roomTypeId}:${d}`;
      const n = nights.get(key);
      if (n) n.delta++;
      else nights.set(key, { hotelId: r.hotelId, roomTypeId: r.roomTypeId, day: d, delta: 1, total: null, limit: null, rate: null });
    }
    const version = (versions.get(r.hotelId) ?? 0) + 1;
    versions.set(r.hotelId, version);
    events.push({ type: 'reservation.created', version, reservation: r });
    replies.push({ requestId: `${randomUUID()}:${i}`, reply: { ok: true, kind: 'reservationRef', id: r.id, status: 'pending' } });
  }
  const batch: CommitBatch = { shard, epoch, jobs: [{ jobKey: randomUUID(), replies }], events, nights: [...nights.values()], versions, reservations };
  if (withNotifications) {
    // What the writer adds for notifications (COMMIT_COST_NOTIFY=1, the default): each event's hotel sequence, one
    // availability.changed per hotel with its nights, and an audit record per decision.
    batch.eventSequences = events.map((e) => {
      const id = (e as { reservation: Reservation }).reservation.hotelId;
      const n = (sequences.get(id) ?? 0) + 1;
      sequences.set(id, n);
      return n;
    });
    const byHotel = new Map<string, { t: string[]; n: number[] }>();
    for (const n of batch.nights) {
      const h = byHotel.get(n.hotelId) ?? { t: [], n: [] };
      let k = h.t.indexOf(n.roomTypeId);
      if (k < 0) k = h.t.push(n.roomTypeId) - 1;
      h.n.push(k, n.day, 20, 1, 21, 10_000);
      byHotel.set(n.hotelId, h);
    }
    batch.availability = [...byHotel].map(([id, h]) => {
      const n = (sequences.get(id) ?? 0) + 1;
      sequences.set(id, n);
      return { hotelId: id, sequence: n, version: versions.get(id) ?? 1, payload: `{"t":["${h.t.join('","')}"],"n":[${h.n.join(',')}]}` };
    });
    batch.audit = [...reservations.values()].map(({ reservation: r }) => ({
      hotelId: r.hotelId, sequence: nextAudited(r.hotelId), actorKind: 'partner', actorId: 'partner-1', command: 'reserve', ok: true, status: 'pending', code: null, reservationId: r.id, version: 1,
    }));
  }
  return batch;
}
const withNotifications = process.env.COMMIT_COST_NOTIFY !== '0';
/** How many of the hotels a commit's reservations fall on (COMMIT_COST_HOTELS; 1 is the hot scenario's shape). */
const hotelsHit = Math.min(hotels, Math.max(1, Number(process.env.COMMIT_COST_HOTELS ?? hotels)));
const sequences = new Map<string, number>();
/** Each hotel's audit count, as its writer keeps it. */
const auditSequences = new Map<string, number>();
function nextAudited(hotelId: string): number {
  const n = (auditSequences.get(hotelId) ?? 0) + 1;
  auditSequences.set(hotelId, n);
  return n;
}

async function main(): Promise<void> {
  const rounds = Number(process.env.COMMIT_COST_ROUNDS ?? 20);
  const perCommit = Number(process.env.COMMIT_COST_RESERVATIONS ?? 1000);
  const name = benchDatabaseName('commit_cost');
  const url = await createBenchDatabase(name);
  try {
    await migrate(url, 'shard');
    const pool = createWriterPool(url, 1, 'bench-commit-cost');
    try {
      await pool.query(
        `INSERT INTO hotels (id, shard, name, city, country, timezone, currency, overbooking_percent, version, created_at)
         SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(h), 12, '0'))::uuid, h % 16, 'h' || h, 'c', 'FR', 'UTC', 'EUR', 10, 0, now()
           FROM generate_series(1, $1) h`,
        [hotels],
      );
      await pool.query(
        `INSERT INTO room_types (id, hotel_id, name, max_guests, total_inventory, base_rate, created_at)
         SELECT ('00000000-0000-4000-9000-' || lpad(to_hex(h * 10 + t), 12, '0'))::uuid,
                ('00000000-0000-4000-8000-' || lpad(to_hex(h), 12, '0'))::uuid, 't', 2, 50, 10000, now()
           FROM generate_series(1, $1) h, generate_series(1, $2) t`,
        [hotels, roomTypesPerHotel],
      );
      await pool.query(
        `INSERT INTO room_type_inventory (hotel_id, room_type_id, date, total_inventory, sellable_limit, reserved, rate)
         SELECT t.hotel_id, t.id, d::date, 50, 55, 0, 10000
           FROM room_types t, generate_series(current_date - 3, current_date + 726, interval '1 day') d`,
      );
      await pool.query('VACUUM ANALYZE');
      const store = new ShardStore(pool, 730);
      const epoch = await store.takeShard(0, 'commit-cost');
      const today = parseDay(new Date().toISOString().slice(0, 10)) as number;
      const next = mulberry32(42);
      // Two commits to warm the plan cache and the buffers, then the measured ones.
      for (let k = 0; k < 2; k++) await store.commit(batchOf(0, epoch, perCommit, today, next));
      const batches = Array.from({ length: rounds }, () => batchOf(0, epoch, perCommit, today, next));
      const backend = Number((await pool.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
      const counter = countInstructions(backend);
      await new Promise((r) => setTimeout(r, 300));
      const walBefore = (await pool.query('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0].lsn as string;
      const backendBefore = cpuMs(backend);
      let selfUs = 0;
      const started = process.hrtime.bigint();
      for (const b of batches) {
        const before = process.cpuUsage();
        await store.commit(b);
        const used = process.cpuUsage(before);
        selfUs += used.user + used.system;
      }
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      const backendMs = cpuMs(backend) - backendBefore;
      const wal = await pool.query('SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn)::float8 AS bytes', [walBefore]);
      const instructions = counter ? await counter.stop() : null;
      const per = (x: number) => (x / rounds).toFixed(1);
      console.log(`commit of ${perCommit} reservations (${rounds} commits, one Postgres connection):`);
      console.log(`  Postgres backend: ${instructions === null ? 'instructions not countable here (perf)' : `${(instructions / rounds / 1e6).toFixed(0)} M instructions`}, ${per(backendMs)} ms CPU per commit`);
      console.log(`  this process (building and sending the statement): ${per(selfUs / 1000)} ms CPU per commit`);
      // Bytes, not time: the same code writes the same WAL whatever the host's load (full-page images aside).
      console.log(`  WAL written: ${(Number(wal.rows[0].bytes) / rounds / 1024).toFixed(0)} KB per commit`);
      console.log(`  wall: ${per(wallMs)} ms per commit`);
    } finally {
      await pool.end();
    }
  } finally {
    await dropBenchDatabase(name);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
