// Browser tests of the web pages at their edges (headless Debian chromium through playwright-core, against the real
// stack in this process with its own databases and Redis prefix, like booking.test.ts):
//  1. the hotel's midnight passes while the hotel page and the staff page are open: the next (re)fetch reads from the
//     new today (the calendar, the booking form's first night, the occupancy chart), with no error;
//  2. the calendar stays inside [today, the horizon's last night]: "Next" stops at the window that ends with the last
//     night (then disabled), and a `from` in the past or past the horizon is moved into it;
//  3. a room type renamed, given another maxGuests, or deleted changes the booking form's select too, which keeps
//     the guest's choice while it exists;
//  4. a staff sign-in makes no failed request (the admin probe, GET /metrics, answered staff with a 403).
//
// The midnight of (1): the server's clock is real and the page's is moved. The hotel starts in UTC−12 (Etc/GMT+12);
// after the pages have loaded it moves to UTC+14 (Etc/GMT-14), so that for the server its today is really one or two
// days later, and the pages' clock moves 26 h ahead, so that today in the zone the pages know (UTC−12) is that same
// day. The pages were not told of the move (they read the hotel once), so what they see is exactly a midnight passing:
// a page that kept its first today asks for a night the server now calls "before today" (400).
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { browserSuite } from '../support/browser.js';
import { adminToken } from '../support/env.js';
import { createHotel, createRoomType, dayFromToday } from '../support/fixtures.js';
import type { HttpClient } from '../support/http.js';

// The page functions below run in the browser; this project compiles without the DOM library.
declare const window: any;
declare const document: any;

const HORIZON_DAYS = 730; // INVENTORY_HORIZON_DAYS's default, which the test stack keeps
const WAIT = { timeout: 8000 };

/** Today in a time zone, as the server and the pages compute it. */
function todayIn(timeZone: string, at = Date.now()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(at));
}

const cellSel = (roomTypeId: string, date: string) => `td[data-room-type="${roomTypeId}"][data-date="${date}"]`;

describe('web pages at their edges (midnight, horizon, room type changes, admin probe) in headless chromium', function () {
  this.timeout(90_000);

  const suite = browserSuite();
  const { pageErrors } = suite;

  const admin = (): HttpClient => suite.stack.admin;

  /** A fresh browser context; `failed` collects the console's errors and every answer ≥ 400, `availability` the
   * checkIn of every availability request and its status. */
  async function newPage(): Promise<{ page: Page; failed: string[]; availability: Array<{ checkIn: string; checkOut: string; status: number }> }> {
    const context = await suite.newContext({ viewport: { width: 1366, height: 900 }, locale: 'en-US', timezoneId: 'UTC' });
    const page = await suite.newPage(context);
    const failed: string[] = [];
    const availability: Array<{ checkIn: string; checkOut: string; status: number }> = [];
    page.on('console', (m) => {
      if (m.type() === 'error') failed.push(`console: ${m.text()}`);
    });
    page.on('response', (r) => {
      const url = new URL(r.url());
      if (r.status() >= 400) failed.push(`${r.request().method()} ${url.pathname}${url.search} → ${r.status()}`);
      if (/\/availability$/.test(url.pathname)) {
        availability.push({ checkIn: url.searchParams.get('checkIn') ?? '', checkOut: url.searchParams.get('checkOut') ?? '', status: r.status() });
      }
    });
    return { page, failed, availability };
  }

  /** The hotel moves from UTC−12 to UTC+14 (for the server, its today moves on) and the page's clock 26 h ahead (for
   * the page, the hotel's midnight passes); then a pricing change makes the stream say `reset` (docs/api.md). */
  async function midnightPasses(page: Page, hotelId: string): Promise<string> {
    await page.clock.setSystemTime(Date.now() + 26 * 3600_000);
    const moved = await admin().put(`/v1/hotels/${hotelId}`, { timezone: 'Etc/GMT-14' });
    expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
    const tiers = await admin().put(`/v1/hotels/${hotelId}/pricing`, { tiers: [{ occupancyPercent: 95, multiplierPercent: 110 }] });
    expect(tiers.status, JSON.stringify(tiers.body)).to.equal(200);
    return todayIn('Etc/GMT-14');
  }

  it('the hotel page after the hotel\'s midnight: a refetch reads from the new today, and the booking form moves to it', async function () {
    const hotel = await createHotel(admin(), { name: 'Midnight Hotel', timezone: 'Etc/GMT+12' });
    const rt = await createRoomType(admin(), hotel.id, { name: 'Double', totalInventory: 5 });
    const before = todayIn('Etc/GMT+12');
    const { page, availability } = await newPage();
    await page.goto(`${suite.stack.baseUrl}/hotel.html?id=${hotel.id}`);
    await page.waitForSelector(cellSel(rt.id, before));
    await page.waitForSelector('#stream-status[data-state="live"]');
    expect(await page.getAttribute('#calendar', 'data-from')).to.equal(before);
    expect(await page.inputValue('#check-in')).to.equal(before);

    const after = await midnightPasses(page, hotel.id);
    expect(after > before, `${after} is after ${before}`).to.equal(true);
    const asked = availability.length;
    await page.waitForSelector(`#calendar[data-from="${after}"]`, WAIT);
    await page.waitForSelector(cellSel(rt.id, after), WAIT);
    // The refetch asked from the new today and was answered; no error is shown.
    const calendarReads = availability.slice(asked).filter((a) => a.checkIn !== '' && Date.parse(a.checkOut) - Date.parse(a.checkIn) === 30 * 86_400_000);
    expect(calendarReads.length, JSON.stringify(availability)).to.be.greaterThan(0);
    expect(calendarReads.every((a) => a.checkIn === after && a.status === 200), JSON.stringify(calendarReads)).to.equal(true);
    expect(await page.isHidden('#calendar-error')).to.equal(true);
    // The range controls and the booking form follow: nothing before the new today can be chosen.
    expect(await page.getAttribute('#calendar-start', 'min')).to.equal(after);
    expect(await page.isDisabled('#prev-range')).to.equal(true);
    expect(await page.getAttribute('#check-in', 'min')).to.equal(after);
    expect(await page.inputValue('#check-in')).to.equal(after);
    expect((await page.inputValue('#check-out')) > after).to.equal(true);
    expect(new URL(page.url()).searchParams.get('from')).to.equal(null);
  });

  it('the staff occupancy chart after the hotel\'s midnight: a refetch reads from the new today, with no error', async function () {
    const hotel = await createHotel(admin(), { name: 'Midnight Staff Hotel', timezone: 'Etc/GMT+12' });
    const rt = await createRoomType(admin(), hotel.id, { name: 'Double', totalInventory: 5 });
    const before = todayIn('Etc/GMT+12');
    const { page } = await newPage();
    await page.addInitScript((t: string) => {
      window.sessionStorage.setItem('booking.staffToken', t);
      window.sessionStorage.setItem('booking.staffUser', JSON.stringify({ admin: true }));
    }, adminToken);
    await page.goto(`${suite.stack.baseUrl}/staff.html?hotel=${hotel.id}`);
    const fig = `#occupancy figure[data-room-type="${rt.id}"]`;
    await page.waitForSelector(`${fig} rect.bar[data-date="${before}"]`, { state: 'attached' });
    await page.waitForSelector('#occ-stream-status[data-state="live"]');

    const after = await midnightPasses(page, hotel.id);
    await page.waitForFunction(
      ({ fig, after }) => document.querySelector(`${fig} rect.bar`)?.dataset.date === after,
      { fig, after },
      WAIT,
    );
    expect(await page.locator(`${fig} rect.bar`).count()).to.equal(30);
    expect(await page.isHidden('#occ-error')).to.equal(true);
  });

  it('the calendar stays inside the horizon: "Next" stops at its last night, and a `from` outside it is moved in', async function () {
    const hotel = await createHotel(admin(), { name: 'Horizon Hotel' });
    const rt = await createRoomType(admin(), hotel.id, { name: 'Double', totalInventory: 5 });
    const lastNight = dayFromToday(HORIZON_DAYS - 1);
    const lastFrom = dayFromToday(HORIZON_DAYS - 30);
    const { page } = await newPage();

    // 10 nights before the last window: "Next" goes to the last window (not 30 nights on, past the horizon).
    await page.goto(`${suite.stack.baseUrl}/hotel.html?id=${hotel.id}&from=${dayFromToday(HORIZON_DAYS - 40)}`);
    await page.waitForSelector(cellSel(rt.id, dayFromToday(HORIZON_DAYS - 40)));
    expect(await page.isDisabled('#next-range')).to.equal(false);
    await page.click('#next-range');
    await page.waitForSelector(`#calendar[data-from="${lastFrom}"]`, WAIT);
    await page.waitForSelector(cellSel(rt.id, lastNight), WAIT);
    expect(await page.locator(cellSel(rt.id, dayFromToday(HORIZON_DAYS))).count()).to.equal(0);
    expect(await page.isDisabled('#next-range'), '"Next" is disabled at the end of the horizon').to.equal(true);
    expect(await page.isHidden('#calendar-error')).to.equal(true);
    expect(await page.getAttribute('#calendar-start', 'max')).to.equal(lastFrom);
    expect(new URL(page.url()).searchParams.get('from')).to.equal(lastFrom);
    await page.click('#prev-range');
    await page.waitForSelector(`#calendar[data-from="${dayFromToday(HORIZON_DAYS - 60)}"]`, WAIT);
    expect(await page.isDisabled('#next-range')).to.equal(false);

    // A `from` past the horizon shows the last window; one in the past shows today (with "Previous" disabled).
    await page.goto(`${suite.stack.baseUrl}/hotel.html?id=${hotel.id}&from=${dayFromToday(HORIZON_DAYS + 300)}`);
    await page.waitForSelector(`#calendar[data-from="${lastFrom}"]`, WAIT);
    await page.waitForSelector(cellSel(rt.id, lastNight), WAIT);
    expect(await page.isDisabled('#next-range')).to.equal(true);
    expect(await page.isHidden('#calendar-error')).to.equal(true);
    await page.goto(`${suite.stack.baseUrl}/hotel.html?id=${hotel.id}&from=2020-01-01`);
    await page.waitForSelector(`#calendar[data-from="${dayFromToday(0)}"]`, WAIT);
    await page.waitForSelector(cellSel(rt.id, dayFromToday(0)), WAIT);
    expect(await page.isDisabled('#prev-range')).to.equal(true);
    expect(await page.isHidden('#calendar-error')).to.equal(true);
    expect(await page.inputValue('#calendar-start')).to.equal(dayFromToday(0));
  });

  it('a room type renamed, given another maxGuests or deleted changes the booking form\'s select, which keeps the choice while it exists', async function () {
    const hotel = await createHotel(admin(), { name: 'Changing Rooms Hotel' });
    const a = await createRoomType(admin(), hotel.id, { name: 'Double', maxGuests: 2 });
    const b = await createRoomType(admin(), hotel.id, { name: 'Suite', maxGuests: 2 });
    const { page, failed } = await newPage();
    await page.goto(`${suite.stack.baseUrl}/hotel.html?id=${hotel.id}`);
    await page.waitForSelector(cellSel(b.id, dayFromToday(0)));
    await page.waitForSelector('#stream-status[data-state="live"]');
    await page.waitForSelector(`#room-type option[value="${b.id}"]`, { state: 'attached' });
    await page.selectOption('#room-type', b.id);
    const optionText = (id: string) => page.textContent(`#room-type option[value="${id}"]`);

    // Renamed: the calendar's row and the form's option both say the new name; the choice (Suite) stays.
    expect((await admin().put(`/v1/hotels/${hotel.id}/room-types/${a.id}`, { name: 'Double Deluxe' })).status).to.equal(200);
    await page.waitForFunction((id: string) => document.querySelector(`tr[data-room-type="${id}"] th`)?.textContent === 'Double Deluxe', a.id, WAIT);
    await page.waitForFunction((id: string) => document.querySelector(`#room-type option[value="${id}"]`)?.textContent.startsWith('Double Deluxe'), a.id, WAIT);
    expect(await page.inputValue('#room-type')).to.equal(b.id);

    // Another maxGuests: the option says it.
    expect((await admin().put(`/v1/hotels/${hotel.id}/room-types/${a.id}`, { maxGuests: 3 })).status).to.equal(200);
    await page.waitForFunction((id: string) => /up to 3 guests/.test(document.querySelector(`#room-type option[value="${id}"]`)?.textContent ?? ''), a.id, WAIT);
    expect(await optionText(a.id)).to.contain('Double Deluxe');
    expect(await page.inputValue('#room-type')).to.equal(b.id);

    // Deleted (the one chosen): its row and its option go; the form offers what is left and quotes it.
    const failedBefore = failed.length;
    expect((await admin().delete(`/v1/hotels/${hotel.id}/room-types/${b.id}`)).status).to.equal(204);
    await page.waitForSelector(`tr[data-room-type="${b.id}"]`, { state: 'detached', ...WAIT });
    await page.waitForSelector(`#room-type option[value="${b.id}"]`, { state: 'detached', ...WAIT });
    expect(await page.locator('#room-type option').count()).to.equal(1);
    expect(await page.inputValue('#room-type')).to.equal(a.id);
    await page.waitForFunction(() => /night/.test(document.getElementById('quote')?.textContent ?? ''), undefined, WAIT);
    expect(failed.slice(failedBefore), 'no request for the deleted room type').to.deep.equal([]);
  });

  it('a staff sign-in (and a reload) makes no failed request and logs no console error', async function () {
    const hotel = await createHotel(admin(), { name: 'Quiet Console Hotel' });
    await createRoomType(admin(), hotel.id, { name: 'Double' });
    const email = `quiet-desk-${Date.now()}@example.com`;
    expect((await admin().post('/v1/users', { email, password: 'front desk 123', name: 'Desk', role: 'staff', hotelIds: [hotel.id] })).status).to.equal(201);
    const { page, failed } = await newPage();
    await page.goto(`${suite.stack.baseUrl}/staff.html?hotel=${hotel.id}`);
    await page.fill('#staff-email', email);
    await page.fill('#staff-password', 'front desk 123');
    await page.click('#staff-login-button');
    await page.waitForSelector('#staff-signed-in-as');
    expect(await page.textContent('#staff-signed-in-as')).to.contain(email);
    await page.waitForSelector('#audit-list');
    await page.waitForSelector('#occ-stream-status[data-state="live"]');
    expect(await page.isHidden('#admin-panel')).to.equal(true);
    await page.reload();
    await page.waitForSelector('#audit-list');
    await page.waitForSelector('#occ-stream-status[data-state="live"]');
    await page.waitForTimeout(300);
    expect(await page.isHidden('#admin-panel')).to.equal(true);
    expect(failed, 'failed requests and console errors').to.deep.equal([]);
  });

  it('raised no uncaught errors in the pages', function () {
    expect(pageErrors).to.deep.equal([]);
  });
});
