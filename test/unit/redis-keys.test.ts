// Every Redis key of a virtual shard hashes to one Redis Cluster slot (its queue's BullMQ keys, its lease, and each of
// its hotels' availability cache, change log and change channel), the shards' tags spread over the slots, and the
// global keys carry no tag (each is used alone, and spreads by its whole name). Slots are computed as Redis Cluster
// does: CRC16 (XMODEM) of the hash tag, or of the whole key without one, mod 16384.
import { expect } from 'chai';
import { QueueKeys } from 'bullmq';
import { cacheKeys } from '../../engine/availability-cache.js';
import { notificationsQueueName } from '../../engine/jobs.js';
import { RedisKeys } from '../../engine/redis.js';
import { shardOf } from '../../engine/shard-map.js';

function crc16(s: string): number {
  let crc = 0;
  for (const byte of Buffer.from(s, 'utf8')) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The hash tag of a key as Redis Cluster reads it: between the first `{` and the first `}` after it, if not empty. */
function hashTag(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open < 0) return undefined;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

export const slotOf = (key: string): number => crc16(hashTag(key) ?? key) % 16384;

/** Every key BullMQ makes for a queue: its QueueKeys, and a job's hash, lock and logs. */
function bullKeys(prefix: string, name: string): string[] {
  const k = new QueueKeys(prefix);
  return [...Object.values(k.getKeys(name)), ...['job-1', 'job-1:lock', 'job-1:logs', 'job-1:dependencies'].map((s) => k.toKey(name, s))];
}

/** A shard's keys for a few hotels of it (two room types each), as RedisKeys and the cache make them. */
function shardKeys(keys: RedisKeys, shard: number, shardCount: number): string[] {
  const hotels: string[] = [];
  for (let i = 0; hotels.length < 3; i++) {
    const id = `0193a1b2-7c1e-7000-8000-${i.toString(16).padStart(12, '0')}`;
    if (shardOf(id, shardCount) === shard) hotels.push(id);
  }
  const out = [...bullKeys(keys.queuePrefix(shard), keys.queueName(shard)), keys.lease(shard)];
  for (const h of hotels) {
    const a = cacheKeys(keys.prefix, shardCount, h);
    const b = keys.availability(shard, h);
    expect([a.meta, a.changes, a.channel, a.roomType('rt-a')]).to.deep.equal([b.meta, b.changes, b.channel, b.roomType('rt-a')]);
    // The cache's scripts derive room type keys from the meta key (`KEYS[1] .. ':' .. rt.id`): the same names.
    for (const rt of ['rt-a', 'rt-b']) expect(a.roomType(rt)).to.equal(`${a.meta}:${rt}`);
    out.push(a.meta, a.roomType('rt-a'), a.roomType('rt-b'), a.changes, a.channel);
  }
  return out;
}

describe('Redis keys and hash slots', () => {
  it('computes slots as Redis Cluster does (CRC16 check value, tags)', () => {
    expect(crc16('123456789')).to.equal(0x31c3);
    expect(slotOf('{user1000}.following')).to.equal(slotOf('{user1000}.followers'));
    expect(slotOf('foo{}{bar}')).to.equal(crc16('foo{}{bar}') % 16384);
    expect(slotOf('foo{{bar}}zap')).to.equal(crc16('{bar') % 16384);
  });

  for (const { prefix, shardCount } of [
    { prefix: 'booking', shardCount: 16 },
    { prefix: 'booking', shardCount: 64 },
    { prefix: 'bk_cl_x.y-1', shardCount: 256 },
  ]) {
    it(`${prefix}, ${shardCount} shards: every key of a shard starts with the prefix and its tag, and is in the tag's slot`, () => {
      const keys = new RedisKeys(prefix);
      for (let shard = 0; shard < shardCount; shard++) {
        const tag = keys.shardTag(shard);
        expect(tag).to.equal(`${prefix}:{s${shard}}`);
        for (const key of shardKeys(keys, shard, shardCount)) {
          expect(key.startsWith(`${tag}:`), key).to.equal(true);
          expect(hashTag(key), key).to.equal(`s${shard}`);
          expect(slotOf(key), key).to.equal(slotOf(tag));
        }
      }
    });

    it(`${prefix}, ${shardCount} shards: the shards' tags spread over the slots`, () => {
      const keys = new RedisKeys(prefix);
      const slots = Array.from({ length: shardCount }, (_, k) => slotOf(keys.shardTag(k)));
      // Distinct slots for nearly every shard, and each third of the slot range (three masters) gets a fair part.
      expect(new Set(slots).size).to.be.at.least(shardCount - 2);
      const thirds = [0, 0, 0];
      for (const s of slots) thirds[Math.min(2, Math.floor(s / (16384 / 3)))]++;
      for (const t of thirds) expect(t).to.be.at.least(Math.floor(shardCount / 6));
    });
  }

  it('the notifications queue starts with the prefix and is in one slot of its own tag', () => {
    const keys = new RedisKeys('booking');
    const all = bullKeys(keys.notificationsPrefix(), notificationsQueueName);
    for (const key of all) {
      expect(key.startsWith('booking:{notifications}:'), key).to.equal(true);
      expect(slotOf(key), key).to.equal(slotOf('{notifications}'));
    }
  });

  it('global keys carry no tag and start with the prefix', () => {
    const keys = new RedisKeys('booking');
    const global = [
      keys.replies('api-0193a1b2'),
      keys.inflight('0193a1b2-7c1e-7000-8000-000000000001'),
      keys.revocations(),
      `${keys.rateLimit('token')}:abc`,
      keys.workers(),
      keys.opsEpochs(0),
    ];
    for (const key of global) {
      expect(hashTag(key), key).to.equal(undefined);
      expect(key.startsWith('booking:'), key).to.equal(true);
    }
    // Spread by their whole names: different reservations' in-flight markers land in different slots.
    const slots = new Set(Array.from({ length: 50 }, (_, i) => slotOf(keys.inflight(`r-${i}`))));
    expect(slots.size).to.be.at.least(45);
  });
});
