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
  const loadRoomTypes = async () => {
    try {
      const list = await getRoomTypes(hotelId);
      booking.setRoomTypes(list.map((rt) => ({ id: rt.id, name: rt.name, maxGuests: rt.maxGuests })));
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
    onSnapshot: async (snapshot) => {
      const rts = snapshot?.roomTypes || [];
      await roomTypesLoaded;
      const known = new Set(booking.roomTypes.map((rt) => rt.id));
      if (rts.some((rt) => !known.has(rt.roomTypeId))) {
        // A room type was added (or the room-types list failed): reload it, falling back to the calendar's names.
        forgetRoomTypes(hotelId);
        if (!(await loadRoomTypes()) && rts.length) {
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

  const go = (date) => {
    if (!isIsoDate(date)) return;
    from = date;
    startInput.value = date;
    $('prev-range').disabled = date <= today;
    const q = new URLSearchParams(location.search);
    if (date === today) q.delete('from');
    else q.set('from', date);
    history.replaceState(null, '', `${location.pathname}?${q}`);
    calendar.show(date);
  };

  startInput.addEventListener('change', () => go(startInput.value));
  $('today-button').addEventListener('click', () => go(today));
  $('prev-range').addEventListener('click', () => {
    const d = addDays(from, -CALENDAR_NIGHTS);
    go(d < today ? today : d);
  });
  $('next-range').addEventListener('click', () => go(addDays(from, CALENDAR_NIGHTS)));

  go(from);
});
