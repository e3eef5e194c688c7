// A seeded simulation of money: reservations, payments with and without Idempotency-Keys, client calls that are
// slow, lost or crash between the provider's charge and the writer, a provider that goes down, cancels, hold
// expiry, policy changes and the reconciler, all over a moving clock. The writer is the pure core; the provider is
// an in-memory one with the test provider's semantics (idempotent by key; a void refuses later charges); the
// reconciler is the real one (settleReservation).
//
// After every step, for every reservation: at most one charge stands (not voided), and what the provider holds for
// it (charged − refunded − voided) equals what
// its status says (paid: totalAmount; refunded: the penalty; anything else: 0) plus what is still owed or in flight
// (charges under keys it owes a void or has open, charges a client has not reported yet, a pending refund). Once the
// run ends and everything is drained, nothing is owed and the two are equal. The rooms invariant holds throughout.
//
// Reproduce or explore with MONEY_SEED=<n>[,<n>…] and MONEY_STEPS=<n>.
import { expect } from 'chai';
import { assertReservedMatchesReservations, type Command, type PaymentAttempt, type PaymentOutcome, type Reservation } from '../../engine/core/index.js';
import { mulberry32 } from '../../engine/core/random.js';
import { paymentKey } from '../../engine/core/payments.js';
import type { ChargeRequest, ChargeResult, ChargeStatus, PaymentProvider } from '../../engine/payment-provider.js';
import { settleReservation } from '../../engine/payment-reconciler.js';
import { NOW_MS, World, cancel, createHotel, createRoomType, plus, reserve, updateHotel } from './engine-harness.js';

const paymentTimeoutSeconds = 60;

/** The test provider's semantics in memory, with an outage switch. */
class SimProvider implements PaymentProvider {
  down = false;
  readonly rows = new Map<string, { kind: 'charge' | 'decline' | 'refund' | 'void'; reservationId: string; amount: number; reference: string }>();
  /** charged − refunded − voided per reservation, kept as rows are written. */
  private readonly balances = new Map<string, number>();
  private n = 0;

  /** Each reservation's charge keys, for liveCharges. */
  private readonly charges = new Map<string, string[]>();

  private write(key: string, row: { kind: 'charge' | 'decline' | 'refund' | 'void'; reservationId: string; amount: number; reference: string }): void {
    this.rows.set(key, row);
    if (row.kind === 'charge') this.charges.set(row.reservationId, [...(this.charges.get(row.reservationId) ?? []), key]);
    const sign = row.kind === 'charge' ? 1 : row.kind === 'decline' ? 0 : -1;
    this.balances.set(row.reservationId, (this.balances.get(row.reservationId) ?? 0) + sign * row.amount);
  }

  private check(): void {
    if (this.down) throw new Error('provider down');
  }
  private statusOf(key: string): ChargeStatus {
    if (this.rows.has(`void:${key}`)) return { status: 'voided' };
    const row = this.rows.get(key);
    if (!row) return { status: 'none' };
    return row.kind === 'charge' ? { status: 'charged', reference: row.reference, amount: row.amount } : { status: 'declined' };
  }
  async charge(req: ChargeRequest): Promise<ChargeResult> {
    this.check();
    const before = this.statusOf(req.key);
    if (before.status !== 'none') return before;
    const declined = req.paymentMethod === 'pm_card_declined';
    this.write(req.key, { kind: declined ? 'decline' : 'charge', reservationId: req.reservationId, amount: declined ? 0 : req.amount, reference: `ch${++this.n}` });
    return this.statusOf(req.key) as ChargeResult;
  }
  async refund(req: { key: string; chargeKey: string; reservationId: string; amount: number }): Promise<{ reference: string }> {
    this.check();
    if (!this.rows.has(req.key)) this.write(req.key, { kind: 'refund', reservationId: req.reservationId, amount: req.amount, reference: `rf${++this.n}` });
    return { reference: this.rows.get(req.key)!.reference };
  }
  async void(req: { chargeKey: string; reservationId: string }): Promise<void> {
    this.check();
    const key = `void:${req.chargeKey}`;
    if (this.rows.has(key)) return;
    const charged = this.rows.get(req.chargeKey);
    this.write(key, { kind: 'void', reservationId: req.reservationId, amount: charged?.kind === 'charge' ? charged.amount : 0, reference: `vd${++this.n}` });
  }
  async status(chargeKey: string): Promise<ChargeStatus> {
    this.check();
    return this.statusOf(chargeKey);
  }

  /** What is still charged under one key (0 once voided). */
  net(key: string): number {
    const row = this.rows.get(key);
    if (row?.kind !== 'charge') return 0;
    return this.rows.has(`void:${key}`) ? 0 : row.amount;
  }
  balanceOf(reservationId: string): number {
    return this.balances.get(reservationId) ?? 0;
  }
  /** The keys of a reservation's charges that are not voided (refunds aside: a refunded charge was charged once). */
  liveCharges(reservationId: string): string[] {
    return (this.charges.get(reservationId) ?? []).filter((key) => this.net(key) > 0);
  }
}

/** A client's payment between the writer's beginPayment and its completePayment. */
interface ClientCall {
  hotelId: string;
  reservationId: string;
  attempt: PaymentAttempt;
  paymentMethod: string;
  /** Set once the provider answered (or did not). */
  outcome?: PaymentOutcome;
  reference?: string;
}

class MoneySimulation {
  readonly world = new World({ holdTtlSeconds: 900 });
  readonly provider = new SimProvider();
  readonly calls: ClientCall[] = [];
  readonly stats = new Map<string, number>();
  private readonly rng: () => number;
  private nextId = 0;
  private readonly hotels = ['h-utc', 'h-tokyo'];

  constructor(readonly seed: number) {
    this.rng = mulberry32(seed);
  }
  private chance = (p: number) => this.rng() < p;
  private int = (a: number, b: number) => a + Math.floor(this.rng() * (b - a + 1));
  private pick = <T>(xs: T[]): T => xs[Math.floor(this.rng() * xs.length)];
  private count = (k: string) => this.stats.set(k, (this.stats.get(k) ?? 0) + 1);

  private run(cmd: Command) {
    const d = this.world.run(cmd, { paymentTimeoutSeconds });
    if (process.env.MONEY_TRACE && 'reservationId' in cmd && cmd.reservationId === process.env.MONEY_TRACE) {
      console.log(new Date(this.world.nowMs).toISOString(), JSON.stringify(cmd), '→', d.reply.ok ? (d.reply as { kind: string }).kind : d.reply.code, JSON.stringify(this.world.state(cmd.hotelId).reservations.get(cmd.reservationId)?.money));
    }
    this.count(`${cmd.kind}:${d.reply.ok ? 'ok' : d.reply.code}`);
    return d;
  }

  private reservations(): Reservation[] {
    return this.hotels.flatMap((h) => [...(this.world.hotels.get(h)?.reservations.values() ?? [])]);
  }

  setup(): void {
    this.world.ok(createHotel('h-utc', { overbookingPercent: 0, cancellationPolicy: { freeUntilHoursBefore: 24, penaltyPercent: 30 } }));
    this.world.ok(createHotel('h-tokyo', { overbookingPercent: 10, timezone: 'Asia/Tokyo', cancellationPolicy: { freeUntilHoursBefore: 0, penaltyPercent: 0 } }));
    for (const h of this.hotels) for (const t of ['a', 'b']) this.world.ok(createRoomType(h, `${h}-${t}`, this.int(2, 6), this.int(50, 200) * 100 + this.int(0, 99)));
  }

  async step(): Promise<void> {
    const p = this.rng();
    const live = this.reservations();
    if (p < 0.2) {
      const h = this.pick(this.hotels);
      const from = this.int(1, 20);
      this.run(reserve({ hotelId: h, reservationId: `r${this.seed}-${this.nextId++}`, roomTypeId: `${h}-${this.pick(['a', 'b'])}`, checkIn: plus(from), checkOut: plus(from + this.int(1, 3)), roomCount: this.int(1, 2) }));
    } else if (p < 0.38 && live.length > 0) {
      const pending = live.filter((x) => x.status === 'pending');
      const r = pending.length > 0 && this.chance(0.85) ? this.pick(pending) : this.pick(live);
      const clientKey = this.chance(0.4) ? `k${this.int(0, 2)}` : null;
      // Now and then a double click: the same payment, with the same key, twice in a row.
      for (let click = clientKey !== null && this.chance(0.15) ? 2 : 1; click > 0; click--) {
        const d = this.run({ kind: 'beginPayment', hotelId: r.hotelId, reservationId: r.id, clientKey });
        if (d.reply.ok && d.reply.kind === 'paymentAttempt') {
          this.calls.push({ hotelId: r.hotelId, reservationId: r.id, attempt: d.reply.attempt, paymentMethod: this.chance(0.15) ? 'pm_card_declined' : 'pm_card_visa' });
          if (d.reply.joined) this.count('joined');
        }
      }
    } else if (p < 0.6 && this.calls.length > 0) {
      const i = Math.floor(this.rng() * this.calls.length);
      const c = this.calls[i];
      if (this.chance(0.08)) {
        // The client crashed: before or after the provider's charge, it never reports.
        if (c.outcome === undefined && this.chance(0.5)) await this.charge(c);
        this.calls.splice(i, 1);
        this.count('client crash');
      } else if (c.outcome === undefined) {
        await this.charge(c);
      } else {
        this.calls.splice(i, 1);
        this.run({ kind: 'completePayment', hotelId: c.hotelId, reservationId: c.reservationId, n: c.attempt.n, outcome: c.outcome, reference: c.reference, by: 'client' });
      }
    } else if (p < 0.65 && live.length > 0) {
      const r = this.pick(live);
      this.run(cancel(r.hotelId, r.id));
    } else if (p < 0.74 && live.length > 0) {
      const r = this.pick(live);
      this.run({ kind: 'expireHold', hotelId: r.hotelId, reservationId: r.id });
    } else if (p < 0.86) {
      await this.reconcile();
    } else if (p < 0.93) {
      this.world.nowMs += (this.chance(0.1) ? this.int(60, 1200) : this.int(1, 60)) * 1000;
      this.count('clock');
    } else if (p < 0.97) {
      this.provider.down = !this.provider.down && this.chance(0.5);
    } else {
      const h = this.pick(this.hotels);
      this.run(updateHotel(h, { cancellationPolicy: { freeUntilHoursBefore: this.pick([0, 24, 72, 8760]), penaltyPercent: this.pick([0, 10, 50, 100]) } }));
    }
  }

  private async charge(c: ClientCall): Promise<void> {
    const r = this.world.state(c.hotelId).reservations.get(c.reservationId)!;
    try {
      const res = await this.provider.charge({ key: c.attempt.key, reservationId: c.reservationId, amount: c.attempt.amount, currency: r.currency, paymentMethod: c.paymentMethod });
      c.outcome = res.status === 'charged' ? 'charged' : res.status === 'declined' ? 'declined' : 'failed';
      if (res.status === 'charged') c.reference = res.reference;
    } catch {
      c.outcome = 'unknown';
    }
  }

  async reconcile(): Promise<void> {
    for (const r of this.reservations()) {
      if (r.moneyDueAt === null || Date.parse(r.moneyDueAt) > this.world.nowMs) continue;
      let commands: Command[];
      try {
        commands = await settleReservation({ id: r.id, hotelId: r.hotelId, currency: r.currency, money: r.money, payment: r.payment }, this.world.nowMs, this.provider, 1_000);
      } catch {
        this.count('reconcile:provider down');
        continue;
      }
      for (const cmd of commands) this.run(cmd);
    }
  }

  /** The money invariant of one reservation; `drained`: nothing may be owed any more. */
  check(r: Reservation, drained: boolean): void {
    const keys = new Set<string>(r.money?.voids ?? []);
    if (r.money?.open) keys.add(r.money.open.key);
    // A charge a client has not reported yet, unless it is the one that paid the reservation (a joined retry's).
    const paidKey = r.payment && r.money?.last?.outcome === 'charged' ? paymentKey(r.id, r.money.last.n) : undefined;
    for (const c of this.calls) if (c.reservationId === r.id && c.outcome === 'charged' && c.attempt.key !== paidKey) keys.add(c.attempt.key);
    let owed = 0;
    for (const k of keys) owed += this.provider.net(k);
    if (r.payment?.refund?.status === 'pending') owed += r.payment.refund.amount;
    const expected =
      r.status === 'paid' ? r.totalAmount : r.status === 'refunded' && r.payment ? r.payment.amount - (r.payment.refund?.amount ?? 0) : 0;
    const balance = this.provider.balanceOf(r.id);
    const where = `${r.id} (${r.status}) ${JSON.stringify({ payment: r.payment, money: r.money })}`;
    if (r.status === 'paid' || (r.status === 'refunded' && r.payment)) expect(r.payment!.amount, where).to.equal(r.totalAmount);
    // Charged at most once (API.md): never two charges of one reservation standing at the same time.
    const standing = this.provider.liveCharges(r.id);
    if (standing.length > 1) expect(standing, `charges standing for ${where}`).to.have.length.at.most(1);
    expect(balance, `balance of ${where}: owed ${owed}`).to.equal(expected + owed);
    if (drained) {
      expect(owed, `owed after draining: ${where}`).to.equal(0);
      expect(r.moneyDueAt, where).to.equal(null);
    }
  }

  /** Money after every step; the rooms invariant (a scan of every night) every 25 steps and at the end. */
  checkAll(drained = false, step = 0): void {
    if (drained || step % 25 === 0) for (const h of this.hotels) assertReservedMatchesReservations(this.world.state(h));
    for (const r of this.reservations()) this.check(r, drained);
  }

  /** The provider comes back, the clients report or die, time passes every deadline, the reconciler finishes. */
  async drain(): Promise<void> {
    this.provider.down = false;
    for (const c of this.calls.splice(0)) {
      if (c.outcome === undefined) continue; // died before charging
      this.run({ kind: 'completePayment', hotelId: c.hotelId, reservationId: c.reservationId, n: c.attempt.n, outcome: c.outcome, reference: c.reference, by: 'client' });
    }
    this.world.nowMs += (paymentTimeoutSeconds + 1) * 1000;
    for (let round = 0; round < 5; round++) await this.reconcile();
  }
}

const seeds = process.env.MONEY_SEED ? process.env.MONEY_SEED.split(',').map((x) => Number(x.trim())) : [7, 20261205, 0xbadcafe];
const steps = process.env.MONEY_STEPS ? Number(process.env.MONEY_STEPS) : 3000;

describe('money simulation (seeded)', function () {
  this.timeout(60_000);
  for (const seed of seeds) {
    it(`seed ${seed}: ${steps} steps keep charged − refunded − voided equal to what each status says`, async () => {
      const sim = new MoneySimulation(seed);
      sim.setup();
      for (let i = 0; i < steps; i++) {
        await sim.step();
        sim.checkAll(false, i);
      }
      await sim.drain();
      sim.checkAll(true);
      const stat = (k: string) => sim.stats.get(k) ?? 0;
      const summary = [...sim.stats].sort().map(([k, v]) => `${k}=${v}`).join(' ');
      const least = (x: number) => Math.floor((x * Math.min(steps, 3000)) / 3000);
      // The run must have exercised what it is about, or it proves nothing.
      const statuses = new Map<string, number>();
      for (const r of sim['reservations']()) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      expect(statuses.get('paid') ?? 0, summary).to.be.at.least(least(20));
      expect(statuses.get('refunded') ?? 0, summary).to.be.at.least(least(10));
      expect(statuses.get('rejected') ?? 0, summary).to.be.at.least(least(5));
      expect(stat('completePayment:ok'), summary).to.be.at.least(least(50));
      expect(stat('settleMoney:ok'), summary).to.be.at.least(least(20));
      expect(stat('client crash'), summary).to.be.at.least(least(10));
      expect(stat('reconcile:provider down'), summary).to.be.at.least(least(5));
      expect(stat('joined'), summary).to.be.at.least(least(3));
      expect(stat('beginPayment:invalid_status'), summary).to.be.at.least(least(20));
      expect(stat('beginPayment:hold_expired'), summary).to.be.at.least(least(5));
      // A payment while an earlier attempt's void is owed waits for it (charged at most once).
      expect(stat('beginPayment:unavailable'), summary).to.be.at.least(least(1));
      expect(sim.world.nowMs).to.be.greaterThan(NOW_MS);
      if (process.env.MONEY_VERBOSE) console.log(`      seed ${seed}: ${summary}`);
    });
  }
});
