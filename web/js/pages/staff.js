// /staff.html[?hotel=<hotelId>]: with a pasted admin or staff token, create room types and set inventory and rates.

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
