// What this API process knows of its partner batches' decisions while they are processing. A job's stored replies
// (applied_jobs) never change once committed, so a poll reads only the jobs that had not answered at the poll
// before: polling a batch costs the new decisions, not the whole batch again (a 10,000-item batch polled every
// 50 ms would otherwise read and parse all of its decisions twenty times a second).
import type { StoredReply } from '../engine/stored-replies.js';
import type { BatchRow } from '../engine/store/catalog-store.js';

export type ItemResult = { reservationId: string | null; status: string; error?: { code: string; message: string } };

/** The reader of stored replies by job key (ShardReader.appliedRepliesOfJobs). */
export type RepliesOfJobs = (jobs: { shard: number; jobKey: string }[]) => Promise<Map<string, { requestId: string; reply: unknown }[]>>;

/** Items whose results one API process keeps for batches still processing (about 100 bytes each). */
export const batchProgressItemsMax = 200_000;

interface Progress {
  results: ItemResult[];
  /** Indexes into the plan's jobs of those not answered yet. */
  pending: number[];
}

export function resultOf(reservationId: string | null, reply: StoredReply | undefined): ItemResult {
  if (!reply) return { reservationId, status: 'processing' };
  if (!reply.ok) return { reservationId, status: 'rejected', error: { code: reply.code, message: reply.message } };
  if (reply.kind === 'reservationRef') return { reservationId, status: reply.status };
  return { reservationId, status: 'rejected', error: { code: 'internal_error', message: 'unexpected reply' } };
}

export class BatchProgress {
  /** Least recently polled first. */
  private readonly batches = new Map<string, Progress>();
  private items = 0;
  /** Stored replies read from the shard databases (one per command of a job that answered). */
  repliesRead = 0;

  constructor(
    private readonly repliesOfJobs: RepliesOfJobs,
    private readonly itemsMax = batchProgressItemsMax,
  ) {}

  /** The results in item order, and how many of the batch's jobs have not answered yet. */
  async poll(b: BatchRow): Promise<{ results: ItemResult[]; pending: number }> {
    let p = this.batches.get(b.id);
    if (p) this.batches.delete(b.id);
    else {
      p = { results: this.initial(b), pending: b.plan.jobs.map((_, i) => i) };
      this.items += p.results.length;
    }
    this.batches.set(b.id, p);
    if (p.pending.length > 0) {
      const stored = await this.repliesOfJobs(p.pending.map((i) => b.plan.jobs[i]));
      const still: number[] = [];
      for (const i of p.pending) {
        const got = stored.get(b.plan.jobs[i].jobKey);
        if (got) this.fill(p.results, b, i, got);
        else still.push(i);
      }
      p.pending = still;
    }
    this.trim();
    return { results: p.results, pending: p.pending.length };
  }

  /** A finished batch is answered from the catalog from now on. */
  forget(id: string): void {
    const p = this.batches.get(id);
    if (!p) return;
    this.items -= p.results.length;
    this.batches.delete(id);
  }

  private initial(b: BatchRow): ItemResult[] {
    const invalid = new Map(b.plan.invalid.map((x) => [x.index, x.message]));
    return b.plan.reservationIds.map((id, i) =>
      invalid.has(i)
        ? { reservationId: id, status: 'rejected', error: { code: 'validation_failed', message: invalid.get(i) as string } }
        : resultOf(id, undefined),
    );
  }

  private fill(results: ItemResult[], b: BatchRow, jobIndex: number, got: { requestId: string; reply: unknown }[]): void {
    this.repliesRead += got.length;
    const j = b.plan.jobs[jobIndex];
    const byRequest = new Map(got.map((x) => [x.requestId, x.reply as StoredReply]));
    j.indexes.forEach((index, k) => {
      const reply = byRequest.get(j.requestIds[k]);
      if (!reply) return;
      if (index === -1 && reply.ok && reply.kind === 'batchRef') {
        reply.replies.forEach((x, i) => (results[i] = resultOf(b.plan.reservationIds[i], x)));
      } else results[index] = resultOf(b.plan.reservationIds[index], reply);
    });
  }

  private trim(): void {
    for (const [id, p] of this.batches) {
      if (this.items <= this.itemsMax || this.batches.size === 1) break;
      this.items -= p.results.length;
      this.batches.delete(id);
    }
  }
}
