// The booking form of the hotel page.
//
// One attempt = one `reservationId` (the API's idempotency key). It is made when the form is first submitted and
// kept for every resubmission of the same, unedited form (a double click, a retry after a network error or a
// log-in), so the same booking can never be made twice. Editing the form, picking an alternative, or a final
// answer (booked, sold out, rejected) ends the attempt; the next submission makes a new id.

import { ApiError, api, currentUser, getToken, clearSession, goToLogin, query } from './api.js';
import { addDays, diffDays, formatDate, formatMoney, isIsoDate, plural } from './format.js';
import { h, replace, showError, showMessage, clearMessage } from './ui.js';

const MAX_NIGHTS = 30;
const DRAFT_PREFIX = 'booking.draft:';

/** A random UUID (v4). crypto.randomUUID exists only in secure contexts; fall back to getRandomValues. */
export function newUuid() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class BookingForm {
  /**
   * @param {HTMLFormElement} form
   * @param {{hotelId: string, hotel: any, today: string}} o
   */
  constructor(form, { hotelId, hotel, today }) {
    this.form = form;
    this.hotelId = hotelId;
    this.hotel = hotel;
    this.today = today;
    this.roomTypes = []; // those shown: for at least the guest count
    this.allRoomTypes = [];
    this.onGuests = null; // (guests, hiddenIds) => void: the page's calendar follows the guest count
    this.attempt = null; // {id}
    this.busy = false;
    this.quoteSeq = 0;
    this.quoteTimer = null;

    const $ = (id) => document.getElementById(id);
    this.f = {
      checkIn: $('check-in'),
      checkOut: $('check-out'),
      roomType: $('room-type'),
      roomCount: $('room-count'),
      guests: $('guest-count'),
      name: $('guest-name'),
      email: $('guest-email'),
    };
    this.button = $('book-button');
    this.errorBox = $('booking-error');
    this.statusBox = $('booking-status');
    this.conflictBox = $('conflict');
    this.quoteBox = $('quote');
    this.loginNote = $('login-note');

    this.f.checkIn.min = today;
    this.f.checkOut.min = addDays(today, 1);
    if (!this.f.checkIn.value) this.f.checkIn.value = today;
    if (!this.f.checkOut.value) this.f.checkOut.value = addDays(this.f.checkIn.value, 1);
    const user = currentUser();
    if (user) {
      if (!this.f.name.value && user.name) this.f.name.value = user.name;
      if (!this.f.email.value && user.email) this.f.email.value = user.email;
    }

    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    // Any edit by the person starts a new attempt.
    form.addEventListener('input', (e) => {
      if (e.target === this.f.checkIn) this.keepCheckOutAfterCheckIn();
      if (e.target === this.f.guests) this.applyGuests();
      this.newAttempt();
      this.validateDates();
      this.quoteSoon();
    });
    this.conflictBox.addEventListener('click', (e) => {
      const b = e.target.closest('button.alternative');
      if (b) this.bookAlternative(b.dataset);
    });
    this.updateLoginNote();
    window.addEventListener('booking:session', () => this.updateLoginNote());
    this.restoreDraft();
    this.validateDates();
  }

  /** Today in the hotel's zone moved (its midnight passed while the page was open): the first night allowed moves with
   * it, and a check-in before it becomes today (the check-out stays after it). */
  setToday(today) {
    if (!isIsoDate(today) || today === this.today) return;
    this.today = today;
    this.f.checkIn.min = today;
    if (!isIsoDate(this.f.checkIn.value) || this.f.checkIn.value < today) {
      this.f.checkIn.value = today;
      this.keepCheckOutAfterCheckIn();
      this.newAttempt();
      this.quoteSoon();
    }
    this.validateDates();
  }

  guestCount() {
    const n = Number(this.f.guests?.value);
    return Number.isInteger(n) && n >= 1 && n <= 20 ? n : 1;
  }

  /** Every room type of the hotel; the form offers those for at least the guest count. */
  setRoomTypes(roomTypes) {
    this.allRoomTypes = roomTypes;
    this.applyGuests();
  }

  applyGuests() {
    const guests = this.guestCount();
    const fits = (rt) => !rt.maxGuests || rt.maxGuests >= guests;
    const shown = this.allRoomTypes.filter(fits);
    const hidden = this.allRoomTypes.filter((rt) => !fits(rt));
    const note = document.getElementById('guests-note');
    if (note) {
      note.textContent = hidden.length
        ? `${plural(hidden.length, 'room type is', 'room types are')} too small for ${plural(guests, 'guest', 'guests')} and not shown.`
        : '';
      note.hidden = !hidden.length;
    }
    this.onGuests?.(guests, hidden.map((rt) => rt.id));
    this.showRoomTypes(shown);
  }

  showRoomTypes(roomTypes) {
    const previous = this.f.roomType.value;
    this.roomTypes = roomTypes;
    replace(
      this.f.roomType,
      roomTypes.map((rt) =>
        h('option', { value: rt.id, 'data-max-guests': rt.maxGuests }, rt.maxGuests ? `${rt.name} (up to ${plural(rt.maxGuests, 'guest', 'guests')})` : rt.name),
      ),
    );
    if (previous && roomTypes.some((rt) => rt.id === previous)) this.f.roomType.value = previous;
    else if (this.pendingRoomType && roomTypes.some((rt) => rt.id === this.pendingRoomType)) this.f.roomType.value = this.pendingRoomType;
    this.button.disabled = this.busy || roomTypes.length === 0;
    if (!roomTypes.length && this.allRoomTypes.length) {
      showError(this.errorBox, new Error(`No room type here takes ${plural(this.guestCount(), 'guest', 'guests')}. Book more rooms for fewer guests each.`));
      this.errorBox.dataset.code = 'too_many_guests';
    } else if (this.errorBox.dataset.code === 'too_many_guests') {
      clearMessage(this.errorBox);
    }
    this.quoteSoon();
  }

  roomTypeName(id) {
    return this.allRoomTypes.find((rt) => rt.id === id)?.name ?? this.roomTypes.find((rt) => rt.id === id)?.name ?? 'Room';
  }

  /** Pick a room type and night from the calendar. */
  pickNight(roomTypeId, date) {
    if (this.busy) return;
    if (date < this.today) return;
    if (!this.roomTypes.some((rt) => rt.id === roomTypeId)) return;
    this.f.roomType.value = roomTypeId;
    this.f.checkIn.value = date;
    if (!isIsoDate(this.f.checkOut.value) || this.f.checkOut.value <= date || diffDays(date, this.f.checkOut.value) > MAX_NIGHTS) {
      this.f.checkOut.value = addDays(date, 1);
    }
    this.newAttempt();
    this.validateDates();
    this.quoteSoon();
    this.f.checkIn.focus();
  }

  keepCheckOutAfterCheckIn() {
    const ci = this.f.checkIn.value;
    const co = this.f.checkOut.value;
    if (isIsoDate(ci) && (!isIsoDate(co) || co <= ci)) this.f.checkOut.value = addDays(ci, 1);
  }

  validateDates() {
    const ci = this.f.checkIn.value;
    const co = this.f.checkOut.value;
    this.f.checkOut.min = isIsoDate(ci) ? addDays(ci, 1) : addDays(this.today, 1);
    let msg = '';
    if (isIsoDate(ci) && isIsoDate(co)) {
      if (co <= ci) msg = 'Check-out must be after check-in.';
      else if (diffDays(ci, co) > MAX_NIGHTS) msg = `A stay is at most ${MAX_NIGHTS} nights.`;
    }
    this.f.checkOut.setCustomValidity(msg);
    let ciMsg = '';
    if (isIsoDate(ci) && ci < this.today) ciMsg = `Check-in cannot be before today (${formatDate(this.today)}).`;
    this.f.checkIn.setCustomValidity(ciMsg);
  }

  newAttempt() {
    this.attempt = null;
    delete this.form.dataset.attemptId;
  }

  values() {
    return {
      roomTypeId: this.f.roomType.value,
      checkIn: this.f.checkIn.value,
      checkOut: this.f.checkOut.value,
      roomCount: Number(this.f.roomCount.value),
      guests: this.guestCount(),
      name: this.f.name.value.trim(),
      email: this.f.email.value.trim(),
    };
  }

  body(reservationId) {
    const v = this.values();
    return {
      reservationId,
      hotelId: this.hotelId,
      roomTypeId: v.roomTypeId,
      checkIn: v.checkIn,
      checkOut: v.checkOut,
      roomCount: v.roomCount,
      guest: { name: v.name, email: v.email },
    };
  }

  setBusy(busy) {
    this.busy = busy;
    this.button.disabled = busy || this.roomTypes.length === 0;
    this.button.textContent = busy ? 'Booking…' : 'Book';
    this.form.setAttribute('aria-busy', String(busy));
    for (const b of this.conflictBox.querySelectorAll('button.alternative')) b.disabled = busy;
  }

  // ---- submitting -------------------------------------------------------------------------------------------------

  async submit() {
    if (this.busy) return; // a second click while the first is in flight: the same attempt is already on its way
    this.validateDates();
    if (!this.form.checkValidity()) {
      this.form.reportValidity();
      return;
    }
    if (!this.attempt) {
      this.attempt = { id: newUuid() };
    }
    const attempt = this.attempt;
    this.form.dataset.attemptId = attempt.id;
    this.setBusy(true);
    clearMessage(this.errorBox);
    clearMessage(this.statusBox);
    this.hideConflict();

    if (!getToken()) {
      this.toLogin(attempt);
      return;
    }
    const body = this.body(attempt.id);
    try {
      const res = await api('/v1/reservations', { method: 'POST', body });
      if (res.status === 202 || res.data?.status === 'processing') {
        await this.waitForDecision(attempt, body);
      } else {
        this.booked(res.data ?? { id: attempt.id });
      }
    } catch (err) {
      this.failed(err, attempt);
    }
  }

  booked(reservation) {
    // Stay disabled: we are leaving the page.
    this.attempt = null;
    showMessage(this.statusBox, 'Booked. Opening your confirmation…');
    const id = reservation.id ?? this.form.dataset.attemptId;
    try {
      sessionStorage.setItem(`booking.reservation:${id}`, JSON.stringify(reservation));
    } catch {
      /* only a faster confirmation page */
    }
    location.assign(`/confirmation.html?id=${encodeURIComponent(id)}`);
  }

  failed(err, attempt) {
    this.setBusy(false);
    if (!(err instanceof ApiError)) {
      showError(this.errorBox, err);
      return;
    }
    switch (err.status === 409 ? err.code : err.status) {
      case 'sold_out':
        this.attempt = null; // decided: the next try is a new attempt
        this.showConflict(err);
        return;
      case 401:
        clearSession();
        this.toLogin(attempt);
        return;
      case 422:
        if (err.code === 'idempotency_mismatch') this.attempt = null;
        break;
      case 400:
      case 404:
        this.attempt = null;
        break;
      default:
        // Network failure, 429, 5xx…: the outcome is unknown, so a retry must reuse the same reservationId.
        break;
    }
    showError(this.errorBox, err);
    if (this.attempt) {
      this.errorBox.append(h('p', { class: 'hint' }, 'Pressing Book again retries the same booking; it cannot be booked twice.'));
    }
  }

  /** 202 processing: poll GET /v1/reservations/:id until it is decided. */
  async waitForDecision(attempt, body) {
    showMessage(this.statusBox, 'Your booking is processing. Please wait; this page will update when it is decided.');
    this.statusBox.dataset.state = 'processing';
    this.statusBox.append(
      h('p', { class: 'hint' }, 'You can also leave: it will appear under ', h('a', { href: '/reservations.html' }, 'My reservations'), '.'),
    );
    let delay = 1000;
    for (;;) {
      await sleep(delay);
      delay = Math.min(5000, delay + 1000);
      let res;
      try {
        res = await api(`/v1/reservations/${encodeURIComponent(attempt.id)}`, { quiet: true });
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) {
          delete this.statusBox.dataset.state;
          return this.failed(err, attempt);
        }
        if (err instanceof ApiError && err.status === 404) {
          // Decided without a reservation (e.g. sold out). Sending the same body again returns the decision.
          try {
            const again = await api('/v1/reservations', { method: 'POST', body });
            if (again.status === 202 || again.data?.status === 'processing') continue;
            delete this.statusBox.dataset.state;
            return this.booked(again.data ?? { id: attempt.id });
          } catch (err2) {
            if (err2 instanceof ApiError && (err2.status === 0 || err2.status >= 500 || err2.status === 429)) continue;
            delete this.statusBox.dataset.state;
            clearMessage(this.statusBox);
            return this.failed(err2, attempt);
          }
        }
        continue; // network trouble or 5xx: keep waiting
      }
      const r = res.data;
      if (res.status === 202 || !r || r.status === 'processing') continue;
      delete this.statusBox.dataset.state;
      if (r.status === 'pending' || r.status === 'paid') return this.booked(r);
      // rejected / canceled: decided, but not booked.
      this.setBusy(false);
      this.attempt = null;
      clearMessage(this.statusBox);
      showError(
        this.errorBox,
        new Error(`The booking was not made (status: ${r.status}${r.cancelReason ? `, ${r.cancelReason}` : ''}). Please try again or pick other dates.`),
      );
      return;
    }
  }

  toLogin(attempt) {
    this.saveDraft(attempt);
    goToLogin('book');
  }

  // ---- sold out ---------------------------------------------------------------------------------------------------

  hideConflict() {
    this.conflictBox.hidden = true;
    this.conflictBox.replaceChildren();
  }

  showConflict(err) {
    // Only alternatives that take the guest count (the server offers those that fit the room type asked for).
    const guests = this.guestCount();
    const fits = (a) => {
      const rt = this.allRoomTypes.find((x) => x.id === a.roomTypeId);
      return !rt || !rt.maxGuests || rt.maxGuests >= guests;
    };
    const alternatives = (Array.isArray(err.details?.alternatives) ? err.details.alternatives : []).filter(fits);
    const roomCount = Number(this.f.roomCount.value) || 1;
    const currency = this.hotel?.currency;
    replace(
      this.conflictBox,
      h('h3', { id: 'conflict-title' }, 'Sold out'),
      h('p', {}, err.message || 'There are not enough rooms left for those dates.'),
      alternatives.length
        ? [
            h('p', {}, 'These options are available. Pick one to book it right away:'),
            h(
              'ul',
              { class: 'alternatives' },
              alternatives.map((a) => {
                const nights = diffDays(a.checkIn, a.checkOut);
                return h(
                  'li',
                  {},
                  h(
                    'button',
                    {
                      type: 'button',
                      class: 'alternative',
                      'data-room-type-id': a.roomTypeId,
                      'data-check-in': a.checkIn,
                      'data-check-out': a.checkOut,
                    },
                    h('strong', {}, this.roomTypeName(a.roomTypeId)),
                    h('span', {}, `${formatDate(a.checkIn)} → ${formatDate(a.checkOut)} (${plural(nights, 'night', 'nights')})`),
                    h(
                      'span',
                      {},
                      `${plural(a.available, 'room', 'rooms')} left`,
                      typeof a.totalPrice === 'number' ? ` · ${formatMoney(a.totalPrice, currency)} for ${plural(roomCount, 'room', 'rooms')}` : '',
                    ),
                    h('span', { class: 'cta' }, 'Book this'),
                  ),
                );
              }),
            ),
          ]
        : h('p', {}, 'No other room types or nearby dates are available. Try other dates.'),
    );
    this.conflictBox.hidden = false;
    this.conflictBox.focus();
  }

  bookAlternative({ roomTypeId, checkIn, checkOut }) {
    if (this.busy) return;
    if (roomTypeId && this.roomTypes.some((rt) => rt.id === roomTypeId)) this.f.roomType.value = roomTypeId;
    else if (roomTypeId) {
      // A room type not in the list yet: add it so the form can carry it.
      this.f.roomType.append(h('option', { value: roomTypeId }, this.roomTypeName(roomTypeId)));
      this.f.roomType.value = roomTypeId;
    }
    this.f.checkIn.value = checkIn;
    this.f.checkOut.value = checkOut;
    this.newAttempt(); // a different booking: a new reservationId
    this.validateDates();
    this.quoteSoon();
    this.submit();
  }

  // ---- price quote ------------------------------------------------------------------------------------------------

  quoteSoon() {
    clearTimeout(this.quoteTimer);
    this.quoteTimer = setTimeout(() => this.quote(), 300);
  }

  async quote() {
    const v = this.values();
    const box = this.quoteBox;
    if (!box) return;
    const seq = ++this.quoteSeq;
    if (!v.roomTypeId || !isIsoDate(v.checkIn) || !isIsoDate(v.checkOut) || v.checkOut <= v.checkIn || diffDays(v.checkIn, v.checkOut) > MAX_NIGHTS || !(v.roomCount >= 1 && v.roomCount <= 10)) {
      box.textContent = '';
      return;
    }
    try {
      const { data } = await api(
        `/v1/hotels/${encodeURIComponent(this.hotelId)}/availability${query({ checkIn: v.checkIn, checkOut: v.checkOut, roomTypeId: v.roomTypeId, rooms: v.roomCount })}`,
        { token: false, quiet: true },
      );
      if (seq !== this.quoteSeq) return;
      const rt = (data?.roomTypes || []).find((x) => x.roomTypeId === v.roomTypeId);
      if (!rt) {
        box.textContent = '';
        return;
      }
      const nights = diffDays(v.checkIn, v.checkOut);
      const enough = rt.available >= v.roomCount;
      box.dataset.available = String(rt.available);
      box.textContent =
        `${plural(nights, 'night', 'nights')}, ${plural(v.roomCount, 'room', 'rooms')}: ` +
        `${typeof rt.totalPrice === 'number' ? formatMoney(rt.totalPrice, this.hotel?.currency) : 'price unknown'}. ` +
        (enough ? `${plural(rt.available, 'room', 'rooms')} left.` : rt.available > 0 ? `Only ${plural(rt.available, 'room', 'rooms')} left.` : 'Sold out for these dates.');
    } catch {
      if (seq === this.quoteSeq) box.textContent = '';
    }
  }

  // ---- log-in round trip ------------------------------------------------------------------------------------------

  updateLoginNote() {
    if (this.loginNote) this.loginNote.hidden = Boolean(getToken());
  }

  saveDraft(attempt) {
    try {
      sessionStorage.setItem(`${DRAFT_PREFIX}${this.hotelId}`, JSON.stringify({ values: this.values(), attemptId: attempt?.id ?? null }));
    } catch {
      /* the form just won't be refilled */
    }
  }

  restoreDraft() {
    let draft;
    try {
      draft = JSON.parse(sessionStorage.getItem(`${DRAFT_PREFIX}${this.hotelId}`) || 'null');
      sessionStorage.removeItem(`${DRAFT_PREFIX}${this.hotelId}`);
    } catch {
      return;
    }
    if (!draft || !draft.values) return;
    const v = draft.values;
    if (isIsoDate(v.checkIn)) this.f.checkIn.value = v.checkIn;
    if (isIsoDate(v.checkOut)) this.f.checkOut.value = v.checkOut;
    if (v.roomCount) this.f.roomCount.value = String(v.roomCount);
    if (v.guests && this.f.guests) this.f.guests.value = String(v.guests);
    if (v.name) this.f.name.value = v.name;
    if (v.email) this.f.email.value = v.email;
    if (v.roomTypeId) {
      this.pendingRoomType = v.roomTypeId;
      this.f.roomType.value = v.roomTypeId;
    }
    // The same attempt continues after logging in: no request was accepted for it yet.
    if (draft.attemptId) {
      this.attempt = { id: draft.attemptId };
      this.form.dataset.attemptId = draft.attemptId;
    }
    if (getToken()) showMessage(this.statusBox, 'Welcome back. Check the details and press Book to finish your booking.');
  }
}
