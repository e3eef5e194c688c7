// Which workers are alive: each beats into one Redis hash of its deployment (`<prefix>:workers`, worker id → time
// of its last beat by Redis's clock, and the shards it pins), and a worker not heard of for a lease is gone. One
// key, so that it lives in one slot of a Redis Cluster; one script call per beat, which also answers the members.
import type { RedisClient, RedisKeys } from './redis.js';
import type { Member } from './shard-share.js';

// KEYS[1]: the hash. ARGV: id ('' to only read), pins ('' for none, else "0,1,5"), ttl ms. Stamps the beat with
// Redis's own time (every worker's beat on one clock), forgets members older than the ttl, answers the live ones
// as a flat [id, "at|pins", …] list. The hash itself lapses when a whole deployment is gone.
const beatScript = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
if ARGV[1] ~= '' then
  redis.call('HSET', KEYS[1], ARGV[1], now .. '|' .. ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ttl * 10)
end
local all = redis.call('HGETALL', KEYS[1])
local live = {}
for i = 1, #all, 2 do
  local at = tonumber(string.match(all[i + 1], '^(%d+)'))
  if at and now - at <= ttl then
    live[#live + 1] = all[i]
    live[#live + 1] = all[i + 1]
  else
    redis.call('HDEL', KEYS[1], all[i])
  end
end
return live`;

export class WorkerMembership {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly id: string,
    /** The shards this worker pins (WORKER_SHARDS), or undefined: it takes its share of the rest. */
    private readonly pinned: number[] | undefined,
    /** A member not heard of for this long is gone (a shard lease's length). */
    private readonly ttlMs: number,
  ) {}

  /** Say this worker is alive; answers every live member, this one included. */
  async beat(): Promise<Member[]> {
    return this.call(this.id);
  }

  /** The live members, without beating. */
  async members(): Promise<Member[]> {
    return this.call('');
  }

  /** Leave at once (a graceful stop): the others count this worker out on their next round. */
  async leave(): Promise<void> {
    await this.redis.hdel(this.keys.workers(), this.id);
  }

  private async call(id: string): Promise<Member[]> {
    const flat = (await this.redis.eval(beatScript, 1, this.keys.workers(), id, this.pinned?.join(',') ?? '', this.ttlMs)) as string[];
    const out: Member[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push(parseMember(flat[i], flat[i + 1]));
    return out;
  }
}

/** "at|pins" → a member; pins "" means none (the worker takes part in the hashing). */
function parseMember(id: string, value: string): Member {
  const pins = value.slice(value.indexOf('|') + 1);
  return pins === '' ? { id } : { id, pinned: pins.split(',').map(Number) };
}
