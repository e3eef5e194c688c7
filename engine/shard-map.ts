// Where a hotel lives. `shard = fnv1a32(hotelId) mod SHARD_COUNT` over the id's canonical lowercase text, and a
// virtual shard k lives in shard database `k mod <number of shard databases>`. Both are fixed for a deployment:
// changing SHARD_COUNT or the number of shard databases moves hotels and needs a migration of their rows.

/** 32-bit FNV-1a over the UTF-8 bytes of a string (ids are ASCII), as an unsigned integer. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i) & 0xff;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function shardOf(hotelId: string, shardCount: number): number {
  return fnv1a32(hotelId.toLowerCase()) % shardCount;
}

export function databaseOfShard(shard: number, databaseCount: number): number {
  return shard % databaseCount;
}
