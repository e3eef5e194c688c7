// Guest e-mails (API.md): one per status change, addressed to the guest, with a subject naming the hotel, the dates
// and the new status, a text and an HTML part; as .eml files under MAIL_DIR, or by SMTP when SMTP_URL is set.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { startNotificationService, type NotificationService } from '../../engine/notify/service.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { startStack, waitFor, type Stack } from '../support/stack.js';
import { withShardDb } from '../support/db.js';
import { createGuest, createHotel, createRoomType, dayFromToday, reservationBody } from '../support/fixtures.js';

/** Create, pay, then cancel (paid → refunded) one reservation; answers its body. */
async function createPayCancel(stack: Stack) {
  const hotel = await createHotel(stack.admin, { name: 'Hôtel des Tests' });
  const rt = await createRoomType(stack.admin, hotel.id);
  const guest = stack.admin.as((await createGuest(stack.admin)).token);
  const body = reservationBody(hotel.id, rt.id, dayFromToday(10), dayFromToday(12), { guest: { name: 'Grace Hopper', email: 'grace@example.com' } });
  expect((await guest.post('/v1/reservations', body)).status).to.equal(201);
  expect((await guest.post(`/v1/reservations/${body.reservationId}/payment`, { paymentMethod: 'pm_card_visa' })).status).to.equal(200);
  expect((await guest.delete(`/v1/reservations/${body.reservationId}`)).body.status).to.equal('refunded');
  return body;
}

function checkThree(mails: ParsedMail[], body: ReturnType<typeof reservationBody>) {
  const dates = `${body.checkIn} to ${body.checkOut}`;
  expect(mails.map((m) => m.subject).sort()).to.deep.equal(
    ['pending', 'paid', 'refunded'].map((s) => `Hôtel des Tests, ${dates}: reservation ${s}`).sort(),
  );
  for (const m of mails) {
    expect((m.to as { value: { address: string }[] }).value.map((v) => v.address)).to.deep.equal(['grace@example.com']);
    expect(m.text).to.contain(body.reservationId);
    expect(m.html).to.be.a('string').and.contain(body.reservationId);
  }
}

describe('guest e-mails', function () {
  this.timeout(90_000);

  describe('as .eml files under MAIL_DIR', () => {
    let env: TestEnv;
    let stack: Stack;
    let service: NotificationService;
    let dir: string;
    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'notify-mail-'));
      // Retries a hundred times sooner than in production (a mail that could not be written is tried again in ms).
      env = await createTestEnv({ MAIL_DIR: dir, WEBHOOK_RETRY_SCALE_PERMILLE: '10' });
      stack = await startStack(env.config);
      service = startNotificationService(env.config);
    });
    after(async () => {
      await service?.stop();
      await stack?.stop();
      await env?.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    it('created, paid, then canceled gives exactly three parseable .eml files with the right subjects, once each', async () => {
      const body = await createPayCancel(stack);
      await waitFor('three mails', async () => (await readdir(dir)).length >= 3);
      // The same events relayed again (as after a relay killed before it moved its cursor): no fourth mail.
      const mark = await withShardDb(env.config, body.hotelId, async (c) => {
        await c.query('UPDATE outbox_cursors SET sequence = 0 WHERE hotel_id = $1', [body.hotelId]);
        return Number((await c.query('SELECT event_sequence FROM hotels WHERE id = $1', [body.hotelId])).rows[0].event_sequence);
      });
      await waitFor('the events relayed again', async () =>
        withShardDb(env.config, body.hotelId, async (c) => Number((await c.query('SELECT sequence FROM outbox_cursors WHERE hotel_id = $1', [body.hotelId])).rows[0].sequence) === mark),
      );
      await new Promise((r) => setTimeout(r, 1000));
      const files = await readdir(dir);
      expect(files.length).to.equal(3);
      const mails = await Promise.all(files.map(async (f) => simpleParser(await readFile(path.join(dir, f)))));
      checkThree(mails, body);
      expect(files.map((f) => f.replace(/\.eml$/, '')).sort()).to.deep.equal(mails.map((m) => /^<([^@]+)@/.exec(m.messageId ?? '')?.[1]).sort());
    });

    it('a mail that cannot be written does not hold the notifications back: it is recorded, and written once it can be', async () => {
      // MAIL_DIR replaced by a file: no .eml can be written under it.
      await rm(dir, { recursive: true, force: true });
      await writeFile(dir, 'not a directory');
      try {
        const hotel = await createHotel(stack.admin, { name: 'Hôtel des Tests' });
        const rt = await createRoomType(stack.admin, hotel.id);
        const body = reservationBody(hotel.id, rt.id, dayFromToday(10), dayFromToday(12), { guest: { name: 'Ada', email: 'ada@example.com' } });
        expect((await stack.admin.post('/v1/reservations', body)).status).to.equal(201);
        // The job completed: every event of the hotel recorded (so the events after it, webhooks included, go on).
        await waitFor('the hotel\'s events recorded', async () =>
          withShardDb(env.config, hotel.id, async (c) => {
            const r = await c.query('SELECT h.event_sequence::int AS mark, c.recorded::int AS recorded FROM hotels h JOIN outbox_cursors c ON c.hotel_id = h.id WHERE h.id = $1', [hotel.id]);
            return r.rows.length === 1 && r.rows[0].recorded === r.rows[0].mark;
          }),
        );
        const pending = await stack.api.ctx.catalog.pool.query("SELECT recipient, state FROM guest_mails WHERE recipient = 'ada@example.com'");
        expect(pending.rows.map((x) => x.state)).to.deep.equal(['pending']);
      } finally {
        await rm(dir, { force: true });
        await mkdir(dir);
      }
      await waitFor('the mail written once MAIL_DIR is back', async () => (await readdir(dir)).length === 1, 60_000);
      const mail = await simpleParser(await readFile(path.join(dir, (await readdir(dir))[0])));
      expect((mail.to as { value: { address: string }[] }).value[0].address).to.equal('ada@example.com');
      expect((await stack.api.ctx.catalog.pool.query("SELECT state FROM guest_mails WHERE recipient = 'ada@example.com'")).rows).to.deep.equal([{ state: 'sent' }]);
    });
  });

  describe('by SMTP when SMTP_URL is set', () => {
    let env: TestEnv;
    let stack: Stack;
    let service: NotificationService;
    let smtp: SMTPServer;
    const received: Buffer[] = [];
    before(async () => {
      smtp = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS'],
        onData(stream, _session, cb) {
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            received.push(Buffer.concat(chunks));
            cb();
          });
        },
      });
      await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
      const port = ((smtp as unknown as { server: { address(): AddressInfo } }).server.address()).port;
      env = await createTestEnv({ SMTP_URL: `smtp://127.0.0.1:${port}` });
      stack = await startStack(env.config);
      service = startNotificationService(env.config);
    });
    after(async () => {
      await service?.stop();
      await stack?.stop();
      await env?.cleanup();
      await new Promise((r) => smtp?.close(() => r(undefined)));
    });

    it('the same three mails arrive at a local SMTP server', async () => {
      const body = await createPayCancel(stack);
      await waitFor('three mails', async () => received.length >= 3);
      await new Promise((r) => setTimeout(r, 1000));
      expect(received.length).to.equal(3);
      checkThree(await Promise.all(received.map((m) => simpleParser(m))), body);
    });
  });
});
