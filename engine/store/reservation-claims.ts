// The deployment-wide claim of each reservationId (catalog table reservation_claims): made by the writer before it
// decides a new reservation, read by the API to find which shard database holds a reservation.
import { claimsRememberedMax } from '../limits.js';
import type { Pool } from './pg.js';

export class ReservationClaims {
  private readonly known = new Map<string, string>();

  constructor(private readonly pool: Pool) {}

  /**
   * Claim ids for hotels; answers, for every id, the hotel it belongs to now: the one asked for when this call (or
   * an earlier one for the same hotel) claimed it, another one when it was claimed for another hotel first.
   * Guarantees: each id is claimed at most once, for one hotel, whatever runs concurrently.
   */
  async claim(pairs: { id: string; hotelId: string }[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (pairs.length === 0) return out;
    const ids = pairs.map((p) => p.id);
    // Only the ids claimed before come back (none, but for retries and misuse), with the count inserted: a round of
    // hundreds of new reservations does not read hundreds of rows back.
    const r = await this.pool.query(
      `WITH v AS (SELECT * FROM unnest($1::uuid[], $2::uuid[]) WITH ORDINALITY AS v(id, hotel_id, ord)),
            ins AS (INSERT INTO reservation_claims (reservation_id, hotel_id)
                    SELECT DISTINCT ON (id) id, hotel_id FROM v ORDER BY id, ord ON CONFLICT DO NOTHING
                    RETURNING reservation_id)
       SELECT NULL AS id, NULL AS hotel_id, (SELECT count(*) FROM ins)::int AS inserted
       UNION ALL
       SELECT c.reservation_id::text, c.hotel_id::text, NULL FROM reservation_claims c WHERE c.reservation_id = ANY($1::uuid[])`,
      [ids, pairs.map((p) => p.hotelId)],
    );
    let inserted = 0;
    for (const row of r.rows) {
      if (row.id === null) inserted = row.inserted as number;
      else out.set(row.id as string, row.hotel_id as string);
    }
    const distinct = new Set(ids).size;
    if (inserted + out.size === distinct) {
      // Every id not claimed before was claimed now, for the hotel asked (the first pair of an id named twice).
      for (const p of pairs) if (!out.has(p.id)) out.set(p.id, p.hotelId);
      return out;
    }
    // A claim committed by a concurrent statement after this one's snapshot was neither inserted nor seen, so which
    // ids this statement inserted is not known from the count: read them all.
    const again = await this.pool.query('SELECT reservation_id::text AS id, hotel_id::text AS hotel_id FROM reservation_claims WHERE reservation_id = ANY($1::uuid[])', [ids]);
    out.clear();
    for (const row of again.rows) out.set(row.id as string, row.hotel_id as string);
    for (const id of ids) if (!out.has(id)) throw new Error(`assertion: reservation id ${id} neither claimed nor found`);
    return out;
  }

  /** The hotel a reservationId was claimed for, or undefined when nobody claimed it. */
  async hotelOf(id: string): Promise<string | undefined> {
    const hit = this.known.get(id);
    if (hit) return hit;
    const r = await this.pool.query('SELECT hotel_id::text AS hotel_id FROM reservation_claims WHERE reservation_id = $1', [id]);
    const hotelId = r.rowCount ? (r.rows[0].hotel_id as string) : undefined;
    if (hotelId) {
      if (this.known.size >= claimsRememberedMax) this.known.delete(this.known.keys().next().value as string);
      this.known.set(id, hotelId);
    }
    return hotelId;
  }
}
