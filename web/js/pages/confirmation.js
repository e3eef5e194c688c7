// /confirmation.html?id=<reservationId>: one reservation (GET /v1/reservations/:id), with pay and cancel.

import { ApiError, api, clearSession, getHotel, getRoomTypes, goToLogin } from '../api.js';
import { newUuid } from '../booking.js';
import { diffDays, formatDate, formatDateTime, formatMoney } from '../format.js';
import { clearMessage, params, showError, showMessage, startPage, statusBadge } from '../ui.js';

const $ = (id) => document.getElementById(id);
/** A time as HH:MM (24 hours), the way the held page states it. */
const hhmm = (ts) => new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

startPage(async () => {
  const id = params().get('id');
  if (!id) throw new Error('No reservation was given.');
  const statusBox = $('reservation-status-box');
  const actionError = $('action-error');
  const actionStatus = $('action-status');

  const handleAuth = (err) => {
    if (err instanceof ApiError && err.status === 401) {
      clearSession();
      goToLogin();
      return true;
    }
    return false;
  };

  /** The hotel's cancellation policy in words, and the refund it gives now (an estimate: the policy that applies is
   * the one the hotel had when the reservation was made, which the server applies when it cancels). */
  let policy = null;
  let hotelTimezone = 'UTC';
  const policyText = (p) =>
    !p || p.penaltyPercent === 0
      ? 'Free cancellation: the whole amount is refunded.'
      : p.freeUntilHoursBefore === 0
        ? `Canceling keeps ${p.penaltyPercent}% of the total.`
        : `Free cancellation until ${p.freeUntilHoursBefore} hours before the check-in day starts; after that ${p.penaltyPercent}% of the total is kept.`;
  function checkInStartMs(r) {
    // The start of the check-in day in the hotel's time zone: the UTC midnight moved by the zone's offset.
    const utc = Date.parse(`${r.checkIn}T00:00:00Z`);
    const parts = new Intl.DateTimeFormat('en-CA', { timeZone: hotelTimezone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).formatToParts(new Date(utc));
    const get = (t) => Number(parts.find((x) => x.type === t)?.value);
    const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'));
    return utc - (wall - utc);
  }
  function refundNow(r) {
    const amount = r.payment?.amount ?? r.totalAmount;
    if (!policy) return amount;
    if (Date.now() <= checkInStartMs(r) - policy.freeUntilHoursBefore * 3_600_000) return amount;
    return amount - Math.floor((amount * policy.penaltyPercent) / 100);
  }

  async function render(r) {
    $('reservation').hidden = false;
    $('reservation').dataset.reservationId = r.id;
    $('reservation').dataset.status = r.status;
    statusBadge(r.status, $('reservation-status'));
    $('confirmation-title').textContent =
      r.status === 'paid'
        ? 'Your reservation is confirmed'
        : r.status === 'pending' && r.expiresAt
          ? `Held until ${hhmm(r.expiresAt)} — pay to confirm`
          : 'Your reservation';
    $('r-id').textContent = r.id;
    $('r-check-in').textContent = formatDate(r.checkIn);
    $('r-check-out').textContent = formatDate(r.checkOut);
    $('r-nights').textContent = r.checkIn && r.checkOut ? String(diffDays(r.checkIn, r.checkOut)) : '';
    $('r-rooms').textContent = String(r.roomCount ?? 1);
    $('r-total').textContent = formatMoney(r.totalAmount, r.currency);
    $('r-guest').textContent = r.guest ? `${r.guest.name} <${r.guest.email}>` : '';
    $('r-created').textContent = formatDateTime(r.createdAt);
    const held = r.status === 'pending' && r.expiresAt;
    $('r-expires-label').hidden = !held;
    $('r-expires').hidden = !held;
    $('r-expires').textContent = held ? `${new Date(r.expiresAt).toLocaleDateString([], { dateStyle: 'medium' })}, ${hhmm(r.expiresAt)}` : '';
    $('r-reason-label').hidden = !r.cancelReason;
    $('r-reason').hidden = !r.cancelReason;
    $('r-reason').textContent =
      r.cancelReason === 'hold_expired' ? 'The hold expired before payment.' : r.cancelReason === 'requested' ? 'Canceled on request.' : r.cancelReason ?? '';
    const paid = r.payment ?? null;
    $('r-paid-label').hidden = !paid;
    $('r-paid').hidden = !paid;
    $('r-paid').textContent = paid ? `${formatMoney(paid.amount, r.currency)} on ${formatDateTime(paid.paidAt)} (${paid.reference})` : '';
    const refund = paid?.refund ?? null;
    $('r-refund-label').hidden = !refund;
    $('r-refund').hidden = !refund;
    $('r-refund').textContent = refund
      ? `${formatMoney(refund.amount, r.currency)}: ${refund.status === 'done' ? `refunded (${refund.reference ?? ''})` : 'on its way back to your card'}`
      : '';
    $('r-refund').dataset.status = refund?.status ?? '';
    $('payment').hidden = r.status !== 'pending';
    countdown(r);
    $('cancel-button').hidden = !(r.status === 'pending' || r.status === 'paid');
    $('cancel-button').textContent =
      r.status === 'paid' ? `Cancel and refund ${formatMoney(refundNow(r), r.currency)}` : 'Cancel reservation';
    // A refund on its way: look again until the provider has confirmed it.
    if (refund?.status === 'pending') setTimeout(() => void load().catch(() => {}), 2000);
    $('back-to-hotel').href = r.hotelId ? `/hotel.html?id=${encodeURIComponent(r.hotelId)}` : '/';
    if (r.hotelId) {
      $('r-hotel').textContent = r.hotelId;
      getHotel(r.hotelId)
        .then((hotel) => {
          $('r-hotel').textContent = [hotel.name, hotel.city].filter(Boolean).join(', ');
          policy = hotel.cancellationPolicy ?? null;
          hotelTimezone = hotel.timezone ?? 'UTC';
          $('r-policy').textContent = policyText(policy);
          if (r.status === 'paid') $('cancel-button').textContent = `Cancel and refund ${formatMoney(refundNow(r), r.currency)}`;
        })
        .catch(() => {});
      getRoomTypes(r.hotelId)
        .then((list) => {
          const rt = list.find((x) => x.id === r.roomTypeId);
          if (rt) $('r-room-type').textContent = rt.name;
        })
        .catch(() => {});
    }
    $('r-room-type').textContent = r.roomTypeId ?? '';
  }

  // ---- the hold's countdown ----
  // A held reservation shows mm:ss until `expiresAt`; at 0 the page says the hold expired, stops offering payment,
  // and reads the reservation again (the server cancels it with reason hold_expired a moment later).
  let tick = null;
  let expiredFor = null;
  function countdown(r) {
    clearInterval(tick);
    tick = null;
    const box = $('hold-countdown');
    $('payment-title').textContent = 'Pay to confirm';
    const held = r.status === 'pending' && r.expiresAt;
    if (!held) {
      delete box.dataset.state;
      return;
    }
    const until = Date.parse(r.expiresAt);
    const show = () => {
      const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      $('hold-remaining').textContent = `${String(Math.floor(left / 60)).padStart(2, '0')}:${String(left % 60).padStart(2, '0')}`;
      if (left > 0) {
        box.dataset.state = left <= 60 ? 'ending' : 'running';
        return;
      }
      clearInterval(tick);
      tick = null;
      box.dataset.state = 'expired';
      $('hold-remaining').textContent = '00:00';
      $('confirmation-title').textContent = 'The hold has expired';
      $('payment-title').textContent = 'Too late to pay';
      // Until the server has released it (a moment later, read again below), say so here.
      const badge = $('reservation-status');
      badge.className = 'status-badge status-canceled';
      badge.textContent = 'Hold expired';
      $('hold-hint').textContent = 'The rooms were released. Book again from the hotel page if they are still free.';
      $('pay-button').disabled = true;
      $('payment-method').disabled = true;
      if (expiredFor !== r.id) {
        expiredFor = r.id;
        void refetchAfterExpiry();
      }
    };
    show();
    if (box.dataset.state !== 'expired') tick = setInterval(show, 1000);
  }
  async function refetchAfterExpiry() {
    // The expiry runs in the reservation's worker; look a few times until it is no longer pending.
    for (let i = 0; i < 10; i++) {
      try {
        const { data } = await api(`/v1/reservations/${encodeURIComponent(id)}`, { quiet: true });
        if (data && data.status !== 'pending' && data.status !== 'processing') {
          await render(data);
          $('pay-button').disabled = false;
          $('payment-method').disabled = false;
          return;
        }
      } catch {
        /* try again */
      }
      await sleep(Math.min(5000, 1000 * (i + 1)));
    }
  }

  // Show what the booking form handed over at once, then the server's current state.
  try {
    const cached = JSON.parse(sessionStorage.getItem(`booking.reservation:${id}`) || 'null');
    if (cached && cached.id === id && cached.status) render(cached);
  } catch {
    /* nothing cached */
  }

  async function load() {
    let delay = 1000;
    for (;;) {
      let res;
      try {
        res = await api(`/v1/reservations/${encodeURIComponent(id)}`);
      } catch (err) {
        if (handleAuth(err)) return;
        if (err instanceof ApiError && err.status === 404) {
          $('reservation').hidden = true;
          throw new ApiError(404, 'not_found', 'This reservation was not found. It may belong to another account.');
        }
        throw err;
      }
      if (res.status === 202 || res.data?.status === 'processing') {
        showMessage(statusBox, 'Your booking is still processing. This page updates when it is decided.');
        statusBox.dataset.state = 'processing';
        await sleep(delay);
        delay = Math.min(5000, delay + 1000);
        continue;
      }
      clearMessage(statusBox);
      delete statusBox.dataset.state;
      await render(res.data);
      return;
    }
  }

  // ---- pay ----
  let payAttempt = null;
  const payForm = $('payment-form');
  const payButton = $('pay-button');
  payForm.addEventListener('input', () => {
    payAttempt = null;
  });
  payForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (payButton.disabled) return;
    payAttempt ??= newUuid();
    clearMessage(actionError);
    clearMessage(actionStatus);
    payButton.disabled = true;
    try {
      const { data } = await api(`/v1/reservations/${encodeURIComponent(id)}/payment`, {
        method: 'POST',
        body: { paymentMethod: $('payment-method').value },
        headers: { 'Idempotency-Key': payAttempt },
      });
      payAttempt = null;
      if (data && data.id) await render(data);
      showMessage(actionStatus, 'Payment received. Your reservation is paid.');
    } catch (err) {
      if (handleAuth(err)) return;
      if (err instanceof ApiError && err.status !== 0 && err.status < 500 && err.status !== 429) payAttempt = null;
      showError(actionError, err);
      // A declined payment rejects the reservation; an expired hold cancels it: show the new state.
      if (err instanceof ApiError && (err.status === 402 || err.status === 409)) await load().catch(() => {});
    } finally {
      payButton.disabled = false;
    }
  });

  // ---- cancel ----
  const cancelButton = $('cancel-button');
  cancelButton.addEventListener('click', async () => {
    if (cancelButton.disabled) return;
    clearMessage(actionError);
    clearMessage(actionStatus);
    cancelButton.disabled = true;
    try {
      const { data } = await api(`/v1/reservations/${encodeURIComponent(id)}`, { method: 'DELETE' });
      if (data && data.id) await render(data);
      const back = data?.payment?.refund;
      showMessage(
        actionStatus,
        back ? `The reservation is canceled; ${formatMoney(back.amount, data.currency)} is refunded to your card.` : `The reservation is now ${data?.status ?? 'canceled'}.`,
      );
    } catch (err) {
      if (handleAuth(err)) return;
      showError(actionError, err);
    } finally {
      cancelButton.disabled = false;
    }
  });

  await load();
});
