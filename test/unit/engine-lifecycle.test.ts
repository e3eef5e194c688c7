// Atomic batches in the pure core, as tables of scenarios (payments and hold expiry: engine-payments.test.ts).
import { expect } from 'chai';
import { assertReservedMatchesReservations } from '../../engine/core/index.js';
import { World, createHotel, createRoomType, reserve, plus } from './engine-harness.js';

const H = 'hotel-1';
const RT = 'rt-1';

function world(): World {
  const w = new World();
  w.ok(createHotel(H, { overbookingPercent: 0 }));
  w.ok(createRoomType(H, RT, 3));
  w.ok(reserve({ hotelId: H, reservationId: 'r1', roomTypeId: RT, checkIn: plus(2), checkOut: plus(4), roomCount: 2 }));
  return w;
}

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
