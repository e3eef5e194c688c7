// / (index.html[?city=]): the hotel list with search by city.

import { api, query } from '../api.js';
import { h, params, showError, clearMessage, startPage } from '../ui.js';

const $ = (id) => document.getElementById(id);

startPage(async () => {
  const form = $('search-form');
  const cityInput = $('city');
  const list = $('hotel-list');
  const more = $('load-more');
  const count = $('result-count');
  const errorBox = $('list-error');
  let seq = 0;
  let city = '';
  let cursor = null;
  let shown = 0;

  const card = (hotel) =>
    h(
      'li',
      { class: 'card', 'data-hotel-id': hotel.id },
      h('h2', {}, h('a', { href: `/hotel.html?id=${encodeURIComponent(hotel.id)}`, class: 'hotel-link' }, hotel.name)),
      h('p', { class: 'meta' }, [hotel.city, hotel.country].filter(Boolean).join(', '), hotel.currency ? ` · ${hotel.currency}` : ''),
    );

  async function load(append) {
    const mySeq = ++seq;
    clearMessage(errorBox);
    more.disabled = true;
    try {
      const { data } = await api(`/v1/hotels${query({ city, cursor: append ? cursor : undefined })}`, { token: false });
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
      count.textContent = shown === 0
        ? city ? `No hotels found in “${city}”.` : 'No hotels yet.'
        : `${shown}${cursor ? '+' : ''} hotel${shown === 1 ? '' : 's'}${city ? ` in “${city}”` : ''}.`;
    } catch (err) {
      if (mySeq === seq) showError(errorBox, err);
    } finally {
      if (mySeq === seq) more.disabled = false;
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    city = cityInput.value.trim();
    const url = city ? `${location.pathname}?${new URLSearchParams({ city })}` : location.pathname;
    history.pushState(null, '', url);
    load(false);
  });
  more.addEventListener('click', () => load(true));
  window.addEventListener('popstate', () => {
    city = params().get('city') ?? '';
    cityInput.value = city;
    load(false);
  });

  city = params().get('city') ?? '';
  cityInput.value = city;
  await load(false);
});
