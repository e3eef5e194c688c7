// /login.html[?next=/path&reason=book]: POST /v1/sessions, then back to where the visitor came from.

import { ApiError, api, safeNext, setSession } from '../api.js';
import { params, showError, clearMessage, startPage } from '../ui.js';

const $ = (id) => document.getElementById(id);

/** Log in and remember the session. */
async function logIn(email, password, name) {
  const { data } = await api('/v1/sessions', { method: 'POST', body: { email, password }, token: false });
  setSession({ token: data.token, userId: data.userId, expiresAt: data.expiresAt, email, name });
  return data;
}

startPage(() => {
  const p = params();
  const next = safeNext(p.get('next'));
  $('to-signup').href = `/signup.html?${new URLSearchParams({ next })}`;
  if (p.get('reason') === 'book') {
    const note = $('login-reason');
    note.textContent = 'Please log in to finish your booking. You will come back to it afterwards.';
    note.hidden = false;
  }
  const form = $('login-form');
  const button = $('login-button');
  const errorBox = $('login-error');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (button.disabled) return;
    clearMessage(errorBox);
    button.disabled = true;
    try {
      await logIn($('login-email').value.trim(), $('login-password').value);
      location.assign(next);
    } catch (err) {
      button.disabled = false;
      showError(errorBox, err instanceof ApiError && err.status === 401 ? new ApiError(401, err.code, 'The email or password is not right.') : err);
      $('login-password').focus();
    }
  });
  $('login-email').focus();
});
