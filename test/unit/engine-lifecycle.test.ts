// Payment, hold expiry and atomic batches in the pure core, as tables of scenarios.
import { expect } from 'chai';
import { assertReservedMatchesReservations, type Command } from '../../engine/core/index.js';
import { World, createHotel, createRoomType, reserve, plus, NOW_MS, HOLD_TTL_SECONDS } from './engine-harness.js';

const H = 'hotel-1';
const RT = 'rt-1';
const pay = (reservationId: string, outcome: 'approved' | 'declined'): Command => ({ kind: 'pay', hotelId: H, reservationId, outcome });
const expireHold = (reservationId: string): Command => ({ kind: 'expireHold', hotelId: H, reservationId });

function world(): World {
  const w = new World();
  w.ok(createHotel(H, { overbookingPercent: 0 }));
  w.ok(createRoomType(H, RT, 3));
  w.ok(reserve({ hotelId: H, reservationId: 'r1', roomTypeId: RT, checkIn: plus(2), checkOut: plus(4), roomCount: 2 }));
  return w;
}

const afterHold = NOW_MS + HOLD_TTL_SECONDS * 1000;

interface Row {
  name: string;
  steps: { cmd: Command; atMs?: number }[];
  reply: { ok: boolean; code?: string; status?: string };
  status: string;
  cancelReason?: string | null;
  reservedOnNight: number;
  events: number;
}

const rows: Row[] = [
  { name: 'approved payment of a live hold → paid', steps: [{ cmd: pay('r1', 'approved') }], reply: { ok: true, status: 'paid' }, status: 'paid', reservedOnNight: 2, events: 1 },
  { name: 'declined payment → payment_declined, rejected, rooms back', steps: [{ cmd: pay('r1', 'declined') }], reply: { ok: false, code: 'payment_declined' }, status: 'rejected', reservedOnNight: 0, events: 1 },
  { name: 'payment at the instant the hold runs out → hold_expired, canceled', steps: [{ cmd: pay('r1', 'approved'), atMs: afterHold }], reply: { ok: false, code: 'hold_expired' }, status: 'canceled', cancelReason: 'hold_expired', reservedOnNight: 0, events: 1 },
  { name: 'payment one millisecond before the hold runs out → paid', steps: [{ cmd: pay('r1', 'approved'), atMs: afterHold - 1 }], reply: { ok: true, status: 'paid' }, status: 'paid', reservedOnNight: 2, events: 1 },
  { name: 'paying twice → the same paid reservation, no event', steps: [{ cmd: pay('r1', 'approved') }, { cmd: pay('r1', 'approved') }], reply: { ok: true, status: 'paid' }, status: 'paid', reservedOnNight: 2, events: 0 },
  { name: 'expireHold of a live hold → nothing', steps: [{ cmd: expireHold('r1'), atMs: afterHold - 1 }], reply: { ok: true }, status: 'pending', reservedOnNight: 2, events: 0 },
  { name: 'expireHold once the time ran out → canceled hold_expired, rooms back', steps: [{ cmd: expireHold('r1'), atMs: afterHold }], reply: { ok: true, status: 'canceled' }, status: 'canceled', cancelReason: 'hold_expired', reservedOnNight: 0, events: 1 },
  { name: 'expireHold after payment → nothing (a paid stay never expires)', steps: [{ cmd: pay('r1', 'approved') }, { cmd: expireHold('r1'), atMs: afterHold + 1 }], reply: { ok: true }, status: 'paid', reservedOnNight: 2, events: 0 },
  { name: 'payment after the expiry → invalid_status', steps: [{ cmd: expireHold('r1'), atMs: afterHold }, { cmd: pay('r1', 'approved'), atMs: afterHold }], reply: { ok: false, code: 'invalid_status' }, status: 'canceled', reservedOnNight: 0, events: 0 },
  { name: 'payment of an unknown reservation → not_found', steps: [{ cmd: pay('nope', 'approved') }], reply: { ok: false, code: 'not_found' }, status: 'pending', reservedOnNight: 2, events: 0 },
];

describe('engine core: payment and hold expiry (table)', () => {
  for (const row of rows) {
    it(row.name, () => {
      const w = world();
      let last;
      for (const s of row.steps) {
        w.nowMs = s.atMs ?? NOW_MS;
        last = w.run(s.cmd);
      }
      const reply = last!.reply as any;
      expect(reply.ok).to.equal(row.reply.ok);
      if (row.reply.code) expect(reply.code).to.equal(row.reply.code);
      if (row.reply.status) expect(reply.reservation.status).to.equal(row.reply.status);
      expect(last!.events).to.have.length(row.events);
      const r = w.state(H).reservations.get('r1')!;
      expect(r.status).to.equal(row.status);
      if (row.cancelReason !== undefined) expect(r.cancelReason).to.equal(row.cancelReason);
      expect(w.night(H, RT, plus(2)).reserved).to.equal(row.reservedOnNight);
      assertReservedMatchesReservations(w.state(H));
    });
  }
});

describe('engine core: atomic batches', () => {
  const items = (n: number, from: number) =>
    Array.from({ length: n }, (_, i) => reserve({ hotelId: H, reservationId: `a${from}-${i}`, roomTypeId: RT, checkIn: plus(from), checkOut: plus(from + 1) }));

  it('holds every item when all fit', () => {
    const w = world();
    const d = w.run({ kind: 'reserveAtomic', hotelId: H, items: items(3, 10) });
    expect((d.reply as any).replies.every((r: any) => r.ok && r.created)).to.equal(true);
    expect(w.night(H, RT, plus(10)).reserved).to.equal(3);
    assertReservedMatchesReservations(w.state(H));
  });

  it('holds none when one does not fit: every item sold_out, no event, nothing changed', () => {
    const w = world();
    const version = w.state(H).hotel.version;
    const d = w.run({ kind: 'reserveAtomic', hotelId: H, items: items(4, 10) });
    expect(d.events).to.have.length(0);
    expect((d.reply as any).replies.map((r: any) => r.code)).to.deep.equal(['sold_out', 'sold_out', 'sold_out', 'sold_out']);
    expect(w.night(H, RT, plus(10)).reserved).to.equal(0);
    expect(w.state(H).hotel.version).to.equal(version);
  });

  it('an item that repeats an existing reservation keeps answering it', () => {
    const w = world();
    const again = reserve({ hotelId: H, reservationId: 'r1', roomTypeId: RT, checkIn: plus(2), checkOut: plus(4), roomCount: 2 });
    const d = w.run({ kind: 'reserveAtomic', hotelId: H, items: [again, ...items(2, 3)] });
    const replies = (d.reply as any).replies;
    expect(replies[0]).to.include({ ok: true, created: false });
    expect(replies[1].code).to.equal('sold_out');
    expect(replies[2].code).to.equal('sold_out');
    expect(w.night(H, RT, plus(3)).reserved).to.equal(2);
  });
});
