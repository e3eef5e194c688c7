// /staff.html[?hotel=<hotelId>]: staff sign in (or paste an API token), then, for the chosen hotel: occupancy per
// room type (live), reservations with today's arrivals and departures, cancel, the cancellation policy and pricing
// tiers, room types, inventory, rates, webhooks with their deliveries, and the audit trail. An admin can also
// create a hotel.

import { ApiError, api, forgetRoomTypes, getStaffToken, getStaffUser, listAll, setStaffToken } from '../api.js';
import { addDays, formatDate, formatDateTime, formatMoney, plural, todayIn } from '../format.js';
import { dataTable } from '../layout.js';
import { OccupancyChart } from '../occupancy.js';
import { h, params, replace, showError, showMessage, clearMessage, startPage, statusBadge } from '../ui.js';

const WEBHOOK_EVENTS = ['reservation.created', 'reservation.paid', 'reservation.rejected', 'reservation.canceled', 'reservation.refunded', 'availability.changed'];
const SHORT = { weekday: 'short', day: 'numeric', month: 'short' };
const shortId = (id) => (typeof id === 'string' && id.length > 13 ? `${id.slice(0, 8)}…` : id ?? '');

const $ = (id) => document.getElementById(id);

startPage(async () => {
  const tokenInput = $('staff-token');
  const tokenState = $('token-state');
  const hotelSelect = $('staff-hotel');
  let hotels = [];
  let hotel = null;
  let roomTypes = [];

  // ---- token ----
  const showTokenState = () => {
    const who = getStaffUser();
    tokenState.textContent = !getStaffToken()
      ? 'Not signed in: sign in or paste a token to see reservations and make changes.'
      : who?.email
        ? `Signed in as ${who.email}${who.admin ? ' (admin)' : ''}.`
        : `A token is in use for this tab${who?.admin ? ' (admin)' : ''}.`;
    $('admin-panel').hidden = !who?.admin;
    // Signed in: the forms give way to one line saying who, with "Sign out".
    $('signin-forms').hidden = Boolean(getStaffToken());
    $('forget-token').hidden = !getStaffToken();
  };
  /** Whether the token is an admin's. A staff sign-in (`POST /v1/sessions`) is a user's session, and users are
   * guests or staff, never admins (docs/api.md): no question is asked then (`admin: false`). A pasted token may be
   * the admin's: GET /metrics answers only admins (nothing else tells the role); for any other token that request
   * is a 403, which the browser's console lists as a failed request. */
  async function identify(t, email, admin) {
    if (admin === undefined) {
      admin = false;
      try {
        await api('/metrics', { token: t, quiet: true, headers: { Accept: 'text/plain' } });
        admin = true;
      } catch {
        /* 403: staff (or a partner) */
      }
    }
    setStaffToken(t, { email, admin });
    showTokenState();
  }
  const afterSignIn = () => Promise.all([loadReservations(), loadPolicy(), loadWebhooks(), loadAudit()]).catch(() => {});
  tokenInput.value = getStaffToken() ?? '';
  showTokenState();
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void identify(tokenInput.value.trim()).then(afterSignIn);
  });
  const signedOut = () => {
    tokenInput.value = '';
    showTokenState();
    void afterSignIn();
  };
  $('forget-token').addEventListener('click', () => setStaffToken(null));
  window.addEventListener('booking:session', () => {
    if (!getStaffToken() && (tokenInput.value || $('signin-forms').hidden)) signedOut();
  });
  $('staff-login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    clearMessage($('staff-login-error'));
    try {
      const { data } = await api('/v1/sessions', {
        method: 'POST',
        body: { email: $('staff-email').value.trim(), password: $('staff-password').value },
        token: false,
      });
      const email = $('staff-email').value.trim();
      tokenInput.value = data.token;
      $('staff-login-form').reset(); // also clears the fields' "invalid after editing" look
      await identify(data.token, email, false);
      await afterSignIn();
    } catch (err) {
      showError($('staff-login-error'), err instanceof ApiError && err.status === 401 ? new Error('The e-mail or password is not right.') : err);
    }
  });
  const token = () => {
    const t = getStaffToken() || tokenInput.value.trim();
    if (!t) throw new ApiError(401, 'unauthorized', 'Paste an admin or staff API token first (Sign in, above).');
    if (t !== getStaffToken()) {
      setStaffToken(t);
      showTokenState();
      void identify(t);
    }
    return t;
  };

  // ---- money previews ----
  const preview = (input, out) => {
    const show = () => {
      const n = Number(input.value);
      out.textContent = input.value !== '' && Number.isInteger(n) && hotel?.currency ? `= ${formatMoney(n, hotel.currency)} per night` : '';
    };
    input.addEventListener('input', show);
    return show;
  };
  const previews = [preview($('rt-base-rate'), $('rt-base-rate-preview')), preview($('rate-amount'), $('rate-amount-preview'))];

  // ---- hotel and its room types ----
  async function loadRoomTypes() {
    const tbody = $('room-types').querySelector('tbody');
    if (!hotel) {
      tbody.replaceChildren();
      roomTypes = [];
    } else {
      forgetRoomTypes(hotel.id);
      try {
        roomTypes = await listAll(`/v1/hotels/${encodeURIComponent(hotel.id)}/room-types`, { token: false });
      } catch (err) {
        showError($('hotel-error'), err);
        roomTypes = [];
      }
      replace(
        tbody,
        roomTypes.length
          ? roomTypes.map((rt) =>
              h(
                'tr',
                { 'data-room-type': rt.id },
                h('th', { scope: 'row' }, rt.name),
                h('td', { class: 'num' }, String(rt.maxGuests)),
                h('td', { class: 'num' }, String(rt.totalInventory)),
                h('td', { class: 'num' }, formatMoney(rt.baseRate, hotel.currency)),
                h('td', { class: 'mono' }, rt.id),
              ),
            )
          : h('tr', {}, h('td', { colspan: '5' }, 'No room types yet.')),
      );
    }
    for (const select of document.querySelectorAll('.room-type-select')) {
      const previous = select.value;
      replace(select, roomTypes.map((rt) => h('option', { value: rt.id }, rt.name)));
      if (roomTypes.some((rt) => rt.id === previous)) select.value = previous;
    }
  }

  async function chooseHotel(id) {
    clearMessage($('hotel-error'));
    hotel = hotels.find((x) => x.id === id) ?? null;
    const q = new URLSearchParams(location.search);
    if (hotel) q.set('hotel', hotel.id);
    else q.delete('hotel');
    history.replaceState(null, '', `${location.pathname}${q.toString() ? `?${q}` : ''}`);
    const link = $('open-calendar');
    link.hidden = !hotel;
    if (hotel) link.href = `/hotel.html?id=${encodeURIComponent(hotel.id)}`;
    if (hotel) {
      const today = todayIn(hotel.timezone);
      for (const [fromId, toId] of [['inv-from', 'inv-to'], ['rate-from', 'rate-to']]) {
        if (!$(fromId).value) $(fromId).value = today;
        if (!$(toId).value) $(toId).value = addDays(today, 30);
      }
    }
    previews.forEach((f) => f());
    void chart.show(hotel);
    auditCursors = [null];
    await loadRoomTypes();
    await Promise.all([loadReservations().catch(() => {}), loadPolicy(), loadAudit(), loadWebhooks()]);
  }

  // ---- occupancy ----
  // Every live change of the hotel's availability is a reservation made, canceled or expired, or a change of
  // inventory: the reservations list is read again too (at most once a second).
  let reservationsTimer = null;
  const chart = new OccupancyChart({
    container: $('occupancy'),
    statusEl: $('occ-stream-status'),
    errorEl: $('occ-error'),
    onChange: () => {
      if (reservationsTimer) return;
      reservationsTimer = setTimeout(() => {
        reservationsTimer = null;
        void loadReservations(true);
      }, 1000);
    },
  });
  for (const b of document.querySelectorAll('.occ-range')) {
    b.addEventListener('click', () => {
      for (const o of document.querySelectorAll('.occ-range')) o.setAttribute('aria-pressed', String(o === b));
      if (hotel) void chart.show(hotel, Number(b.dataset.nights));
      else chart.nights = Number(b.dataset.nights);
    });
  }

  // ---- reservations ----
  const roomTypeName = (id) => roomTypes.find((rt) => rt.id === id)?.name ?? '';
  async function loadReservations(quiet = false) {
    const tbody = $('reservations').querySelector('tbody');
    clearMessage($('res-error'));
    if (!hotel || !getStaffToken()) {
      tbody.replaceChildren();
      replace($('today'));
      $('res-summary').textContent = hotel ? 'Sign in to see the reservations.' : '';
      return;
    }
    const status = $('res-status').value;
    const needle = $('res-search').value.trim().toLowerCase();
    try {
      const all = await listAll(`/v1/reservations?${new URLSearchParams({ hotelId: hotel.id, ...(status ? { status } : {}) })}`, { token: getStaffToken(), quiet });
      const shown = all.filter((r) => !needle || r.id.includes(needle) || r.guest.name.toLowerCase().includes(needle) || r.guest.email.toLowerCase().includes(needle));
      const today = todayIn(hotel.timezone);
      const live = (r) => r.status === 'paid' || r.status === 'pending';
      const arrivals = all.filter((r) => r.checkIn === today && live(r));
      const departures = all.filter((r) => r.checkOut === today && live(r));
      $('res-summary').textContent = `${shown.length} shown · today: ${plural(arrivals.length, 'arrival', 'arrivals')}, ${plural(departures.length, 'departure', 'departures')}`;
      // Today's arrivals and departures by name, for the front desk.
      const who = (list) => list.map((r) => `${r.guest.name} (${roomTypeName(r.roomTypeId) || 'room'}${r.roomCount > 1 ? ` ×${r.roomCount}` : ''}${r.status === 'pending' ? ', unpaid' : ''})`).join(', ');
      replace(
        $('today'),
        h('li', { id: 'arrivals-today' }, h('strong', {}, 'Arriving today: '), arrivals.length ? who(arrivals) : 'nobody'),
        h('li', { id: 'departures-today' }, h('strong', {}, 'Leaving today: '), departures.length ? who(departures) : 'nobody'),
      );
      if (!shown.length) {
        replace(tbody, h('tr', {}, h('td', { colspan: '5', class: 'empty' }, all.length ? 'No reservation matches.' : 'No reservations yet.')));
        return;
      }
      tbody.replaceChildren(
        ...shown.map((r) =>
          h(
            'tr',
            { 'data-reservation-id': r.id, 'data-status': r.status },
            h('td', { 'data-label': 'Guest' }, `${r.guest.name}`, h('br'), h('span', { class: 'hint' }, r.guest.email)),
            h('td', { 'data-label': 'Stay' }, `${formatDate(r.checkIn, SHORT)} → ${formatDate(r.checkOut, SHORT)} · ${plural(r.roomCount, 'room', 'rooms')}`, h('br'), h('span', { class: 'hint' }, roomTypeName(r.roomTypeId))),
            h('td', { 'data-label': 'Status' }, statusBadge(r.status), r.payment?.refund ? h('span', { class: 'hint' }, ` refund ${formatMoney(r.payment.refund.amount, r.currency)} ${r.payment.refund.status}`) : ''),
            h('td', { 'data-label': 'Total' }, formatMoney(r.totalAmount, r.currency)),
            h(
              'td',
              {},
              r.status === 'pending' || r.status === 'paid'
                ? h('button', { type: 'button', class: 'danger cancel-reservation', onclick: () => cancelReservation(r) }, r.status === 'paid' ? 'Cancel and refund' : 'Cancel')
                : '',
            ),
          ),
        ),
      );
    } catch (err) {
      showError($('res-error'), err);
    }
  }
  async function cancelReservation(r) {
    if (!window.confirm(`Cancel the reservation of ${r.guest.name} (${r.checkIn} → ${r.checkOut})?`)) return;
    try {
      await api(`/v1/reservations/${encodeURIComponent(r.id)}`, { method: 'DELETE', token: token() });
    } catch (err) {
      showError($('res-error'), err);
    }
    await loadReservations();
  }
  $('res-filter').addEventListener('submit', (e) => {
    e.preventDefault();
    void loadReservations();
  });

  // ---- cancellation policy and pricing tiers ----
  async function loadPolicy() {
    if (!hotel) return;
    const p = hotel.cancellationPolicy ?? { freeUntilHoursBefore: 0, penaltyPercent: 0 };
    $('policy-hours').value = String(p.freeUntilHoursBefore);
    $('policy-penalty').value = String(p.penaltyPercent);
    try {
      const { data } = await api(`/v1/hotels/${encodeURIComponent(hotel.id)}/pricing`, { token: false });
      $('tiers-text').value = (data?.tiers ?? []).map((t) => `${t.occupancyPercent} → ${t.multiplierPercent}`).join('\n');
    } catch {
      /* shown empty */
    }
  }

  hotelSelect.addEventListener('change', () => chooseHotel(hotelSelect.value));

  // ---- webhooks ----
  replace(
    $('wh-events'),
    WEBHOOK_EVENTS.map((ev) =>
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'events', value: ev, checked: ev.startsWith('reservation.') }), ev),
    ),
  );
  let webhooks = [];
  let deliveriesOf = null;
  let deliveriesCursor = null;
  async function loadWebhooks() {
    const box = $('webhooks');
    clearMessage($('wh-error'));
    if (!getStaffToken()) {
      replace(box, h('p', { class: 'meta' }, 'Sign in to see and add webhooks.'));
      return;
    }
    try {
      webhooks = await listAll('/v1/webhooks', { token: getStaffToken(), quiet: true });
    } catch (err) {
      showError($('wh-error'), err);
      return;
    }
    const hotelName = (id) => hotels.find((x) => x.id === id)?.name ?? shortId(id);
    replace(
      box,
      dataTable({
        id: 'webhook-list',
        caption: 'Webhooks',
        columns: [{ title: 'URL', className: 'url' }, { title: 'Events' }, { title: 'Hotels' }, { title: 'State' }, { title: '' }],
        empty: 'No webhooks yet.',
        rows: webhooks.map((w) => ({
          attrs: { 'data-webhook-id': w.id, 'data-enabled': String(w.enabled) },
          cells: [
            h('span', { class: 'mono' }, w.url),
            h('span', { class: 'events' }, w.events.join(', ')),
            w.hotelIds.length ? w.hotelIds.map(hotelName).join(', ') : 'All',
            h('span', { class: `status-badge ${w.enabled ? 'status-paid' : 'status-canceled'}` }, w.enabled ? 'Enabled' : 'Disabled'),
            h(
              'span',
              { class: 'row-actions' },
              h('button', { type: 'button', class: 'small wh-toggle', onclick: () => setEnabled(w, !w.enabled) }, w.enabled ? 'Disable' : 'Enable'),
              h('button', { type: 'button', class: 'small wh-deliveries', onclick: () => showDeliveries(w) }, 'Deliveries'),
              h('button', { type: 'button', class: 'small danger wh-delete', onclick: () => deleteWebhook(w) }, 'Delete'),
            ),
          ],
        })),
      }),
    );
  }
  async function setEnabled(w, enabled) {
    clearMessage($('wh-error'));
    try {
      await api(`/v1/webhooks/${encodeURIComponent(w.id)}`, { method: 'PUT', body: { enabled }, token: token() });
      showMessage($('wh-result'), `${enabled ? 'Enabled' : 'Disabled'} ${w.url}.`);
    } catch (err) {
      showError($('wh-error'), err);
    }
    await loadWebhooks();
  }
  async function deleteWebhook(w) {
    if (!window.confirm(`Delete the webhook to ${w.url}?`)) return;
    clearMessage($('wh-error'));
    try {
      await api(`/v1/webhooks/${encodeURIComponent(w.id)}`, { method: 'DELETE', token: token() });
      showMessage($('wh-result'), `Deleted the webhook to ${w.url}.`);
      if (deliveriesOf?.id === w.id) $('deliveries-panel').hidden = true;
    } catch (err) {
      showError($('wh-error'), err);
    }
    await loadWebhooks();
  }
  async function showDeliveries(w, more = false) {
    deliveriesOf = w;
    const panel = $('deliveries-panel');
    panel.hidden = false;
    panel.dataset.webhookId = w.id;
    $('dl-webhook').textContent = w.url;
    clearMessage($('dl-error'));
    if (!more) {
      deliveriesCursor = null;
      replace($('deliveries'));
      if (!$('replay-since').value) {
        const d = new Date(Date.now() - 3_600_000);
        $('replay-since').value = new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
      }
    }
    const status = $('dl-status').value;
    try {
      const { data } = await api(
        `/v1/webhooks/${encodeURIComponent(w.id)}/deliveries?${new URLSearchParams({ limit: '10', ...(status ? { status } : {}), ...(more && deliveriesCursor ? { cursor: deliveriesCursor } : {}) })}`,
        { token: token(), quiet: true },
      );
      const rows = (data?.items ?? []).map((d) => ({
        attrs: { 'data-event-id': d.eventId },
        cells: [
          h('span', {}, d.type, h('br'), h('span', { class: 'hint mono' }, shortId(d.eventId))),
          String(d.attempts),
          d.deliveredAt
            ? h('span', { class: 'status-badge status-paid' }, `Delivered ${d.lastStatusCode ?? ''}`.trim())
            : h(
                'span',
                {},
                h('span', { class: 'status-badge status-pending' }, d.lastStatusCode ? `HTTP ${d.lastStatusCode}` : d.lastError || d.attempts ? 'Failed' : 'Waiting'),
                d.lastError ? h('span', { class: 'hint delivery-error' }, ` ${String(d.lastError).slice(0, 120)}`) : '',
              ),
          d.deliveredAt ? formatDateTime(d.deliveredAt) : d.nextAttemptAt ? `next try ${formatDateTime(d.nextAttemptAt)}` : 'given up',
        ],
      }));
      const existing = $('deliveries').querySelector('tbody');
      if (more && existing) existing.append(...dataTable({ columns: [{}, {}, {}, {}], rows }).querySelectorAll('tbody tr'));
      else
        replace(
          $('deliveries'),
          dataTable({ id: 'delivery-list', caption: 'Deliveries, newest first', columns: [{ title: 'Event' }, { title: 'Attempts', className: 'num' }, { title: 'Outcome' }, { title: 'When' }], rows, empty: 'No deliveries yet.' }),
        );
      deliveriesCursor = data?.nextCursor ?? null;
      $('dl-more').hidden = !deliveriesCursor;
    } catch (err) {
      showError($('dl-error'), err);
    }
  }
  $('dl-filter').addEventListener('submit', (e) => {
    e.preventDefault();
    if (deliveriesOf) void showDeliveries(deliveriesOf);
  });
  $('dl-more').addEventListener('click', () => deliveriesOf && showDeliveries(deliveriesOf, true));
  $('replay-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    clearMessage($('dl-result'));
    clearMessage($('dl-error'));
    if (!deliveriesOf) return;
    try {
      const since = new Date($('replay-since').value).toISOString();
      const { data } = await api(`/v1/webhooks/${encodeURIComponent(deliveriesOf.id)}/replay`, { method: 'POST', body: { since }, token: token() });
      showMessage($('dl-result'), `${data?.events ?? 0} event(s) since ${formatDateTime(since)} will be delivered again.`);
    } catch (err) {
      showError($('dl-error'), err);
    }
  });

  // ---- audit ----
  let auditCursors = [null]; // the cursor of each page seen, newest page first
  async function loadAudit() {
    const box = $('audit');
    clearMessage($('audit-error'));
    $('audit-older').hidden = true;
    $('audit-newest').hidden = true;
    if (!hotel || !getStaffToken()) {
      replace(box, h('p', { class: 'meta' }, hotel ? 'Sign in to see the audit trail.' : ''));
      $('audit-page').textContent = '';
      return;
    }
    const cursor = auditCursors[auditCursors.length - 1];
    try {
      const { data } = await api(
        `/v1/hotels/${encodeURIComponent(hotel.id)}/audit?${new URLSearchParams({ limit: '15', ...(cursor ? { cursor } : {}) })}`,
        { token: getStaffToken(), quiet: true },
      );
      const items = data?.items ?? [];
      replace(
        box,
        dataTable({
          id: 'audit-list',
          caption: 'Audit records, newest first',
          columns: [{ title: '#', className: 'num' }, { title: 'When' }, { title: 'Who' }, { title: 'Command' }, { title: 'Outcome' }, { title: 'Reservation' }],
          empty: 'No records yet.',
          rows: items.map((a) => ({
            attrs: { 'data-sequence': String(a.sequence), 'data-command': a.command },
            cells: [
              String(a.sequence),
              formatDateTime(a.at),
              h('span', {}, a.actor?.kind ?? '', a.actor?.id && a.actor.id !== a.actor.kind ? h('span', { class: 'hint mono', title: a.actor.id }, ` ${shortId(a.actor.id)}`) : ''),
              h('code', {}, a.command),
              a.outcome?.ok
                ? h('span', { class: 'outcome ok' }, 'ok', a.outcome.status ? ` → ${a.outcome.status}` : '')
                : h('span', { class: 'outcome refused' }, 'refused', a.outcome?.code ? `: ${a.outcome.code}` : ''),
              a.reservationId ? h('span', { class: 'mono', title: a.reservationId }, shortId(a.reservationId)) : '',
            ],
          })),
        }),
      );
      if (data?.nextCursor) $('audit-older').dataset.cursor = data.nextCursor;
      $('audit-older').hidden = !data?.nextCursor;
      $('audit-newest').hidden = false;
      $('audit-newest').textContent = auditCursors.length === 1 ? 'Refresh' : '← Newest';
      $('audit-page').textContent = items.length ? `Page ${auditCursors.length} (${items.length} records)` : '';
    } catch (err) {
      showError($('audit-error'), err);
    }
  }
  $('audit-older').addEventListener('click', () => {
    auditCursors.push($('audit-older').dataset.cursor);
    void loadAudit();
  });
  $('audit-newest').addEventListener('click', () => {
    auditCursors = [null];
    void loadAudit();
  });

  // ---- admin: create a hotel and its first room type ----
  $('hotel-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const button = $('nh-submit');
    if (button.disabled) return;
    clearMessage($('nh-result'));
    clearMessage($('nh-error'));
    button.disabled = true;
    try {
      const t = token();
      const body = {
        name: $('nh-name').value.trim(),
        city: $('nh-city').value.trim(),
        country: $('nh-country').value.trim().toUpperCase(),
        timezone: $('nh-timezone').value.trim(),
        currency: $('nh-currency').value.trim().toUpperCase(),
        overbookingPercent: Number($('nh-overbooking').value),
      };
      const { data: made } = await api('/v1/hotels', { method: 'POST', body, token: t });
      const rtBody = {
        name: $('nh-rt-name').value.trim(),
        maxGuests: Number($('nh-rt-guests').value),
        totalInventory: Number($('nh-rt-rooms').value),
        baseRate: Number($('nh-rt-rate').value),
      };
      let note = '';
      try {
        await api(`/v1/hotels/${encodeURIComponent(made.id)}/room-types`, { method: 'POST', body: rtBody, token: t });
        note = ` with its room type “${rtBody.name}”`;
      } catch (err) {
        showError($('nh-error'), new Error(`The hotel was made, but its room type was not: ${err.message}`));
      }
      hotels.push(made);
      hotelSelect.append(h('option', { value: made.id }, `${made.name}${made.city ? `, ${made.city}` : ''}`));
      hotelSelect.value = made.id;
      await chooseHotel(made.id);
      $('hotel-form').reset();
      showMessage($('nh-result'), `Created “${made.name}”${note}; it is now the chosen hotel.`);
    } catch (err) {
      showError($('nh-error'), err);
    } finally {
      button.disabled = false;
    }
  });

  // ---- forms ----
  function wire(formId, resultId, errorId, buttonId, send) {
    const form = $(formId);
    const result = $(resultId);
    const errorBox = $(errorId);
    const button = $(buttonId);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (button.disabled) return;
      clearMessage(result);
      clearMessage(errorBox);
      if (!hotel) {
        showError(errorBox, new Error('Choose a hotel first (Hotel, above).'));
        return;
      }
      button.disabled = true;
      try {
        showMessage(result, await send(token()));
      } catch (err) {
        showError(errorBox, err);
      } finally {
        button.disabled = false;
      }
    });
  }

  const rangeCheck = (from, to) => {
    if (from && to && to <= from) throw new Error('“To” must be after “From” (it is the first night not changed).');
  };
  const base = () => `/v1/hotels/${encodeURIComponent(hotel.id)}/room-types`;

  wire('room-type-form', 'rt-result', 'rt-error', 'rt-submit', async (t) => {
    const body = {
      name: $('rt-name').value.trim(),
      maxGuests: Number($('rt-max-guests').value),
      totalInventory: Number($('rt-inventory').value),
      baseRate: Number($('rt-base-rate').value),
    };
    const { data } = await api(base(), { method: 'POST', body, token: t });
    await loadRoomTypes();
    $('room-type-form').reset();
    previews.forEach((f) => f());
    return `Created room type “${data?.name ?? body.name}” (${data?.id ?? 'new'}).`;
  });

  wire('inventory-form', 'inv-result', 'inv-error', 'inv-submit', async (t) => {
    const from = $('inv-from').value;
    const to = $('inv-to').value;
    rangeCheck(from, to);
    const rt = $('inv-room-type').value;
    const body = { from, to, totalInventory: Number($('inv-total').value) };
    const { data } = await api(`${base()}/${encodeURIComponent(rt)}/inventory`, { method: 'PUT', body, token: t });
    return `Inventory set on ${data?.updatedNights ?? '?'} nights (hotel version ${data?.version ?? '?'}).`;
  });

  wire('rates-form', 'rate-result', 'rate-error', 'rate-submit', async (t) => {
    const from = $('rate-from').value;
    const to = $('rate-to').value;
    rangeCheck(from, to);
    const rt = $('rate-room-type').value;
    const body = { from, to, amount: Number($('rate-amount').value) };
    const { data } = await api(`${base()}/${encodeURIComponent(rt)}/rates`, { method: 'PUT', body, token: t });
    return `Rate set on ${data?.updatedNights ?? '?'} nights (hotel version ${data?.version ?? '?'}).`;
  });

  wire('policy-form', 'policy-result', 'policy-error', 'policy-submit', async (t) => {
    const body = { cancellationPolicy: { freeUntilHoursBefore: Number($('policy-hours').value), penaltyPercent: Number($('policy-penalty').value) } };
    const { data } = await api(`/v1/hotels/${encodeURIComponent(hotel.id)}`, { method: 'PUT', body, token: t });
    hotel = { ...hotel, ...data };
    return 'Policy saved: it applies to reservations made from now on.';
  });

  wire('webhook-form', 'wh-result', 'wh-error', 'wh-submit', async (t) => {
    const events = [...document.querySelectorAll('#wh-events input:checked')].map((i) => i.value);
    if (!events.length) throw new Error('Pick at least one event.');
    const body = { url: $('wh-url').value.trim(), events, ...($('wh-hotels').value === 'chosen' ? { hotelIds: [hotel.id] } : {}) };
    const { data } = await api('/v1/webhooks', { method: 'POST', body, token: t });
    $('webhook-form').reset();
    await loadWebhooks();
    return `Added. Its signing secret, shown only now: ${data.secret}`;
  });

  wire('tiers-form', 'tiers-result', 'tiers-error', 'tiers-submit', async (t) => {
    const tiers = $('tiers-text')
      .value.split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .map((line) => {
        const m = /^(\d+)\s*(?:→|->|:|\s)\s*(\d+)$/.exec(line);
        if (!m) throw new Error(`“${line}” is not “occupancy → price %”.`);
        return { occupancyPercent: Number(m[1]), multiplierPercent: Number(m[2]) };
      });
    const { data } = await api(`/v1/hotels/${encodeURIComponent(hotel.id)}/pricing`, { method: 'PUT', body: { tiers }, token: t });
    return `Saved ${data?.tiers?.length ?? tiers.length} tier(s) (hotel version ${data?.version ?? '?'}): the calendar shows the new prices.`;
  });

  // ---- start: the hotel list ----
  showTokenState();
  if (getStaffToken() && getStaffUser()?.admin === undefined) void identify(getStaffToken(), getStaffUser()?.email);
  void loadWebhooks();
  try {
    hotels = await listAll('/v1/hotels', { token: false });
  } catch (err) {
    replace(hotelSelect, h('option', { value: '' }, 'Could not load hotels'));
    throw err;
  }
  replace(
    hotelSelect,
    h('option', { value: '' }, hotels.length ? 'Choose a hotel…' : 'No hotels yet'),
    hotels.map((x) => h('option', { value: x.id }, `${x.name}${x.city ? `, ${x.city}` : ''}`)),
  );
  const wanted = params().get('hotel');
  if (wanted && hotels.some((x) => x.id === wanted)) {
    hotelSelect.value = wanted;
    await chooseHotel(wanted);
  } else if (hotels.length === 1) {
    hotelSelect.value = hotels[0].id;
    await chooseHotel(hotels[0].id);
  }
});
