-- Catalog database: where each virtual shard lives (issue 16). A shard database is known by a small integer id, the
-- one GET /v1/ops/shards shows; ids 0..N-1 are the databases of the configuration (SHARD_DATABASE_URLS, or
-- <name>_shard_<i>), in that order, and a database added by a move gets the next id. The map is filled on first start
-- from the rule the deployment had until then (shard k in database k mod N) and changes only by a move.
CREATE TABLE shard_databases (
  id       integer PRIMARY KEY CHECK (id >= 0),
  url      text NOT NULL,
  added_at timestamptz NOT NULL DEFAULT now()
);

-- Every change of the map takes the next value of this sequence as its row's version, so that a process that knows
-- max(version) knows whether its copy is current.
CREATE SEQUENCE shard_map_version;

CREATE TABLE shard_map (
  shard       integer PRIMARY KEY CHECK (shard >= 0),
  database_id integer NOT NULL REFERENCES shard_databases (id),
  -- Set while a move to that database is asked for or running (GET /v1/ops/shards: state "moving").
  moving_to   integer REFERENCES shard_databases (id),
  version     bigint NOT NULL DEFAULT nextval('shard_map_version'),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (moving_to IS NULL OR moving_to <> database_id)
);

-- One row per move asked for: what happened, and how long the shard's hotels waited (pause_ms: from the move job's
-- start to the shard's first owner on the target database being ready).
CREATE TABLE shard_moves (
  id            bigserial PRIMARY KEY,
  shard         integer NOT NULL,
  from_database integer NOT NULL,
  to_database   integer NOT NULL,
  state         text NOT NULL CHECK (state IN ('requested', 'copying', 'flipped', 'done', 'failed')),
  error         text,
  rows_copied   bigint,
  requested_at  timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,
  flipped_at    timestamptz,
  resumed_at    timestamptz,
  pause_ms      integer
);
CREATE INDEX shard_moves_shard ON shard_moves (shard, id);
