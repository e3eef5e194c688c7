// The availability cache and change log in Redis, written only by the hotel's writer after a commit and stamped
// with the hotel's version, so that they may lag but never go backwards. Readers (the API) only read them.
//
// Layout per hotel h of shard k, under the shard's hash tag {<p>:s<k>} (RedisKeys.availability), so that the hotels a
// commit changes are moved forward in one pipeline on one Redis Cluster node, with the shard's queue and lease:
//   {<p>:s<k>}:avail:<h>            hash: v (version), base (first day number), end, tz, rts (JSON [{id, name}]),
//                                   tiers (JSON: the occupancy pricing tiers, so that a reader prices nights as the
//                                   database does)
//   {<p>:s<k>}:avail:<h>:<rt>       string: the room type's night table as the writer holds it
//                                   (engine/core/night-table.ts): n = end - base nights of total, limit, reserved
//                                   (int16 LE), then rates (int32 LE; the base rates: prices follow from them,
//                                   reserved, total and the tiers when read)
//   {<p>:s<k>}:changes:<h>          stream, id <version>-0: from, version, changes (JSON) or reset=1; capped length
// and every change is announced on the channel {<p>:s<k>}:availability:<h> (an API process subscribes while it
// streams the hotel to someone). The scripts derive the room type keys from the meta key (`KEYS[1] .. ':' .. rt`):
// the same tag, hence the same slot.
import os from 'node:os';
import type { ChainableCommander } from 'ioredis';
import { RedisKeys, type RedisClient } from './redis.js';
import { shardOf } from './shard-map.js';
import { formatDay } from './core/dates.js';
import type { HotelState, NightTable, PricingTier } from './core/types.js';

/** Change-log entries kept per hotel for resuming streams (older gaps get `reset`). */
export const changeLogEntriesMax = 1000;
/** A hotel's cache lives this long after its last write (its writer rewrites it whenever it loads the hotel). */
export const cacheTtlSeconds = 7 * 24 * 3600;

export interface NightChange {
  roomTypeId: string;
  date: string;
  totalInventory: number;
  reserved: number;
  available: number;
  /** The price of one more room now (engine/core/pricing.ts), and the night's base rate it follows from. */
  rate: number;
  baseRate: number;
}

export interface ChangeMessage {
  hotelId: string;
  /** First and last version the change covers (a job may move a hotel several versions at once). */
  from: number;
  version: number;
  /**
   * The changed nights, or null when the client must refetch (room types added or removed, limits recomputed,
   * pricing tiers changed).
   */
  changes: NightChange[] | null;
  /** The hotel was deleted at `version`: streams say `reset` and end (a refetch answers 404). */
  deleted?: true;
}

/** A hotel's cache keys and channel, under its shard's hash tag. */
export const cacheKeys = (prefix: string, shardCount: number, hotelId: string) => new RedisKeys(prefix).availability(shardOf(hotelId, shardCount), hotelId);


/** Byte offsets of night i's four values in a room type's string of n nights (the night table's own layout). */
export function nightOffsets(n: number, i: number): [number, number, number, number] {
  const ratesAt = Math.ceil((n * 6) / 4) * 4;
  return [2 * i, 2 * n + 2 * i, 4 * n + 2 * i, ratesAt + 4 * i];
}

if (os.endianness() !== 'LE') throw new Error('assertion: the availability cache stores night tables little-endian');

// Shared by the two writer scripts: append the change-log entry and announce it (an id that is not newer, i.e. a
// redelivered job, is skipped). KEYS[2]: change log. ARGV: from, version, changes JSON ('' for reset), channel,
// message JSON.
const logAndAnnounce = `
local function logAndAnnounce(from, version, changes, channel, message, maxlen)
  local ok
  if changes == '' then
    ok = redis.pcall('XADD', KEYS[2], 'MAXLEN', '~', maxlen, version .. '-0', 'from', from, 'version', version, 'reset', '1')
  else
    ok = redis.pcall('XADD', KEYS[2], 'MAXLEN', '~', maxlen, version .. '-0', 'from', from, 'version', version, 'changes', changes)
  end
  if type(ok) == 'table' and ok.err then return end
  redis.call('PUBLISH', channel, message)
end`;

// After a commit, one script per hotel: move the cached nights forward (only if the change follows the cached
// version; else answer 2, and the writer writes a whole snapshot), then log and announce the change. KEYS: meta, change log, then one key per changed room type. ARGV: version, ttl, from,
// changes JSON, channel, hotel id (JSON), max log length, runs. The runs are one binary string, per run of consecutive
// changed nights of one room type: key index (uint16), first day (int32), which fields changed (uint8: total,
// limit, reserved, rate), night count (uint16), then for each changed field its values over the run (int16 LE, the
// rates int32 LE). A reservation moves only `reserved`: one SETRANGE per run, not four per night. The announcement
// is the change log entry's JSON wrapped here, so the changes travel once. TTLs are renewed when under half left.
const applyScript = `${logAndAnnounce}
local nv = tonumber(ARGV[1])
local m = redis.call('HMGET', KEYS[1], 'v', 'base', 'end')
local v = tonumber(m[1] or '-1')
if v >= nv then return 0 end
-- Only the delta that follows the cached version is applied: after a missed one (or with nothing cached, as after
-- an empty restart) the writer writes the whole snapshot instead (answer 2). The change is logged either way.
local follows = v >= 0 and v == tonumber(ARGV[3]) - 1
if follows then
  local base = tonumber(m[2])
  local n = tonumber(m[3]) - base
  local ratesAt = math.ceil(n * 6 / 4) * 4
  local starts = {0, 2 * n, 4 * n, ratesAt}
  local widths = {2, 2, 2, 4}
  local runs = ARGV[8]
  local pos = 1
  while pos <= #runs do
    local idx, day, mask, count
    idx, day, mask, count, pos = struct.unpack('<HiBH', runs, pos)
    local k = KEYS[idx]
    local d = day - base
    -- Only the part of the run inside the cached window.
    local first = math.max(d, 0)
    local last = math.min(d + count, n)
    for f = 1, 4 do
      if bit.band(mask, bit.lshift(1, f - 1)) ~= 0 then
        local w = widths[f]
        if first < last then
          redis.call('SETRANGE', k, starts[f] + w * first, string.sub(runs, pos + w * (first - d), pos + w * (last - d) - 1))
        end
        pos = pos + w * count
      end
    end
  end
  redis.call('HSET', KEYS[1], 'v', nv)
  local ttl = tonumber(ARGV[2])
  if redis.call('TTL', KEYS[1]) < ttl / 2 then
    for j = 1, #KEYS do if j ~= 2 then redis.call('EXPIRE', KEYS[j], ttl) end end
  end
end
local message = '{"hotelId":' .. ARGV[6] .. ',"from":' .. ARGV[3] .. ',"version":' .. ARGV[1] .. ',"changes":' .. ARGV[4] .. '}'
logAndAnnounce(ARGV[3], ARGV[1], ARGV[4], ARGV[5], message, ARGV[7])
if follows then return 1 end
return 2`;

// Replace a hotel's whole snapshot unless the cache already holds a newer version; with announce = '1' (a change
// of its room types, limits or pricing tiers) also log and announce a reset. KEYS: meta, change log, room type keys.
// ARGV: version, base, end, tz, rts JSON, ttl, announce, from, channel, message JSON, max log length, tiers JSON,
// then one string per room type key.
const snapshotScript = `${logAndAnnounce}
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '-1')
local nv = tonumber(ARGV[1])
if nv < v then return 0 end
local old = redis.call('HGET', KEYS[1], 'rts')
if old then
  for _, rt in ipairs(cjson.decode(old)) do redis.call('DEL', KEYS[1] .. ':' .. rt.id) end
end
redis.call('HSET', KEYS[1], 'v', nv, 'base', ARGV[2], 'end', ARGV[3], 'tz', ARGV[4], 'rts', ARGV[5], 'tiers', ARGV[12])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[6]))
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[6]))
for j = 3, #KEYS do
  redis.call('SET', KEYS[j], ARGV[10 + j], 'EX', tonumber(ARGV[6]))
end
if ARGV[7] == '1' and nv > v then logAndAnnounce(ARGV[8], ARGV[1], '', ARGV[9], ARGV[10], ARGV[11]) end
return 1`;

// Read a window: meta and, per room type, the four byte ranges of the nights asked for, in one atomic step.
// KEYS: meta. ARGV: from day, to day. Answers {v, tz, rts, 'hit'|'miss', tiers, ranges...} or nil.
const readScript = `
local m = redis.call('HMGET', KEYS[1], 'v', 'base', 'end', 'tz', 'rts', 'tiers')
if not m[1] then return nil end
local base = tonumber(m[2])
local stop = tonumber(m[3])
local from = tonumber(ARGV[1]) - base
local to = tonumber(ARGV[2]) - base
local tiers = m[6] or '[]'
if from < 0 or to > stop - base then return {m[1], m[4], m[5], 'miss', tiers} end
local n = stop - base
local ratesAt = math.ceil(n * 6 / 4) * 4
local out = {m[1], m[4], m[5], 'hit', tiers}
for _, rt in ipairs(cjson.decode(m[5])) do
  local k = KEYS[1] .. ':' .. rt.id
  out[#out + 1] = redis.call('GETRANGE', k, 2 * from, 2 * to - 1)
  out[#out + 1] = redis.call('GETRANGE', k, 2 * n + 2 * from, 2 * n + 2 * to - 1)
  out[#out + 1] = redis.call('GETRANGE', k, 4 * n + 2 * from, 4 * n + 2 * to - 1)
  out[#out + 1] = redis.call('GETRANGE', k, ratesAt + 4 * from, ratesAt + 4 * to - 1)
end
return out`;

/** A night's values after a change, and which of them the change set (`changed`: bits of cachedFields). */
export type CachedNight = { roomTypeId: string; day: number; total: number; limit: number; reserved: number; rate: number; changed: number };
export const cachedFields = { total: 1, limit: 2, reserved: 4, rate: 8 } as const;
/** A run's header in the apply script's runs: key index, first day, changed fields, night count. */
const runHeaderBytes = 2 + 4 + 1 + 2;

/** Lua scripts, sent once per connection and then run by their SHA (ioredis's defined commands). */
interface CacheCommands {
  availApply(...args: (string | number | Buffer)[]): Promise<number>;
  availSnapshot(...args: (string | number | Buffer)[]): Promise<number>;
  availReadBuffer(...args: (string | number)[]): Promise<Buffer[] | null>;
}
type WithCacheCommands<T> = T & CacheCommands;

function defineCacheCommands(redis: RedisClient): WithCacheCommands<RedisClient> {
  const r = redis as WithCacheCommands<RedisClient>;
  if (typeof r.availApply !== 'function') {
    redis.defineCommand('availApply', { lua: applyScript });
    redis.defineCommand('availSnapshot', { lua: snapshotScript });
    redis.defineCommand('availRead', { lua: readScript, numberOfKeys: 1, readOnly: true });
  }
  return r;
}

/** A room type's night table as bytes: the table's own buffer when it is laid out as one (no copy). */
function tableBytes(t: NightTable): Buffer {
  const n = t.total.length;
  const [, , , ratesAt] = nightOffsets(n, 0);
  const size = ratesAt + 4 * n;
  const buf = t.total.buffer;
  if (t.total.byteOffset === 0 && t.limit.buffer === buf && t.reserved.buffer === buf && t.rate.buffer === buf && buf.byteLength === size && t.rate.byteOffset === ratesAt) {
    return Buffer.from(buf, 0, size);
  }
  const out = Buffer.alloc(size);
  for (let i = 0; i < n; i++) {
    const [a, b, c, d] = nightOffsets(n, i);
    out.writeInt16LE(t.total[i], a);
    out.writeInt16LE(t.limit[i], b);
    out.writeInt16LE(t.reserved[i], c);
    out.writeInt32LE(t.rate[i], d);
  }
  return out;
}

export class AvailabilityCache {
  private readonly redis: WithCacheCommands<RedisClient>;

  constructor(
    redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly shardCount: number,
  ) {
    this.redis = defineCacheCommands(redis);
  }

  /** A hotel's keys and change channel. */
  keysOf(hotelId: string) {
    return this.keys.availability(shardOf(hotelId, this.shardCount), hotelId);
  }

  /** What the apply script answers when the change does not follow the cached version: write a snapshot. */
  static readonly needsSnapshot = 2;

  /** The writer: write a hotel's whole window (after loading it). */
  async writeSnapshot(state: HotelState): Promise<void> {
    const p = this.redis.pipeline();
    this.stageSnapshot(p, state, undefined);
    const [res] = (await p.exec()) ?? [];
    if (res?.[0]) throw res[0];
  }

  private stageSnapshot(p: ChainableCommander, state: HotelState, announce: ChangeMessage | undefined): void {
    const k = this.keysOf(state.hotel.id);
    const rts = [...state.roomTypes.values()];
    (p as WithCacheCommands<ChainableCommander>).availSnapshot(
      2 + rts.length,
      k.meta,
      k.changes,
      ...rts.map((rt) => k.roomType(rt.roomType.id)),
      state.hotel.version,
      state.firstDay,
      state.endDay,
      state.hotel.timezone,
      JSON.stringify(rts.map((rt) => ({ id: rt.roomType.id, name: rt.roomType.name }))),
      cacheTtlSeconds,
      announce ? '1' : '0',
      announce?.from ?? 0,
      k.channel,
      announce ? JSON.stringify(announce) : '',
      changeLogEntriesMax,
      JSON.stringify(state.pricing),
      ...rts.map((rt) => tableBytes(rt.nights)),
    );
  }

  /**
   * The writer, after a commit: stage on `p` one script that moves the hotel's cache forward (the changed nights,
   * or a new snapshot when the change is structural), appends the change-log entry and announces it.
   */
  stage(p: ChainableCommander, state: HotelState, msg: ChangeMessage, nights: CachedNight[]): void {
    if (msg.changes === null) {
      this.stageSnapshot(p, state, msg);
      return;
    }
    const k = this.keysOf(msg.hotelId);
    const rtIndex = new Map<string, number>();
    const sorted = nights.length > 1 ? [...nights].sort((a, b) => (a.roomTypeId < b.roomTypeId ? -1 : a.roomTypeId > b.roomTypeId ? 1 : a.day - b.day)) : nights;
    // Runs: consecutive nights of one room type, with the fields any of them changed.
    const runs: { at: number; len: number; changed: number }[] = [];
    let bytes = 0;
    for (let at = 0; at < sorted.length; ) {
      let end = at + 1;
      let changed = sorted[at].changed;
      while (end < sorted.length && sorted[end].roomTypeId === sorted[at].roomTypeId && sorted[end].day === sorted[end - 1].day + 1) changed |= sorted[end++].changed;
      runs.push({ at, len: end - at, changed });
      bytes += runHeaderBytes + (end - at) * ((changed & cachedFields.total ? 2 : 0) + (changed & cachedFields.limit ? 2 : 0) + (changed & cachedFields.reserved ? 2 : 0) + (changed & cachedFields.rate ? 4 : 0));
      at = end;
    }
    const out = Buffer.allocUnsafe(bytes);
    let o = 0;
    for (const { at, len, changed } of runs) {
      const rt = sorted[at].roomTypeId;
      let idx = rtIndex.get(rt);
      if (idx === undefined) rtIndex.set(rt, (idx = rtIndex.size + 3));
      o = out.writeUInt16LE(idx, o);
      o = out.writeInt32LE(sorted[at].day, o);
      o = out.writeUInt8(changed, o);
      o = out.writeUInt16LE(len, o);
      if (changed & cachedFields.total) for (let j = 0; j < len; j++) o = out.writeInt16LE(sorted[at + j].total, o);
      if (changed & cachedFields.limit) for (let j = 0; j < len; j++) o = out.writeInt16LE(sorted[at + j].limit, o);
      if (changed & cachedFields.reserved) for (let j = 0; j < len; j++) o = out.writeInt16LE(sorted[at + j].reserved, o);
      if (changed & cachedFields.rate) for (let j = 0; j < len; j++) o = out.writeInt32LE(sorted[at + j].rate, o);
    }
    (p as WithCacheCommands<ChainableCommander>).availApply(
      2 + rtIndex.size,
      k.meta,
      k.changes,
      ...[...rtIndex.keys()].map((rt) => k.roomType(rt)),
      msg.version,
      cacheTtlSeconds,
      msg.from,
      JSON.stringify(msg.changes),
      k.channel,
      JSON.stringify(msg.hotelId),
      changeLogEntriesMax,
      out,
    );
  }

  /**
   * The writer: a deleted hotel leaves no cache behind, and its open streams are told (they end; a reconnect or a
   * refetch gets 404).
   */
  async drop(hotelId: string, version: number): Promise<void> {
    const k = this.keysOf(hotelId);
    const rts = await this.redis.hget(k.meta, 'rts');
    const keys = [k.meta, ...(rts ? (JSON.parse(rts) as { id: string }[]).map((rt) => k.roomType(rt.id)) : [])];
    await this.redis.unlink(...keys);
    const gone: ChangeMessage = { hotelId, from: version, version, changes: null, deleted: true };
    await this.redis.publish(k.channel, JSON.stringify(gone));
  }

  /** The cached version of a hotel, or undefined when the cache does not hold it. */
  async version(hotelId: string): Promise<number | undefined> {
    const v = await this.redis.hget(this.keysOf(hotelId).meta, 'v');
    return v === null ? undefined : Number(v);
  }

  /**
   * The reader: a window from the cache (each night's counts and base rate, and the hotel's pricing tiers), or
   * undefined when the cache does not hold it.
   */
  async read(hotelId: string, fromDay: number, toDay: number): Promise<
    | {
        version: number;
        timezone: string;
        tiers: PricingTier[];
        roomTypes: { roomTypeId: string; name: string; nights: { date: string; totalInventory: number; limit: number; reserved: number; rate: number }[] }[];
      }
    | undefined
  > {
    const k = this.keysOf(hotelId);
    const r = await this.redis.availReadBuffer(k.meta, fromDay, toDay);
    if (!r || r[3].toString() !== 'hit') return undefined;
    const rts = JSON.parse(r[2].toString()) as { id: string; name: string }[];
    const count = toDay - fromDay;
    const roomTypes = rts.map((rt, j) => {
      const [totals, limits, reserved, rates] = r.slice(5 + 4 * j, 9 + 4 * j);
      if (!rates || totals.length < 2 * count || limits.length < 2 * count || reserved.length < 2 * count || rates.length < 4 * count) return undefined;
      const nights = [];
      for (let i = 0; i < count; i++) {
        nights.push({
          date: formatDay(fromDay + i),
          totalInventory: totals.readInt16LE(2 * i),
          limit: limits.readInt16LE(2 * i),
          reserved: reserved.readInt16LE(2 * i),
          rate: rates.readInt32LE(4 * i),
        });
      }
      return { roomTypeId: rt.id, name: rt.name, nights };
    });
    if (roomTypes.some((x) => x === undefined)) return undefined;
    return {
      version: Number(r[0].toString()),
      timezone: r[1].toString(),
      tiers: JSON.parse(r[4].toString()) as PricingTier[],
      roomTypes: roomTypes as NonNullable<(typeof roomTypes)[number]>[],
    };
  }

  /**
   * The reader: change-log entries after a version, and whether they are all of the changes since it (false when
   * the log no longer reaches back that far: the client must refetch).
   */
  async changesSince(hotelId: string, after: number): Promise<{ complete: boolean; entries: ChangeMessage[]; current: number | undefined }> {
    const k = this.keysOf(hotelId);
    const [rows, current] = await Promise.all([
      this.redis.xrange(k.changes, `${after + 1}-0`, '+') as Promise<[string, string[]][]>,
      this.redis.hget(k.meta, 'v'),
    ]);
    const entries = rows.map(([, f]) => entryOf(hotelId, f));
    if (current === null) return { complete: false, entries, current: undefined };
    const v = Number(current);
    if (after > v) return { complete: false, entries: [], current: v };
    if (entries.length === 0) return { complete: v <= after, entries, current: v };
    return { complete: entries[0].from <= after + 1, entries, current: v };
  }
}

function entryOf(hotelId: string, f: string[]): ChangeMessage {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < f.length; i += 2) m.set(f[i], f[i + 1]);
  return {
    hotelId,
    from: Number(m.get('from')),
    version: Number(m.get('version')),
    changes: m.get('reset') ? null : (JSON.parse(m.get('changes') ?? '[]') as NightChange[]),
  };
}
