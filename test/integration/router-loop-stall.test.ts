// Regression: a held event loop in the API was taken for a stalled Redis. A spread benchmark with two workers on a
// loaded 2-core machine (load ~14) answered 25 of 239 reservations 503 `unavailable`. On such a machine the API's
// event loop is held for ~1 s at a time (its 200 ms probe timer ran 0.7-1.6 s apart, and then found "Redis has not
// answered for over 500 ms"), and a timer runs before the I/O of its turn is read: the probe's PING, or a job's add
// (ioredis's 600 ms command timeout: "a queued job was not confirmed: Command timed out"), sent just before was found
// unanswered while Redis's answer sat unread in the socket. The commands buffered behind the lane's job in flight
// were then refused, though Redis was fine and nothing about them had failed. Here the test process itself holds its event loop for 900 ms
// right after a PING, or a job, is written to Redis: the commands buffered meanwhile must wait (and, with no worker
// to decide them, be answered as queued after REPLY_TIMEOUT_MS), never 503.
import { randomUUID } from 'node:crypto';
import type net from 'node:net';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { CommandRouter, type Outcome } from '../../engine/command-router.js';
import { parseConfig } from '../../engine/config.js';
import type { Command } from '../../engine/core/types.js';
import { deletePrefix } from '../../engine/redis.js';

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const replyTimeoutMs = 1_500;

/** Keep this process's event loop busy for `ms` (a starved CPU, a long GC pause). */
function holdLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy
  }
}

/** A command for `hotelId`; nobody decides it here (no worker), so only the router's own answers come back. */
const command = (hotelId: string) => ({ kind: 'cancel', hotelId, reservationId: randomUUID() }) as unknown as Command;

describe('command router: a held event loop is not a stalled Redis', function () {
  this.timeout(30_000);
  const prefix = `${process.env.TEST_DB_PREFIX ?? ''}router-stall-${randomUUID().slice(0, 8)}`;
  let router: CommandRouter;
  let stream: net.Socket;
  /** Set to hold the loop right after the next write to Redis that it matches. */
  let holdAfter: ((text: string) => boolean) | undefined;

  beforeEach(async () => {
    router = new CommandRouter(parseConfig({ REDIS_URL: redisUrl, REDIS_PREFIX: prefix, SHARD_COUNT: '4', REPLY_TIMEOUT_MS: String(replyTimeoutMs) }));
    await router.start();
    // The queue's connection writes each command to its socket (ioredis); the hold begins once the bytes are sent.
    stream = (router as unknown as { connection: { stream: net.Socket } }).connection.stream;
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((...args: unknown[]) => {
      const sent = write(...args);
      if (holdAfter?.(String(args[0]))) {
        holdAfter = undefined;
        holdLoop(900);
      }
      return sent;
    }) as typeof stream.write;
  });

  afterEach(async () => {
    holdAfter = undefined;
    await router.close();
  });

  after(async () => {
    const r = new Redis(redisUrl);
    await deletePrefix(r, prefix);
    r.disconnect();
  });

  /** Send one command that leaves in a job of its own, then one that waits behind it (one job in flight per shard). */
  const jobAndBuffered = async (hotelId: string): Promise<{ first: Promise<Outcome>; buffered: Promise<Outcome> }> => {
    const first = router.send(command(hotelId));
    // The router sends the first one's job once this tick's commands are in: the second goes into the lane's buffer.
    await new Promise<void>((r) => queueMicrotask(r));
    const buffered = router.send(command(hotelId));
    return { first, buffered };
  };

  it('keeps buffered commands when the loop was held while the probe\'s PING was out', async () => {
    const hotelId = `hotel-${randomUUID()}`;
    const { first, buffered } = await jobAndBuffered(hotelId);
    let held = false;
    holdAfter = (text) => (held = /PING/i.test(text));
    const t0 = Date.now();
    const [a, b] = await Promise.all([first, buffered]);
    expect(held, 'the loop was held after a PING').to.equal(true);
    expect(router.unavailableReason).to.equal(undefined);
    expect(b.kind, `the buffered command: ${JSON.stringify(b)}`).to.equal('late');
    expect(a.kind, `the command in flight: ${JSON.stringify(a)}`).to.equal('late');
    expect(Date.now() - t0).to.be.at.least(replyTimeoutMs - 50);
    expect(await router.send(command(hotelId)).then((o) => o.kind)).to.not.equal('unavailable');
  });

  it('keeps buffered commands when the loop was held while a job\'s add was out', async () => {
    const hotelId = `hotel-${randomUUID()}`;
    let held = false;
    holdAfter = (text) => (held = text.includes(hotelId));
    const { first, buffered } = await jobAndBuffered(hotelId);
    const [a, b] = await Promise.all([first, buffered]);
    expect(held, 'the loop was held after the job was sent').to.equal(true);
    expect(router.unavailableReason).to.equal(undefined);
    expect(b.kind, `the buffered command: ${JSON.stringify(b)}`).to.equal('late');
    expect(a.kind, `the command in flight: ${JSON.stringify(a)}`).to.equal('late');
  });
});
