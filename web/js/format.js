// Formatting and calendar-date helpers. Dates are plain `YYYY-MM-DD` strings (no time, no zone):
// arithmetic is done on UTC midnights so that daylight-saving changes never shift a day.

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a well-formed, existing calendar date `YYYY-MM-DD`. */
export function isIsoDate(s) {
  if (typeof s !== 'string') return false;
  const m = ISO_DATE.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
}

function toUtc(iso) {
  const m = ISO_DATE.exec(iso);
  if (!m) throw new RangeError(`not a date: ${iso}`);
  return Date.UTC(+m[1], +m[2] - 1, +m[3]);
}

function fromUtc(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

/** `iso` plus `n` days (n may be negative). */
export function addDays(iso, n) {
  return fromUtc(toUtc(iso) + n * 86_400_000);
}

/** Whole days from `a` to `b` (b − a). */
export function diffDays(a, b) {
  return Math.round((toUtc(b) - toUtc(a)) / 86_400_000);
}

/** Today's date in an IANA time zone (the hotel's), falling back to the browser's zone. */
export function todayIn(timeZone) {
  const opts = { year: 'numeric', month: '2-digit', day: '2-digit' };
  let parts;
  try {
    parts = new Intl.DateTimeFormat('en-CA', { ...opts, timeZone: timeZone || undefined }).formatToParts(new Date());
  } catch {
    parts = new Intl.DateTimeFormat('en-CA', opts).formatToParts(new Date());
  }
  const get = (t) => parts.find((p) => p.type === t).value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

const dateFormats = new Map();
function dateFormat(options) {
  const key = JSON.stringify(options);
  let f = dateFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(undefined, { ...options, timeZone: 'UTC' });
    dateFormats.set(key, f);
  }
  return f;
}

/** A date for people: "Mon, 1 Mar 2027" in the reader's locale. */
export function formatDate(iso, options = { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' }) {
  if (!isIsoDate(iso)) return String(iso ?? '');
  return dateFormat(options).format(new Date(toUtc(iso)));
}

/** A timestamp (ISO 8601 with time) for people, in the reader's zone. */
export function formatDateTime(ts) {
  if (!ts) return '';
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return String(ts);
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

const moneyFormats = new Map();
function moneyFormat(currency) {
  let f = moneyFormats.get(currency);
  if (!f) {
    try {
      f = new Intl.NumberFormat(undefined, { style: 'currency', currency });
    } catch {
      f = null; // unknown currency code
    }
    moneyFormats.set(currency, f);
  }
  return f;
}

/** Digits after the decimal point of a currency's minor unit (USD 2, JPY 0, KWD 3). */
export function minorDigits(currency) {
  const f = moneyFormat(currency);
  return f ? f.resolvedOptions().maximumFractionDigits : 2;
}

/** Money given as an integer in minor units of `currency`, e.g. (15000, "EUR") → "€150.00". */
export function formatMoney(minor, currency) {
  if (typeof minor !== 'number' || !Number.isFinite(minor)) return '';
  const f = moneyFormat(currency);
  if (!f) return `${minor} ${currency ?? ''} (minor units)`.trim();
  return f.format(minor / 10 ** minorDigits(currency));
}

/** "1 night" / "3 nights", "1 room" / "2 rooms" (English copy). */
export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}
