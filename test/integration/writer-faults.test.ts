// A command the database refuses (here a NUL byte, sent straight to the queue past the API's validation) is
// answered internal_error on its own; the commands decided in the same job are not lost.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { reserveCommandOf } from '../../engine/idempotency.js';
import type { TestEnv } from '../support/env.js';
import { closeStack, openStack, type Stack } from '../support/stack.js';
import { createHotel, createRoomType, dayFromToday } from '../support/fixtures.js';
import { nightsOf } from '../support/db.js';

describe('writer faults', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let stack: Stack;

  before(async () => ({ env, stack } = await openStack()));
  after(() => closeStack(stack, env));

  it('one refused command in a job does not take down the others', async () => {
    const hotel = await createHotel(stack.admin);
    const rt = await createRoomType(stack.admin, hotel.id, { totalInventory: 50 });
    const router = stack.api.ctx.router;
    const body = (name: string) => ({
      reservationId: randomUUID(),
      hotelId: hotel.id,
      roomTypeId: rt.id,
      checkIn: dayFromToday(4),
      checkOut: dayFromToday(6),
      roomCount: 1,
      guest: { name, email: 'x@example.com' },
    });
    const bodies = [body('ok 1'), body('ok 2'), body('bad \u0000 name'), body('ok 3'), body('ok 4')];
    // Sent in one tick: the router puts them in one job.
    const outcomes = await Promise.all(bodies.map((b) => router.send(reserveCommandOf({ kind: 'admin', id: 'admin' }, b))));
    const replies = outcomes.map((o) => (o.kind === 'reply' ? o.reply : undefined));
    expect(replies.map((r) => r?.ok)).to.deep.equal([true, true, false, true, true]);
    expect((replies[2] as any).code).to.equal('internal_error');
    const stay = (await nightsOf(env.config, hotel.id, rt.id)).filter((n) => n.reserved > 0);
    expect(stay.map((n) => n.reserved)).to.deep.equal([4, 4]);
    for (const n of stay) expect(n.held).to.equal(4);
    const bad = await stack.admin.get(`/v1/reservations/${bodies[2].reservationId}`);
    expect(bad.status).to.equal(404);
  });
});
