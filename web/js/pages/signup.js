// /signup.html[?next=/path]: POST /v1/users, then log in at once and go back.

import { ApiError, api, safeNext, setSession } from '../api.js';
import { params, showError, clearMessage, startPage } from '../ui.js';

const $ = (id) => document.getElementById(id);

startPage(() => {
  const next = safeNext(params().get('next'));
  $('to-login').href = `/login.html?${new URLSearchParams({ next })}`;
  const form = $('signup-form');
  const button = $('signup-button');
  const errorBox = $('signup-error');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (button.disabled) return;
    clearMessage(errorBox);
    const name = $('signup-name').value.trim();
    const email = $('signup-email').value.trim();
    const password = $('signup-password').value;
    button.disabled = true;
    try {
      await api('/v1/users', { method: 'POST', body: { email, password, name }, token: false });
    } catch (err) {
      button.disabled = false;
      showError(
        errorBox,
        err instanceof ApiError && err.status === 409 ? new ApiError(409, err.code, `${err.message} You can log in instead.`, err.details) : err,
      );
      return;
    }
    try {
      const { data } = await api('/v1/sessions', { method: 'POST', body: { email, password }, token: false });
      setSession({ token: data.token, userId: data.userId, expiresAt: data.expiresAt, email, name });
      location.assign(next);
    } catch (err) {
      // The account exists; only the automatic log-in failed.
      button.disabled = false;
      showError(errorBox, new Error(`Your account was created, but logging in failed: ${err.message} Please log in.`));
    }
  });
  $('signup-name').focus();
});
