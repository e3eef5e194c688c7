// Piscina task: parse, validate and split a partner batch off the API's event loop. Answers the commands grouped
// by shard, in item order, and the items that failed validation.
import { createHash } from 'node:crypto';
import type { ReserveCommand, Owner } from '../engine/core/types.js';
import { reserveCommandOf } from '../engine/idempotency.js';
import { shardOf } from '../engine/shard-map.js';
import { batchBody, issueFields, reservationBody } from '../schemas/http.js';

export interface SplitInput {
  body: string;
  owner: Owner;
  shardCount: number;
}

export interface InvalidItem {
  index: number;
  message: string;
}

export type SplitOutput =
  | { ok: false; message: string; fields: { field: string; message: string }[] }
  | {
      ok: true;
      /** The body's JSON as parsed (white space, key order and number spelling aside), for Idempotency-Key: the same batch. */
      fingerprint: string;
      atomic: boolean;
      total: number;
      reservationIds: (string | null)[];
      byShard: { shard: number; indexes: number[]; commands: ReserveCommand[] }[];
      invalid: InvalidItem[];
    };


export default function splitBatch(input: SplitInput): SplitOutput {
  let parsed: unknown;
  try {
    // A byte order mark is not JSON, but the JSON routes' parser allows one: so do batches.
    parsed = JSON.parse(input.body.charCodeAt(0) === 0xfeff ? input.body.slice(1) : input.body);
  } catch {
    return { ok: false, message: 'the body is not valid JSON', fields: [{ field: 'body', message: 'malformed JSON' }] };
  }
  const top = batchBody.safeParse(parsed);
  if (!top.success) {
    const fields = issueFields(top.error.issues);
    return { ok: false, message: `invalid body: ${fields.map((f) => `${f.field}: ${f.message}`).join('; ')}`, fields };
  }
  const reservationIds: (string | null)[] = [];
  const invalid: InvalidItem[] = [];
  const lanes = new Map<number, { shard: number; indexes: number[]; commands: ReserveCommand[] }>();
  top.data.items.forEach((raw, index) => {
    const item = reservationBody.safeParse(raw);
    const rawId = (raw as { reservationId?: unknown } | null)?.reservationId;
    if (!item.success) {
      reservationIds.push(typeof rawId === 'string' ? rawId : null);
      const fields = issueFields(item.error.issues);
      invalid.push({ index, message: fields.map((f) => `${f.field}: ${f.message}`).join('; ') });
      return;
    }
    reservationIds.push(item.data.reservationId);
    const shard = shardOf(item.data.hotelId, input.shardCount);
    let lane = lanes.get(shard);
    if (!lane) lanes.set(shard, (lane = { shard, indexes: [], commands: [] }));
    lane.indexes.push(index);
    lane.commands.push(reserveCommandOf(input.owner, item.data));
  });
  const fingerprint = createHash('sha256').update(canonicalJson(parsed)).digest('base64url');
  return { ok: true, fingerprint, atomic: top.data.atomic ?? false, total: top.data.items.length, reservationIds, byShard: [...lanes.values()], invalid };
}

/** JSON text with every object's keys in order: the same for bodies that differ only in white space or key order. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
