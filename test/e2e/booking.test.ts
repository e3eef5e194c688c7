// Browser tests of the booking web pages against the real stack (API + shard owner in this process), in headless
// Debian chromium driven by playwright-core (issue 4, "What it must show"):
//  1. two pages on one hotel: a booking on the first turns exactly the right cells on the second within 1 s,
//     without a reload; a booking made over the API shows up live too;
//  2. a double click (and two rapid clicks, and a retry after a lost answer) books exactly once;
//  3. the sold-out path offers the alternatives, and one click books one (confirmation page, status pending);
//  4. the "updates paused" banner appears when the stream is cut and clears when it comes back;
//  5. screenshots of the calendar and of the conflict message in test-artifacts/;
// and issue 17, "The first hour" (each test saves desktop 1366×900 and phone 390×844 screenshots in test-artifacts/):
//  6. a first-time guest searches by dates and guests, signs up from the "log in to book" detour, books, sees the
//     hold's countdown, pays with the test card, and cancels with the refund shown; the hold's end shows "expired";
//  7. staff sign in (the header says so), see the new reservation, watch the occupancy chart move live with a
//     booking made over the API, set a pricing tier and see the calendar's price change, manage a webhook and read
//     the audit trail; an admin creates a hotel;
//  8. every page at 390 px has scrollWidth ≤ clientWidth.
import { mkdirSync } from 'node:fs';
import type { Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { browserSuite } from '../support/browser.js';
import { adminToken } from '../support/env.js';
import { createGuest, createHotel, createRoomType, dayFromToday, reservationBody } from '../support/fixtures.js';
import type { HttpClient } from '../support/http.js';

// The page functions below run in the browser; this project compiles without the DOM library.
declare const window: any;
declare const document: any;

const ARTIFACTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test-artifacts');
const LIVE_BUDGET_MS = 1000;

const cellSel = (roomTypeId: string, date: string) => `td[data-room-type="${roomTypeId}"][data-date="${date}"]`;
const nightsOf = (checkIn: number, checkOut: number) =>
  Array.from({ length: checkOut - checkIn }, (_, i) => dayFromToday(checkIn + i));

describe('booking web pages in headless chromium', function () {
  this.timeout(60_000);

  // The server side of every open availability stream, so that test 4 can cut them.
  const streamSockets = new Set<Socket>();
  const suite = browserSuite({
    vars: { WEBHOOK_ALLOW_PRIVATE: '1' },
    started: (stack) => {
      mkdirSync(ARTIFACTS, { recursive: true });
      stack.api.server.on('request', (req) => {
        if (!req.url?.includes('/availability/stream')) return;
        const socket = req.socket;
        streamSockets.add(socket);
        socket.once('close', () => streamSockets.delete(socket));
      });
    },
  });
  const { pageErrors } = suite;

  const admin = (): HttpClient => suite.stack.admin;

  /** A fresh browser context (its own storage), logged in as `token` if given. */
  async function newPage(token?: string): Promise<Page> {
    const context = await suite.newContext({
      viewport: { width: 1500, height: 1000 },
      locale: 'en-US',
      timezoneId: 'UTC',
      reducedMotion: 'no-preference',
    });
    // Log in the way web/README.md allows: the session token alone, under `booking.token`.
    if (token) await context.addInitScript((t: string) => window.localStorage.setItem('booking.token', t), token);
    return suite.newPage(context);
  }

  /** Open the hotel page and wait until the calendar is drawn, the stream is live and the form knows the room types. */
  async function openHotel(page: Page, hotelId: string, roomTypeIds: string[]): Promise<void> {
    await page.goto(`${suite.stack.baseUrl}/hotel.html?id=${hotelId}`);
    await page.waitForSelector('#calendar-table');
    await page.waitForSelector('#stream-status[data-state="live"]');
    for (const id of roomTypeIds) {
      await page.waitForSelector(`#room-type option[value="${id}"]`, { state: 'attached' });
      await page.waitForSelector(cellSel(id, dayFromToday(0)));
    }
    // The calendar has read its snapshot after the stream opened (every open refetches): nothing is pending.
    await page.waitForFunction(() => document.getElementById('calendar').dataset.version !== undefined);
  }

  async function fillBooking(
    page: Page,
    o: { roomTypeId: string; checkIn: string; checkOut: string; roomCount: number; name?: string; email?: string },
  ): Promise<void> {
    await page.fill('#check-in', o.checkIn);
    await page.fill('#check-out', o.checkOut);
    await page.selectOption('#room-type', o.roomTypeId);
    await page.fill('#room-count', String(o.roomCount));
    await page.fill('#guest-name', o.name ?? 'Grace Hopper');
    await page.fill('#guest-email', o.email ?? 'grace@example.com');
    await page.waitForSelector('#book-button:enabled');
  }

  async function available(page: Page, roomTypeId: string, date: string): Promise<number> {
    return Number(await page.getAttribute(cellSel(roomTypeId, date), 'data-available'));
  }

  /** Record, in the page, every calendar cell whose data-available changes, with the time (Date.now()) it changed. */
  async function watchCalendar(page: Page): Promise<void> {
    await page.evaluate(() => {
      window.__cellChanges = [];
      window.__notReloaded = true;
      new window.MutationObserver((records: any[]) => {
        const at = Date.now();
        for (const r of records) {
          const td = r.target;
          if (r.oldValue === td.dataset.available) continue;
          window.__cellChanges.push({ key: `${td.dataset.roomType}|${td.dataset.date}`, from: r.oldValue, to: td.dataset.available, at });
        }
      }).observe(document.getElementById('calendar'), {
        subtree: true,
        attributes: true,
        attributeFilter: ['data-available'],
        attributeOldValue: true,
      });
    });
  }

  async function cellChanges(page: Page): Promise<Array<{ key: string; from: string; to: string; at: number }>> {
    return page.evaluate(() => window.__cellChanges);
  }

  async function waitForAvailable(page: Page, roomTypeId: string, dates: string[], value: number, timeout = 5000): Promise<void> {
    await page.waitForFunction(
      ({ sels, value }) => sels.every((s: string) => document.querySelector(s)?.dataset.available === String(value)),
      { sels: dates.map((d) => cellSel(roomTypeId, d)), value },
      { timeout },
    );
  }

  async function apiAvailable(hotelId: string, roomTypeId: string, checkIn: string, checkOut: string): Promise<number[]> {
    const r = await admin().get(`/v1/hotels/${hotelId}/availability?checkIn=${checkIn}&checkOut=${checkOut}&roomTypeId=${roomTypeId}`);
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    const rt = r.body.roomTypes.find((x: any) => x.roomTypeId === roomTypeId);
    return rt.nights.map((n: any) => n.available);
  }

  async function guestReservations(token: string): Promise<any[]> {
    const r = await admin().as(token).get('/v1/reservations?limit=200');
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    return r.body.items;
  }

  /** Save the page at 1366×900 and at 390×844 (full page) as test-artifacts/<name>-desktop.png and -phone.png. */
  async function shoot(page: Page, name: string): Promise<void> {
    const size = page.viewportSize();
    for (const [width, height, label] of [[1366, 900, 'desktop'], [390, 844, 'phone']] as const) {
      await page.setViewportSize({ width, height });
      await page.waitForTimeout(200); // the occupancy chart redraws for its new width
      await page.screenshot({ path: path.join(ARTIFACTS, `${name}-${label}.png`), fullPage: true, animations: 'disabled' });
    }
    if (size) await page.setViewportSize(size);
  }

  /** Horizontal overflow of the page: [scrollWidth, clientWidth] of the document. */
  async function widths(page: Page): Promise<[number, number]> {
    return page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  }

  async function expectConfirmation(page: Page, status = 'pending'): Promise<string> {
    await page.waitForURL(/\/confirmation\.html\?id=/, { timeout: 10_000 });
    await page.waitForSelector(`#reservation[data-status="${status}"]`, { timeout: 10_000 });
    return (await page.getAttribute('#reservation', 'data-reservation-id'))!;
  }

  // ---- 1. live updates between two pages --------------------------------------------------------------------------

  it('a booking on one page turns exactly the right cells on another page within 1 s, without a reload', async function () {
    const hotel = await createHotel(admin(), { name: 'Hôtel du Parc' }); // default 10% overbooking
    const double = await createRoomType(admin(), hotel.id, { name: 'Double', totalInventory: 20, baseRate: 15000 });
    const suite = await createRoomType(admin(), hotel.id, { name: 'Suite', maxGuests: 4, totalInventory: 2, baseRate: 32000 });
    const guest = await createGuest(admin());

    const booker = await newPage(guest.token);
    const watcher = await newPage();
    await Promise.all([openHotel(booker, hotel.id, [double.id, suite.id]), openHotel(watcher, hotel.id, [double.id, suite.id])]);
    let watcherNavigations = 0;
    watcher.on('framenavigated', (f) => {
      if (f === watcher.mainFrame()) watcherNavigations++;
    });
    await watchCalendar(watcher);

    // Sellable limit floor(20 × 110 / 100) = 22; the stay covers nights +3, +4, +5.
    const nights = nightsOf(3, 6);
    for (const d of nights) expect(await available(watcher, double.id, d)).to.equal(22);

    await fillBooking(booker, { roomTypeId: double.id, checkIn: dayFromToday(3), checkOut: dayFromToday(6), roomCount: 2 });
    const clickedAt = Date.now();
    await booker.click('#book-button');
    await waitForAvailable(watcher, double.id, nights, 20);

    const changes = await cellChanges(watcher);
    const lastChange = Math.max(...changes.map((c) => c.at));
    const delay = lastChange - clickedAt;
    console.log(`      click on page 1 → last cell changed on page 2: ${delay} ms`);
    expect(delay, 'click → cells updated on the other page (ms)').to.be.at.most(LIVE_BUDGET_MS);
    // Exactly the booked room type × the stay's nights changed, each by the room count, once.
    expect(changes.map((c) => c.key).sort()).to.deep.equal(nights.map((d) => `${double.id}|${d}`).sort());
    for (const c of changes) expect(Number(c.from) - Number(c.to)).to.equal(2);
    for (const d of nights) {
      const cls = (await watcher.getAttribute(cellSel(double.id, d), 'class'))!.split(/\s+/);
      expect(cls).to.include.members(['cell', 'plenty', 'updated', 'flash']);
      expect(await watcher.getAttribute(cellSel(double.id, d), 'data-updated')).to.equal('true');
    }
    // Neighbours of the stay, and the other room type, are untouched.
    for (const sel of [cellSel(double.id, dayFromToday(2)), cellSel(double.id, dayFromToday(6)), cellSel(suite.id, dayFromToday(3))]) {
      expect(await watcher.getAttribute(sel, 'class')).to.not.match(/updated|flash/);
    }
    expect(watcherNavigations, 'the watching page was not reloaded').to.equal(0);
    expect(await watcher.evaluate(() => window.__notReloaded)).to.equal(true);

    // The booking page went on to its confirmation; the reservation is the one the cells show.
    const reservationId = await expectConfirmation(booker);
    const mine = await guestReservations(guest.token);
    expect(mine.map((r) => r.id)).to.deep.equal([reservationId]);
    expect(mine[0]).to.include({ roomTypeId: double.id, checkIn: dayFromToday(3), checkOut: dayFromToday(6), roomCount: 2, status: 'pending' });

    // A booking made over the API (another channel) shows up live as well: the Suite sells out on +8…+10.
    const suiteNights = nightsOf(8, 11);
    const postedAt = Date.now();
    const r = await admin().post('/v1/reservations', reservationBody(hotel.id, suite.id, dayFromToday(8), dayFromToday(11), { roomCount: 2 }));
    expect(r.status, JSON.stringify(r.body)).to.equal(201);
    await waitForAvailable(watcher, suite.id, suiteNights, 0);
    const apiChanges = (await cellChanges(watcher)).filter((c) => c.key.startsWith(`${suite.id}|`));
    const apiDelay = Math.max(...apiChanges.map((c) => c.at)) - postedAt;
    console.log(`      POST over the API → cells changed on the page: ${apiDelay} ms`);
    expect(apiDelay, 'API booking → cells updated on the page (ms)').to.be.at.most(LIVE_BUDGET_MS);
    expect(apiChanges.map((c) => c.key).sort()).to.deep.equal(suiteNights.map((d) => `${suite.id}|${d}`).sort());
    for (const d of suiteNights) {
      expect(await watcher.getAttribute(cellSel(suite.id, d), 'data-state')).to.equal('soldout');
      expect(await watcher.getAttribute(cellSel(suite.id, d), 'class')).to.match(/\bsoldout\b.*\bupdated\b/);
    }
    // One more night with a single Suite left, for a yellow cell next to the red ones.
    const one = await admin().post('/v1/reservations', reservationBody(hotel.id, suite.id, dayFromToday(13), dayFromToday(14)));
    expect(one.status, JSON.stringify(one.body)).to.equal(201);
    await waitForAvailable(watcher, suite.id, [dayFromToday(13)], 1);
    expect(await watcher.getAttribute(cellSel(suite.id, dayFromToday(13)), 'data-state')).to.equal('few');
    expect(watcherNavigations).to.equal(0);

    // The calendar as a person sees it: green Doubles (three updated), yellow Suites (few left), red sold-out nights.
    await watcher.hover(cellSel(suite.id, dayFromToday(9))); // shows the tooltip text in #cell-details
    await watcher.locator('section.availability').screenshot({ path: path.join(ARTIFACTS, 'calendar.png'), animations: 'disabled' });
    expect(await watcher.textContent('#cell-details')).to.match(/^Suite, .*: sold out, .*€320\.00 per night/);
  });

  // ---- 2. a double click books once -------------------------------------------------------------------------------

  it('a double click, two rapid clicks, or a retry after a lost answer each book exactly once', async function () {
    const hotel = await createHotel(admin(), { name: 'Double Click Inn' });
    const double = await createRoomType(admin(), hotel.id, { name: 'Double', totalInventory: 20 });
    const guest = await createGuest(admin());
    const page = await newPage(guest.token);
    const posted: Array<{ reservationId: string }> = [];
    page.on('request', (req) => {
      if (req.method() === 'POST' && new URL(req.url()).pathname === '/v1/reservations') posted.push(req.postDataJSON());
    });

    async function round(o: { checkIn: number; checkOut: number; roomCount: number }, click: () => Promise<void>, expectedTotal: number) {
      const checkIn = dayFromToday(o.checkIn);
      const checkOut = dayFromToday(o.checkOut);
      const before = await apiAvailable(hotel.id, double.id, checkIn, checkOut);
      posted.length = 0;
      await openHotel(page, hotel.id, [double.id]);
      await fillBooking(page, { roomTypeId: double.id, checkIn, checkOut, roomCount: o.roomCount });
      await click();
      const id = await expectConfirmation(page);
      // Whatever was sent carried one reservationId: the idempotency key of this one attempt.
      expect(posted.length).to.be.at.least(1);
      expect(new Set(posted.map((b) => b.reservationId))).to.deep.equal(new Set([id]));
      const mine = await guestReservations(guest.token);
      expect(mine, JSON.stringify(mine)).to.have.length(expectedTotal);
      expect(mine.filter((r) => r.checkIn === checkIn)).to.have.length(1);
      expect(mine.find((r) => r.id === id)).to.include({ roomCount: o.roomCount, status: 'pending' });
      const after = await apiAvailable(hotel.id, double.id, checkIn, checkOut);
      expect(after).to.deep.equal(before.map((a) => a - o.roomCount));
      return posted.length;
    }

    // Playwright's double click: two clicks (and a dblclick event) as fast as a mouse sends them.
    const n1 = await round({ checkIn: 2, checkOut: 4, roomCount: 3 }, () => page.dblclick('#book-button'), 1);
    // Two separate rapid clicks on the same spot, the second sent without waiting for the first.
    const n2 = await round(
      { checkIn: 5, checkOut: 7, roomCount: 1 },
      async () => {
        // Mouse clicks go to coordinates: bring the button into the viewport first (below the calendar under 1600 px).
        await page.locator('#book-button').scrollIntoViewIfNeeded();
        const b = (await page.locator('#book-button').boundingBox())!;
        const x = b.x + b.width / 2;
        const y = b.y + b.height / 2;
        await Promise.all([page.mouse.click(x, y), page.mouse.click(x, y)]);
      },
      2,
    );
    // The answer to the first POST is lost (the server booked, the browser saw a network error); pressing Book
    // again must reuse the same reservationId and land on the same reservation.
    let lost = 0;
    await page.route('**/v1/reservations', async (route) => {
      if (route.request().method() === 'POST' && lost === 0) {
        lost++;
        await route.fetch(); // reaches the server…
        await route.abort('connectionreset'); // …but the answer never reaches the page
        return;
      }
      await route.continue();
    });
    const n3 = await round(
      { checkIn: 8, checkOut: 9, roomCount: 2 },
      async () => {
        await page.click('#book-button');
        await page.waitForSelector('#booking-error:not([hidden])');
        await page.waitForSelector('#book-button:enabled');
        await page.click('#book-button');
      },
      3,
    );
    await page.unroute('**/v1/reservations');
    expect(lost).to.equal(1);
    expect(n3, 'the retry sent the same body again').to.equal(2);
    console.log(`      POSTs sent: dblclick ${n1}, two rapid clicks ${n2}, lost answer + retry ${n3}`);
  });

  // ---- 3. sold out: alternatives, one click books ------------------------------------------------------------------

  it('sold out shows the alternatives, and clicking one books it', async function () {
    const hotel = await createHotel(admin(), { name: 'Tiny Hotel', overbookingPercent: 0 });
    const single = await createRoomType(admin(), hotel.id, { name: 'Single', maxGuests: 1, totalInventory: 1, baseRate: 9000 });
    const twin = await createRoomType(admin(), hotel.id, { name: 'Twin', maxGuests: 2, totalInventory: 4, baseRate: 12000 });
    const checkIn = dayFromToday(4);
    const checkOut = dayFromToday(6);
    const taken = await admin().post('/v1/reservations', reservationBody(hotel.id, single.id, checkIn, checkOut));
    expect(taken.status, JSON.stringify(taken.body)).to.equal(201);

    const guest = await createGuest(admin());
    const page = await newPage(guest.token);
    await openHotel(page, hotel.id, [single.id, twin.id]);
    for (const d of nightsOf(4, 6)) expect(await page.getAttribute(cellSel(single.id, d), 'data-state')).to.equal('soldout');

    await fillBooking(page, { roomTypeId: single.id, checkIn, checkOut, roomCount: 1 });
    await page.click('#book-button');
    await page.waitForSelector('#conflict:not([hidden]) button.alternative');
    expect(await page.textContent('#conflict h3')).to.equal('Sold out');
    const alternatives = await page.$$eval('#conflict button.alternative', (bs: any[]) =>
      bs.map((b) => ({ roomTypeId: b.dataset.roomTypeId, checkIn: b.dataset.checkIn, checkOut: b.dataset.checkOut, text: b.textContent })),
    );
    console.log(`      alternatives offered: ${alternatives.length}`);
    expect(alternatives.length).to.be.within(1, 5);
    // Other room types for the same dates come first.
    expect(alternatives[0]).to.include({ roomTypeId: twin.id, checkIn, checkOut });
    expect(alternatives[0].text).to.contain('Twin');
    expect(await guestReservations(guest.token)).to.have.length(0);
    // The price quote (debounced 300 ms) says the same; wait for it so the screenshot shows the settled form, and
    // move the mouse off the alternatives (it stays where Book was, which the conflict box scrolled under it).
    await page.waitForFunction(() => /sold out/i.test(document.getElementById('quote').textContent));
    await page.mouse.move(0, 0);
    await page.locator('section.booking').screenshot({ path: path.join(ARTIFACTS, 'conflict.png'), animations: 'disabled' });

    await page.click('#conflict button.alternative >> nth=0');
    const id = await expectConfirmation(page, 'pending');
    expect(await page.getAttribute('#reservation-status', 'data-status')).to.equal('pending');
    const mine = await guestReservations(guest.token);
    expect(mine).to.have.length(1);
    expect(mine[0]).to.include({ id, roomTypeId: twin.id, checkIn, checkOut, roomCount: 1, status: 'pending' });
  });

  // ---- 4. the banner when the stream is cut -----------------------------------------------------------------------

  it('says plainly when live updates are paused, and clears once the stream is back', async function () {
    const hotel = await createHotel(admin(), { name: 'Flaky Network Hotel' });
    const double = await createRoomType(admin(), hotel.id, { name: 'Double', totalInventory: 20 });
    const page = await newPage();
    await openHotel(page, hotel.id, [double.id]);
    expect(await page.isHidden('#stream-banner')).to.equal(true);
    expect(await page.textContent('#stream-status')).to.equal('Live');

    // Cutting the stream. `context.setOffline(true)` does not work here: Chromium's offline emulation only fails
    // new requests, the open EventSource keeps receiving (tried: the status stayed "Live" for 6 s). A
    // `page.route(…, abort)` alone has the same problem. So: refuse every new stream request in the browser
    // (page.route → abort, as if the server were unreachable) AND drop the open stream's TCP connection on the
    // server side (what a restarting proxy or server does). The other requests (availability reads, bookings) keep
    // working, and the page has to notice the loss the way it would in real life: the EventSource errors out.
    let refused = 0;
    await page.route('**/availability/stream', async (route) => {
      refused++;
      await route.abort('connectionrefused');
    });
    expect(streamSockets.size).to.be.at.least(1);
    const cutAt = Date.now();
    for (const s of streamSockets) s.destroy();
    await page.waitForSelector('#stream-banner:visible', { timeout: 5000 });
    console.log(`      banner shown ${Date.now() - cutAt} ms after the cut`);
    expect(await page.getAttribute('#stream-status', 'data-state')).to.equal('paused');
    expect(await page.textContent('#stream-status')).to.match(/paused/i);
    expect(await page.textContent('#stream-banner')).to.match(/paused/i).and.match(/out of date/i);

    // While it is down, a booking happens elsewhere; the page cannot know yet, and keeps saying so.
    const night = dayFromToday(15);
    const r = await admin().post('/v1/reservations', reservationBody(hotel.id, double.id, night, dayFromToday(16), { roomCount: 4 }));
    expect(r.status, JSON.stringify(r.body)).to.equal(201);
    await page.waitForTimeout(2500); // the browser's own retry (`retry: 2000`) and the page's reconnect both fail
    expect(refused, 'reconnection attempts refused while cut').to.be.at.least(1);
    expect(await page.isVisible('#stream-banner')).to.equal(true);
    expect(await page.getAttribute('#stream-status', 'data-state')).to.equal('paused');
    expect(await available(page, double.id, night)).to.equal(22);

    // The stream comes back: the page reconnects by itself, the banner clears, and it catches up at once.
    await page.unroute('**/availability/stream');
    const backAt = Date.now();
    await page.waitForSelector('#stream-status[data-state="live"]', { timeout: 15_000 });
    await page.waitForSelector('#stream-banner', { state: 'hidden' });
    console.log(`      live again ${Date.now() - backAt} ms after the stream returned (${refused} attempts refused)`);
    expect(await page.textContent('#stream-status')).to.equal('Live');
    await waitForAvailable(page, double.id, [night], 18);
    expect(await page.getAttribute(cellSel(double.id, night), 'class')).to.match(/\bupdated\b/);
  });

  it('a first-time guest searches by dates and guests, signs up from the detour, books, pays with the test card and cancels with the refund shown', async function () {
    const city = `Porto ${Date.now()}`;
    const hotel = await createHotel(admin(), { name: 'Policy Hotel', city, cancellationPolicy: { freeUntilHoursBefore: 8760, penaltyPercent: 20 } });
    const single = await createRoomType(admin(), hotel.id, { name: 'Single', maxGuests: 1, totalInventory: 5, baseRate: 6_000 });
    const double = await createRoomType(admin(), hotel.id, { name: 'Double', maxGuests: 2, totalInventory: 5, baseRate: 10_000 });
    const page = await newPage();
    await page.setViewportSize({ width: 1366, height: 900 });

    // Search by city, dates and two guests: the hotel's from-price is the Double's (the Single takes one guest).
    await page.goto(`${suite.stack.baseUrl}/`);
    await page.fill('#city', city);
    await page.fill('#check-in', dayFromToday(20));
    await page.fill('#check-out', dayFromToday(22));
    await page.fill('#guests', '2');
    await page.click('#search-button');
    const card = `#hotel-list li[data-hotel-id="${hotel.id}"]`;
    await page.waitForSelector(`${card}[data-offer="20000"]`);
    expect(await page.textContent(card)).to.contain('€200.00');
    await shoot(page, 'guest-search');
    await page.click(`${card} a.hotel-link`);

    // The hotel page keeps the stay and the guest count: only the Double is offered, in the form and the calendar.
    await page.waitForSelector('#calendar-table');
    await page.waitForSelector(`#room-type option[value="${double.id}"]`, { state: 'attached' });
    await page.waitForSelector(cellSel(double.id, dayFromToday(20))); // the calendar starts at the stay
    expect(await page.inputValue('#guest-count')).to.equal('2');
    expect(await page.inputValue('#check-in')).to.equal(dayFromToday(20));
    expect(await page.$$eval('#room-type option', (os: any[]) => os.map((o) => o.value))).to.deep.equal([double.id]);
    expect(await page.locator(`td[data-room-type="${single.id}"]`).count(), 'Single rows in the calendar').to.equal(0);
    expect(await page.textContent('#guests-note')).to.match(/1 room type is too small for 2 guests/);
    // One guest: the Single comes back.
    await page.fill('#guest-count', '1');
    await page.waitForSelector(`#room-type option[value="${single.id}"]`, { state: 'attached' });
    await page.waitForSelector(cellSel(single.id, dayFromToday(20)));
    await page.fill('#guest-count', '2');
    await page.waitForFunction((id: string) => !document.querySelector(`td[data-room-type="${id}"]`), single.id);

    // Book → the "log in to book" detour → sign up there → back on the hotel page, the form as it was → book.
    await page.fill('#guest-name', 'Nova Firsttime');
    await page.fill('#guest-email', 'nova@example.com');
    await page.click('#book-button');
    await page.waitForURL(/\/login\.html\?.*reason=book/);
    await page.click('#to-signup');
    await page.waitForURL(/\/signup\.html\?next=/);
    const email = `nova-${Date.now()}@example.com`;
    await page.fill('#signup-name', 'Nova Firsttime');
    await page.fill('#signup-email', email);
    await page.fill('#signup-password', 'first hour 123');
    await page.click('#signup-button');
    await page.waitForURL(/\/hotel\.html\?/);
    await page.waitForSelector('#booking-status:not([hidden])');
    expect(await page.textContent('#signed-in-as')).to.contain(email);
    expect(await page.inputValue('#guest-count')).to.equal('2');
    expect(await page.inputValue('#check-out')).to.equal(dayFromToday(22));
    await page.waitForSelector(`#room-type option[value="${double.id}"]`, { state: 'attached' });
    await page.waitForSelector('#book-button:enabled');
    await page.click('#book-button');
    const id = await expectConfirmation(page, 'pending');

    // Held: "Held until HH:MM — pay to confirm", and a countdown that runs.
    expect(await page.textContent('#confirmation-title')).to.match(/^Held until \d{2}:\d{2} — pay to confirm$/);
    const first = (await page.textContent('#hold-remaining'))!;
    expect(first).to.match(/^1[45]:\d{2}$/); // the default hold is 15 minutes
    await page.waitForFunction((t: string) => document.getElementById('hold-remaining').textContent !== t, first, { timeout: 3000 });
    expect(await page.getAttribute('#hold-countdown', 'data-state')).to.equal('running');
    await page.waitForFunction(() => /20%/.test(document.getElementById('r-policy').textContent));
    await shoot(page, 'guest-held');

    // Pay with the test card chooser, then cancel inside the policy's window: 20% of 200.00 is kept.
    await page.selectOption('#payment-method', 'pm_card_visa');
    await page.click('#pay-button');
    await page.waitForSelector('#reservation[data-status="paid"]');
    expect(await page.textContent('#confirmation-title')).to.equal('Your reservation is confirmed');
    expect(await page.textContent('#r-paid')).to.contain('200.00');
    await page.waitForFunction(() => /160\.00/.test(document.getElementById('cancel-button').textContent));
    await page.click('#cancel-button');
    await page.waitForSelector('#reservation[data-status="refunded"]');
    expect(await page.textContent('#action-status')).to.contain('160.00');
    await page.waitForSelector('#r-refund[data-status="done"]', { timeout: 15_000 });
    expect(await page.textContent('#r-refund')).to.match(/160\.00.*refunded/);
    await shoot(page, 'guest-refunded');

    // The server agrees: the new account's one reservation, a Double for two nights, refunded 160.00.
    const token = await page.evaluate(() => window.localStorage.getItem('booking.token'));
    const mine = await guestReservations(token!);
    expect(mine).to.have.length(1);
    expect(mine[0]).to.include({ id, roomTypeId: double.id, checkIn: dayFromToday(20), checkOut: dayFromToday(22), status: 'refunded' });
    expect(mine[0].payment.refund).to.include({ amount: 16_000 });
  });

  it('the held page turns to "expired" when its countdown reaches 0, and stops offering payment', async function () {
    const hotel = await createHotel(admin(), { name: 'Countdown Hotel' });
    const rt = await createRoomType(admin(), hotel.id, { totalInventory: 5, baseRate: 10_000 });
    const guest = await createGuest(admin());
    const made = await admin().as(guest.token).post('/v1/reservations', reservationBody(hotel.id, rt.id, dayFromToday(5), dayFromToday(6)));
    expect(made.status, JSON.stringify(made.body)).to.equal(201);
    const page = await newPage(guest.token);
    await page.clock.install(); // the page's clock, moved on below; the server's hold is untouched
    await page.goto(`${suite.stack.baseUrl}/confirmation.html?id=${made.body.id}`);
    await page.waitForSelector('#reservation[data-status="pending"]');
    expect(await page.textContent('#hold-remaining')).to.match(/^1[45]:\d{2}$/);
    await page.clock.fastForward('14:00');
    await page.waitForFunction(() => /^0[01]:\d{2}$/.test(document.getElementById('hold-remaining').textContent));
    expect(await page.getAttribute('#hold-countdown', 'data-state')).to.equal('ending');
    await page.clock.fastForward('01:01');
    await page.waitForSelector('#hold-countdown[data-state="expired"]');
    expect(await page.textContent('#hold-remaining')).to.equal('00:00');
    expect(await page.textContent('#confirmation-title')).to.equal('The hold has expired');
    expect(await page.isDisabled('#pay-button')).to.equal(true);
    await shoot(page, 'held-expired');
  });

  it('staff sign in, see the new reservation, watch the occupancy chart move live, set a tier that changes the calendar, and manage webhooks and the audit', async function () {
    const hotel = await createHotel(admin(), { name: 'Staff Hotel' });
    const rt = await createRoomType(admin(), hotel.id, { name: 'Double', totalInventory: 4, baseRate: 10_000 });
    const email = `desk-${Date.now()}@example.com`;
    expect((await admin().post('/v1/users', { email, password: 'front desk 123', name: 'Desk', role: 'staff', hotelIds: [hotel.id] })).status).to.equal(201);
    const guest = await createGuest(admin());
    const made = await admin().as(guest.token).post('/v1/reservations', reservationBody(hotel.id, rt.id, dayFromToday(6), dayFromToday(8), { guest: { name: 'Ada Staffcheck', email: 'ada@example.com' } }));
    expect(made.status).to.equal(201);
    const page = await newPage();
    await page.setViewportSize({ width: 1366, height: 900 });
    await page.goto(`${suite.stack.baseUrl}/staff.html?hotel=${hotel.id}`);
    expect(await page.textContent('#auth')).to.contain('Log in');
    await page.fill('#staff-email', email);
    await page.fill('#staff-password', 'front desk 123');
    await page.click('#staff-login-button');
    // The header says who is signed in (it used to keep showing "Log in").
    await page.waitForSelector('#staff-signed-in-as');
    expect(await page.textContent('#staff-signed-in-as')).to.contain(email);
    expect(await page.locator('#auth #login-link').count()).to.equal(0);
    expect(await page.isHidden('#admin-panel'), 'staff are not offered "create a hotel"').to.equal(true);
    await page.waitForSelector(`#reservations tr[data-reservation-id="${made.body.id}"][data-status="pending"]`);
    expect(await page.textContent('#reservations tbody')).to.contain('Ada Staffcheck');

    // The occupancy chart: 1 of 4 rooms on +6 and +7 (25%); a booking over the API moves it without a reload.
    const fig = `#occupancy figure[data-room-type="${rt.id}"]`;
    await page.waitForSelector(`${fig} rect[data-date="${dayFromToday(6)}"][data-occupancy="25"]`);
    await page.waitForSelector('#occ-stream-status[data-state="live"]');
    expect(await page.locator(`${fig} rect.bar`).count()).to.equal(30);
    expect(await page.getAttribute(fig, 'data-reserved')).to.equal('2');
    let navigations = 0;
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations++;
    });
    const postedAt = Date.now();
    const other = await admin().post('/v1/reservations', reservationBody(hotel.id, rt.id, dayFromToday(2), dayFromToday(4), { roomCount: 2 }));
    expect(other.status, JSON.stringify(other.body)).to.equal(201);
    await page.waitForSelector(`${fig}[data-reserved="6"]`, { timeout: 5000 });
    console.log(`      POST over the API → occupancy chart moved: ${Date.now() - postedAt} ms`);
    for (const d of [2, 3]) expect(await page.getAttribute(`${fig} rect[data-date="${dayFromToday(d)}"]`, 'data-occupancy')).to.equal('50');
    expect(await page.getAttribute(`${fig} rect[data-date="${dayFromToday(4)}"]`, 'data-occupancy')).to.equal('0');
    expect(Number(await page.getAttribute(`${fig} rect[data-date="${dayFromToday(2)}"]`, 'height'))).to.be.greaterThan(
      Number(await page.getAttribute(`${fig} rect[data-date="${dayFromToday(6)}"]`, 'height')),
    );
    // The reservations list follows too.
    await page.waitForSelector(`#reservations tr[data-reservation-id="${other.body.id}"][data-status="pending"]`, { timeout: 5000 });
    expect(navigations, 'the staff page was not reloaded').to.equal(0);
    await page.click('#occ-90');
    await page.waitForSelector('#occupancy[data-nights="90"]');
    expect(await page.locator(`${fig} rect.bar`).count()).to.equal(90);
    await page.click('#occ-30');
    await page.waitForSelector('#occupancy[data-nights="30"]');

    // A pricing tier (50% full → 150%) changes the price on the hotel page's calendar, live: +2 and +3 are half full.
    const guestView = await newPage();
    await openHotel(guestView, hotel.id, [rt.id]);
    expect(await guestView.getAttribute(cellSel(rt.id, dayFromToday(2)), 'data-rate')).to.equal('10000');
    await page.fill('#tiers-text', '50 → 150');
    await page.click('#tiers-submit');
    await page.waitForSelector('#tiers-result:not([hidden])');
    expect((await admin().get(`/v1/hotels/${hotel.id}/pricing`)).body.tiers).to.deep.equal([{ occupancyPercent: 50, multiplierPercent: 150 }]);
    await guestView.waitForFunction((sel: string) => document.querySelector(sel)?.dataset.rate === '15000', cellSel(rt.id, dayFromToday(2)), { timeout: 5000 });
    expect(await guestView.getAttribute(cellSel(rt.id, dayFromToday(3)), 'data-rate')).to.equal('15000');
    expect(await guestView.getAttribute(cellSel(rt.id, dayFromToday(6)), 'data-rate')).to.equal('10000'); // 25%: no tier
    await guestView.hover(cellSel(rt.id, dayFromToday(2)));
    expect(await guestView.textContent('#cell-details')).to.contain('€150.00');
    await shoot(guestView, 'calendar-after-tier');

    await page.fill('#policy-hours', '48');
    await page.fill('#policy-penalty', '25');
    await page.click('#policy-submit');
    await page.waitForSelector('#policy-result:not([hidden])');
    expect((await admin().get(`/v1/hotels/${hotel.id}`)).body.cancellationPolicy).to.deep.equal({ freeUntilHoursBefore: 48, penaltyPercent: 25 });
    page.once('dialog', (d) => void d.accept());
    await page.click(`#reservations tr[data-reservation-id="${made.body.id}"] .cancel-reservation`);
    await page.waitForSelector(`#reservations tr[data-reservation-id="${made.body.id}"][data-status="canceled"]`);
    await page.waitForSelector(`${fig}[data-reserved="4"]`); // the cancel frees +6 and +7 on the chart too

    // Webhooks: add one for this hotel, disable and enable it (PUT), look at its deliveries, replay, delete.
    await page.fill('#wh-url', 'http://127.0.0.1:9/hooks/booking');
    await page.check('#wh-events input[value="availability.changed"]');
    await page.click('#wh-submit');
    await page.waitForSelector('#wh-result:not([hidden])');
    expect(await page.textContent('#wh-result')).to.match(/secret, shown only now: whsec_/);
    const hooks = (await admin().get('/v1/webhooks')).body.items.filter((w: any) => w.url === 'http://127.0.0.1:9/hooks/booking');
    expect(hooks).to.have.length(1);
    expect(hooks[0]).to.deep.include({ hotelIds: [hotel.id], enabled: true });
    expect(hooks[0].events).to.include.members(['reservation.created', 'availability.changed']);
    const row = `#webhook-list tr[data-webhook-id="${hooks[0].id}"]`;
    await page.click(`${row} .wh-toggle`);
    await page.waitForSelector(`${row}[data-enabled="false"]`);
    expect((await admin().get(`/v1/webhooks/${hooks[0].id}`)).body.enabled).to.equal(false);
    await page.click(`${row} .wh-toggle`);
    await page.waitForSelector(`${row}[data-enabled="true"]`);
    expect((await admin().get(`/v1/webhooks/${hooks[0].id}`)).body.enabled).to.equal(true);
    await page.click(`${row} .wh-deliveries`);
    await page.waitForSelector(`#deliveries-panel[data-webhook-id="${hooks[0].id}"]:not([hidden]) #delivery-list`);
    await page.click('#replay-submit');
    await page.waitForSelector('#dl-result:not([hidden])');
    expect(await page.textContent('#dl-result')).to.match(/^\d+ event\(s\) since .* will be delivered again\.$/);

    // The audit trail, newest first: the cancel, the policy, the tier, the bookings; a dozen rate changes made
    // over the API before them push it past one page (15 records).
    for (let i = 0; i < 12; i++) {
      const r = await admin().put(`/v1/hotels/${hotel.id}/room-types/${rt.id}/rates`, { from: dayFromToday(40 + i), to: dayFromToday(41 + i), amount: 11_000 + i });
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
    }
    page.once('dialog', (d) => void d.accept());
    await page.click(`#reservations tr[data-reservation-id="${other.body.id}"] .cancel-reservation`);
    await page.waitForSelector(`#reservations tr[data-reservation-id="${other.body.id}"][data-status="canceled"]`);
    await page.click('#audit-newest');
    await page.waitForFunction(() => document.querySelector('#audit-list tbody tr')?.dataset.command === 'cancel');
    const audit = await page.$$eval('#audit-list tbody tr', (trs: any[]) => trs.map((tr) => ({ seq: Number(tr.dataset.sequence), command: tr.dataset.command })));
    expect(audit.map((a) => a.seq)).to.deep.equal([...audit.map((a) => a.seq)].sort((x, y) => y - x));
    expect(audit).to.have.length(15);
    expect(audit.map((a) => a.command)).to.include.members(['cancel', 'setRates', 'updateHotel']);
    await shoot(page, 'staff-dashboard');
    // The next page by its cursor: the five oldest records.
    await page.click('#audit-older');
    await page.waitForFunction((last: number) => Number(document.querySelector('#audit-list tbody tr')?.dataset.sequence) < last, audit[14].seq);
    const older = await page.$$eval('#audit-list tbody tr', (trs: any[]) => trs.map((tr) => ({ seq: Number(tr.dataset.sequence), command: tr.dataset.command })));
    expect(Math.max(...older.map((a) => a.seq))).to.be.lessThan(audit[14].seq);
    expect(older.map((a) => a.command)).to.deep.equal(['setPricing', 'reserve', 'reserve', 'createRoomType', 'createHotel']);
    expect(await page.isVisible('#audit-older'), 'no page after the last').to.equal(false);
    expect(await page.textContent('#audit-page')).to.match(/^Page 2 /);

    page.once('dialog', (d) => void d.accept());
    await page.click(`${row} .wh-delete`);
    await page.waitForFunction((sel: string) => !document.querySelector(sel), row);
    expect((await admin().get(`/v1/webhooks/${hooks[0].id}`)).status).to.equal(404);
  });

  it('an admin (with the admin token) creates a hotel and its first room type from the staff page', async function () {
    const page = await newPage();
    await page.setViewportSize({ width: 1366, height: 900 });
    await page.goto(`${suite.stack.baseUrl}/staff.html`);
    expect(await page.isHidden('#admin-panel')).to.equal(true);
    await page.fill('#staff-token', adminToken);
    await page.click('#token-button');
    await page.waitForSelector('#admin-panel:not([hidden])');
    expect(await page.textContent('#staff-signed-in-as')).to.match(/^Admin/);
    const name = `Admin Made ${Date.now()}`;
    await page.fill('#nh-name', name);
    await page.fill('#nh-city', 'Faro');
    await page.fill('#nh-rt-name', 'Sea view');
    await page.fill('#nh-rt-rooms', '7');
    await page.click('#nh-submit');
    await page.waitForSelector('#nh-result:not([hidden])');
    const made = (await admin().get('/v1/hotels?limit=200')).body.items.find((x: any) => x.name === name);
    expect(made).to.include({ city: 'Faro', country: 'PT', timezone: 'Europe/Lisbon', currency: 'EUR' });
    const rts = (await admin().get(`/v1/hotels/${made.id}/room-types`)).body.items;
    expect(rts.map((r: any) => ({ name: r.name, totalInventory: r.totalInventory }))).to.deep.equal([{ name: 'Sea view', totalInventory: 7 }]);
    // It is now the chosen hotel: its room type is listed and its (empty) chart is drawn.
    expect(await page.inputValue('#staff-hotel')).to.equal(made.id);
    await page.waitForSelector(`#occupancy figure[data-room-type="${rts[0].id}"]`);
    await shoot(page, 'staff-admin-created-hotel');
  });

  it('every page at 390 px is no wider than the screen (scrollWidth ≤ clientWidth)', async function () {
    const hotel = await createHotel(admin(), { name: 'Narrow Screen Hotel with a rather long name for a phone', city: 'Lisbon' });
    const rt = await createRoomType(admin(), hotel.id, { name: 'Family room with a view of the river', maxGuests: 4, totalInventory: 6 });
    const guest = await createGuest(admin());
    const made = await admin().as(guest.token).post('/v1/reservations', reservationBody(hotel.id, rt.id, dayFromToday(3), dayFromToday(5)));
    expect(made.status).to.equal(201);
    const hook = await admin().post('/v1/webhooks', { url: 'http://127.0.0.1:9/a/rather/long/path/for/a/webhook/receiver/that/should/wrap', events: ['reservation.created'], hotelIds: [hotel.id] });
    expect(hook.status, JSON.stringify(hook.body)).to.equal(201);
    const page = await newPage(guest.token);
    await page.addInitScript((t: string) => {
      window.sessionStorage.setItem('booking.staffToken', t);
      window.sessionStorage.setItem('booking.staffUser', JSON.stringify({ admin: true }));
    }, adminToken);
    await page.setViewportSize({ width: 390, height: 844 });
    const pages: Array<[string, string, string]> = [
      ['index', `/?checkIn=${dayFromToday(3)}&checkOut=${dayFromToday(5)}&guests=2`, `#hotel-list li[data-hotel-id="${hotel.id}"]`],
      ['hotel', `/hotel.html?id=${hotel.id}`, cellSel(rt.id, dayFromToday(0))],
      ['login', '/login.html?reason=book', '#login-form'],
      ['signup', '/signup.html', '#signup-form'],
      ['reservations', '/reservations.html', `#reservation-list tr[data-reservation-id="${made.body.id}"]`],
      ['confirmation', `/confirmation.html?id=${made.body.id}`, '#reservation[data-status="pending"]'],
      ['staff', `/staff.html?hotel=${hotel.id}`, `#webhook-list tr[data-webhook-id="${hook.body.id}"]`],
    ];
    const wide: string[] = [];
    for (const [name, url, ready] of pages) {
      await page.goto(`${suite.stack.baseUrl}${url}`);
      await page.waitForSelector(ready, { state: 'attached' });
      if (name === 'staff') {
        await page.waitForSelector('#admin-panel:not([hidden])');
        await page.waitForSelector(`#occupancy figure[data-room-type="${rt.id}"]`);
        await page.waitForSelector('#audit-list tbody tr');
        await page.click(`#webhook-list tr[data-webhook-id="${hook.body.id}"] .wh-deliveries`);
        await page.waitForSelector('#delivery-list');
      }
      const [scrollWidth, clientWidth] = await widths(page);
      console.log(`      ${name}: scrollWidth ${scrollWidth}, clientWidth ${clientWidth}`);
      if (scrollWidth > clientWidth) wide.push(`${name}: scrollWidth ${scrollWidth} > clientWidth ${clientWidth} at 390 px`);
      expect(clientWidth, `${name}: the viewport is 390 px`).to.be.within(375, 390);
      await shoot(page, `narrow-${name}`);
    }
    expect(wide, `pages wider than the screen:\n${wide.join('\n')}`).to.deep.equal([]);
  });

  it('raised no uncaught errors in the pages', function () {
    expect(pageErrors).to.deep.equal([]);
  });
});
