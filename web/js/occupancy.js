// The staff page's occupancy chart: per room type, the share of its rooms reserved on each of the next 30 or 90
// nights, as inline SVG bars, kept up to date from the hotel's availability stream (the same stream and version
// rules as the hotel page's calendar, calendar.js).

import { api, query } from './api.js';
import { addDays, formatDate, plural, todayIn } from './format.js';
import { LiveStream } from './stream.js';
import { clearMessage, h, replace, showError } from './ui.js';

const SVG = 'http://www.w3.org/2000/svg';
const LOG_LIMIT = 500;

/** An SVG element with attributes. */
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/** Occupancy of a night in percent of the room type's rooms (reserved can exceed them: overbooking). */
export function occupancyOf(night) {
  return night.totalInventory > 0 ? Math.round((100 * night.reserved) / night.totalInventory) : 0;
}

export class OccupancyChart {
  /** @param {{container: HTMLElement, statusEl: HTMLElement, errorEl: HTMLElement, onChange?: () => void}} o
   * onChange: called after each live change (the staff page reads its reservations again). */
  constructor(o) {
    Object.assign(this, o);
    this.hotel = null;
    this.nights = 30;
    this.from = null;
    this.version = null;
    this.rows = []; // [{roomTypeId, name, nights: Map(date → night)}]
    this.log = [];
    this.loadSeq = 0;
    this.dirty = new Set();
    this.frame = 0;
    this.stream = null;
    let lastWidth = 0;
    window.addEventListener('resize', () => {
      clearTimeout(this.resizeTimer);
      this.resizeTimer = setTimeout(() => {
        const w = this.chartWidth();
        if (w !== lastWidth && this.rows.length) this.render();
        lastWidth = w;
      }, 150);
    });
    // The chart starts today in the hotel's zone: past its midnight it moves on (and reads again) by itself.
    const dayCheck = () => {
      if (this.hotel && this.from && todayIn(this.hotel.timezone) !== this.from) void this.load();
    };
    setInterval(dayCheck, 30_000);
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) dayCheck();
    });
  }

  /** Show `hotel` (null: nothing) from today in its zone for `nights` nights; (re)connects the stream for another
   * hotel. Every read starts at the hotel's today of that moment (a page open past midnight moves on). */
  show(hotel, nights = this.nights) {
    const other = hotel?.id !== this.hotel?.id;
    this.hotel = hotel;
    this.nights = nights;
    if (other) {
      this.stream?.stop();
      this.stream = null;
      this.version = null;
      this.log = [];
      this.rows = [];
      if (!hotel) {
        replace(this.container, h('p', { class: 'empty' }, 'Choose a hotel to see its occupancy.'));
        return;
      }
      this.stream = new LiveStream(`/v1/hotels/${encodeURIComponent(hotel.id)}/availability/stream`, {
        onEvent: (data) => this.onEvent(data),
        onReset: () => void this.load(),
        onOpen: () => void this.load(),
        onState: (state) => {
          this.statusEl.dataset.state = state;
          this.statusEl.textContent = state === 'live' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Paused, reconnecting…';
        },
      });
      this.stream.start();
    }
    return this.load();
  }

  async load() {
    if (!this.hotel) return;
    const seq = ++this.loadSeq;
    const hotelId = this.hotel.id;
    // Today is read again at every (re)fetch: a window kept from before the hotel's midnight would start yesterday,
    // which the API refuses.
    const from = todayIn(this.hotel.timezone);
    this.from = from;
    const to = addDays(from, this.nights);
    let data;
    try {
      ({ data } = await api(`/v1/hotels/${encodeURIComponent(hotelId)}/availability${query({ checkIn: from, checkOut: to })}`, { token: false, quiet: true }));
    } catch (err) {
      if (seq === this.loadSeq) showError(this.errorEl, err);
      return;
    }
    if (seq !== this.loadSeq || hotelId !== this.hotel?.id) return; // a newer load, or another hotel, meanwhile
    clearMessage(this.errorEl);
    let version = typeof data?.version === 'number' ? data.version : 0;
    this.rows = (data?.roomTypes || []).map((rt) => ({
      roomTypeId: rt.roomTypeId,
      name: rt.name ?? rt.roomTypeId,
      nights: new Map((rt.nights || []).map((n) => [n.date, { ...n }])),
    }));
    // Events that arrived while the snapshot was read, newer than it.
    for (const ev of this.log) {
      if (ev.version <= version) continue;
      this.apply(ev.changes);
      version = ev.version;
    }
    this.version = version;
    this.render();
  }

  onEvent(data) {
    const version = Number(data.version);
    if (!Number.isFinite(version) || (data.hotelId && data.hotelId !== this.hotel?.id)) return;
    const changes = Array.isArray(data.changes) ? data.changes : [];
    this.log.push({ version, changes });
    if (this.log.length > LOG_LIMIT) this.log.splice(0, this.log.length - LOG_LIMIT);
    if (this.version === null || version <= this.version) return;
    this.version = version;
    const unknown = this.apply(changes);
    this.container.dataset.version = String(version);
    if (unknown) void this.load(); // a room type created since: read again
    else this.renderSoon();
    this.onChange?.();
  }

  /** Apply stream changes to the nights shown; answers whether one was for a room type not shown yet. */
  apply(changes) {
    let unknown = false;
    for (const c of changes) {
      const row = this.rows.find((r) => r.roomTypeId === c.roomTypeId);
      if (!row) {
        unknown = true;
        continue;
      }
      const night = row.nights.get(c.date);
      if (!night) continue; // outside the range shown
      Object.assign(night, { totalInventory: c.totalInventory, reserved: c.reserved, available: c.available, rate: c.rate });
      this.dirty.add(row.roomTypeId);
    }
    return unknown;
  }

  renderSoon() {
    if (this.frame) return;
    const run = () => {
      this.frame = 0;
      for (const id of this.dirty) {
        const row = this.rows.find((r) => r.roomTypeId === id);
        const old = this.container.querySelector(`figure[data-room-type="${id}"]`);
        if (row && old) old.replaceWith(this.figure(row));
      }
      this.dirty.clear();
    };
    // requestAnimationFrame does not run in a hidden tab; the chart must still be right when it is shown again.
    this.frame = document.hidden ? setTimeout(run, 100) : requestAnimationFrame(run);
  }

  render() {
    this.dirty.clear();
    this.container.dataset.version = String(this.version);
    this.container.dataset.nights = String(this.nights);
    replace(
      this.container,
      this.rows.length ? this.rows.map((row) => this.figure(row)) : h('p', { class: 'empty' }, 'This hotel has no room types yet.'),
    );
  }

  /** One room type's chart: bars per night, a 0/50/100% grid, date ticks, and a summary line. */
  figure(row) {
    const dates = [...row.nights.keys()].sort();
    const nights = dates.map((d) => row.nights.get(d));
    const occ = nights.map(occupancyOf);
    const reserved = nights.reduce((a, n) => a + n.reserved, 0);
    const average = occ.length ? Math.round(occ.reduce((a, b) => a + b, 0) / occ.length) : 0;
    const peak = occ.length ? Math.max(...occ) : 0;
    const peakDate = dates[occ.indexOf(peak)];
    const top = Math.max(100, Math.ceil(peak / 25) * 25); // the scale grows past 100% when overbooked

    // Drawn at the size it is shown (the grid's column width), so the labels stay readable on a phone.
    const W = this.chartWidth();
    const H = W < 480 ? 170 : 190;
    const left = 44;
    const right = 8;
    const topPad = 10;
    const bottom = 28;
    const plotW = W - left - right;
    const plotH = H - topPad - bottom;
    const step = plotW / Math.max(1, dates.length);
    const gap = dates.length > 45 ? 1 : 2;
    const y = (pct) => topPad + plotH - (plotH * pct) / top;

    const grid = [0, 50, 100, ...(top > 100 ? [top] : [])].map((pct) =>
      s(
        'g',
        { class: `grid${pct === 100 ? ' full' : ''}` },
        s('line', { x1: left, x2: W - right, y1: y(pct), y2: y(pct) }),
        s('text', { x: left - 6, y: y(pct) + 5, 'text-anchor': 'end' }, `${pct}%`),
      ),
    );
    const tickEvery = (dates.length > 45 ? 14 : 7) * (W < 480 ? 2 : 1);
    const ticks = dates
      .map((d, i) => (i % tickEvery === 0 ? s('text', { class: 'tick', x: left + step * i + step / 2, y: H - 8, 'text-anchor': 'middle' }, formatDate(d, { day: 'numeric', month: 'short' })) : null))
      .filter(Boolean);
    const bars = nights.map((n, i) => {
      const pct = occ[i];
      const level = pct >= 90 ? 'high' : pct >= 60 ? 'mid' : 'low';
      const barH = Math.max(pct > 0 ? 1.5 : 0, (plotH * Math.min(pct, top)) / top);
      return s(
        'rect',
        {
          class: `bar ${level}`,
          x: (left + step * i + gap / 2).toFixed(2),
          y: (topPad + plotH - barH).toFixed(2),
          width: Math.max(0.5, step - gap).toFixed(2),
          height: barH.toFixed(2),
          'data-date': dates[i],
          'data-reserved': n.reserved,
          'data-occupancy': pct,
        },
        s('title', {}, `${formatDate(dates[i])}: ${n.reserved} of ${n.totalInventory} rooms reserved (${pct}%)`),
      );
    });
    const summary = `${row.name}: ${average}% on average over ${plural(dates.length, 'night', 'nights')}, peak ${peak}%${peakDate ? ` on ${formatDate(peakDate)}` : ''}.`;
    return h(
      'figure',
      { class: 'occ-chart', 'data-room-type': row.roomTypeId, 'data-reserved': String(reserved) },
      h('figcaption', {}, h('strong', {}, row.name), h('span', { class: 'meta' }, ` · average ${average}% · peak ${peak}%`)),
      s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': summary, preserveAspectRatio: 'xMidYMid meet' }, s('g', {}, grid), s('g', {}, bars), s('g', {}, ticks)),
    );
  }

  /** The width of one chart: the grid's column width (style.css: columns of at least 30rem, 1rem apart; a lone
   * chart takes the whole row). */
  chartWidth() {
    const cw = this.container.clientWidth || 720;
    const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
    const columns = Math.max(1, Math.min(this.rows.length || 1, Math.floor((cw + rem) / (31 * rem))));
    const inner = (cw - (columns - 1) * rem) / columns - 26; // the figure's padding and border
    return Math.round(Math.max(280, Math.min(1600, inner)));
  }

  stop() {
    this.stream?.stop();
  }
}
