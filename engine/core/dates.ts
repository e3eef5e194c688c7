// Calendar dates as whole day numbers (days since 1970-01-01, UTC calendar), so that a night is an integer and a
// stay is a half-open integer range. No clock is read here: "now" always comes in as an argument.

const msPerDay = 86_400_000;
const isoDate = /^(\d{4})-(\d{2})-(\d{2})$/;

// Both conversions are pure and a busy writer asks for the same few hundred days again and again (every night a
// commit writes, every stay it decides): remember them, within a bound.
const memoMax = 20_000;
const dayOfText = new Map<string, number | undefined>();
const textOfDay = new Map<number, string>();

/** The day number of a `YYYY-MM-DD` string, or undefined when it is not a real calendar date. */
export function parseDay(text: string): number | undefined {
  if (dayOfText.has(text)) return dayOfText.get(text);
  const day = computeParseDay(text);
  if (dayOfText.size >= memoMax) dayOfText.clear();
  dayOfText.set(text, day);
  return day;
}

function computeParseDay(text: string): number | undefined {
  const m = isoDate.exec(text);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
  return ms / msPerDay;
}

export function formatDay(day: number): string {
  let text = textOfDay.get(day);
  if (text === undefined) {
    text = new Date(day * msPerDay).toISOString().slice(0, 10);
    if (textOfDay.size >= memoMax) textOfDay.clear();
    textOfDay.set(day, text);
  }
  return text;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f;
}

const lastDay = new Map<string, { nowMs: number; day: number }>();

/** Today's day number in an IANA time zone at the instant `nowMs`. */
export function localDay(nowMs: number, timeZone: string): number {
  // A job decides all its commands at one instant: remember the last answer per zone.
  const hit = lastDay.get(timeZone);
  if (hit && hit.nowMs === nowMs) return hit.day;
  const day = computeLocalDay(nowMs, timeZone);
  lastDay.set(timeZone, { nowMs, day });
  return day;
}

function computeLocalDay(nowMs: number, timeZone: string): number {
  const parts = formatterFor(timeZone).formatToParts(new Date(nowMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(get('year'), get('month') - 1, get('day')) / msPerDay;
}

/** Whether the runtime knows this IANA time zone. */
export function isTimeZone(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/.test(name)) return false;
  try {
    formatterFor(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * A valid zone's name in its canonical letter case ("europe/paris" → "Europe/Paris"): only the case changes, never
 * the zone (a link such as "US/Pacific" stays as it was written).
 */
export function timeZoneCase(name: string): string {
  const resolved = formatterFor(name).resolvedOptions().timeZone;
  return resolved.toLowerCase() === name.toLowerCase() ? resolved : name;
}

const wallFormatters = new Map<string, Intl.DateTimeFormat>();

/** How far a zone's wall clock is ahead of UTC at the instant `ms` (negative west of Greenwich). */
function zoneOffsetMs(ms: number, timeZone: string): number {
  let f = wallFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    wallFormatters.set(timeZone, f);
  }
  const parts = f.formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant a day starts in a time zone (its local midnight; on a day whose midnight a clock change skips, the
 * first instant of that day).
 */
export function dayStartMs(day: number, timeZone: string): number {
  const midnight = day * msPerDay;
  const wall = (ms: number) => ms + zoneOffsetMs(ms, timeZone);
  const first = midnight - zoneOffsetMs(midnight, timeZone);
  // Once more with the offset in force at that instant (they differ when a clock change falls in between).
  const second = midnight - zoneOffsetMs(first, timeZone);
  // The earlier instant whose wall clock reads the midnight (a change that repeats it gives two).
  const at = [first, second].filter((ms) => wall(ms) === midnight);
  if (at.length > 0) return Math.min(...at);
  // No instant reads the midnight (a change skips it): the day starts at the change, the first second whose wall
  // clock reads the day. The change lies between the two instants: one reads the day before, the other the day.
  let lo = Math.min(first, second);
  let hi = Math.max(first, second);
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (wall(mid) >= midnight) hi = mid;
    else lo = mid;
  }
  return hi;
}
