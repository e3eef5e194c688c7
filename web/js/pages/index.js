// / (index.html[?city=&checkIn=&checkOut=&guests=&rooms=]): the hotel list, searched by city and, with dates, by
// what is free for the stay (GET /v1/hotels with checkIn/checkOut: each hotel's offer, cheapest first).

import { api, query } from '../api.js';
import { diffDays, formatMoney, isIsoDate, plural } from '../format.js';
import { h, params, showError, clearMessage, startPage } from '../ui.js';

const $ = (id) => document.getElementById(id);
const fields = ['city', 'checkIn', 'checkOut', 'guests', 'rooms'];
const inputs = { city: 'city', checkIn: 'check-in', checkOut: 'check-out', guests: 'guests', rooms: 'rooms' };

startPage(async () => {
  const form = $('search-form');
  const list = $('hotel-list');
  const more = $('load-more');
  const count = $('result-count');
  const errorBox = $('list-error');
  let seq = 0;
  let search = {};
  let cursor = null;
  let shown = 0;

  const read = () => {
    const s = {};
    for (const f of fields) {
      const v = $(inputs[f]).value.trim();
      if (v && !((f === 'guests' || f === 'rooms') && v === '1')) s[f] = v;
    }
    return s;
  };
  const write = (s) => {
    for (const f of fields) $(inputs[f]).value = s[f] ?? (f === 'guests' || f === 'rooms' ? '1' : '');
  };
  const dated = (s) => isIsoDate(s.checkIn ?? '') && isIsoDate(s.checkOut ?? '');

  const offerLine = (hotel) => {
    if (!('offer' in hotel)) return null;
    if (!hotel.offer) return h('p', { class: 'offer none' }, 'Nothing free for these dates.');
    const nights = diffDays(search.checkIn, search.checkOut);
    return h(
      'p',
      { class: 'offer' },
      h('strong', {}, `From ${formatMoney(hotel.offer.fromPrice, hotel.currency)}`),
      ` for ${plural(nights, 'night', 'nights')} · ${hotel.offer.available} left`,
    );
  };

  const card = (hotel) => {
    const link = new URLSearchParams({ id: hotel.id });
    for (const f of ['checkIn', 'checkOut', 'guests', 'rooms']) if (search[f]) link.set(f, search[f]);
    return h(
      'li',
      { class: 'card', 'data-hotel-id': hotel.id, 'data-offer': hotel.offer ? String(hotel.offer.fromPrice) : '' },
      h('h2', {}, h('a', { href: `/hotel.html?${link}`, class: 'hotel-link' }, hotel.name)),
      h('p', { class: 'meta' }, [hotel.city, hotel.country].filter(Boolean).join(', '), hotel.currency ? ` · ${hotel.currency}` : ''),
      offerLine(hotel),
    );
  };

  async function load(append) {
    const mySeq = ++seq;
    clearMessage(errorBox);
    more.disabled = true;
    try {
      const q = { city: search.city, cursor: append ? cursor : undefined };
      if (dated(search)) Object.assign(q, { checkIn: search.checkIn, checkOut: search.checkOut, guests: search.guests, rooms: search.rooms });
      const { data } = await api(`/v1/hotels${query(q)}`, { token: false });
      if (mySeq !== seq) return;
      const items = Array.isArray(data) ? data : data?.items || [];
      if (!append) {
        list.replaceChildren();
        shown = 0;
      }
      list.append(...items.map(card));
      shown += items.length;
      cursor = Array.isArray(data) ? null : data?.nextCursor ?? null;
      more.hidden = !cursor;
      const where = search.city ? ` in “${search.city}”` : '';
      count.textContent = shown === 0
        ? search.city ? `No hotels found${where}.` : 'No hotels yet.'
        : `${shown}${cursor ? '+' : ''} hotel${shown === 1 ? '' : 's'}${where}${dated(search) ? ', cheapest first' : ''}.`;
    } catch (err) {
      if (mySeq === seq) showError(errorBox, err);
    } finally {
      if (mySeq === seq) more.disabled = false;
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    search = read();
    const qs = new URLSearchParams(search).toString();
    history.pushState(null, '', qs ? `${location.pathname}?${qs}` : location.pathname);
    load(false);
  });
  more.addEventListener('click', () => load(true));
  const fromUrl = () => {
    const p = params();
    search = {};
    for (const f of fields) if (p.get(f)) search[f] = p.get(f);
    write(search);
  };
  window.addEventListener('popstate', () => {
    fromUrl();
    load(false);
  });
  // Check-out follows check-in: at least the next day.
  $('check-in').addEventListener('change', () => {
    const a = $('check-in').value;
    if (a && (!$('check-out').value || $('check-out').value <= a)) {
      const d = new Date(`${a}T00:00:00Z`);
      d.setUTCDate(d.getUTCDate() + 1);
      $('check-out').value = d.toISOString().slice(0, 10);
    }
  });

  fromUrl();
  await load(false);
});
