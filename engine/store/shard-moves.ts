// The catalog's side of shard moves (catalog migration 010): asking for a move, adding a shard database, the flip
// of the map, and the record of each move (state, error, pause).
import type { Pool } from './pg.js';

export interface MoveRecord {
  id: number;
  shard: number;
  from: number;
  to: number;
  state: 'requested' | 'copying' | 'flipped' | 'done' | 'failed';
  error: string | null;
  rowsCopied: number | null;
  requestedAt: string;
  pauseMs: number | null;
}

export type MoveRequest = { ok: true; moveId: number; from: number } | { ok: false; why: 'moving' | 'already_there'; database: number; movingTo: number | null };

function moveOf(r: Record<string, unknown>): MoveRecord {
  return {
    id: Number(r.id),
    shard: Number(r.shard),
    from: Number(r.from_database),
    to: Number(r.to_database),
    state: r.state as MoveRecord['state'],
    error: (r.error as string | null) ?? null,
    rowsCopied: r.rows_copied === null ? null : Number(r.rows_copied),
    requestedAt: new Date(r.requested_at as string).toISOString(),
    pauseMs: r.pause_ms === null ? null : Number(r.pause_ms),
  };
}

export class ShardMoves {
  constructor(private readonly catalog: Pool) {}

  /** The id of a shard database with this URL, if known. */
  async databaseWithUrl(url: string): Promise<number | undefined> {
    const r = await this.catalog.query('SELECT id FROM shard_databases WHERE url = $1', [url]);
    return r.rowCount ? Number(r.rows[0].id) : undefined;
  }

  async databaseExists(id: number): Promise<boolean> {
    return ((await this.catalog.query('SELECT 1 FROM shard_databases WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }

  /** Add a shard database (reachable and migrated: the caller checked); answers its id (the existing one for a known URL). */
  async addDatabase(url: string): Promise<number> {
    const c = await this.catalog.connect();
    try {
      await c.query('BEGIN');
      await c.query('LOCK TABLE shard_databases IN SHARE ROW EXCLUSIVE MODE');
      const known = await c.query('SELECT id FROM shard_databases WHERE url = $1', [url]);
      const id = known.rowCount
        ? Number(known.rows[0].id)
        : Number((await c.query('INSERT INTO shard_databases (id, url) SELECT COALESCE(max(id) + 1, 0), $1 FROM shard_databases RETURNING id', [url])).rows[0].id);
      await c.query('COMMIT');
      return id;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  /** Mark a shard moving to `to` and record the move; refused while it moves already, or when it is there. */
  async request(shard: number, to: number): Promise<MoveRequest> {
    const c = await this.catalog.connect();
    try {
      await c.query('BEGIN');
      const cur = await c.query('SELECT database_id, moving_to FROM shard_map WHERE shard = $1 FOR UPDATE', [shard]);
      const database = Number(cur.rows[0].database_id);
      const movingTo = cur.rows[0].moving_to === null ? null : Number(cur.rows[0].moving_to);
      if (movingTo !== null || database === to) {
        await c.query('ROLLBACK');
        return { ok: false, why: movingTo !== null ? 'moving' : 'already_there', database, movingTo };
      }
      await c.query(`UPDATE shard_map SET moving_to = $2, version = nextval('shard_map_version'), updated_at = now() WHERE shard = $1`, [shard, to]);
      const m = await c.query(`INSERT INTO shard_moves (shard, from_database, to_database, state) VALUES ($1, $2, $3, 'requested') RETURNING id`, [shard, database, to]);
      await c.query('COMMIT');
      return { ok: true, moveId: Number(m.rows[0].id), from: database };
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  async started(moveId: number): Promise<void> {
    await this.catalog.query(`UPDATE shard_moves SET state = 'copying', started_at = COALESCE(started_at, now()) WHERE id = $1 AND state IN ('requested', 'copying')`, [moveId]);
  }

  /** The copy is in the target (recorded before the fence, so that a move finished by the next owner keeps it). */
  async copied(moveId: number, rows: number): Promise<void> {
    await this.catalog.query(`UPDATE shard_moves SET rows_copied = $2 WHERE id = $1`, [moveId, rows]);
  }

  /** The move failed before the flip: the shard stays where it is, and may be moved again. */
  async failed(shard: number, moveId: number, error: string): Promise<void> {
    await this.catalog.query(
      `WITH m AS (UPDATE shard_moves SET state = 'failed', error = $3 WHERE id = $2 AND state IN ('requested', 'copying') RETURNING to_database)
       UPDATE shard_map SET moving_to = NULL, version = nextval('shard_map_version'), updated_at = now()
        WHERE shard = $1 AND moving_to = (SELECT to_database FROM m)`,
      [shard, moveId, error],
    );
  }

  /**
   * The flip: the map says `to` for the shard, if it still says `from` (whoever finishes a move, its mover or the
   * next owner after a crash, flips it once). Answers the map's new version, or undefined when it had flipped.
   */
  async flip(shard: number, from: number, to: number, rowsCopied?: number): Promise<number | undefined> {
    const c = await this.catalog.connect();
    try {
      await c.query('BEGIN');
      const r = await c.query(
        `UPDATE shard_map SET database_id = $3, moving_to = NULL, version = nextval('shard_map_version'), updated_at = now()
          WHERE shard = $1 AND database_id = $2 RETURNING version`,
        [shard, from, to],
      );
      await c.query(
        `UPDATE shard_moves SET state = 'flipped', flipped_at = now(), rows_copied = COALESCE($4, rows_copied)
          WHERE id = (SELECT max(id) FROM shard_moves WHERE shard = $1 AND from_database = $2 AND to_database = $3 AND state IN ('requested', 'copying'))`,
        [shard, from, to, rowsCopied ?? null],
      );
      await c.query('COMMIT');
      return r.rowCount ? Number(r.rows[0].version) : undefined;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  /** The shard has an owner again on its new database: the move is done, and its pause known. */
  async resumed(shard: number): Promise<void> {
    await this.catalog.query(
      `UPDATE shard_moves SET state = 'done', resumed_at = now(),
              pause_ms = GREATEST(0, round(extract(epoch FROM now() - COALESCE(started_at, flipped_at)) * 1000))::int
        WHERE shard = $1 AND state = 'flipped'`,
      [shard],
    );
  }

  /** The state of a shard's move, as the mover sees it (still asked for, and to where). */
  async current(shard: number): Promise<{ database: number; movingTo: number | null }> {
    const r = await this.catalog.query('SELECT database_id, moving_to FROM shard_map WHERE shard = $1', [shard]);
    return { database: Number(r.rows[0].database_id), movingTo: r.rows[0].moving_to === null ? null : Number(r.rows[0].moving_to) };
  }

  /** The latest move of every shard that had one. */
  async latest(): Promise<Map<number, MoveRecord>> {
    const r = await this.catalog.query('SELECT DISTINCT ON (shard) * FROM shard_moves ORDER BY shard, id DESC');
    return new Map(r.rows.map((row) => [Number(row.shard), moveOf(row)]));
  }

  async byId(id: number): Promise<MoveRecord | undefined> {
    const r = await this.catalog.query('SELECT * FROM shard_moves WHERE id = $1', [id]);
    return r.rowCount ? moveOf(r.rows[0]) : undefined;
  }
}
