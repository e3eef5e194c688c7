// A shard's rows between shard databases (issue 16, online shard moves), and the marks on shard_leases.moved_to that
// make each database refuse what no longer belongs to it (shard migration 007). The writer that owns the shard calls
// these while its queue waits behind the move job, so nothing of the shard changes meanwhile except rooms (written by
// the API directly), which the seal holds off.
import type { Pool, PoolClient } from './pg.js';

/** The shard's lease row says it is not at home in this database (moved away, or a copy not yet flipped to). */
export class ShardNotHomeError extends Error {
  constructor(
    readonly shard: number,
    readonly movedTo: string,
  ) {
    super(`shard ${shard} is not at home in this database (${movedTo})`);
  }
}

/** The database of a `moved:<id>`, `sealed:<id>` or `incoming:<id>` mark. */
export function markDatabase(mark: string): number {
  return Number(mark.slice(mark.indexOf(':') + 1));
}

/**
 * The shard tables of the migrations, parents first, with the rows of the shard in each. outbox and audit_log take
 * new ids in the target (their bigserial ids are per database; the order within each hotel is kept, and neither an
 * event's id and sequence nor an audit record's sequence depend on it).
 */
const hotelTables: { table: string; renumber?: boolean }[] = [
  { table: 'hotels' },
  { table: 'room_types' },
  { table: 'rooms' },
  { table: 'room_type_inventory' },
  { table: 'reservations' },
  { table: 'outbox', renumber: true },
  { table: 'outbox_cursors' },
  { table: 'audit_log', renumber: true },
];
/** Hotels whose rows travel in one statement per table (two years of nights per room type each). */
const hotelsPerChunk = 20;

async function columnsOf(c: PoolClient, table: string): Promise<string[]> {
  const r = await c.query(
    `SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [table],
  );
  return r.rows.map((x) => `"${x.attname as string}"`);
}

/**
 * Seal a shard in its source database for a move to `to`: checked against the mover's epoch (a writer that lost the
 * shard cannot start a move), and API room writes of the shard wait from now on. Answers false when the epoch is
 * not current or the shard is not at home here.
 */
export async function sealShard(source: Pool, shard: number, epoch: number, to: number): Promise<boolean> {
  const r = await source.query(
    `UPDATE shard_leases SET moved_to = $3 WHERE shard = $1 AND epoch = $2 AND (moved_to IS NULL OR moved_to = $3)`,
    [shard, epoch, `sealed:${to}`],
  );
  return r.rowCount === 1;
}

/** Undo a seal (the move failed before the flip): the shard goes on living in its source. */
export async function unsealShard(source: Pool, shard: number): Promise<void> {
  await source.query(`UPDATE shard_leases SET moved_to = NULL WHERE shard = $1 AND moved_to LIKE 'sealed:%'`, [shard]);
}

/**
 * Copy every row of a shard from `source` to `target` in one target transaction, read from one snapshot of the
 * source. Rows a failed earlier attempt left in the target (marked incoming) go first. The target's lease row is
 * left `incoming:<from>` with an epoch above both databases' (epochs only grow), so that nobody takes the shard
 * there before the flip. Answers the rows copied.
 */
export async function copyShard(source: Pool, target: Pool, shard: number, from: number): Promise<number> {
  const src = await source.connect();
  let dst: PoolClient;
  try {
    dst = await target.connect();
  } catch (err) {
    src.release();
    throw err;
  }
  let rows = 0;
  try {
    await src.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await dst.query('BEGIN');
    const lease = await src.query('SELECT epoch, moved_to FROM shard_leases WHERE shard = $1', [shard]);
    const mine = await dst.query('SELECT epoch, moved_to FROM shard_leases WHERE shard = $1 FOR UPDATE', [shard]);
    if (mine.rowCount && mine.rows[0].moved_to === null) {
      const n = await dst.query('SELECT count(*)::int AS n FROM hotels WHERE shard = $1', [shard]);
      if (n.rows[0].n > 0) throw new Error(`the target database already serves shard ${shard}`);
    }
    // Leftovers of an attempt that failed, children first.
    const old = (await dst.query('SELECT id FROM hotels WHERE shard = $1', [shard])).rows.map((x) => x.id as string);
    if (old.length > 0) {
      for (const { table } of [...hotelTables].reverse()) {
        await dst.query(`DELETE FROM ${table} WHERE ${table === 'hotels' ? 'id' : 'hotel_id'} = ANY($1::uuid[])`, [old]);
      }
    }
    await dst.query('DELETE FROM applied_jobs WHERE shard = $1', [shard]);
    const ids = (await src.query('SELECT id FROM hotels WHERE shard = $1 ORDER BY id', [shard])).rows.map((x) => x.id as string);
    for (const { table, renumber } of hotelTables) {
      const cols = await columnsOf(src, table);
      const kept = renumber ? cols.filter((c) => c !== '"id"') : cols;
      const key = table === 'hotels' ? 'id' : 'hotel_id';
      for (let i = 0; i < ids.length; i += hotelsPerChunk) {
        const chunk = ids.slice(i, i + hotelsPerChunk);
        const r = await src.query(
          `SELECT json_agg(t ORDER BY ${renumber ? 't.id' : '1'})::text AS rows, count(*)::int AS n FROM (SELECT * FROM ${table} WHERE ${key} = ANY($1::uuid[])) t`,
          [chunk],
        );
        if (!r.rows[0].n) continue;
        rows += r.rows[0].n as number;
        await dst.query(
          `INSERT INTO ${table} (${kept.join(', ')}) SELECT ${kept.join(', ')} FROM json_populate_recordset(NULL::${table}, $1::json) ${renumber ? 'ORDER BY id' : ''}`,
          [r.rows[0].rows],
        );
      }
    }
    // Stored replies (a redelivered job of the shard is answered from them in the target too).
    const replies = await src.query(`SELECT json_agg(t)::text AS rows, count(*)::int AS n FROM (SELECT * FROM applied_jobs WHERE shard = $1) t`, [shard]);
    if (replies.rows[0].n) {
      rows += replies.rows[0].n as number;
      const cols = await columnsOf(src, 'applied_jobs');
      await dst.query(`INSERT INTO applied_jobs (${cols.join(', ')}) SELECT ${cols.join(', ')} FROM json_populate_recordset(NULL::applied_jobs, $1::json) ON CONFLICT (job_id) DO NOTHING`, [
        replies.rows[0].rows,
      ]);
    }
    const epoch = Math.max(Number(lease.rows[0]?.epoch ?? 0), Number(mine.rows[0]?.epoch ?? 0)) + 1;
    await dst.query(
      `INSERT INTO shard_leases (shard, epoch, owner, taken_at, moved_to) VALUES ($1, $2, NULL, now(), $3)
       ON CONFLICT (shard) DO UPDATE SET epoch = $2, owner = NULL, taken_at = now(), moved_to = $3`,
      [shard, epoch, `incoming:${from}`],
    );
    await dst.query('COMMIT');
    await src.query('COMMIT');
    return rows;
  } catch (err) {
    await dst.query('ROLLBACK').catch(() => {});
    await src.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    dst.release();
    src.release();
  }
}

/**
 * The fence, in the source: the shard is marked moved to `to` and its epoch bumped, only if the mover's epoch is
 * still current and its seal still there. From this commit on, every commit of that shard in the source is refused
 * (epoch), and no owner can take it there again (takeShard checks moved_to). Answers false when refused.
 */
export async function fenceShard(source: Pool, shard: number, epoch: number, to: number): Promise<boolean> {
  const r = await source.query(
    `UPDATE shard_leases SET moved_to = $3, epoch = epoch + 1, owner = NULL WHERE shard = $1 AND epoch = $2 AND moved_to = $4`,
    [shard, epoch, `moved:${to}`, `sealed:${to}`],
  );
  return r.rowCount === 1;
}

/** After the catalog flipped: the copy in the target becomes the shard's home (takeShard may hand out epochs there). */
export async function welcomeShard(target: Pool, shard: number): Promise<void> {
  await target.query(`UPDATE shard_leases SET moved_to = NULL WHERE shard = $1 AND moved_to LIKE 'incoming:%'`, [shard]);
}
