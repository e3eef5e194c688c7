// /confirmation.html?id=<reservationId>: one reservation (GET /v1/reservations/:id), with pay and cancel.

import { ApiError, api, clearSession, getHotel, getRoomTypes, goToLogin } from '../api.js';
import { newUuid } from '../booking.js';
import { diffDays, formatDate, formatDateTime, formatMoney } from '../format.js';
import { clearMessage, params, showError, showMessage, startPage, statusBadge } from '../ui.js';

const $ = (id) => document.getElementById(id);
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

  async function render(r) {
    $('reservation').hidden = false;
    $('reservation').dataset.reservationId = r.id;
    $('reservation').dataset.status = r.status;
    statusBadge(r.status, $('reservation-status'));
    $('confirmation-title').textContent =
      r.status === 'pending' || r.status === 'paid' ? 'Your reservation is confirmed' : 'Your reservation';
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
    $('r-expires').textContent = held ? formatDateTime(r.expiresAt) : '';
    $('r-reason-label').hidden = !r.cancelReason;
    $('r-reason').hidden = !r.cancelReason;
    $('r-reason').textContent = r.cancelReason === 'hold_expired' ? 'The hold expired before payment.' : r.cancelReason ?? '';
    $('payment').hidden = r.status !== 'pending';
    $('cancel-button').hidden = !(r.status === 'pending' || r.status === 'paid');
    $('cancel-button').textContent = r.status === 'paid' ? 'Cancel and refund' : 'Cancel reservation';
    $('back-to-hotel').href = r.hotelId ? `/hotel.html?id=${encodeURIComponent(r.hotelId)}` : '/';
    if (r.hotelId) {
      $('r-hotel').textContent = r.hotelId;
      getHotel(r.hotelId)
        .then((hotel) => {
          $('r-hotel').textContent = [hotel.name, hotel.city].filter(Boolean).join(', ');
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
        body: { paymentMethod: $('payment-method').value.trim() },
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
      showMessage(actionStatus, `The reservation is now ${(data?.status ?? 'canceled')}.`);
    } catch (err) {
      if (handleAuth(err)) return;
      showError(actionError, err);
    } finally {
      cancelButton.disabled = false;
    }
  });

  await load();
});
