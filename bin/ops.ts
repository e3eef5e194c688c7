// `npm run ops -- shards | drain <shard> | move-shard <shard> <database> [--wait]`: a small operator's CLI over the
// admin API (docs/operations.md). It reads API_URL (default http://127.0.0.1:3000) and ADMIN_API_KEY from the
// environment, prints readable tables, and exits 2 with a usage line when it is used wrongly, 1 when the API refuses.

import type { z } from 'zod';
import type { shardTableSchema } from '../schemas/responses.js';

const usage = 'usage: npm run ops -- shards | drain <shard> | move-shard <shard> <database id | postgres://url> [--wait]';

/** A row of GET /v1/ops/shards, as the OpenAPI document describes it. */
type ShardRow = z.infer<typeof shardTableSchema>[number];

function misuse(why?: string): never {
  if (why) process.stderr.write(`ops: ${why}\n`);
  process.stderr.write(`${usage}\n`);
  process.exit(2);
}

/** A table with a header, columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function shortOwner(owner: string | null): string {
  if (!owner) return '-';
  return owner.length > 20 ? `${owner.slice(0, 8)}…${owner.slice(-8)}` : owner;
}

function moveText(m: ShardRow['lastMove']): string {
  if (!m) return '-';
  const pause = m.pauseMs === null ? '' : `, paused ${m.pauseMs} ms`;
  return `#${m.id} ${m.from}→${m.to} ${m.state}${pause}${m.error ? `: ${m.error}` : ''}`;
}

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const base = (process.env.API_URL ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
  const token = process.env.ADMIN_API_KEY;
  if (!token) misuse('ADMIN_API_KEY is not set (the admin token of the API)');
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
  } catch (err) {
    process.stderr.write(`ops: cannot reach ${base}: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: keep the text.
  }
  return { status: res.status, body: parsed };
}

/** Print the API's refusal (code, message, details) and exit 1. */
function refused(r: { status: number; body: unknown }): never {
  const e = (r.body as { error?: { code: string; message: string; details?: unknown } })?.error;
  process.stderr.write(`ops: ${r.status} ${e ? `${e.code}: ${e.message}` : JSON.stringify(r.body)}\n`);
  if (e?.details) process.stderr.write(`details: ${JSON.stringify(e.details)}\n`);
  process.exit(1);
}

async function shards(): Promise<ShardRow[]> {
  const r = await call('GET', '/v1/ops/shards');
  if (r.status !== 200) refused(r);
  return r.body as ShardRow[];
}

function printShards(rows: ShardRow[]): void {
  const out = table(
    ['shard', 'database', 'state', 'owner', 'epoch', 'queued', 'oldest ms', 'last move'],
    rows.map((x) => [
      String(x.shard),
      String(x.database),
      x.state === 'moving' ? `moving → ${x.movingTo}` : (x.state ?? 'serving'),
      shortOwner(x.owner),
      x.epoch === null ? '?' : String(x.epoch) + (x.stale ? ' (stale)' : ''),
      String(x.queueDepth),
      x.oldestWaitingMs === null ? '-' : String(x.oldestWaitingMs),
      moveText(x.lastMove),
    ]),
  );
  process.stdout.write(`${out}\n`);
}

function shardArg(text: string | undefined): number {
  if (text === undefined || !/^\d+$/.test(text)) misuse(`<shard> must be a whole number, got ${text === undefined ? 'nothing' : `"${text}"`}`);
  return Number(text);
}

async function main(argv: string[]): Promise<void> {
  const wait = argv.includes('--wait');
  const args = argv.filter((a) => a !== '--wait');
  const [command, ...rest] = args;
  if (command === 'shards' && rest.length === 0 && !wait) {
    printShards(await shards());
  } else if (command === 'drain' && rest.length === 1 && !wait) {
    const shard = shardArg(rest[0]);
    const r = await call('POST', `/v1/ops/shards/${shard}/drain`);
    if (r.status !== 202) refused(r);
    const owner = (r.body as { owner: string | null }).owner;
    process.stdout.write(owner ? `shard ${shard}: ${owner} asked to hand it over\n` : `shard ${shard} has no owner: nothing to drain\n`);
  } else if (command === 'move-shard' && rest.length === 2) {
    const shard = shardArg(rest[0]);
    const database: number | string = /^\d+$/.test(rest[1]) ? Number(rest[1]) : rest[1];
    const r = await call('POST', `/v1/ops/shards/${shard}/move`, { database });
    if (r.status !== 202) refused(r);
    const m = r.body as { moveId: number; from: number; to: number };
    process.stdout.write(`move #${m.moveId}: shard ${shard} from database ${m.from} to database ${m.to} (queued in the shard's turn)\n`);
    if (wait) {
      const until = Date.now() + 10 * 60_000;
      for (;;) {
        const row = (await shards())[shard];
        if (row?.lastMove?.id === m.moveId && (row.lastMove.state === 'done' || row.lastMove.state === 'failed')) {
          process.stdout.write(`move #${m.moveId}: ${moveText(row.lastMove)}\n`);
          if (row.lastMove.state === 'failed') process.exit(1);
          break;
        }
        if (Date.now() > until) {
          process.stderr.write(`ops: move #${m.moveId} not done after 10 minutes\n`);
          process.exit(1);
        }
        await new Promise((res) => setTimeout(res, 200));
      }
    }
  } else {
    misuse(command === undefined ? undefined : `cannot understand "${args.join(' ')}"`);
  }
}

await main(process.argv.slice(2));
