// Small DOM helpers shared by every page: element builder, accessible messages, the header's log-in state.

import { ApiError, clearSession, currentUser, getStaffUser, setStaffToken } from './api.js';
import { renderHeader } from './layout.js';

/**
 * Create an element. `attrs`: attributes, except `class`/`text`/`on*`/`dataset`/`hidden`/`disabled` conveniences.
 * Children: nodes, strings, or null/false (skipped); arrays are flattened.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replace an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** The page's query parameters. */
export function params() {
  return new URLSearchParams(location.search);
}

/**
 * Human lines for `error.details`. The contract only says validation details "list each bad field and why",
 * so accept the usual shapes: `{fields:[{field|path, message|reason}]}`, `[{...}]`, or `{field: reason}`.
 */
export function describeDetails(details) {
  if (!details || typeof details !== 'object') return [];
  const lines = [];
  const fromItem = (item) => {
    if (item && typeof item === 'object') {
      const field = item.field ?? item.path ?? item.name ?? item.key;
      const why = item.message ?? item.reason ?? item.error ?? item.code;
      const f = Array.isArray(field) ? field.join('.') : field;
      if (f !== undefined || why !== undefined) lines.push([f, why].filter((x) => x !== undefined && x !== '').join(': '));
    } else if (item !== undefined) {
      lines.push(String(item));
    }
  };
  if (Array.isArray(details)) details.forEach(fromItem);
  else {
    for (const [k, v] of Object.entries(details)) {
      if (k === 'alternatives') continue; // shown by the booking form itself
      if (Array.isArray(v) && v.some((x) => x && typeof x === 'object')) v.forEach(fromItem);
      else if (Array.isArray(v)) lines.push(`${k}: ${v.join(', ')}`);
      else if (v && typeof v === 'object') lines.push(`${k}: ${JSON.stringify(v)}`);
      else lines.push(`${k}: ${v}`);
    }
  }
  return lines;
}

/**
 * Show an error in `box` (an element with role="alert", hidden when empty): the message, then the details.
 * Accepts an ApiError, another Error, or a string.
 */
export function showError(box, err) {
  const message = err instanceof Error || (err && err.message) ? err.message : String(err);
  const lines = err instanceof ApiError ? describeDetails(err.details) : [];
  replace(
    box,
    h('p', { class: 'message-text' }, message),
    lines.length ? h('ul', { class: 'details' }, lines.map((l) => h('li', {}, l))) : null,
  );
  if (err instanceof ApiError) box.dataset.code = err.code;
  else delete box.dataset.code;
  box.hidden = false;
}

/** Show a success/status message in `box` (role="status"). */
export function showMessage(box, text) {
  replace(box, h('p', { class: 'message-text' }, text));
  delete box.dataset.code;
  box.hidden = false;
}

export function clearMessage(box) {
  if (!box) return;
  box.replaceChildren();
  delete box.dataset.code;
  box.hidden = true;
}

/**
 * Fill the shared header (layout.js) and its `#auth` area with the sign-in state: the guest's session, and on
 * the staff page (or whenever this tab has one) the staff sign-in.
 */
export function initHeader() {
  renderHeader();
  const onStaffPage = /\/staff\.html$/.test(location.pathname);
  const render = () => {
    const auth = document.getElementById('auth');
    if (!auth) return;
    const user = currentUser();
    const staff = getStaffUser();
    const next = encodeURIComponent(location.pathname + location.search + location.hash);
    const parts = [];
    if (staff && (onStaffPage || !user)) {
      parts.push(
        h('span', { class: 'who', id: 'staff-signed-in-as' }, staff.admin ? 'Admin' : 'Staff', staff.email ? `: ${staff.email}` : ' (API token)'),
        h('button', { type: 'button', id: 'staff-logout-button', class: 'link-button', onclick: () => setStaffToken(null) }, 'Sign out'),
      );
    }
    if (user && !(staff && onStaffPage)) {
      parts.push(
        h('span', { class: 'who', id: 'signed-in-as' }, 'Signed in', user.email ? ` as ${user.email}` : ''),
        h('button', {
          type: 'button',
          id: 'logout-button',
          class: 'link-button',
          onclick: () => {
            clearSession();
            if (/\/(reservations|confirmation)\.html$/.test(location.pathname)) location.assign('/');
          },
        }, 'Log out'),
      );
    }
    if (!parts.length) {
      parts.push(
        h('a', { href: `/login.html?next=${next}`, id: 'login-link' }, 'Log in'),
        h('a', { href: `/signup.html?next=${next}`, id: 'signup-link' }, 'Sign up'),
      );
    }
    replace(auth, parts);
  };
  render();
  window.addEventListener('booking:session', render);
  // Another tab logged in or out.
  window.addEventListener('storage', (e) => {
    if (e.key === null || e.key === 'booking.token') render();
  });
}

/** Run a page's main function, showing any uncaught error in the page's #page-error box. */
export function startPage(main) {
  initHeader();
  Promise.resolve()
    .then(main)
    .catch((err) => {
      console.error(err);
      const box = document.getElementById('page-error');
      if (box) showError(box, err);
    });
}

/** Words for a reservation status. */
export const STATUS_LABELS = {
  processing: 'Processing',
  pending: 'Held (awaiting payment)',
  paid: 'Paid',
  rejected: 'Rejected',
  canceled: 'Canceled',
  refunded: 'Refunded',
};

/** A status badge: `<span class="status-badge" data-status="paid">Paid</span>`. */
export function statusBadge(status, el = h('span')) {
  el.className = `status-badge status-${status}`;
  el.dataset.status = status;
  el.textContent = STATUS_LABELS[status] ?? status;
  return el;
}
