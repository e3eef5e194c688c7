// The availability cache and change log in Redis, written only by the hotel's writer after a commit and stamped
// with the hotel's version, so that they may lag but never go backwards. Readers (the API) only read them.
//
// Layout per hotel (hash tag {hotelId} keeps a hotel's keys in one Redis Cluster slot):
//   <p>:avail:{h}            hash: v (version), base (first day number), end, tz, rts (JSON [{id, name}])
//   <p>:avail:{h}:<rt>       string: 16 bytes per night from `base`: total, limit, reserved, rate (int32 LE)
//   <p>:changes:{h}          stream, id <version>-0: from, version, changes (JSON) or reset=1; capped length
// and every change is announced on the channel <p>:availability (one subscription per API process).
import type { ChainableCommander, Redis } from 'ioredis';
import { formatDay } from './core/dates.js';
import type { HotelState } from './core/types.js';

export const recordBytes = 16;
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
  rate: number;
}

export interface ChangeMessage {
  hotelId: string;
  /** First and last version the change covers (a job may move a hotel several versions at once). */
  from: number;
  version: number;
  /** The changed nights, or null when the client must refetch (room types added or removed, limits recomputed). */
  changes: NightChange[] | null;
}

export const cacheKeys = (prefix: string, hotelId: string) => ({
  meta: `${prefix}:avail:{${hotelId}}`,
  roomType: (rt: string) => `${prefix}:avail:{${hotelId}}:${rt}`,
  changes: `${prefix}:changes:{${hotelId}}`,
  channel: `${prefix}:availability`,
});

function pack(total: number, limit: number, reserved: number, rate: number, into: Buffer, at: number): void {
  into.writeInt32LE(total, at);
  into.writeInt32LE(limit, at + 4);
  into.writeInt32LE(reserved, at + 8);
  into.writeInt32LE(Math.min(rate, 0x7fffffff), at + 12);
}

// Apply changed nights only when the version moves forward. KEYS: meta, then one key per changed room type.
// ARGV: version, ttl, then triples (key index, day number, 16 packed bytes).
const applyScript = `
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '-1')
local nv = tonumber(ARGV[1])
if v < 0 then return -1 end
if nv <= v then return 0 end
local base = tonumber(redis.call('HGET', KEYS[1], 'base'))
local stop = tonumber(redis.call('HGET', KEYS[1], 'end'))
local i = 3
while i <= #ARGV do
  local k = KEYS[tonumber(ARGV[i])]
  local day = tonumber(ARGV[i + 1])
  if day >= base and day < stop then redis.call('SETRANGE', k, (day - base) * ${recordBytes}, ARGV[i + 2]) end
  i = i + 3
end
redis.call('HSET', KEYS[1], 'v', nv)
for j = 1, #KEYS do redis.call('EXPIRE', KEYS[j], tonumber(ARGV[2])) end
return 1`;

// Replace a hotel's whole snapshot unless the cache already holds a newer version. KEYS: meta, room type keys.
// ARGV: version, base, end, tz, rts JSON, ttl, then one packed string per room type key.
const snapshotScript = `
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '-1')
local nv = tonumber(ARGV[1])
if nv < v then return 0 end
local old = redis.call('HGET', KEYS[1], 'rts')
if old then
  for _, rt in ipairs(cjson.decode(old)) do redis.call('DEL', KEYS[1] .. ':' .. rt.id) end
end
redis.call('HSET', KEYS[1], 'v', nv, 'base', ARGV[2], 'end', ARGV[3], 'tz', ARGV[4], 'rts', ARGV[5])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[6]))
for j = 2, #KEYS do
  redis.call('SET', KEYS[j], ARGV[5 + j], 'EX', tonumber(ARGV[6]))
end
return 1`;

// Read a window: meta and the byte ranges of every room type, in one atomic step.
// KEYS: meta. ARGV: from day, to day. Answers {v, tz, rts, base, end, ranges...} or nil.
const readScript = `
local m = redis.call('HMGET', KEYS[1], 'v', 'base', 'end', 'tz', 'rts')
if not m[1] then return nil end
local base = tonumber(m[2])
local stop = tonumber(m[3])
local from = tonumber(ARGV[1])
local to = tonumber(ARGV[2])
if from < base or to > stop then return {m[1], m[4], m[5], 'miss'} end
local out = {m[1], m[4], m[5], 'hit'}
for _, rt in ipairs(cjson.decode(m[5])) do
  out[#out + 1] = redis.call('GETRANGE', KEYS[1] .. ':' .. rt.id, (from - base) * ${recordBytes}, (to - base) * ${recordBytes} - 1)
end
return out`;

export class AvailabilityCache {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /** The writer: write a hotel's whole window (after loading it). */
  async writeSnapshot(state: HotelState): Promise<void> {
    const p = this.redis.pipeline();
    this.stageSnapshot(p, state);
    const [res] = (await p.exec()) ?? [];
    if (res?.[0]) throw res[0];
  }

  private stageSnapshot(p: ChainableCommander, state: HotelState): void {
    const k = cacheKeys(this.prefix, state.hotel.id);
    const rts = [...state.roomTypes.values()];
    const packed = rts.map((rt) => {
      const t = rt.nights;
      const buf = Buffer.alloc(t.total.length * recordBytes);
      for (let i = 0; i < t.total.length; i++) pack(t.total[i], t.limit[i], t.reserved[i], t.rate[i], buf, i * recordBytes);
      return buf;
    });
    p.eval(
      snapshotScript,
      1 + rts.length,
      k.meta,
      ...rts.map((rt) => k.roomType(rt.roomType.id)),
      state.hotel.version,
      state.firstDay,
      state.endDay,
      state.hotel.timezone,
      JSON.stringify(rts.map((rt) => ({ id: rt.roomType.id, name: rt.roomType.name }))),
      cacheTtlSeconds,
      ...packed,
    );
    // The change log's lifetime is renewed with every snapshot (a writer reloads its hotels at least daily).
    p.expire(k.changes, cacheTtlSeconds);
  }

  /**
   * The writer, after a commit: stage on `p` the cache update (the changed nights, or a new snapshot when the
   * change is structural), the change-log entry and the announcement. Answers, per staged command, whether its
   * failure means the cache missed the change (the change-log append may fail harmlessly on a redelivery).
   */
  stage(
    p: ChainableCommander,
    state: HotelState,
    msg: ChangeMessage,
    nights: { roomTypeId: string; day: number; total: number; limit: number; reserved: number; rate: number }[],
  ): boolean[] {
    const k = cacheKeys(this.prefix, msg.hotelId);
    const critical: boolean[] = [];
    if (msg.changes === null) {
      this.stageSnapshot(p, state);
      critical.push(true);
    } else if (nights.length > 0) {
      const rtIndex = new Map<string, number>();
      const args: (string | number | Buffer)[] = [];
      for (const n of nights) {
        let idx = rtIndex.get(n.roomTypeId);
        if (idx === undefined) rtIndex.set(n.roomTypeId, (idx = rtIndex.size + 2));
        const b = Buffer.alloc(recordBytes);
        pack(n.total, n.limit, n.reserved, n.rate, b, 0);
        args.push(idx, n.day, b);
      }
      p.eval(applyScript, 1 + rtIndex.size, k.meta, ...[...rtIndex.keys()].map((rt) => k.roomType(rt)), msg.version, cacheTtlSeconds, ...args);
      critical.push(true);
    }
    const fields = msg.changes === null ? ['from', msg.from, 'version', msg.version, 'reset', '1'] : ['from', msg.from, 'version', msg.version, 'changes', JSON.stringify(msg.changes)];
    p.xadd(k.changes, 'MAXLEN', '~', changeLogEntriesMax, `${msg.version}-0`, ...fields);
    p.publish(k.channel, JSON.stringify(msg));
    critical.push(false, true);
    return critical;
  }

  /** The writer: a deleted hotel leaves no cache behind (its change log stays, so open streams can end cleanly). */
  async drop(hotelId: string): Promise<void> {
    const k = cacheKeys(this.prefix, hotelId);
    const rts = await this.redis.hget(k.meta, 'rts');
    const keys = [k.meta, ...(rts ? (JSON.parse(rts) as { id: string }[]).map((rt) => k.roomType(rt.id)) : [])];
    await this.redis.unlink(...keys);
  }

  /** The cached version of a hotel, or undefined when the cache does not hold it. */
  async version(hotelId: string): Promise<number | undefined> {
    const v = await this.redis.hget(cacheKeys(this.prefix, hotelId).meta, 'v');
    return v === null ? undefined : Number(v);
  }

  /** The reader: a window from the cache, or undefined when the cache does not hold it. */
  async read(hotelId: string, fromDay: number, toDay: number): Promise<
    | { version: number; timezone: string; roomTypes: { roomTypeId: string; name: string; nights: { date: string; totalInventory: number; limit: number; reserved: number; rate: number }[] }[] }
    | undefined
  > {
    const k = cacheKeys(this.prefix, hotelId);
    const r = (await this.redis.callBuffer('EVAL', readScript, 1, k.meta, fromDay, toDay)) as Buffer[] | null;
    if (!r || r[3].toString() !== 'hit') return undefined;
    const rts = JSON.parse(r[2].toString()) as { id: string; name: string }[];
    const roomTypes = rts.map((rt, j) => {
      const buf = r[4 + j];
      const nights = [];
      for (let d = fromDay; d < toDay; d++) {
        const at = (d - fromDay) * recordBytes;
        if (buf.length < at + recordBytes) return undefined;
        nights.push({
          date: formatDay(d),
          totalInventory: buf.readInt32LE(at),
          limit: buf.readInt32LE(at + 4),
          reserved: buf.readInt32LE(at + 8),
          rate: buf.readInt32LE(at + 12),
        });
      }
      return { roomTypeId: rt.id, name: rt.name, nights };
    });
    if (roomTypes.some((x) => x === undefined)) return undefined;
    return { version: Number(r[0].toString()), timezone: r[1].toString(), roomTypes: roomTypes as NonNullable<(typeof roomTypes)[number]>[] };
  }

  /**
   * The reader: change-log entries after a version, and whether they are all of the changes since it (false when
   * the log no longer reaches back that far: the client must refetch).
   */
  async changesSince(hotelId: string, after: number): Promise<{ complete: boolean; entries: ChangeMessage[]; current: number | undefined }> {
    const k = cacheKeys(this.prefix, hotelId);
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
