// The payment provider behind an interface: charge, refund, void, and the status of a charge by its idempotency key.
// Every call is idempotent by its key, so that a retry (a double click, a retried request, the reconciler after a
// crash) never moves money twice. The API charges; the reconciler (engine/payment-reconciler.ts) asks for status,
// voids and refunds.
//
// The built-in test provider keeps its ledger in the catalog (`payment_ledger`, catalog migration 006), so tests and
// operators can count every charge, refund and void, whichever process made it. It approves every payment method
// but `pm_card_declined`. `payment_provider_faults` (setProviderFaults) makes its next N calls fail or answer late.
import { randomBytes } from 'node:crypto';
import type { Pool } from './store/pg.js';

export type ChargeResult =
  | { status: 'charged'; reference: string; amount: number }
  | { status: 'declined' }
  /** A void under this key came first: nothing was charged, and nothing ever will be under it. */
  | { status: 'voided' };

export type ChargeStatus = ChargeResult | { status: 'none' };

export interface ChargeRequest {
  key: string;
  reservationId: string;
  amount: number;
  currency: string;
  paymentMethod: string;
}

export interface PaymentProvider {
  charge(req: ChargeRequest): Promise<ChargeResult>;
  /** Refund `amount` of the charge made under `chargeKey`, once per `key`; answers the refund's reference. */
  refund(req: { key: string; chargeKey: string; reservationId: string; amount: number; currency: string }): Promise<{ reference: string }>;
  /** Void whatever was charged under `chargeKey`, and refuse any later charge under it. */
  void(req: { chargeKey: string; reservationId: string }): Promise<void>;
  status(chargeKey: string): Promise<ChargeStatus>;
}

/** Thrown when the provider cannot be reached or does not answer in time: the caller knows nothing of the outcome. */
export class ProviderUnavailableError extends Error {}

/** The provider call, or ProviderUnavailableError when it throws or takes longer than `timeoutMs`. */
export async function callProvider<T>(what: string, timeoutMs: number, call: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProviderUnavailableError(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    // A provider that throws synchronously is caught here too (the call sits inside the try).
    return await Promise.race([call(), late]);
  } catch (err) {
    if (err instanceof ProviderUnavailableError) throw err;
    throw new ProviderUnavailableError(`${what}: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const reference = (prefix: string) => `${prefix}_${randomBytes(9).toString('base64url')}`;

export interface ProviderFault {
  /** fail: throw before acting; delay: wait, then act; stall: act, then wait before answering. */
  mode: 'fail' | 'delay' | 'stall';
  count: number;
  delayMs?: number;
}

/** Make the test provider's next `count` calls (from any process) fail or answer late; null clears it. Tests only. */
export async function setProviderFaults(pool: Pool, fault: ProviderFault | null): Promise<void> {
  if (!fault) {
    await pool.query('DELETE FROM payment_provider_faults');
    return;
  }
  await pool.query(
    `INSERT INTO payment_provider_faults (id, mode, remaining, delay_ms) VALUES (1, $1, $2, $3)
     ON CONFLICT (id) DO UPDATE SET mode = excluded.mode, remaining = excluded.remaining, delay_ms = excluded.delay_ms`,
    [fault.mode, fault.count, fault.delayMs ?? 0],
  );
}

/** What the test provider's ledger holds for one reservation, in minor units. */
export interface LedgerTotals {
  charges: number;
  charged: number;
  refunds: number;
  refunded: number;
  voids: number;
  voided: number;
}

export async function ledgerOf(pool: Pool, reservationId: string): Promise<LedgerTotals> {
  const r = await pool.query(
    `SELECT count(*) FILTER (WHERE kind = 'charge') AS charges, COALESCE(sum(amount) FILTER (WHERE kind = 'charge'), 0) AS charged,
            count(*) FILTER (WHERE kind = 'refund') AS refunds, COALESCE(sum(amount) FILTER (WHERE kind = 'refund'), 0) AS refunded,
            count(*) FILTER (WHERE kind = 'void' AND amount > 0) AS voids, COALESCE(sum(amount) FILTER (WHERE kind = 'void'), 0) AS voided
       FROM payment_ledger WHERE reservation_id = $1`,
    [reservationId],
  );
  const x = r.rows[0];
  return {
    charges: Number(x.charges),
    charged: Number(x.charged),
    refunds: Number(x.refunds),
    refunded: Number(x.refunded),
    voids: Number(x.voids),
    voided: Number(x.voided),
  };
}

export class TestPaymentProvider implements PaymentProvider {
  constructor(private readonly pool: Pool) {}

  /** The next test fault, if one is set (one statement, so concurrent calls each take their own). */
  private async fault(): Promise<{ mode: ProviderFault['mode']; delayMs: number } | undefined> {
    const r = await this.pool.query(
      `UPDATE payment_provider_faults SET remaining = remaining - 1 WHERE id = 1 AND remaining > 0
       RETURNING mode, delay_ms`,
    );
    return r.rowCount ? { mode: r.rows[0].mode, delayMs: Number(r.rows[0].delay_ms) } : undefined;
  }

  /** Run `act` as the provider would: a fault first, if one is set. */
  private async act<T>(act: () => Promise<T>): Promise<T> {
    const f = await this.fault();
    if (f?.mode === 'fail') throw new Error('the test provider is unavailable (test fault)');
    if (f?.mode === 'delay') await sleep(f.delayMs);
    const out = await act();
    if (f?.mode === 'stall') await sleep(f.delayMs);
    return out;
  }

  /** `fn` inside a transaction holding the lock of one charge key (a charge and a void of it never interleave). */
  private async locked<T>(chargeKey: string, fn: (q: (text: string, values: unknown[]) => Promise<{ rows: Record<string, unknown>[] }>) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [chargeKey]);
      const out = await fn((text, values) => client.query(text, values));
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  private static readonly readCharge = `SELECT key, kind, reference, amount FROM payment_ledger WHERE key = $1 OR key = 'void:' || $1`;

  private static resultOf(rows: Record<string, unknown>[]): ChargeStatus {
    if (rows.some((r) => r.kind === 'void')) return { status: 'voided' };
    const row = rows.find((r) => r.kind === 'charge' || r.kind === 'decline');
    if (!row) return { status: 'none' };
    return row.kind === 'charge' ? { status: 'charged', reference: row.reference as string, amount: Number(row.amount) } : { status: 'declined' };
  }

  charge(req: ChargeRequest): Promise<ChargeResult> {
    return this.act(() =>
      this.locked(req.key, async (q) => {
        const before = TestPaymentProvider.resultOf((await q(TestPaymentProvider.readCharge, [req.key])).rows);
        if (before.status !== 'none') return before;
        const declined = req.paymentMethod === 'pm_card_declined';
        const ref = reference(declined ? 'dc' : 'ch');
        await q(
          `INSERT INTO payment_ledger (key, kind, reservation_id, amount, currency, reference) VALUES ($1, $2, $3, $4, $5, $6)`,
          [req.key, declined ? 'decline' : 'charge', req.reservationId, declined ? 0 : req.amount, req.currency, ref],
        );
        return declined ? { status: 'declined' as const } : { status: 'charged' as const, reference: ref, amount: req.amount };
      }),
    );
  }

  refund(req: { key: string; chargeKey: string; reservationId: string; amount: number; currency: string }): Promise<{ reference: string }> {
    return this.act(async () => {
      await this.pool.query(
        `INSERT INTO payment_ledger (key, kind, reservation_id, amount, currency, reference, of_key)
         VALUES ($1, 'refund', $2, $3, $4, $5, $6) ON CONFLICT (key) DO NOTHING`,
        [req.key, req.reservationId, req.amount, req.currency, reference('rf'), req.chargeKey],
      );
      const r = await this.pool.query('SELECT reference FROM payment_ledger WHERE key = $1', [req.key]);
      return { reference: r.rows[0].reference as string };
    });
  }

  void(req: { chargeKey: string; reservationId: string }): Promise<void> {
    return this.act(() =>
      this.locked(req.chargeKey, async (q) => {
        // The amount voided is what was charged under the key (0 when nothing was: the row then only refuses a
        // later charge).
        await q(
          `INSERT INTO payment_ledger (key, kind, reservation_id, amount, currency, reference, of_key)
           SELECT 'void:' || $1, 'void', $2, COALESCE(c.amount, 0), c.currency, $3, $1
             FROM (SELECT NULL) x LEFT JOIN payment_ledger c ON c.key = $1 AND c.kind = 'charge'
           ON CONFLICT (key) DO NOTHING`,
          [req.chargeKey, req.reservationId, reference('vd')],
        );
      }),
    );
  }

  status(chargeKey: string): Promise<ChargeStatus> {
    return this.act(async () => TestPaymentProvider.resultOf((await this.pool.query(TestPaymentProvider.readCharge, [chargeKey])).rows));
  }
}
