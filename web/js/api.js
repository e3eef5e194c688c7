// Talking to the API: fetch with JSON, the contract's error format, the guest session and the loading indicator.
//
// Errors from the server are `{error: {code, message, details?}}`; every failure (including a network failure
// or a body that is not that shape) is thrown as an ApiError with the same three fields plus the HTTP status.

const TOKEN_KEY = 'booking.token';
const USER_KEY = 'booking.user';
const STAFF_TOKEN_KEY = 'booking.staffToken';
const STAFF_USER_KEY = 'booking.staffUser';

export class ApiError extends Error {
  constructor(status, code, message, details, retryAfter) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }
}

// ---- session (the logged-in guest) ----------------------------------------------------------------------------

function storageGet(store, key) {
  try {
    return store.getItem(key);
  } catch {
    return null; // storage disabled
  }
}
function storageSet(store, key, value) {
  try {
    if (value === null || value === undefined) store.removeItem(key);
    else store.setItem(key, value);
  } catch {
    /* storage disabled or full: the session just won't survive a reload */
  }
}

/** The logged-in guest: `{userId, email, name, expiresAt}` or null. */
export function currentUser() {
  if (!getToken()) return null;
  try {
    return JSON.parse(storageGet(localStorage, USER_KEY) || 'null') || {};
  } catch {
    return {};
  }
}

/** The guest's session token, or null when logged out or expired. */
export function getToken() {
  const token = storageGet(localStorage, TOKEN_KEY);
  if (!token) return null;
  try {
    const user = JSON.parse(storageGet(localStorage, USER_KEY) || 'null');
    if (user && user.expiresAt && Date.parse(user.expiresAt) <= Date.now()) {
      clearSession();
      return null;
    }
  } catch {
    /* unreadable metadata: keep the token, the server is the judge */
  }
  return token;
}

export function setSession({ token, userId, expiresAt, email, name }) {
  storageSet(localStorage, TOKEN_KEY, token);
  storageSet(localStorage, USER_KEY, JSON.stringify({ userId, expiresAt, email, name }));
  window.dispatchEvent(new Event('booking:session'));
}

export function clearSession() {
  storageSet(localStorage, TOKEN_KEY, null);
  storageSet(localStorage, USER_KEY, null);
  window.dispatchEvent(new Event('booking:session'));
}

/** The staff page's token (a staff sign-in or a pasted API token), kept for this tab only. */
export function getStaffToken() {
  return storageGet(sessionStorage, STAFF_TOKEN_KEY);
}
/** Who the staff token belongs to, as far as the page knows: `{email?, admin?}` or null. */
export function getStaffUser() {
  if (!getStaffToken()) return null;
  try {
    return JSON.parse(storageGet(sessionStorage, STAFF_USER_KEY) || 'null') || {};
  } catch {
    return {};
  }
}
export function setStaffToken(token, who = null) {
  storageSet(sessionStorage, STAFF_TOKEN_KEY, token || null);
  storageSet(sessionStorage, STAFF_USER_KEY, token && who ? JSON.stringify(who) : null);
  window.dispatchEvent(new Event('booking:session'));
}

// ---- loading indicator ------------------------------------------------------------------------------------------

let inFlight = 0;
function setLoading(delta) {
  inFlight += delta;
  const busy = inFlight > 0;
  const el = document.getElementById('loading');
  if (el) el.hidden = !busy;
  const main = document.querySelector('main');
  if (main) main.setAttribute('aria-busy', String(busy));
}

// ---- requests ---------------------------------------------------------------------------------------------------

const STATUS_TEXT = {
  400: 'The request was not valid.',
  401: 'Please log in.',
  403: 'You are not allowed to do that.',
  404: 'Not found.',
  409: 'That conflicts with the current state.',
  413: 'The request is too large.',
  422: 'The request could not be processed.',
  429: 'Too many requests. Please wait a moment and try again.',
  500: 'The server had a problem. Please try again.',
  502: 'The service is unreachable right now. Please try again.',
  503: 'The service is unavailable right now. Please try again.',
  504: 'The service took too long to answer. Please try again.',
};

/**
 * Call the API. Resolves `{status, data, headers}` for any 2xx (including 202, which callers must look at);
 * throws ApiError otherwise.
 *
 * options.token: a token string to send; `false` to send none; omitted → the guest session token (if any).
 * options.body: a value to send as JSON.
 * options.quiet: don't show the loading indicator (background polls).
 */
export async function api(path, { method = 'GET', body, token, headers = {}, signal, quiet = false } = {}) {
  const h = { Accept: 'application/json', ...headers };
  const bearer = token === undefined ? getToken() : token;
  if (bearer) h.Authorization = `Bearer ${bearer}`;
  const init = { method, headers: h, signal, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    h['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (!quiet) setLoading(+1);
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network_error', 'Could not reach the server. Check your connection and try again.');
  } finally {
    if (!quiet) setLoading(-1);
  }
  let data = null;
  const text = await res.text().catch(() => '');
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (res.ok) return { status: res.status, data, headers: res.headers };
  const e = data && typeof data === 'object' && data.error && typeof data.error === 'object' ? data.error : {};
  const retryAfterHeader = res.headers.get('Retry-After');
  const retryAfter = retryAfterHeader && /^\d+$/.test(retryAfterHeader) ? Number(retryAfterHeader) : undefined;
  let message = typeof e.message === 'string' && e.message ? e.message : STATUS_TEXT[res.status] || `Request failed (HTTP ${res.status}).`;
  if (res.status === 429 && retryAfter !== undefined && !/try again in/i.test(message)) {
    message += ` (try again in ${retryAfter} s)`;
  }
  throw new ApiError(res.status, typeof e.code === 'string' ? e.code : `http_${res.status}`, message, e.details, retryAfter);
}

/** Build a query string from an object, skipping empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// ---- small read-through caches for names shown next to ids ------------------------------------------------------

const hotelCache = new Map();
const roomTypeCache = new Map();

/** GET /v1/hotels/:id (cached per page). */
export function getHotel(hotelId) {
  if (!hotelCache.has(hotelId)) {
    const p = api(`/v1/hotels/${encodeURIComponent(hotelId)}`, { token: false }).then((r) => r.data);
    p.catch(() => hotelCache.delete(hotelId));
    hotelCache.set(hotelId, p);
  }
  return hotelCache.get(hotelId);
}

/** GET /v1/hotels/:id/room-types, every page (cached per page). */
export function getRoomTypes(hotelId) {
  if (!roomTypeCache.has(hotelId)) {
    const p = listAll(`/v1/hotels/${encodeURIComponent(hotelId)}/room-types`, { token: false });
    p.catch(() => roomTypeCache.delete(hotelId));
    roomTypeCache.set(hotelId, p);
  }
  return roomTypeCache.get(hotelId);
}

export function forgetRoomTypes(hotelId) {
  roomTypeCache.delete(hotelId);
}

/**
 * Read a whole list `{items, nextCursor}` (following cursors, at most `maxPages` pages).
 * Also accepts a bare array, in case a list route answers one.
 */
export async function listAll(path, options = {}, maxPages = 20) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < maxPages; page++) {
    const sep = path.includes('?') ? '&' : '?';
    const url = `${path}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const { data } = await api(url, options);
    if (Array.isArray(data)) return data;
    items.push(...((data && data.items) || []));
    cursor = data && data.nextCursor;
    if (!cursor) break;
  }
  return items;
}

/** A same-origin path that is safe to navigate to after log-in (never another site). */
export function safeNext(next, fallback = '/') {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return fallback;
  return next;
}

/** Send the visitor to log in, coming back to the current page afterwards. */
export function goToLogin(reason) {
  const next = location.pathname + location.search + location.hash;
  const q = new URLSearchParams({ next });
  if (reason) q.set('reason', reason);
  location.assign(`/login.html?${q}`);
}
