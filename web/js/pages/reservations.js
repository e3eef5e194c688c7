// /reservations.html[?status=]: the guest's own reservations (GET /v1/reservations), each with a cancel button.

import { ApiError, api, clearSession, getHotel, getRoomTypes, getToken, goToLogin, query } from '../api.js';
import { diffDays, formatDate, formatMoney, plural } from '../format.js';
import { h, params, showError, showMessage, clearMessage, startPage, statusBadge } from '../ui.js';

const $ = (id) => document.getElementById(id);

startPage(async () => {
  if (!getToken()) {
    goToLogin();
    return;
  }
  const tbody = $('reservation-list').querySelector('tbody');
  const more = $('load-more');
  const count = $('result-count');
  const errorBox = $('list-error');
  const filter = $('status-filter');
  let cursor = null;
  let shown = 0;
  let seq = 0;

  const authFailed = (err) => {
    if (err instanceof ApiError && err.status === 401) {
      clearSession();
      goToLogin();
      return true;
    }
    return false;
  };

  function fillNames(r, hotelCell, rtCell) {
    getHotel(r.hotelId)
      .then((hotel) => {
        hotelCell.replaceChildren(h('a', { href: `/hotel.html?id=${encodeURIComponent(r.hotelId)}` }, hotel.name));
      })
      .catch(() => {});
    getRoomTypes(r.hotelId)
      .then((list) => {
        const rt = list.find((x) => x.id === r.roomTypeId);
        if (rt) rtCell.textContent = rt.name;
      })
      .catch(() => {});
  }

  function row(r) {
    const hotelCell = h('td', { 'data-label': 'Hotel' }, r.hotelId);
    const rtCell = h('td', { 'data-label': 'Room type' }, r.roomTypeId);
    const statusCell = h('td', { class: 'status', 'data-label': 'Status' }, statusBadge(r.status));
    const message = h('div', { class: 'row-message', role: 'status' });
    const cancel = h('button', { type: 'button', class: 'cancel danger small' }, r.status === 'paid' ? 'Cancel and refund' : 'Cancel');
    cancel.hidden = !(r.status === 'pending' || r.status === 'paid');
    const tr = h(
      'tr',
      { 'data-reservation-id': r.id, 'data-status': r.status },
      hotelCell,
      rtCell,
      h(
        'td',
        { 'data-label': 'Dates' },
        h('a', { href: `/confirmation.html?id=${encodeURIComponent(r.id)}`, class: 'reservation-link' }, `${formatDate(r.checkIn)} → ${formatDate(r.checkOut)}`),
        h('span', { class: 'meta' }, ` (${plural(diffDays(r.checkIn, r.checkOut), 'night', 'nights')})`),
      ),
      h('td', { class: 'num', 'data-label': 'Rooms' }, String(r.roomCount ?? 1)),
      h('td', { class: 'num', 'data-label': 'Total' }, formatMoney(r.totalAmount, r.currency)),
      statusCell,
      h('td', { class: 'actions-cell' }, cancel, message),
    );
    cancel.setAttribute('aria-label', `Cancel the reservation from ${formatDate(r.checkIn)} to ${formatDate(r.checkOut)}`);
    cancel.addEventListener('click', async () => {
      if (cancel.disabled) return;
      cancel.disabled = true;
      clearMessage(message);
      message.setAttribute('role', 'status');
      message.className = 'row-message';
      try {
        const { data } = await api(`/v1/reservations/${encodeURIComponent(r.id)}`, { method: 'DELETE' });
        const status = data?.status ?? 'canceled';
        tr.dataset.status = status;
        statusCell.replaceChildren(statusBadge(status));
        cancel.hidden = !(status === 'pending' || status === 'paid');
        showMessage(message, `Now ${status}.`);
      } catch (err) {
        if (authFailed(err)) return;
        message.setAttribute('role', 'alert');
        message.className = 'row-message error';
        showError(message, err);
      } finally {
        cancel.disabled = false;
      }
    });
    fillNames(r, hotelCell, rtCell);
    return tr;
  }

  async function load(append) {
    const mySeq = ++seq;
    clearMessage(errorBox);
    more.disabled = true;
    try {
      const { data } = await api(`/v1/reservations${query({ status: filter.value, cursor: append ? cursor : undefined })}`);
      if (mySeq !== seq) return;
      const items = Array.isArray(data) ? data : data?.items || [];
      if (!append) {
        tbody.replaceChildren();
        shown = 0;
      }
      tbody.append(...items.map(row));
      shown += items.length;
      cursor = Array.isArray(data) ? null : data?.nextCursor ?? null;
      more.hidden = !cursor;
      count.textContent = shown === 0 ? 'No reservations yet.' : `${shown}${cursor ? '+' : ''} reservation${shown === 1 ? '' : 's'}.`;
    } catch (err) {
      if (mySeq !== seq || authFailed(err)) return;
      showError(errorBox, err);
    } finally {
      if (mySeq === seq) more.disabled = false;
    }
  }

  filter.value = params().get('status') ?? '';
  filter.addEventListener('change', () => {
    const q = filter.value ? `?${new URLSearchParams({ status: filter.value })}` : '';
    history.replaceState(null, '', `${location.pathname}${q}`);
    load(false);
  });
  $('filter-form').addEventListener('submit', (e) => e.preventDefault());
  more.addEventListener('click', () => load(true));
  await load(false);
});
