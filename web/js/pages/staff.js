// /staff.html[?hotel=<hotelId>]: staff sign in (or paste an API token), then see and cancel a hotel's reservations,
// create room types, set inventory, rates, occupancy pricing tiers and the cancellation policy.

import { ApiError, api, forgetRoomTypes, getStaffToken, listAll, setStaffToken } from '../api.js';
import { addDays, formatMoney, todayIn } from '../format.js';
import { h, params, replace, showError, showMessage, clearMessage, startPage } from '../ui.js';

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
    tokenState.textContent = getStaffToken() ? 'A token is in use for this tab.' : 'No token yet: paste one to make changes.';
  };
  tokenInput.value = getStaffToken() ?? '';
  showTokenState();
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    setStaffToken(tokenInput.value.trim());
    showTokenState();
  });
  $('forget-token').addEventListener('click', () => {
    setStaffToken(null);
    tokenInput.value = '';
    showTokenState();
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
      setStaffToken(data.token);
      tokenInput.value = data.token;
      showTokenState();
      if (hotel) await Promise.all([loadReservations(), loadPolicy()]);
    } catch (err) {
      showError($('staff-login-error'), err instanceof ApiError && err.status === 401 ? new Error('The e-mail or password is not right.') : err);
    }
  });
  const token = () => {
    const t = getStaffToken() || tokenInput.value.trim();
    if (!t) throw new ApiError(401, 'unauthorized', 'Paste an admin or staff API token first (step 1).');
    if (t !== getStaffToken()) {
      setStaffToken(t);
      showTokenState();
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
    await loadRoomTypes();
    await Promise.all([loadReservations().catch(() => {}), loadPolicy()]);
  }

  // ---- reservations ----
  async function loadReservations() {
    const tbody = $('reservations').querySelector('tbody');
    clearMessage($('res-error'));
    if (!hotel || !getStaffToken()) {
      tbody.replaceChildren();
      $('res-summary').textContent = hotel ? 'Sign in to see the reservations.' : '';
      return;
    }
    const status = $('res-status').value;
    const needle = $('res-search').value.trim().toLowerCase();
    try {
      const all = await listAll(`/v1/reservations?${new URLSearchParams({ hotelId: hotel.id, ...(status ? { status } : {}) })}`, { token: getStaffToken() });
      const shown = all.filter((r) => !needle || r.id.includes(needle) || r.guest.name.toLowerCase().includes(needle) || r.guest.email.toLowerCase().includes(needle));
      const today = todayIn(hotel.timezone);
      const arrivals = all.filter((r) => r.checkIn === today && (r.status === 'paid' || r.status === 'pending')).length;
      const departures = all.filter((r) => r.checkOut === today && (r.status === 'paid' || r.status === 'pending')).length;
      $('res-summary').textContent = `${shown.length} shown · today: ${arrivals} arrival(s), ${departures} departure(s)`;
      tbody.replaceChildren(
        ...shown.map((r) =>
          h(
            'tr',
            { 'data-reservation-id': r.id, 'data-status': r.status },
            h('td', {}, `${r.guest.name}`, h('br'), h('span', { class: 'hint' }, r.guest.email)),
            h('td', {}, `${r.checkIn} → ${r.checkOut} · ${r.roomCount} room(s)`),
            h('td', {}, r.status + (r.payment?.refund ? ` (refund ${r.payment.refund.status})` : '')),
            h('td', {}, formatMoney(r.totalAmount, r.currency)),
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
        showError(errorBox, new Error('Choose a hotel first (step 2).'));
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
