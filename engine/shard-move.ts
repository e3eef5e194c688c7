// An online shard move, run by the shard's owner as a job of the shard's own queue (so it is ordered with the hotels'
// other commands, and the jobs behind it wait in the queue: none is refused). Steps, in this order:
//   1. seal the shard in its source database (epoch-checked; API room writes wait),
//   2. copy its rows to the target (one target transaction; the target's lease row says `incoming`),
//   3. fence the source (epoch-checked: marked `moved:<target>`, epoch bumped: no commit or take-over there again),
//      then flip the catalog's map and welcome the shard in the target,
//   4. resume: the owner lets the shard go and takes it again on the target (next epoch).
// A failure before the fence unseals the source and records the move failed: the shard resumes where it was. After
// the fence the only way is forward: whoever meets the fence (this owner retrying, or the next owner after a crash,
// see settleNotHome) flips the map and welcomes the shard. So the shard lives in exactly one database at all times:
// the source until its fence commits, the target from then on.
import type { RedisClient as Redis } from './redis.js';
import type { Logger } from './log.js';
import { ShardDirectory } from './shard-directory.js';
import { copyShard, fenceShard, markDatabase, sealShard, unsealShard, welcomeShard } from './store/shard-copy.js';
import type { ShardMoves } from './store/shard-moves.js';

export interface MoveDeps {
  directory: ShardDirectory;
  moves: ShardMoves;
  redis: Redis;
  channel: string;
  log: Logger;
}

export type MoveOutcome = 'moved' | 'failed' | 'skipped' | 'fenced';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retry a step that must happen (after the fence) until it does, with back-off; the shard waits meanwhile. */
async function untilDone<T>(what: string, deps: MoveDeps, step: () => Promise<T>): Promise<T> {
  for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
    try {
      return await step();
    } catch (err) {
      deps.log.warn('shard move step failed; retrying', { step: what, err: (err as Error).message });
      await sleep(delay);
    }
  }
}

/** Flip the map from `from` to `to` (if it still says `from`), welcome the shard in `to`, and tell every process. */
async function finishFlip(deps: MoveDeps, shard: number, from: number, to: number, rows?: number): Promise<void> {
  const version = await untilDone('flip', deps, () => deps.moves.flip(shard, from, to, rows));
  await untilDone('refresh', deps, () => deps.directory.refresh());
  await untilDone('welcome', deps, () => welcomeShard(deps.directory.pool(to), shard));
  await ShardDirectory.announce(deps.redis, deps.channel, version ?? deps.directory.mapVersion);
}

export async function runMove(deps: MoveDeps, shard: number, epoch: number, move: { moveId: number; to: number }): Promise<MoveOutcome> {
  const { directory, moves, log } = deps;
  const t0 = Date.now();
  const now = await moves.current(shard);
  if (now.movingTo !== move.to || now.database === move.to) {
    // Asked again after it finished or failed (a redelivered job): nothing to do.
    return 'skipped';
  }
  await directory.refresh();
  const from = now.database;
  const source = directory.pool(from);
  let target;
  try {
    target = directory.pool(move.to);
  } catch (err) {
    await moves.failed(shard, move.moveId, (err as Error).message);
    return 'failed';
  }
  let rows = 0;
  try {
    await moves.started(move.moveId);
    if (!(await sealShard(source, shard, epoch, move.to))) return 'fenced';
    rows = await copyShard(source, target, shard, from);
    await moves.copied(move.moveId, rows);
    if (!(await fenceShard(source, shard, epoch, move.to))) return 'fenced';
  } catch (err) {
    log.warn('shard move failed before the flip; the shard resumes on its database', { shard, from, to: move.to, err: (err as Error).message });
    await unsealShard(source, shard).catch(() => {});
    await moves.failed(shard, move.moveId, (err as Error).message).catch(() => {});
    await ShardDirectory.announce(deps.redis, deps.channel, directory.mapVersion + 1);
    return 'failed';
  }
  await finishFlip(deps, shard, from, move.to, rows);
  log.info('shard moved', { shard, from, to: move.to, rows, ms: Date.now() - t0 });
  return 'moved';
}

/**
 * A database refused to hand out an epoch for a shard that is not at home there (takeShard's ShardNotHomeError):
 * finish what a mover that died left, so that the shard has exactly one home, then the caller takes it again.
 */
export async function settleNotHome(deps: MoveDeps, shard: number, database: number, mark: string): Promise<void> {
  const other = markDatabase(mark);
  const map = await deps.moves.current(shard);
  if (mark.startsWith('moved:') && map.database === database) {
    // The source is fenced, the flip did not happen: finish it.
    deps.log.warn('finishing a shard move whose owner stopped after the fence', { shard, from: database, to: other });
    await finishFlip(deps, shard, database, other);
  } else if (mark.startsWith('incoming:') && map.database === database) {
    // The flip happened, the welcome did not.
    await welcomeShard(deps.directory.pool(database), shard);
  }
  await deps.directory.refresh();
}
