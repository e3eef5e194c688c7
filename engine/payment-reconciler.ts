// The payment reconciler: whatever a reservation owes the provider is written on it by its writer (an attempt past
// its deadline, charges to void, a refund), with `money_due_at` as the timer, so it survives every crash. The owner
// of a shard looks for due reservations every second, makes the provider calls outside any transaction (each
// idempotent by its key), and queues what the provider confirmed as a command to the hotel's writer, in order with
// everything else. A call that fails is tried again later, backing off to a minute, until the provider confirms.
import type { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { paymentKey, refundKey } from './core/payments.js';
import type { Command, MoneyState, Payment } from './core/types.js';
import type { ShardJob } from './jobs.js';
import { callProvider, type PaymentProvider } from './payment-provider.js';
import type { Pool } from './store/pg.js';

/** How often a shard owner looks for reservations that owe the provider something. */
export const reconcileMs = 1_000;
/** Reservations looked at per round, at most. */
const perRoundMax = 100;
/** A reservation whose command was queued is not looked at again for this long (its command may still be waiting). */
const requeueAfterMs = 10_000;
const backoffMaxMs = 60_000;

/** A reservation that owes the provider something, as the reconciler reads it. */
export interface Due {
  id: string;
  hotelId: string;
  currency: string;
  money: MoneyState | null;
  payment: Payment | null;
}

export class PaymentReconciler {
  private timer: NodeJS.Timeout | undefined;
  /** Until when a reservation is left alone: its command is queued, or its last provider call failed. */
  private readonly waitUntil = new Map<string, { at: number; failures: number }>();
  private running = false;

  constructor(
    private readonly shard: number,
    private readonly pool: Pool,
    private readonly queue: Queue<ShardJob>,
    private readonly provider: PaymentProvider,
    private readonly providerTimeoutMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.reconcile().catch(this.onError), reconcileMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One round; answers how many reservations it queued a command for. */
  async reconcile(nowMs = Date.now()): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      for (const [id, w] of this.waitUntil) if (w.at <= nowMs - (w.failures > 0 ? 2 * backoffMaxMs : 0)) this.waitUntil.delete(id);
      const due = await this.pool.query(
        `SELECT r.id, r.hotel_id, r.currency, r.money, r.payment FROM reservations r
          WHERE r.money_due_at <= $2
            AND (SELECT h.shard FROM hotels h WHERE h.id = r.hotel_id AND h.deleted_at IS NULL) = $1
          ORDER BY r.money_due_at LIMIT $3`,
        [this.shard, new Date(nowMs).toISOString(), perRoundMax],
      );
      const rows: Due[] = due.rows
        .map((r) => ({ id: r.id as string, hotelId: r.hotel_id as string, currency: (r.currency as string).trim(), money: r.money as MoneyState | null, payment: r.payment as Payment | null }))
        .filter((r) => (this.waitUntil.get(r.id)?.at ?? 0) <= nowMs);
      const commands: Command[] = [];
      await Promise.all(
        rows.map(async (r) => {
          try {
            const made = await settleReservation(r, nowMs, this.provider, this.providerTimeoutMs);
            commands.push(...made);
            this.waitUntil.set(r.id, { at: nowMs + requeueAfterMs, failures: 0 });
          } catch (err) {
            const failures = (this.waitUntil.get(r.id)?.failures ?? 0) + 1;
            this.waitUntil.set(r.id, { at: nowMs + Math.min(backoffMaxMs, 1000 * 2 ** (failures - 1)), failures });
            this.onError(err);
          }
        }),
      );
      if (commands.length === 0) return 0;
      const jobKey = randomUUID();
      await this.queue.add(
        'commands',
        { jobKey, replyTo: '', enqueuedAt: nowMs, commands: commands.map((command) => ({ requestId: randomUUID(), command })) },
        { jobId: jobKey },
      );
      return commands.length;
    } finally {
      this.running = false;
    }
  }
}

/**
 * The provider calls one reservation owes, and the commands that record what the provider confirmed (throws when a
 * call fails: nothing is recorded, and the next round tries again; every call is idempotent by its key).
 */
export async function settleReservation(r: Due, nowMs: number, provider: PaymentProvider, providerTimeoutMs: number): Promise<Command[]> {
  const call = <T>(what: string, fn: () => Promise<T>) => callProvider(`${what} of reservation ${r.id}`, providerTimeoutMs, fn);
  const out: Command[] = [];
  const m = r.money;
  const open = m?.open;
  if (open && Date.parse(open.deadline) <= nowMs) {
    // The attempt outlived its deadline (its API process died, or its answer never came): ask how it ended.
    let st = await call('status', () => provider.status(open.key));
    if (st.status === 'none') {
      // Never charged: void the key first, so that a call still in flight cannot charge under it afterwards.
      await call('void', () => provider.void({ chargeKey: open.key, reservationId: r.id }));
      st = { status: 'voided' };
    }
    out.push({
      kind: 'completePayment',
      hotelId: r.hotelId,
      reservationId: r.id,
      n: open.n,
      outcome: st.status === 'charged' ? 'charged' : st.status === 'declined' ? 'declined' : 'failed',
      reference: st.status === 'charged' ? st.reference : undefined,
      by: 'reconciler',
    });
  }
  const voided: string[] = [];
  for (const key of m?.voids ?? []) {
    await call('void', () => provider.void({ chargeKey: key, reservationId: r.id }));
    voided.push(key);
  }
  let refundReference: string | undefined;
  const refund = r.payment?.refund;
  if (refund?.status === 'pending') {
    const chargeKey = m?.last?.outcome === 'charged' ? paymentKey(r.id, m.last.n) : r.payment?.reference ?? '';
    refundReference = (
      await call('refund', () => provider.refund({ key: refundKey(r.id), chargeKey, reservationId: r.id, amount: refund.amount, currency: r.currency }))
    ).reference;
  }
  if (voided.length > 0 || refundReference !== undefined) {
    out.push({ kind: 'settleMoney', hotelId: r.hotelId, reservationId: r.id, voided, refundReference });
  }
  return out;
}
