// /hotel.html?id=<hotelId>[&from=YYYY-MM-DD][&checkIn=&checkOut=&rooms=]: the live availability calendar and the
// booking form (a search by dates hands over its stay).

import { ApiError, forgetRoomTypes, getHotel, getRoomTypes } from '../api.js';
import { BookingForm } from '../booking.js';
import { CALENDAR_NIGHTS, LiveCalendar } from '../calendar.js';
import { addDays, isIsoDate, todayIn } from '../format.js';
import { params, startPage } from '../ui.js';

const $ = (id) => document.getElementById(id);

startPage(async () => {
  const hotelId = params().get('id');
  const layout = document.querySelector('.hotel-layout');
  if (!hotelId) {
    layout.hidden = true;
    $('hotel-name').textContent = 'No hotel chosen';
    throw new Error('No hotel was chosen. Pick one from the list of hotels.');
  }

  let hotel;
  try {
    hotel = await getHotel(hotelId);
  } catch (err) {
    layout.hidden = true;
    $('hotel-name').textContent = 'Hotel not available';
    if (err instanceof ApiError && err.status === 404) throw new ApiError(404, 'not_found', 'This hotel does not exist (any more).');
    throw err;
  }

  document.title = `${hotel.name} · Availability and booking`;
  $('hotel-name').textContent = hotel.name;
  $('hotel-meta').textContent = [hotel.city, hotel.country].filter(Boolean).join(', ') + (hotel.currency ? ` · prices in ${hotel.currency}` : '');

  const today = todayIn(hotel.timezone);
  const loginLink = $('login-note-link');
  loginLink.href = `/login.html?next=${encodeURIComponent(location.pathname + location.search)}`;

  // ---- booking form ----
  // A search by dates hands over its stay: the form starts with it.
  const handed = params();
  if (isIsoDate(handed.get('checkIn')) && handed.get('checkIn') >= today) $('check-in').value = handed.get('checkIn');
  if (isIsoDate(handed.get('checkOut')) && handed.get('checkOut') > $('check-in').value) $('check-out').value = handed.get('checkOut');
  if (/^\d+$/.test(handed.get('rooms') ?? '') && $('room-count')) $('room-count').value = handed.get('rooms');
  if (/^\d+$/.test(handed.get('guests') ?? '') && Number(handed.get('guests')) <= 20) $('guest-count').value = handed.get('guests');
  const booking = new BookingForm($('booking-form'), { hotelId, hotel, today });
  // The room types the form offers, as `{id, name, maxGuests}`; `key` tells whether a new list differs.
  const key = (list) => JSON.stringify(list.map((rt) => [rt.id, rt.name, rt.maxGuests ?? null]));
  let roomTypesSeq = 0;
  const loadRoomTypes = async () => {
    const seq = ++roomTypesSeq;
    try {
      const list = (await getRoomTypes(hotelId)).map((rt) => ({ id: rt.id, name: rt.name, maxGuests: rt.maxGuests }));
      if (seq !== roomTypesSeq) return true; // a newer read was asked for meanwhile: its answer counts
      if (key(list) !== key(booking.allRoomTypes) || !booking.allRoomTypes.length) booking.setRoomTypes(list);
      return true;
    } catch {
      return false;
    }
  };
  const roomTypesLoaded = loadRoomTypes();

  // ---- calendar (it shows the room types the guest count leaves in) ----
  const startInput = $('calendar-start');
  startInput.min = today;
  const calendar = new LiveCalendar({
    hotelId,
    hotel,
    container: $('calendar'),
    statusEl: $('stream-status'),
    bannerEl: $('stream-banner'),
    staleEl: $('stale-note'),
    errorEl: $('calendar-error'),
    announceEl: $('calendar-live'),
    detailsEl: $('cell-details'),
    onCellClick: (roomTypeId, date) => booking.pickNight(roomTypeId, date),
    // The window, moved into [today, the horizon's end] by the calendar (also after the hotel's midnight): the
    // range controls, the address and the booking form's first night follow it.
    onRange: ({ from, today: now, lastFrom }) => {
      startInput.min = now;
      startInput.max = lastFrom;
      startInput.value = from;
      $('prev-range').disabled = from <= now;
      $('next-range').disabled = from >= lastFrom;
      const q = new URLSearchParams(location.search);
      if (from === now) q.delete('from');
      else q.set('from', from);
      history.replaceState(null, '', `${location.pathname}?${q}`);
      booking.setToday(now);
    },
    onSnapshot: async (snapshot, why) => {
      const rts = snapshot?.roomTypes || [];
      await roomTypesLoaded;
      const all = new Map(booking.allRoomTypes.map((rt) => [rt.id, rt]));
      // Room types the calendar shows that the form does not know or names otherwise, or that the form offers for
      // this guest count and the calendar no longer shows (deleted, or fewer guests now).
      const differs =
        rts.some((rt) => !all.has(rt.roomTypeId) || all.get(rt.roomTypeId).name !== rt.name) ||
        booking.roomTypes.some((rt) => !rts.some((x) => x.roomTypeId === rt.id));
      // A reset or a reconnection may follow any change of the room types (a rename, a new maxGuests, a deletion):
      // read them again then too; the form's select is rebuilt only when the list changed.
      if (differs || why === 'reset' || why === 'open' || why === 'refetch') {
        forgetRoomTypes(hotelId);
        if (!(await loadRoomTypes()) && differs && rts.length) {
          booking.setRoomTypes(rts.map((rt) => ({ id: rt.roomTypeId, name: rt.name })));
        }
      }
    },
  });

  booking.onGuests = (guests, hidden) => calendar.setGuests(guests, hidden);
  await roomTypesLoaded;
  calendar.guests = booking.guestCount();
  calendar.skipRoomTypes = new Set(booking.allRoomTypes.filter((rt) => rt.maxGuests < calendar.guests).map((rt) => rt.id));

  let from = params().get('from') ?? params().get('checkIn');
  if (!isIsoDate(from)) from = today;

  // The calendar keeps the window inside [today, the horizon's end] (`onRange` above shows where it went).
  const go = (date) => {
    if (!isIsoDate(date)) return;
    void calendar.show(date);
  };

  startInput.addEventListener('change', () => go(startInput.value));
  $('today-button').addEventListener('click', () => go(calendar.today()));
  $('prev-range').addEventListener('click', () => go(addDays(calendar.from, -CALENDAR_NIGHTS)));
  $('next-range').addEventListener('click', () => go(addDays(calendar.from, CALENDAR_NIGHTS)));

  go(from);
});
