-- Shard database: where a shard stands in a move (issue 16), on its lease row, so that the database itself refuses
-- what a process with an old shard map would do.
--   NULL             the shard lives here;
--   'sealed:<id>'    it lives here, a move to database <id> is copying it: API writes that bypass the writer (rooms)
--                    wait, the writer is paused by the move itself;
--   'moved:<id>'     it moved to database <id>: the fence. Set with an epoch bump, checked against the mover's epoch,
--                    so every commit of an owner of this database is refused, and takeShard refuses to hand out a new
--                    epoch here: nothing of that shard is ever written here again (until it is moved back);
--   'incoming:<id>'  a copy from database <id> that is not yet the shard's home (the catalog has not flipped).
-- Readers that scan every database (hotel lists, relays, replays) skip the rows of shards not at home here.
ALTER TABLE shard_leases ADD COLUMN moved_to text;

CREATE FUNCTION shard_is_home(s integer) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT NOT EXISTS (SELECT 1 FROM shard_leases l WHERE l.shard = s AND (l.moved_to LIKE 'moved:%' OR l.moved_to LIKE 'incoming:%'))
$$;
