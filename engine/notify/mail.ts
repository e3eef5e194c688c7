// Guest e-mails (API.md): one per status change of a reservation, to its guest, by SMTP when SMTP_URL is set, else
// as an .eml file under MAIL_DIR. Each has a plain-text and an HTML part, and its subject names the hotel, the dates
// and the new status. De-duplicated by event id: by SMTP, the catalog's guest_mails row is claimed before the message
// goes; as files, the file is named by the event id and never overwritten.
import { accessSync, closeSync, constants, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import { ConfigError } from '../config.js';
import type { NotificationEvent } from '../jobs.js';
import type { Logger } from '../log.js';
import type { Pool } from '../store/pg.js';

const from = 'Reservations <reservations@reservation-engine.invalid>';

export interface GuestMail {
  eventId: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

const htmlSpecial = /[&<>"']/;
const escapeHtml = (s: string) => (htmlSpecial.test(s) ? s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`) : s);
const statusWords: Record<string, string> = {
  pending: 'pending (held until paid)',
  paid: 'paid',
  rejected: 'rejected',
  canceled: 'canceled',
  refunded: 'refunded',
};

/** The e-mail of a reservation event, or undefined for events that are not a reservation's. */
export function mailOf(e: NotificationEvent, hotelName: string): GuestMail | undefined {
  if (!e.type.startsWith('reservation.')) return undefined;
  const r = e.data as { id: string; checkIn: string; checkOut: string; status: string; guest?: { name: string; email: string }; totalAmount: number; currency: string; roomCount: number; cancelReason: string | null };
  if (!r.guest?.email) return undefined;
  const hotel = hotelName || 'your hotel';
  const subject = `${hotel}, ${r.checkIn} to ${r.checkOut}: reservation ${r.status}`;
  // The paragraphs, blank lines between the greeting, the body and the signature (a <br> in the HTML part).
  const greeting = `Hello ${r.guest.name},`;
  const body = [
    `your reservation ${r.id} at ${hotel} from ${r.checkIn} to ${r.checkOut} (${r.roomCount} room${r.roomCount === 1 ? '' : 's'}) is now ${statusWords[r.status] ?? r.status}.`,
    `Total: ${r.totalAmount} ${r.currency} (minor units).`,
  ];
  if (r.cancelReason) body.push(`Reason: ${r.cancelReason}.`);
  const signature = 'This message was sent automatically.';
  const text = `${greeting}\n\n${body.join('\n')}\n\n${signature}`;
  let html = `<!doctype html><html><body><p>${escapeHtml(greeting)}</p><br>`;
  for (const l of body) html += `<p>${escapeHtml(l)}</p>`;
  html += `<br><p>${signature}</p></body></html>`;
  return { eventId: e.id, to: r.guest.email, subject, text, html };
}

/**
 * Without SMTP, MAIL_DIR must be a directory this process can write (made when missing): checked at start, so that a
 * wrong setting is said at once rather than found as mails that wait in guest_mails (see enqueue).
 */
export function checkMailDir(o: { smtpUrl?: string; mailDir: string }): void {
  if (o.smtpUrl) return;
  try {
    mkdirSync(o.mailDir, { recursive: true });
    accessSync(o.mailDir, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError(`MAIL_DIR: cannot make or write the directory ${path.resolve(o.mailDir)} (${code}): set it to a writable directory, or set SMTP_URL`);
  }
}

export class Mailer {
  /** SMTP when SMTP_URL is set (else messages are written as files). */
  private readonly transport: Transporter | undefined;
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly catalog: Pool,
    private readonly o: { smtpUrl?: string; mailDir: string; log?: Logger; pollMs?: number; retryScale?: number },
  ) {
    this.transport = o.smtpUrl ? nodemailer.createTransport(o.smtpUrl) : undefined;
  }

  /**
   * Record mails to send (an event recorded before keeps its row: the same event is mailed once). Without SMTP the
   * .eml file is written at once: its name is the event id and an existing file is kept, which is the
   * de-duplication, so no row is needed (the caller's job completes only after the files are written). A file that
   * cannot be written (MAIL_DIR gone, full, or not writable) is recorded as a row instead and written by the retry
   * loop once it can be: the job completes, so the webhooks of the events after it do not wait for the mail.
   */
  async enqueue(mails: GuestMail[]): Promise<void> {
    if (mails.length === 0) return;
    let rows = mails;
    if (!this.transport) {
      const now = new Date();
      rows = [];
      let error: Error | undefined;
      for (const m of mails) {
        try {
          this.ensureDir();
          this.writeFile(m, now);
        } catch (err) {
          rows.push(m);
          error = err as Error;
        }
      }
      if (!error) return;
      this.o.log?.warn('guest mails not written; recorded to retry', { mails: rows.length, mailDir: this.o.mailDir, err: error.message });
    }
    await this.catalog.query(
      `INSERT INTO guest_mails (event_id, recipient, subject, text_body, html_body)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[])
       ON CONFLICT (event_id) DO NOTHING`,
      [rows.map((m) => m.eventId), rows.map((m) => m.to), rows.map((m) => m.subject), rows.map((m) => m.text), rows.map((m) => m.html)],
    );
  }

  start(): void {
    // By SMTP every mail goes through the rows; as files only those that could not be written at once, so the loop
    // looks less often.
    const idleMs = this.o.pollMs ?? (this.transport ? 100 : 2_000);
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const n = await this.sendDue().catch((err: Error) => {
          this.o.log?.warn('guest mail round failed', { err: err.message });
          return 0;
        });
        if (n === 0) await sleepWhile(idleMs, () => this.running);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.transport?.close();
  }

  /** Send the due mails, each claimed first ('sending'); answers how many were tried. */
  async sendDue(): Promise<number> {
    const r = await this.catalog.query(
      `UPDATE guest_mails SET state = 'sending', attempts = attempts + 1 WHERE event_id IN (
         SELECT event_id FROM guest_mails WHERE state = 'pending' AND next_attempt_at <= now()
          ORDER BY next_attempt_at LIMIT 20 FOR UPDATE SKIP LOCKED)
       RETURNING event_id, recipient, subject, text_body, html_body, attempts`,
    );
    for (const m of r.rows) {
      const mail: GuestMail = { eventId: m.event_id, to: m.recipient, subject: m.subject, text: m.text_body, html: m.html_body };
      try {
        await this.send(mail);
        await this.catalog.query("UPDATE guest_mails SET state = 'sent', last_error = NULL WHERE event_id = $1", [mail.eventId]);
      } catch (err) {
        // Not sent (the server refused or could not be reached): due again later, backing off.
        const delayMs = Math.min(3_600_000, 5_000 * 2 ** Math.min(10, Number(m.attempts))) * (this.o.retryScale ?? 1);
        await this.catalog.query(
          "UPDATE guest_mails SET state = 'pending', last_error = $2, next_attempt_at = now() + make_interval(secs => $3::float8 / 1000) WHERE event_id = $1",
          [mail.eventId, (err as Error).message.slice(0, 500), delayMs],
        );
        this.o.log?.warn('guest mail not sent; will retry', { eventId: mail.eventId, err: (err as Error).message });
      }
    }
    return r.rowCount ?? 0;
  }

  private async send(m: GuestMail): Promise<void> {
    // The message is composed here (a few string operations; nodemailer's composer cost about 3-8 ms of CPU per
    // message, a core at a few hundred reservations per second) and nodemailer sends it as it is.
    if (this.transport) {
      await this.transport.sendMail({ envelope: { from: fromAddress, to: [m.to] }, raw: mimeOf(m, new Date()) });
      return;
    }
    this.ensureDir();
    this.writeFile(m, new Date());
  }

  private dirMade = false;
  private ensureDir(): void {
    if (this.dirMade) return;
    mkdirSync(this.o.mailDir, { recursive: true });
    this.dirMade = true;
  }

  /**
   * One file per event: an existing file (the same event) is left as it is. Written synchronously: for files of a
   * few KB, open/write/close on this thread cost about a third of the CPU of fs/promises (FileHandle objects, a
   * thread-pool round trip per call), measured on this 2-core machine at 3,000 files (100 ms against 460 ms); a
   * job's mails block the notifier's loop for a few ms per hundred.
   */
  private writeFile(m: GuestMail, at: Date, again = true): void {
    let fd: number;
    try {
      fd = openSync(path.join(this.o.mailDir, `${m.eventId}.eml`), 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && again) {
        // The directory was removed under a running notifier: make it again, once.
        this.dirMade = false;
        this.ensureDir();
        return this.writeFile(m, at, false);
      }
      throw err;
    }
    try {
      writeSync(fd, mimeOf(m, at));
    } finally {
      closeSync(fd);
    }
  }
}

const fromAddress = 'reservations@reservation-engine.invalid';

/** Sleep up to `ms`, waking early once `still()` turns false (a stop need not wait out a long poll). */
async function sleepWhile(ms: number, still: () => boolean): Promise<void> {
  for (const end = Date.now() + ms; still() && Date.now() < end; ) await new Promise((r) => setTimeout(r, Math.min(100, end - Date.now())));
}

/** A header value as RFC 2047 encoded words (UTF-8, base64) when it is not plain ASCII, each word whole characters. */
function encodeHeader(v: string): string {
  if (/^[\x20-\x7e]*$/.test(v)) return v;
  const words: string[] = [];
  let chunk = '';
  for (const ch of v) {
    if (Buffer.byteLength(chunk + ch) > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w).toString('base64')}?=`).join('\r\n ');
}

/** Base64 in lines of 76 characters (RFC 2045), each followed by CRLF but the last. */
function base64Lines(s: string): string {
  const b = Buffer.from(s).toString('base64');
  if (b.length <= 76) return b;
  const lines: string[] = [];
  for (let i = 0; i < b.length; i += 76) lines.push(b.slice(i, i + 76));
  return lines.join('\r\n');
}

/** The whole message (RFC 5322, MIME multipart/alternative: a text and an HTML part). */
export function mimeOf(m: GuestMail, at: Date): string {
  const boundary = `=_${m.eventId}`;
  return [
    `From: ${from}`,
    `To: ${m.to}`,
    `Subject: ${encodeHeader(m.subject)}`,
    `Message-ID: <${m.eventId}@reservation-engine.invalid>`,
    `Date: ${at.toUTCString()}`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    base64Lines(m.text),
    `--${boundary}`,
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    base64Lines(m.html),
    `--${boundary}--`,
    '',
  ].join('\r\n');
}
