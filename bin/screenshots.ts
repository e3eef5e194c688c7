// Screenshots of the web pages from a running engine (`npm start`, or the demo server of web/README.md):
//   node dist/bin/screenshots.js [--all DIR]
// BASE_URL (default http://127.0.0.1:3000) and ADMIN_API_KEY say which engine and its admin token. It books a few
// stays in the first hotel (so the calendar and the dashboard have something to show), then writes
// docs/img/calendar.png (the hotel page's calendar) and docs/img/staff-dashboard.png (the staff page's dashboard),
// at 1366×900. With --all DIR it also writes every page at 1366×900 and 390×844 into DIR, and prints each page's
// horizontal overflow at 390 px.
// Page functions run in the browser (this project compiles without the DOM library), and API answers are read loosely.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { chromium, type Page } from 'playwright-core';

declare const document: any;
declare const window: any;
declare const localStorage: any;
declare const sessionStorage: any;

const base = (process.env.BASE_URL ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
const admin = process.env.ADMIN_API_KEY;
if (!admin) {
  process.stderr.write('screenshots: set ADMIN_API_KEY to the engine\'s admin token\n');
  process.exit(2);
}
const allDir = process.argv.includes('--all') ? process.argv[process.argv.indexOf('--all') + 1] : undefined;
const imgDir = path.resolve('docs/img');

async function call(method: string, url: string, body?: unknown, token = admin, idempotencyKey?: string): Promise<any> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...(idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: HTTP ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}
const day = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);

const hotel = (await call('GET', '/v1/hotels')).items[0];
if (!hotel) throw new Error('no hotel: start the engine with DEMO_DATA=1');
const roomTypes = (await call('GET', `/v1/hotels/${hotel.id}/room-types`)).items;
// One demo guest, made on the first run and signed in on the next ones.
const email = 'ada@example.com';
await call('POST', '/v1/users', { email, password: 'screenshots 123', name: 'Ada Lovelace' }).catch(() => null);
const guest = (await call('POST', '/v1/sessions', { email, password: 'screenshots 123' })).token as string;
// Paid stays do not expire (a hold lasts HOLD_TTL_SECONDS, 15 minutes by default).
const existing = (await call('GET', `/v1/reservations?hotelId=${hotel.id}&status=paid&limit=5`)).items.length;
const made: any[] = [];
if (existing < 5) {
  // A spread of stays: a busy weekend, a sold-out night on the smallest room type, a few singles.
  const names = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Edsger Dijkstra', 'Barbara Liskov', 'Donald Knuth', 'Margaret Hamilton', 'Ken Thompson'];
  const plan: Array<[number, number, number, number]> = [
    [0, 0, 3, 4], [0, 1, 2, 3], [1, 2, 5, 2], [0, 4, 6, 6], [1, 4, 7, 3], [2, 5, 6, 4], [0, 9, 12, 5], [1, 13, 15, 2],
    [0, 18, 21, 7], [2, 19, 20, 3], [1, 24, 26, 4], [0, 40, 44, 8],
  ];
  for (const [i, [rt, a, b, rooms]] of plan.entries()) {
    const roomType = roomTypes[rt % roomTypes.length];
    const r = await call(
      'POST',
      '/v1/reservations',
      { reservationId: randomUUID(), hotelId: hotel.id, roomTypeId: roomType.id, checkIn: day(a), checkOut: day(b), roomCount: Math.min(rooms, roomType.totalInventory), guest: { name: names[i % names.length], email: `guest${i}@example.com` } },
      admin,
    ).catch((err) => (process.stderr.write(`${err.message}\n`), null));
    // All but the last two are paid; those stay held, as at a real front desk.
    if (r && i < plan.length - 2) await call('POST', `/v1/reservations/${r.id}/payment`, { paymentMethod: 'pm_card_visa' }, admin, randomUUID()).catch((err) => process.stderr.write(`${err.message}\n`));
    if (r) made.push(r);
  }
  await new Promise((r) => setTimeout(r, 1500));
}
// The guest's own held reservation, for the confirmation page and "My reservations".
const mine =
  (await call('GET', '/v1/reservations?status=pending&limit=1', undefined, guest)).items[0] ??
  (await call(
    'POST',
    '/v1/reservations',
    { reservationId: randomUUID(), hotelId: hotel.id, roomTypeId: roomTypes[roomTypes.length - 1].id, checkIn: day(30), checkOut: day(33), roomCount: 1, guest: { name: 'Ada Lovelace', email } },
    guest,
  ));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
try {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'en-GB', timezoneId: hotel.timezone });
  await context.addInitScript(([g, a, e]: string[]) => {
    localStorage.setItem('booking.token', g);
    localStorage.setItem('booking.user', JSON.stringify({ email: e, name: 'Ada Lovelace' }));
    sessionStorage.setItem('booking.staffToken', a);
    sessionStorage.setItem('booking.staffUser', JSON.stringify({ admin: true }));
  }, [guest, admin, email]);
  const page = await context.newPage();
  page.on('pageerror', (err) => process.stderr.write(`page error on ${page.url()}: ${err.message}\n`));

  const openHotel = async (p: Page) => {
    await p.goto(`${base}/hotel.html?id=${hotel.id}`);
    await p.waitForSelector('#calendar-table');
    await p.waitForSelector('#stream-status[data-state="live"]');
  };
  const openStaff = async (p: Page) => {
    await p.goto(`${base}/staff.html?hotel=${hotel.id}`);
    await p.waitForSelector('#occupancy figure svg');
    await p.waitForSelector('#reservations tbody tr');
    await p.waitForSelector('#occ-stream-status[data-state="live"]');
  };

  mkdirSync(imgDir, { recursive: true });
  await openHotel(page);
  await page.hover(`td[data-date="${day(4)}"] >> nth=0`);
  await page.locator('section.availability').screenshot({ path: path.join(imgDir, 'calendar.png'), animations: 'disabled' });
  await openStaff(page);
  // Paid stays only: a demo engine run before has holds that expired (canceled).
  await page.selectOption('#res-status', 'paid');
  await page.click('#res-load');
  await page.waitForFunction(() => [...document.querySelectorAll('#reservations tbody tr')].every((tr: any) => tr.dataset.status === 'paid'));
  // As the hotel's staff see it: without the admin's "create a hotel" form.
  await page.evaluate(() => {
    document.getElementById('admin-panel').hidden = true;
  });
  // The dashboard: the hotel, its occupancy and its reservations (from the hotel panel to the end of the reservations).
  const top = await page.evaluate(() => document.querySelector('[aria-labelledby="hotel-title"]').getBoundingClientRect().top + window.scrollY);
  const bottom = await page.evaluate(() => document.querySelector('[aria-labelledby="res-title"]').getBoundingClientRect().bottom + window.scrollY);
  await page.screenshot({ path: path.join(imgDir, 'staff-dashboard.png'), fullPage: true, clip: { x: 0, y: top - 12, width: 1366, height: Math.min(1400, bottom - top + 24) }, animations: 'disabled' });
  process.stdout.write(`wrote ${path.join(imgDir, 'calendar.png')} and ${path.join(imgDir, 'staff-dashboard.png')}\n`);

  if (allDir) {
    mkdirSync(allDir, { recursive: true });
    const pages: Array<[string, string, (p: Page) => Promise<void>]> = [
      ['index', `/?checkIn=${day(3)}&checkOut=${day(5)}&guests=2`, (p) => p.waitForSelector('#hotel-list li').then(() => {})],
      ['hotel', `/hotel.html?id=${hotel.id}`, (p) => p.waitForSelector('#calendar-table').then(() => {})],
      ['login', '/login.html?reason=book', async () => {}],
      ['signup', '/signup.html', async () => {}],
      ['reservations', '/reservations.html', (p) => p.waitForSelector('#reservation-list tbody tr').then(() => {})],
      ['confirmation', `/confirmation.html?id=${mine?.id ?? ''}`, (p) => p.waitForSelector('#reservation:not([hidden])').then(() => {})],
      ['staff', `/staff.html?hotel=${hotel.id}`, async (p) => {
        await p.waitForSelector('#occupancy figure svg');
        await p.waitForSelector('#audit-list tbody tr');
        if (await p.locator('#webhook-list .wh-deliveries').count()) {
          await p.click('#webhook-list .wh-deliveries >> nth=0');
          await p.waitForSelector('#delivery-list');
        }
      }],
    ];
    for (const [width, height, label] of [[1366, 900, 'desktop'], [390, 844, 'phone']] as const) {
      await page.setViewportSize({ width, height });
      for (const [name, url, ready] of pages) {
        await page.goto(`${base}${url}`);
        await ready(page).catch((err) => process.stderr.write(`${name}: ${err.message}\n`));
        await page.waitForTimeout(300);
        const o = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth }));
        if (label === 'phone') process.stdout.write(`${name} at 390 px: scrollWidth ${o.sw}, clientWidth ${o.cw}${o.sw > o.cw ? '  OVERFLOW' : ''}\n`);
        if (label === 'phone' && o.sw > o.cw) {
          // The outermost elements that reach past the right edge: where to look.
          const culprits: string[] = await page.evaluate((cw: number) => {
            const out: string[] = [];
            for (const el of document.querySelectorAll('body *')) {
              const r = el.getBoundingClientRect();
              if (r.right > cw + 1 && !(el.parentElement.getBoundingClientRect().right > cw + 1)) {
                out.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${[...el.classList].join('.')} right=${Math.round(r.right)}`);
              }
            }
            return out.slice(0, 10);
          }, o.cw);
          process.stdout.write(`  reaching past the edge: ${culprits.join('; ')}\n`);
        }
        await page.screenshot({ path: path.join(allDir, `${name}-${label}.png`), fullPage: true });
        // Long pages also in slices, to look at them at their real size.
        const height: number = await page.evaluate(() => document.documentElement.scrollHeight);
        for (let y = 0, k = 1; height > 2000 && y < height; y += 1500, k++) {
          await page.screenshot({ path: path.join(allDir, `${name}-${label}-${k}.png`), fullPage: true, clip: { x: 0, y, width, height: Math.min(1500, height - y) } });
        }
      }
    }
  }
} finally {
  await browser.close();
}
