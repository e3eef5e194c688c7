// The live availability calendar: room types (rows) × nights (columns), coloured by what is left, kept current
// from the SSE stream.
//
// Versions: every snapshot (GET …/availability) and every stream event carries the hotel's version. The page
// shows one version; an event whose version is not newer is ignored. Events that arrive while a snapshot is being
// read are kept (a bounded log), and replayed on top of the snapshot when it lands, so the calendar never goes
// backwards, whichever of the two answers first.

import { api, query } from './api.js';
import { addDays, formatDate, formatMoney, isIsoDate, plural, todayIn } from './format.js';
import { LiveStream } from './stream.js';
import { h, replace, showError, clearMessage } from './ui.js';

export const CALENDAR_NIGHTS = 30;
/** Nights ahead that can be sold, counted from today in the hotel's zone (`INVENTORY_HORIZON_DAYS`, docs/api.md): the
 * API does not say a deployment's value, so the page assumes the documented default and learns a smaller one from
 * the 400 that names the horizon's last night. */
export const HORIZON_DAYS = 730;
const LOG_LIMIT = 2000;
const DAY_CHECK_MS = 30_000;

/** The sellable limit of a night: floor(totalInventory × (100 + overbookingPercent) / 100). */
export function sellableLimit(night, overbookingPercent) {
  if (typeof overbookingPercent === 'number' && Number.isFinite(overbookingPercent)) {
    return Math.floor((night.totalInventory * (100 + overbookingPercent)) / 100);
  }
  return (night.reserved ?? 0) + (night.available ?? 0);
}

/** 'soldout' | 'few' | 'plenty' for a night. */
export function levelOf(night, overbookingPercent) {
  const available = night.available ?? 0;
  if (available <= 0) return 'soldout';
  const limit = sellableLimit(night, overbookingPercent);
  if (available <= 2 || available <= 0.2 * limit) return 'few';
  return 'plenty';
}

export class LiveCalendar {
  /**
   * @param {{hotelId: string, hotel: any, container: HTMLElement, statusEl: HTMLElement, bannerEl: HTMLElement,
   *          staleEl?: HTMLElement, errorEl?: HTMLElement, announceEl?: HTMLElement, detailsEl?: HTMLElement,
   *          onSnapshot?: (snapshot: any, why: string) => void, onCellClick?: (roomTypeId: string, date: string) => void,
   *          onRange?: (range: {from: string, to: string, today: string, lastFrom: string}) => void}} o
   * onSnapshot's `why`: 'show' (a new window), 'guests', 'open' (the stream (re)connected), 'reset', 'refetch'
   * (an event for a room type not shown) or 'day' (the hotel's date changed).
   * onRange: after every move of the window, and whenever "today" in the hotel's zone changes.
   */
  constructor(o) {
    Object.assign(this, o);
    this.from = null;
    this.to = null;
    this.lastNight = null; // the horizon's last night when an answer named it (a deployment with a shorter horizon)
    this.rangeShown = '';
    this.version = null; // version shown; null before the first snapshot
    this.rows = []; // [{roomTypeId, name}]
    this.nights = new Map(); // `${roomTypeId}|${date}` → night
    this.cells = new Map(); // same key → <td>
    this.log = []; // recent stream events, ascending version
    this.loadSeq = 0;
    this.appliedSeq = 0;
    this.refetchTimer = null;
    this.announcePending = 0;
    this.announceTimer = null;
    this.guests = 1; // room types for fewer guests are left out (the API's `guests`)
    this.skipRoomTypes = new Set(); // ids left out for that reason: their stream changes are not news here
    this.stream = new LiveStream(`/v1/hotels/${encodeURIComponent(this.hotelId)}/availability/stream`, {
      onEvent: (data) => this.onEvent(data),
      onReset: () => this.load('reset'),
      onOpen: () => this.load('open'), // catch up with whatever happened before this connection
      onState: (state) => this.showState(state),
    });
    this.showState('connecting');
    this.container.addEventListener('click', (e) => {
      const td = e.target.closest('td[data-room-type]');
      if (td && this.onCellClick) this.onCellClick(td.dataset.roomType, td.dataset.date);
    });
    // Keyboard: one tab stop in the table, arrow keys move between nights and room types, Enter picks.
    this.container.addEventListener('keydown', (e) => this.onKey(e));
    // Show the tooltip's text below the table too, for keyboard and touch users.
    const describe = (e) => {
      const td = e.target.closest?.('td[data-room-type]');
      if (td && this.detailsEl) this.detailsEl.textContent = td.getAttribute('aria-label');
    };
    this.container.addEventListener('focusin', describe);
    this.container.addEventListener('mouseover', describe);
    // The hotel's date moves at its local midnight: a window that starts before the new today moves with it (a
    // request for a night before today is refused), even when no event comes to make the page read again.
    const dayCheck = () => {
      if (this.from && this.today() !== this.rangeToday) void this.load('day');
    };
    this.dayTimer = setInterval(dayCheck, DAY_CHECK_MS);
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) dayCheck();
    });
  }

  /** Today in the hotel's time zone, now (never kept: the page may stay open past midnight). */
  today() {
    return todayIn(this.hotel?.timezone);
  }

  /** The last first night of a window that stays inside the horizon (never before `today`). */
  lastFrom(today = this.today()) {
    const last = this.lastNight && this.lastNight < addDays(today, HORIZON_DAYS - 1) ? this.lastNight : addDays(today, HORIZON_DAYS - 1);
    const d = addDays(last, 1 - CALENDAR_NIGHTS);
    return d < today ? today : d;
  }

  /** `from` moved into [today, lastFrom]. */
  clamp(from, today = this.today()) {
    if (!isIsoDate(from) || from < today) return today;
    const lastFrom = this.lastFrom(today);
    return from > lastFrom ? lastFrom : from;
  }

  /** Set the window to start at `from` (clamped), telling the page when the window or today changed. */
  setRange(from) {
    const today = this.today();
    this.from = this.clamp(from, today);
    this.to = addDays(this.from, CALENDAR_NIGHTS);
    const lastFrom = this.lastFrom(today);
    const key = `${this.from}|${today}|${lastFrom}`;
    if (key !== this.rangeShown) {
      this.rangeShown = key;
      this.rangeToday = today;
      this.onRange?.({ from: this.from, to: this.to, today, lastFrom });
    }
  }

  onKey(e) {
    const td = e.target.closest?.('td[data-room-type]');
    if (!td) return;
    const tr = td.parentElement;
    let target = null;
    switch (e.key) {
      case 'ArrowRight': target = td.nextElementSibling; break;
      case 'ArrowLeft': target = td.previousElementSibling; break;
      case 'ArrowDown':
      case 'ArrowUp': {
        const row = e.key === 'ArrowDown' ? tr.nextElementSibling : tr.previousElementSibling;
        target = row?.children[td.cellIndex] ?? null;
        break;
      }
      case 'Home': target = tr.querySelector('td'); break;
      case 'End': target = tr.lastElementChild; break;
      case 'Enter':
      case ' ':
        e.preventDefault();
        this.onCellClick?.(td.dataset.roomType, td.dataset.date);
        return;
      default:
        return;
    }
    e.preventDefault();
    if (target && target.matches('td[data-room-type]')) {
      td.tabIndex = -1;
      target.tabIndex = 0;
      target.focus();
    }
  }

  /** Show only room types for at least `guests` guests; `skip`: the ids that leaves out. */
  setGuests(guests, skip = []) {
    this.guests = guests;
    this.skipRoomTypes = new Set(skip);
    if (this.from) void this.load('guests');
  }

  /** Show `CALENDAR_NIGHTS` nights from `from` (moved into [today, the horizon's end]), and start the stream (first
   * call). */
  async show(from) {
    this.setRange(from);
    this.stream.start();
    await this.load('show');
  }

  // ---- snapshots --------------------------------------------------------------------------------------------------

  async load(why = 'refetch') {
    if (!this.from) return;
    // Today is read again at every (re)fetch: after the hotel's midnight a window from yesterday moves to today.
    this.setRange(this.from);
    const seq = ++this.loadSeq;
    const from = this.from;
    const to = this.to;
    let snapshot;
    try {
      const { data } = await api(
        `/v1/hotels/${encodeURIComponent(this.hotelId)}/availability${query({ checkIn: from, checkOut: to, guests: this.guests > 1 ? this.guests : undefined })}`,
        { token: false },
      );
      snapshot = data;
    } catch (err) {
      if (seq !== this.loadSeq) return;
      // A deployment whose horizon is shorter than the documented default: the answer names its last night.
      const last = horizonLastNight(err);
      if (last && (!this.lastNight || last < this.lastNight) && last >= this.today()) {
        this.lastNight = last;
        const before = this.from;
        this.setRange(this.from);
        if (this.from !== before) return this.load(why);
      }
      if (this.errorEl) showError(this.errorEl, err);
      return;
    }
    // A newer request was answered first, or the range changed meanwhile: this answer is outdated.
    if (seq <= this.appliedSeq || from !== this.from || to !== this.to) return;
    this.appliedSeq = seq;
    if (this.errorEl) clearMessage(this.errorEl);
    this.applySnapshot(snapshot, from, to, why);
  }

  applySnapshot(snapshot, from, to, why) {
    const roomTypes = Array.isArray(snapshot?.roomTypes) ? snapshot.roomTypes : [];
    const rows = roomTypes.map((rt) => ({ roomTypeId: rt.roomTypeId, name: rt.name ?? rt.roomTypeId }));
    const nights = new Map();
    for (const rt of roomTypes) {
      for (const n of rt.nights || []) nights.set(`${rt.roomTypeId}|${n.date}`, { ...n });
    }
    let version = typeof snapshot?.version === 'number' ? snapshot.version : 0;
    // Replay stream events newer than the snapshot (they may have landed while it was being read).
    for (const ev of this.log) {
      if (ev.version <= version) continue;
      for (const c of ev.changes || []) {
        const key = `${c.roomTypeId}|${c.date}`;
        if (nights.has(key)) nights.set(key, pickNight(c));
      }
      version = ev.version;
    }
    const sameShape =
      this.version !== null &&
      this.renderedFrom === from &&
      this.renderedTo === to &&
      rows.length === this.rows.length &&
      rows.every((r, i) => r.roomTypeId === this.rows[i].roomTypeId && r.name === this.rows[i].name);

    if (sameShape) {
      // Same table: update in place, flashing what changed since we last showed it (e.g. while disconnected).
      const changed = [];
      for (const [key, night] of nights) {
        const old = this.nights.get(key);
        if (!old || !sameNight(old, night)) changed.push([key, night]);
      }
      this.nights = nights;
      this.version = version;
      for (const [key, night] of changed) this.updateCell(key, night, true);
      if (changed.length) this.announce(changed.length);
    } else {
      this.rows = rows;
      this.nights = nights;
      this.version = version;
      this.render(from, to);
    }
    this.container.dataset.version = String(this.version);
    if (this.staleEl) this.staleEl.hidden = !snapshot?.stale;
    this.onSnapshot?.(snapshot, why);
  }

  // ---- stream events ----------------------------------------------------------------------------------------------

  onEvent(data) {
    const version = Number(data.version);
    if (!Number.isFinite(version)) return;
    if (data.hotelId && data.hotelId !== this.hotelId) return;
    this.remember({ version, changes: Array.isArray(data.changes) ? data.changes : [] });
    if (this.version === null || version <= this.version) return; // no snapshot yet (kept in the log), or old news
    let changedCells = 0;
    let unknownRoomType = false;
    for (const c of data.changes || []) {
      if (!c || typeof c.date !== 'string' || c.date < this.from || c.date >= this.to) continue;
      const key = `${c.roomTypeId}|${c.date}`;
      if (!this.cells.has(key)) {
        if (!this.rows.some((r) => r.roomTypeId === c.roomTypeId) && !this.skipRoomTypes.has(c.roomTypeId)) unknownRoomType = true;
        continue;
      }
      const night = pickNight(c);
      this.nights.set(key, night);
      this.updateCell(key, night, true);
      changedCells++;
    }
    this.version = version;
    this.container.dataset.version = String(version);
    if (changedCells) this.announce(changedCells);
    // A room type we don't show yet (just created), or a change that lists no nights: read the calendar again.
    if (unknownRoomType || !(data.changes || []).length) this.refetchSoon();
  }

  remember(ev) {
    const log = this.log;
    if (log.length && log[log.length - 1].version >= ev.version) {
      if (log.some((e) => e.version === ev.version)) return; // a replay after reconnecting
      log.push(ev);
      log.sort((a, b) => a.version - b.version);
    } else {
      log.push(ev);
    }
    if (log.length > LOG_LIMIT) log.splice(0, log.length - LOG_LIMIT);
  }

  refetchSoon() {
    clearTimeout(this.refetchTimer);
    this.refetchTimer = setTimeout(() => this.load('refetch'), 250);
  }

  // ---- rendering --------------------------------------------------------------------------------------------------

  render(from, to) {
    this.renderedFrom = from;
    this.renderedTo = to;
    this.cells.clear();
    const dates = [];
    for (let d = from; d < to; d = addDays(d, 1)) dates.push(d);
    this.container.dataset.from = from;
    this.container.dataset.to = to;

    if (!this.rows.length) {
      replace(this.container, h('p', { class: 'empty' }, 'This hotel has no room types yet.'));
      return;
    }

    const headRow = h('tr', {}, h('th', { scope: 'col', class: 'rt-head' }, 'Room type'));
    dates.forEach((d, i) => {
      const day = Number(d.slice(8, 10));
      const dow = new Date(`${d}T00:00:00Z`).getUTCDay();
      const showMonth = i === 0 || day === 1;
      headRow.append(
        h(
          'th',
          {
            scope: 'col',
            class: `date-head${dow === 0 || dow === 6 ? ' weekend' : ''}${showMonth ? ' month-start' : ''}`,
            'data-date': d,
            title: formatDate(d),
            'aria-label': formatDate(d),
          },
          h('span', { class: 'dow', 'aria-hidden': 'true' }, formatDate(d, { weekday: 'short' })),
          h('span', { class: 'dom', 'aria-hidden': 'true' }, String(day)),
          showMonth ? h('span', { class: 'mon', 'aria-hidden': 'true' }, formatDate(d, { month: 'short' })) : null,
        ),
      );
    });

    const body = h('tbody');
    for (const row of this.rows) {
      const tr = h('tr', { 'data-room-type': row.roomTypeId }, h('th', { scope: 'row', class: 'rt-name' }, row.name));
      for (const d of dates) {
        const key = `${row.roomTypeId}|${d}`;
        const first = this.cells.size === 0;
        const td = h('td', { class: 'cell', 'data-room-type': row.roomTypeId, 'data-date': d, tabindex: first ? '0' : '-1' });
        td.append(h('span', { class: 'n' }));
        this.cells.set(key, td);
        this.fillCell(td, row, d, this.nights.get(key), false);
        tr.append(td);
      }
      body.append(tr);
    }

    const table = h(
      'table',
      { class: 'calendar', id: 'calendar-table' },
      h('caption', {}, `Rooms left per night, ${formatDate(from)} to ${formatDate(addDays(to, -1))}`),
      h('thead', {}, headRow),
      body,
    );
    replace(this.container, table);
  }

  updateCell(key, night, flash) {
    const td = this.cells.get(key);
    if (!td) return;
    const row = this.rows.find((r) => r.roomTypeId === td.dataset.roomType);
    this.fillCell(td, row, td.dataset.date, night, flash);
  }

  fillCell(td, row, date, night, updated) {
    const currency = this.hotel?.currency;
    const n = td.firstChild;
    if (!night) {
      td.className = 'cell unknown';
      td.dataset.available = '';
      td.dataset.state = 'unknown';
      n.textContent = '–';
      const label = `${row.name}, ${formatDate(date)}: no data`;
      td.title = label;
      td.setAttribute('aria-label', label);
      return;
    }
    const level = levelOf(night, this.hotel?.overbookingPercent);
    const available = night.available ?? 0;
    td.dataset.available = String(available);
    td.dataset.reserved = String(night.reserved ?? '');
    td.dataset.totalInventory = String(night.totalInventory ?? '');
    td.dataset.rate = String(night.rate ?? '');
    td.dataset.baseRate = String(night.baseRate ?? '');
    td.dataset.state = level;
    n.textContent = String(available);
    const wasUpdated = updated || td.dataset.updated === 'true';
    const left = available <= 0 ? 'sold out' : `${plural(available, 'room', 'rooms')} left`;
    // `rate` is the price of one more room at the night's occupancy; when the hotel's pricing tiers move it away from
    // the night's base rate, the label says so.
    const base =
      typeof night.baseRate === 'number' && typeof night.rate === 'number' && night.baseRate !== night.rate
        ? ` (base ${formatMoney(night.baseRate, currency)})`
        : '';
    const rate = typeof night.rate === 'number' ? `, ${formatMoney(night.rate, currency)} per night${base}` : '';
    const label = `${row.name}, ${formatDate(date)}: ${left}${rate}${wasUpdated ? ' (updated)' : ''}`;
    td.title = label;
    td.setAttribute('aria-label', label);
    td.className = `cell ${level}${wasUpdated ? ' updated' : ''}`;
    if (updated) {
      td.dataset.updated = 'true';
      // Restart the flash animation even if the cell is still flashing from a previous change.
      td.classList.remove('flash');
      void td.offsetWidth;
      td.classList.add('flash');
    }
  }

  announce(count) {
    if (!this.announceEl) return;
    this.announcePending += count;
    if (this.announceTimer) return;
    this.announceTimer = setTimeout(() => {
      this.announceEl.textContent = `Availability changed on ${plural(this.announcePending, 'night', 'nights')}.`;
      this.announcePending = 0;
      this.announceTimer = null;
    }, 2000);
  }

  showState(state) {
    const status = this.statusEl;
    const banner = this.bannerEl;
    status.dataset.state = state;
    status.textContent = state === 'live' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Paused, reconnecting…';
    status.title =
      state === 'live'
        ? 'Availability updates arrive as they happen'
        : state === 'connecting'
          ? 'Connecting to live updates'
          : 'Live updates are paused; trying to reconnect';
    if (banner) banner.hidden = state !== 'paused';
  }
}

/** The horizon's last night named by a 400 for a window past it ("checkOut: reaches past the inventory horizon (last
 * night YYYY-MM-DD)"), or null. */
export function horizonLastNight(err) {
  if (err?.status !== 400) return null;
  const texts = [err.message, ...(Array.isArray(err.details?.fields) ? err.details.fields.map((f) => f?.message) : [])];
  for (const t of texts) {
    const m = /horizon \(last night (\d{4}-\d{2}-\d{2})\)/.exec(String(t ?? ''));
    if (m && isIsoDate(m[1])) return m[1];
  }
  return null;
}

function pickNight(c) {
  return {
    date: c.date,
    totalInventory: c.totalInventory,
    reserved: c.reserved,
    available: c.available,
    rate: c.rate,
    baseRate: c.baseRate,
  };
}

function sameNight(a, b) {
  return (
    a.available === b.available &&
    a.reserved === b.reserved &&
    a.totalInventory === b.totalInventory &&
    a.rate === b.rate &&
    a.baseRate === b.baseRate
  );
}
